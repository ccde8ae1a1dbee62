"""The command line: one typer app, ``keten <domain> <verb>``."""
