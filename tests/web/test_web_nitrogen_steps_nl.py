"""The explanation steps of the nitrogen engine in the page's language: a Dutch visitor reads
"melkvee-1: referentie-emissie 2019 … Σ emissies per stal", an English one "melkvee-1: reference
emission 2019 … Σ housing emissions"; the CLI, the JSON and the receipts stay English byte for
byte (``Trace.to_dict``).

The steps are ``msg(...)`` templates (``keten.nitrogen.emissions``, ``norms``, ``sectors``,
``vbr``; catalogue area ``messages_nitrogen``) rendered when the page is rendered
(``keten.web.traces.trace_view``). Ids, codes and numbers stay as given ("custom" is the housing
code of a row with its own factor). Farm used: 100 animals on A1.100 with LW-CHEM-70 (floor
0.3 × 13.0 = 3.9 does not bind) and 100 on a custom housing, EF 0.5, traditional 2.0, with a
custom scrubber (floor 0.3 × 2.0 = 0.6 binds).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import test_web_nitrogen as base
from test_web_nitrogen import EXAMPLES, Site, farm_form, run_cli, vbr_example

from keten.core.params import load_set
from keten.io.nitrogen_files import read_applications, read_areas
from keten.nitrogen.sectors import Observation, monitor, sector_targets
from keten.nitrogen.vbr import AreaIndex, rank_applications

FARM = farm_form(
    farm_id="melkvee-1",
    method="stricter",
    additional_1="LW-CHEM-70",
    animals_2="100",
    ef_nh3_2="0.5",
    traditional_ef_nh3_2="2.0",
    additional_2="custom:0.5:scrubber",
    obs_2027="1100",
    obs_2035="800",
    avoided_cost="10",
)
HOUSINGS = (
    "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\n"
    "melkvee-1,A1.100,100,,,LW-CHEM-70\n"
    "melkvee-1,,100,0.5,2.0,custom:0.5:scrubber\n"
)
#: the fixtures of the nitrogen page tests: one application for the module, a fresh browser per call
web_app = base.web_app
site = base.site

OBSERVED = "farm_id,year,nh3_kg\nmelkvee-1,2027,1100\nmelkvee-1,2035,800\n"

Step = tuple[str, str]  # (label, formula)

#: (English, Dutch) steps of the emission explanation of the farm page.
EMISSION: list[tuple[Step, Step]] = [
    (
        ("melkvee-1 A1.100: emission factor", "EF(A1.100) = 13.0"),
        ("melkvee-1 A1.100: emissiefactor", "EF(A1.100) = 13.0"),
    ),
    (
        (
            "melkvee-1 A1.100: air-scrubber floor (floor does not bind)",
            "max(13.0, 0.3 × EF(A1.100) 13.0 = 3.9)",
        ),
        (
            "melkvee-1 A1.100: ondergrens bij luchtwasser (ondergrens is niet bepalend)",
            "max(13.0, 0.3 × EF(A1.100) 13.0 = 3.9)",
        ),
    ),
    (
        ("melkvee-1 A1.100: animals × factor", "100 × 13"),
        ("melkvee-1 A1.100: dieren × factor", "100 × 13"),
    ),
    (
        ("melkvee-1 A1.100: additional system LW-CHEM-70", "1300 × (1 − 0.70)"),
        ("melkvee-1 A1.100: aanvullend systeem LW-CHEM-70", "1300 × (1 − 0.70)"),
    ),
    (
        ("melkvee-1 custom: emission factor", "custom EF = 0.5"),
        ("melkvee-1 custom: emissiefactor", "eigen EF = 0.5"),
    ),
    (
        (
            "melkvee-1 custom: air-scrubber floor (floor binds)",
            "max(0.5, 0.3 × EF(custom traditional) 2.0 = 0.6)",
        ),
        (
            "melkvee-1 custom: ondergrens bij luchtwasser (ondergrens is bepalend)",
            "max(0.5, 0.3 × EF(eigen traditioneel) 2.0 = 0.6)",
        ),
    ),
    (
        ("melkvee-1 custom: animals × factor", "100 × 0.6"),
        ("melkvee-1 custom: dieren × factor", "100 × 0.6"),
    ),
    (
        (
            "melkvee-1 custom: additional system custom:0.5:scrubber",
            "60 × (1 − 0.5)",
        ),
        (
            "melkvee-1 custom: aanvullend systeem custom:0.5:scrubber",
            "60 × (1 − 0.5)",
        ),
    ),
    (
        ("melkvee-1: farm total", "390 + 30"),
        ("melkvee-1: bedrijfstotaal", "390 + 30"),
    ),
]
#: (English, Dutch) steps of the norm explanation of the farm page (norms --explain).
NORM: list[tuple[Step, Step]] = [
    (
        ("melkvee-1: reference emission 2019", "Σ housing emissions"),
        ("melkvee-1: referentie-emissie 2019", "Σ emissies per stal"),
    ),
    (
        ("melkvee-1: proportional norm", "420 × (1 − 42 %)"),
        ("melkvee-1: proportionele norm", "420 × (1 − 42 %)"),
    ),
    (
        ("melkvee-1: benchmark norm", "100 × 5.7 (A1.1) + 100 × 0.5 (custom)"),
        ("melkvee-1: benchmarknorm", "100 × 5.7 (A1.1) + 100 × 0.5 (custom)"),
    ),
    (
        ("melkvee-1: stricter", "min(proportional, benchmark)"),
        ("melkvee-1: strengste van beide", "min(proportioneel, benchmark)"),
    ),
    (
        ("melkvee-1: monitoring 2027", "observed 1100 vs path 331.8"),
        ("melkvee-1: monitoringsjaar 2027", "waargenomen 1100 vs pad 331.8"),
    ),
    (
        ("melkvee-1: fine 2035", "556.4 kg × €10 × 1.5"),
        ("melkvee-1: boete 2035", "556.4 kg × €10 × 1.5"),
    ),
]
#: (English, Dutch) steps of the Vbr ranking of the example with a budget of €6 m.
VBR: list[tuple[Step, Step]] = [
    (("budget", "given with --budget"), ("beschikbaar budget", "opgegeven met --budget")),
    (
        ("round 1", "distance to nearest area ≤ 1000 m (inclusive)"),
        ("ronde 1", "afstand tot het dichtstbijzijnde gebied ≤ 1000 m (inclusief)"),
    ),
    (
        ("round 2", "others by € subsidy / kg NH3 ascending"),
        ("ronde 2", "overige op € subsidie / kg NH3, oplopend"),
    ),
    (
        ("cut-off", "V003: 5500000 + 1000000 > 6000000; stop"),
        ("afkappunt", "V003: 5500000 + 1000000 > 6000000; stop"),
    ),
    (
        ("granted", "Σ subsidy of granted applications"),
        ("toegekend", "Σ subsidie van toegekende aanvragen"),
    ),
]
SECTOR = (
    ("landbouw nh3 target 2035", "110.3 × (1 − 42 %)"),
    ("landbouw nh3 doel 2035", "110.3 × (1 − 42 %)"),
)


def shown_steps(page: str) -> list[tuple[str, str, str]]:
    """(label, formula, result) of every row of every step table of the page, as the visitor
    reads it."""
    out = []
    for body in re.findall(
        r"<caption>[^<]*</caption>\s*<thead>.*?</thead>\s*<tbody>(.*?)</tbody>", page, re.S
    ):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = [
                html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
            if len(cells) == 4:  # Step, Formula, Result, Rule (the parameter tables have six)
                out.append((cells[0], cells[1], cells[2]))
    return out


def pages(site: Site, lang: str) -> dict[str, list[tuple[str, str, str]]]:
    b = site.browser()
    b.client.cookies.set("keten_lang", lang)
    farm = b.post("/nitrogen", FARM)
    assert farm.status_code == 200, farm.text[:2000]
    assert f'<html lang="{lang}">' in farm.text
    sectors = b.get("/nitrogen/sectors")
    assert sectors.status_code == 200
    return {
        "farm": shown_steps(farm.text),
        "vbr": shown_steps(vbr_example(b)),
        "sectors": shown_steps(sectors.text),
    }


@pytest.mark.parametrize(("lang", "index"), [("nl", 1), ("en", 0)])
def test_the_steps_are_in_the_pages_language(site: Site, lang: str, index: int) -> None:
    rows = pages(site, lang)
    shown = {page: [(label, formula) for label, formula, _r in rows[page]] for page in rows}
    for page, pairs in (("farm", EMISSION + NORM), ("vbr", VBR), ("sectors", [SECTOR])):
        labels = {label for label, _formula in shown[page]}
        formulas = {formula for _label, formula in shown[page]}
        for pair in pairs:
            assert pair[index] in shown[page], (page, pair[index])
            other = pair[1 - index]
            if other[0] != pair[index][0]:
                assert other[0] not in labels, (page, other[0])
            if other[1] != pair[index][1]:
                assert other[1] not in formulas, (page, other[1])
    # the verdict of a monitoring year (NH-14) is a word too: 1100 > path 331.8
    label = NORM[4][index][0]
    verdicts = [result for lbl, _formula, result in rows["farm"] if lbl == label]
    assert verdicts == [("behind", "achter")[index]]


def test_the_cli_json_keeps_the_english_steps(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(HOUSINGS, encoding="utf-8")
    (tmp_path / "o.csv").write_text(OBSERVED, encoding="utf-8")
    housings = str(tmp_path / "h.csv")
    emissions = json.loads(
        run_cli("emissions", "--housings", housings, "--format", "json", "--explain")
    )
    steps = [(s["label"], s["formula"]) for s in emissions[0]["explain"]["steps"]]
    assert steps == [english for english, _dutch in EMISSION]
    norms = json.loads(
        run_cli(
            "norms", "--housings", housings, "--method", "stricter", "--observed",
            str(tmp_path / "o.csv"), "--avoided-cost", "10", "--format", "json", "--explain",
        )
    )  # fmt: skip
    steps = [(s["label"], s["formula"]) for s in norms[0]["explain"]["steps"]]
    for english, dutch in NORM:
        assert english in steps and dutch not in steps, english
    verdicts = {s["label"]: s["result"] for s in norms[0]["explain"]["steps"]}
    assert verdicts["melkvee-1: monitoring 2027"] == "behind"


def test_the_traces_of_vbr_and_the_sectors_stay_english() -> None:
    day = dt.date(2026, 3, 1)
    params = load_set("nitrogen", "vervolgpakket-2025")
    allocation = rank_applications(
        read_applications(EXAMPLES / "applications.csv", params, day),
        AreaIndex(read_areas(EXAMPLES / "areas.geojson", params, day)),
        params,
        day,
        Decimal(6000000),
    )
    steps = [(s["label"], s["formula"]) for s in allocation.trace.to_dict()["steps"]]
    assert steps == [english for english, _dutch in VBR]
    _targets, trace = sector_targets(params)
    steps = [(s["label"], s["formula"]) for s in trace.to_dict()["steps"]]
    assert SECTOR[0] in steps and SECTOR[1] not in steps
    # Landbouw path 2027 = 110.3 + (63.974 − 110.3) × 8/16 = 87.137 kt, 2029 × 10/16 (NH-31)
    _statuses, trace = monitor(
        params,
        [
            Observation("landbouw", "nh3", 2027, Decimal(90)),
            Observation("landbouw", "nh3", 2029, Decimal(80)),
        ],
    )
    last = [(s["label"], s["formula"], s["result"]) for s in trace.to_dict()["steps"]][-2:]
    assert last == [
        ("landbouw nh3 2027", "observed 90 vs path 87.137 (linear 2019→2035)", "behind"),
        ("landbouw nh3 2029", "observed 80 vs path 81.34625 (linear 2019→2035)", "on track"),
    ]
