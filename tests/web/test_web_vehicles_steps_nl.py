"""The explanation steps of the vehicles engine in the page's language: a Dutch visitor reads
"referentiedoel … referentie × 1", "2024 tekort … opgeteld bij 2025", "doel 2040 (netto)", an
English one "reference target … reference × 1"; the CLI and the JSON stay English byte for byte.

The steps are ``msg(...)`` templates (``keten.vehicles.standards`` and ``accounts``; catalogue
area ``messages_vehicles``) rendered when the page is rendered (``keten.web.traces``). Names,
numbers and symbols (TM, y, AEA, Σ, min, clamp) stay as given. Numbers: the shipped example files
(docs/vehicles.md: BETA CARS TM 1712.6125 kg, y = 0.11 → factor 1, excess 9.251, premium
€351,538; ESR 2024 short 7.5 × 1.08 = 8.1; EU 2040 target 480, credit cap 240, domestic 720).
"""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
from test_web_vehicles import EXAMPLES, cli_json
from test_web_vehicles_audit import compute, visitor
from typer.testing import CliRunner
from web_site import Site

from keten.cli.vehicles import targets_app
from keten.core.params import load_set
from keten.vehicles.model import Fleet
from keten.vehicles.standards import YearInput, assess_averaged
from keten.web import i18n

Step = tuple[str, str]  # (label, formula) as the page shows them

BETA_EN: list[Step] = [
    ("average test mass TM", "685045 kg / 400"),
    ("reference target", "93.6 + 0.0144 × (1712.6125 − 1650.15)"),
    ("ZLEV share y", "(100 − 0.7 × 4000 / 50) / 400"),
    ("ZLEV factor", "clamp(1 + 0.11 − 0.25, 1.0, 1.05) = clamp(0.86)"),
    ("specific emissions target", "reference × 1"),
    ("average specific emissions", "41500 / 400"),
    ("excess emissions", "max(103.750 − 94.499, 0)"),
    ("premium", "9.251 × €95 × 400"),
]
BETA_NL: list[Step] = [
    ("gemiddelde testmassa TM", "685045 kg / 400"),
    ("referentiedoel", "93.6 + 0.0144 × (1712.6125 − 1650.15)"),
    ("ZLEV-aandeel y", "(100 − 0.7 × 4000 / 50) / 400"),
    ("ZLEV-factor", "clamp(1 + 0.11 − 0.25, 1.0, 1.05) = clamp(0.86)"),
    ("specifiek emissiedoel", "referentie × 1"),
    ("gemiddelde specifieke uitstoot", "41500 / 400"),
    ("overtollige emissies", "max(103.750 − 94.499, 0)"),
    ("boete", "9.251 × €95 × 400"),
]

AEA_EN = "user input (series column aea)"
AEA_NL = "invoer van de gebruiker (kolom aea van de reeks)"
ESR_EN: list[Step] = [
    *((f"{y} AEA", AEA_EN) for y in range(2021, 2026)),
    ("2021 balance", "100 − 0 + 0 + 0 + 0 + 0 − (90 + 0)"),
    ("2021 banking", "min(10, 75 % × 100)"),
    ("2022 balance", "100 − 0 + 10 + 0 + 0 + 0 − (115 + 0)"),
    ("2022 borrowing", "min(-5 short, 7.5 cap)"),
    ("2023 balance", "100 − 5 + 0 + 0 + 0 + 0 − (100 + 0)"),
    ("2023 borrowing", "min(-5 short, 7.5 cap)"),
    ("2024 balance", "100 − 5 + 0 + 0 + 0 + 0 − (110 + 0)"),
    ("2024 borrowing", "min(-15 short, 7.5 cap)"),
    ("2024 shortfall", "7.5 × 1.08 added to 2025"),
    ("2025 balance", "100 − 7.5 + 0 + 0 + 0 + 0 − (80 + 8.1)"),
    ("2025 banking", "min(4.4, 25 % × 500)"),
    ("2030 limit", "120 × (100 − 48) %"),
]
ESR_NL: list[Step] = [
    *((f"{y} emissieruimte (AEA)", AEA_NL) for y in range(2021, 2026)),
    ("2021 saldo", "100 − 0 + 0 + 0 + 0 + 0 − (90 + 0)"),
    ("2021 overschot naar volgend jaar", "min(10, 75 % × 100)"),
    ("2022 saldo", "100 − 0 + 10 + 0 + 0 + 0 − (115 + 0)"),
    ("2022 lening", "min(-5 tekort, 7.5 plafond)"),
    ("2023 saldo", "100 − 5 + 0 + 0 + 0 + 0 − (100 + 0)"),
    ("2023 lening", "min(-5 tekort, 7.5 plafond)"),
    ("2024 saldo", "100 − 5 + 0 + 0 + 0 + 0 − (110 + 0)"),
    ("2024 lening", "min(-15 tekort, 7.5 plafond)"),
    ("2024 tekort", "7.5 × 1.08 opgeteld bij 2025"),
    ("2025 saldo", "100 − 7.5 + 0 + 0 + 0 + 0 − (80 + 8.1)"),
    ("2025 overschot naar volgend jaar", "min(4.4, 25 % × 500)"),
    ("Grens 2030", "120 × (100 − 48) %"),  # one id, one text: the table header's translation
]

