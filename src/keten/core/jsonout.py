"""JSON output that keeps Decimal values exact (written as JSON numbers, digit for digit)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:([-0-9.E+]+)"')


def _mark(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return f"{_MARK}{obj}"
    if isinstance(obj, dict):
        return {k: _mark(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_mark(v) for v in obj]
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    """``json.dumps`` where every ``Decimal`` becomes a JSON number with its exact digits."""
    return _MARKED.sub(r"\1", json.dumps(_mark(obj), indent=indent, ensure_ascii=False))
