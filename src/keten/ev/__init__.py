"""Energie Vervoer (seed 004, Bijlage 1): obligations, emission-reduction units and compliance.

Pure rules over immutable inputs; files live in ``keten.ev.files`` and the CLI.
"""