EU2040_EN: list[Step] = [
    ("2040 net target", "4800 × (100 − 90) %"),
    ("credit cap 2040", "4800 × 5 %"),
    ("domestic limit 2040", "480 + 240 (domestic reduction 85 %)"),
    ("2030 path", "2160 ≤ 4800 × (100 − 55) % = 2160"),
    ("2035 credits counted", "min(50, 0)"),
    ("2035 path", "1400 ≤ 4800 × (100 − 72.5) % = 1320"),
    ("2040 credits counted", "min(300, 240)"),
    ("2040 path", "460 ≤ 4800 × (100 − 90) % = 480"),
    ("remaining domestic reduction", "max(700 (2040) − 720, 0)"),
]
EU2040_NL: list[Step] = [
    ("doel 2040 (netto)", "4800 × (100 − 90) %"),
    ("plafond voor credits 2040", "4800 × 5 %"),
    ("binnenlandse grens 2040", "480 + 240 (binnenlandse reductie 85 %)"),
    ("2030 pad", "2160 ≤ 4800 × (100 − 55) % = 2160"),
    ("2035 meegetelde credits", "min(50, 0)"),
    ("2035 pad", "1400 ≤ 4800 × (100 − 72.5) % = 1320"),
    ("2040 meegetelde credits", "min(300, 240)"),
    ("2040 pad", "460 ≤ 4800 × (100 − 90) % = 480"),
    ("resterende binnenlandse reductie", "max(700 (2040) − 720, 0)"),
]


def steps(page: str, title: str = "") -> list[Step]:
    """(label, formula) of the explanation whose summary holds ``title`` (the first one when
    empty), as a reader sees them (entities unescaped)."""
    m = re.search(
        rf'<details class="trace">\s*<summary>[^<]*{re.escape(title)}[^<]*</summary>'
        r"(.*?)</details>",
        page,
        re.S,
    )
    assert m, f"no explanation {title!r}"
    body = re.search(r"<tbody>(.*?)</tbody>", m.group(1), re.S)
    assert body
    rows = re.findall(r"<tr><td>(.*?)</td><td><code>(.*?)</code></td>", body.group(1), re.S)
    return [(html.unescape(label), html.unescape(formula)) for label, formula in rows]


def cli_steps(doc: object) -> list[Step]:
    assert isinstance(doc, dict)
    return [(s["label"], s["formula"]) for s in doc["explain"]["steps"]]


def targets_json(kind: str, series: str) -> object:
    out = CliRunner().invoke(
        targets_app,
        [kind, "--series", str(EXAMPLES / series), "--format", "json", "--explain"],
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout, parse_float=Decimal)


# ----------------------------------------------------------------------------- the pages


@pytest.mark.parametrize(("lang", "want"), [("nl", BETA_NL), ("en", BETA_EN)])
def test_manufacturer_explanation_in_the_pages_language(
    site: Site, lang: str, want: list[Step]
) -> None:
    status, page = compute(visitor(site, lang), use_example="1", scenario="in-force")
    assert status == 200
    assert steps(page, "BETA CARS (in-force)") == want
    alpha = dict(steps(page, "ALPHA MOTORS (in-force)"))
    cap = {"nl": "plafond", "en": "cap"}[lang]
    eco = {"nl": "besparing door eco-innovaties", "en": "eco-innovation savings"}[lang]
    assert alpha[eco] == f"min(900 / 1000 = 0.9, {cap} 6)"
    pool = steps(page, "Gamma Pool (in-force)")
    assert pool[0] == ("pool", "DELTA SPA + GAMMA AG")
    if lang == "nl":
        shown = " ".join(label for label, _ in steps(page, "BETA CARS (in-force)"))
        for english in ("reference target", "average", "emissions", "premium"):
            assert english not in shown


