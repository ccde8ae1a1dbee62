"""Ketenemissies (chain emissions): MRIO footprints, carbon-leakage check, company scope 3.1 and
PACT data exchange (issue 7; seeds 001_1515cdb87f1f94c7.txt and 003_1db780f55a899147.txt part III).

Pure domain code: no file IO, no CLI. Analytical MRIO results are float64 (DESIGN.md rule 3) with
the tolerances stated in each function; company totals from parameters are Decimal.
"""
