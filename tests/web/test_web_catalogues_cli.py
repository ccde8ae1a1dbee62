"""``python -m keten.web.catalogues`` with an argument it does not know (``--help``, a typo, a
missing AREA) prints its usage and changes no catalogue; only the three documented forms run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from keten.web import catalogues


def snapshot() -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(catalogues.LOCALE_DIR.rglob("*.po"))}


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["--help"], 0), (["-h"], 0), (["only"], 2), (["onyl", "messages"], 2), (["set-nl"], 2)],
)
def test_unknown_arguments_show_usage_and_change_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], code: int
) -> None:
    before = snapshot()
    monkeypatch.setattr(sys, "argv", ["catalogues", *argv])
    assert catalogues.main() == code
    out = capsys.readouterr()
    assert "python -m keten.web.catalogues only AREA" in (out.out if code == 0 else out.err)
    assert snapshot() == before