def test_manufacturer_steps_stay_english_in_the_cli_json() -> None:
    doc = cli_json(
        "compliance", "--data", str(EXAMPLES / "eea_cars_2025.csv"), "--year", "2025",
        "--format", "json", "--explain",
    )  # fmt: skip
    assert isinstance(doc, list)
    beta = next(r for r in doc if r["manufacturer"] == "BETA CARS")
    assert cli_steps(beta) == BETA_EN


@pytest.mark.parametrize(
    ("url", "series", "lang", "want"),
    [
        pytest.param("/vehicles/esr", "esr_nl_series.csv", "nl", ESR_NL, id="esr-nl"),
        pytest.param("/vehicles/esr", "esr_nl_series.csv", "en", ESR_EN, id="esr-en"),
        pytest.param("/vehicles/eu2040", "eu2040_series.csv", "nl", EU2040_NL, id="eu2040-nl"),
        pytest.param("/vehicles/eu2040", "eu2040_series.csv", "en", EU2040_EN, id="eu2040-en"),
    ],
)
def test_series_explanation_in_the_pages_language(
    site: Site, url: str, series: str, lang: str, want: list[Step]
) -> None:
    r = visitor(site, lang).post(url, {"use_example": "1"})
    assert r.status_code == 200
    assert steps(r.text) == want


@pytest.mark.parametrize(
    ("kind", "series", "want"),
    [("esr", "esr_nl_series.csv", ESR_EN), ("eu2040", "eu2040_series.csv", EU2040_EN)],
)
def test_series_steps_stay_english_in_the_cli_json(
    kind: str, series: str, want: list[Step]
) -> None:
    assert cli_steps(targets_json(kind, series)) == want


# ----------------------------------------------------------------------------- the engine


def test_three_year_averaging_steps_follow_the_context_and_json_stays_english() -> None:
    """The per-year steps get the year in front ("2025: …"); the annual excess and premium are
    left out by their English label even when the engine runs inside a Dutch page."""

    def fleet(n: int, mass: str, co2: str, year: int) -> Fleet:
        return Fleet("A", year, n, Decimal(mass), Decimal(co2), Decimal(0), 0, Decimal(0), 0,
                     Decimal(0), ())  # fmt: skip

    years = [
        YearInput(fleet(1000, "1650150", "135000", 2025), Decimal("130")),
        YearInput(fleet(1200, "1980180", "151200", 2026), Decimal("128")),
        YearInput(fleet(800, "1320120", "101600", 2027), Decimal("125")),
    ]
    with i18n.using("nl"):
        a = assess_averaged(years, "cars", load_set("vehicles", "in-force"), 2027)
        dutch = [(str(s.label), str(s.formula)) for s in a.trace.steps]
    derogation_nl = (
        "afwijkend doel (derogatie; invoer van de gebruiker)",
        "verleend op grond van art. 10; vervangt het doel volgens de formule",
    )
    assert dutch[:2] == [
        (f"2025: {derogation_nl[0]}", derogation_nl[1]),
        ("2025: gemiddelde specifieke uitstoot", "135000 / 1000"),
    ]
    assert dutch[6:] == [
        ("gemiddelde uitstoot 2025–2027", "Σ(average_y × N_y) / Σ N_y = 387800 / 3000"),
        ("doel 2025–2027", "Σ(target_y × N_y) / Σ N_y = 383600 / 3000"),
        ("overtollige emissies", "max(129.267 − 127.867, 0)"),
        ("boete", "1.400 × €95 × 3000"),
    ]
    english = [(s["label"], s["formula"]) for s in a.trace.to_dict()["steps"]]
    derogation_en = (
        "derogation target (user input)",
        "granted under Art. 10; replaces the formula target",
    )
    assert english == [
        *(
            step
            for y, n, co2 in ((2025, 1000, 135000), (2026, 1200, 151200), (2027, 800, 101600))
            for step in (
                (f"{y}: {derogation_en[0]}", derogation_en[1]),
                (f"{y}: average specific emissions", f"{co2} / {n}"),
            )
        ),
        ("average emissions 2025–2027", "Σ(average_y × N_y) / Σ N_y = 387800 / 3000"),
        ("target 2025–2027", "Σ(target_y × N_y) / Σ N_y = 383600 / 3000"),
        ("excess emissions", "max(129.267 − 127.867, 0)"),
        ("premium", "1.400 × €95 × 3000"),
    ]
