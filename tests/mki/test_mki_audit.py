"""Defects found by the fresh-eyes audit of ``keten mki`` (each test failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.mki import app
from keten.core.errors import InputError
from keten.io.mki_files import read_batches

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mki"
BATCH_HEAD = "batch_id,material,product_group,unit,mki_eur_per_unit\n"
runner = CliRunner()


def test_batch_given_twice_refused(tmp_path: Path) -> None:
    # Before the fix both rows were checked: L-1 passed (24 ≤ 25) and failed (26.10 > 25) in
    # the same report, exit 0 — which delivered value counts could not be told.
    batches = tmp_path / "batches.csv"
    batches.write_text(
        BATCH_HEAD
        + "L-1,concrete,C30/37 funderingen,m3,24\n"
        + "L-1,concrete,C30/37 funderingen,m3,26.10\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        read_batches(batches)
    assert str(exc.value) == f"{batches}, row 2, field 'batch_id': batch L-1 already in row 1"
    r = runner.invoke(
        app, ["check", "--batches", str(batches), "--ceilings", str(EXAMPLES / "ceilings.csv")]
    )
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip() == (
        f"error: {batches}, row 2, field 'batch_id': batch L-1 already in row 1"
    )


def test_guide_points_to_existing_interpretations() -> None:
    # docs/mki.md named docs/interpretations-mki.md, which does not exist, and MKI-01..16
    # while docs/interpretations.md has MKI-01..17.
    docs = Path(__file__).resolve().parents[2] / "docs"
    guide = (docs / "mki.md").read_text(encoding="utf-8")
    assert "interpretations-mki.md" not in guide
    assert "MKI-01..17" in guide
    assert "### MKI-17" in (docs / "interpretations.md").read_text(encoding="utf-8")
