"""Rules-as-code core: dated, sourced parameters; Decimal quantities; traces and receipts."""
