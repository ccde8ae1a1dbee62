"""Helpers for the vehicles tests: write small EEA-shaped CSV files row by row."""

from __future__ import annotations

from pathlib import Path

EEA_HEADER = ("Mp", "Mh", "Cn", "Ft", "M", "Mt", "Enedc", "Ewltp", "Erwltp", "R", "Year")


def row(
    mh: str,
    *,
    mt: str = "1650.15",
    e: str = "100",
    r: str = "1",
    ft: str = "petrol",
    year: str = "2025",
    mp: str = "",
    eco: str = "",
    cn: str = "MODEL",
    m: str = "",
    enedc: str = "",
) -> dict[str, str]:
    return {
        "Mp": mp,
        "Mh": mh,
        "Cn": cn,
        "Ft": ft,
        "M": m,
        "Mt": mt,
        "Enedc": enedc,
        "Ewltp": e,
        "Erwltp": eco,
        "R": r,
        "Year": year,
    }


def write_eea(path: Path, rows: list[dict[str, str]], header: tuple[str, ...] = EEA_HEADER) -> Path:
    lines = [",".join(header)]
    for rw in rows:
        lines.append(",".join(rw.get(h, "") for h in header))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
