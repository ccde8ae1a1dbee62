"""MilieuKostenIndicator (MKI) for civil works (seed 003_1db780f55a899147.txt, part II.a).

Pure rules: weighting sets and indicator codes (:mod:`.model`, :mod:`.weights`), the project
calculation (:mod:`.project`), variant comparison (:mod:`.compare`), material ceilings
(:mod:`.ceilings`) and tender award (:mod:`.award`). File reading lives in
``keten.io.mki_files``; the CLI in ``keten.cli.mki``.
"""
