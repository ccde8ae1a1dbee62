"""The unit ledger: accounts, lots, double-entry postings, holds, idempotent requests and an
append-only hash-chained audit log. Domain-agnostic: a unit type is an opaque string (the
Energie Vervoer register uses ``origin_sector/category``)."""
