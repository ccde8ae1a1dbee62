"""The README's quick tour of the rules engine runs as written: every ``keten ev …`` command of
its first ``sh`` block after "Quick tour" exits 0 with output (a newcomer copies them verbatim)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("keten ev "):
                commands.append(line)
    return commands


def test_the_tour_has_the_engine_commands() -> None:
    assert len(tour_commands()) >= 6


@pytest.mark.parametrize("command", tour_commands())
def test_tour_command_runs(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, (command, result.stderr)
    assert result.stdout.strip()
