"""Nitrogen (stikstof): farm NH3 emissions, doelsturing norms, the Vbr ranking, sector targets and
the budget table of seed 002_1543ed01d752c586.txt. Pure rules: no files, no CLI."""

DOMAIN = "nitrogen"
DEFAULT_SET = "vervolgpakket-2025"
