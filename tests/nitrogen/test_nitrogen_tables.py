"""Budget Tabel 1 (seed 002), sector targets and monitoring, farm norms and enforcement."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from keten.core.errors import RuleError
from keten.core.params import ParameterSet, load_set
from keten.io.nitrogen_files import load_catalogue, read_ladder
from keten.nitrogen.budget import Commitment, check_table, table, track
from keten.nitrogen.emissions import Housing
from keten.nitrogen.norms import farm_norms
from keten.nitrogen.sectors import Observation, monitor, monitoring_years, sector_targets

D = Decimal
DAY = dt.date(2025, 9, 16)


@pytest.fixture(scope="module")
def params() -> ParameterSet:
    return load_set("nitrogen", "vervolgpakket-2025")


def test_tabel_1_every_row_and_total_adds_up_as_printed(params: ParameterSet) -> None:
    """Rows: 750 + 375 = 1.125; 200 + 842 = 1.042; 12,5 + 12,5 = 25; 212,5 + 287,5 = 500.
    Columns: 750+627+250+100+200+473+600 = 3.000; 375+83+400+442+842+216+242 = 2.600;
    1.125+83+627+250+500+442+1.042+216+473+600+242 = 5.600; 200+12,5 = 212,5; 275+12,5 = 287,5;
    475+25 = 500. The checker reports any cell that does not add up: none does."""
    rows = table(params, DAY)
    checks = check_table(rows)
    assert len(rows) == 15 and len(checks) == 15 + 6
    assert [c for c in checks if not c.ok] == []
    by = {(c.kind, c.what): c for c in checks}
    assert by[("incidenteel", "column totaal")].computed == D(5600)
    assert by[("structureel", "row totaal")].formula == "212.5 + 287.5"
    assert by[("incidenteel", "row aanpak_piekbelasters_industrie")].formula == "— + 83"


def test_checker_reports_a_cell_that_does_not_add_up(params: ParameterSet) -> None:
    rows = table(params, DAY)
    bad = [
        dataclasses.replace(r, cells={**r.cells, "totaal": D(1126)})
        if r.line == "brede_vrijwillige_beeindigingsregeling"
        else r
        for r in rows
    ]
    wrong = {(c.kind, c.what) for c in check_table(bad) if not c.ok}
    assert wrong == {
        ("incidenteel", "row brede_vrijwillige_beeindigingsregeling"),
        ("incidenteel", "column totaal"),
    }


def test_commitment_tracker(params: ParameterSet) -> None:
    rows = table(params, DAY)
    out = track(
        rows,
        [
            Commitment("incidenteel", "mest", D(200), "x"),
            Commitment("incidenteel", "mest", D(100), "y"),
        ],
    )
    mest = next(s for s in out if s.line == "mest")
    assert (mest.available, mest.committed, mest.remaining) == (D(250), D(300), D(-50))
    with pytest.raises(RuleError, match="unknown budget line"):
        track(rows, [Commitment("incidenteel", "nope", D(1), "")])


def test_sector_targets(params: ParameterSet) -> None:
    """Landbouw: 110.3 × (1 − 42 %) = 63.974 kt; mobiliteit NOx 141.1 × 50 % = 70.55 kt;
    industrie NH3 baseline unknown → target kt unknown (null), never 0."""
    targets, trace = sector_targets(params)
    by = {t.sector: t for t in targets}
    assert by["landbouw"].target_kt == D("63.974")
    assert by["mobiliteit"].target_kt == D("70.55")
    assert by["industrie"].target_kt is None and by["industrie"].notes
    assert by["landbouw"].streefwaarde_2030_pct is None
    assert "nitrogen.sector.mobiliteit.nox_2019" in {p.name for p in trace.flagged()}


def test_scenario_set_46(params: ParameterSet) -> None:
    targets, _ = sector_targets(load_set("nitrogen", "vervolgpakket-2025-46"))
    assert targets[0].target_kt == D("110.3") * D("0.54")  # 59.562


def test_monitoring_years(params: ParameterSet) -> None:
    assert monitoring_years(params, 2035) == [2027, 2029, 2031, 2033, 2035]


def test_sector_monitor(params: ParameterSet) -> None:
    """Path 2027 = 110.3 + (63.974 − 110.3) × 8/16 = 87.137 kt; 90 is behind by 2.863."""
    res, _ = monitor(
        params,
        [Observation("landbouw", "nh3", 2027, D(90)), Observation("landbouw", "nh3", 2027, D(87))],
    )
    assert res[0].path_kt == D("87.137") and res[0].status == "behind"
    assert res[0].gap_kt == D("2.863") and res[0].monitoring_year
    assert res[1].status == "on track"
    with pytest.raises(RuleError):
        monitor(params, [Observation("visserij", "nh3", 2027, D(1))])


def test_norms_proportional_benchmark_stricter(params: ParameterSet) -> None:
    """100 cows A1.100: reference 2019 = 1300 kg. Proportional 1300 × 0.58 = 754 (NH-11).
    Benchmark: lowest A1 factor valid in 2035 is A1.1 (5,7): 100 × 5.7 = 570 (NH-12).
    Stricter = min(754, 570) = 570 (NH-13)."""
    cat = load_catalogue(params)
    h = [Housing("m", 100, "A1.100")]
    prop = farm_norms(h, cat, "proportional")[0]
    assert (prop.reference_kg, prop.norm_kg) == (D(1300), D(754))
    assert farm_norms(h, cat, "benchmark")[0].norm_kg == D(570)
    assert farm_norms(h, cat, "stricter")[0].norm_kg == D(570)
    with pytest.raises(RuleError):
        farm_norms(h, cat, "average")  # type: ignore[arg-type]


def test_path_monitoring_and_case_history(params: ParameterSet) -> None:
    """Proportional norm 754; path 2027 = 1300 − 546 × 8/16 = 1027. Observed 1100 → behind by 73
    → bedrijfsplan. 2035: 800 > 754 by 46 → fine 46 × €10 × 1.5 = €690. 2037: 800 again → second
    miss (threshold 2) → freezing of production rights."""
    cat = load_catalogue(params)
    obs = {("m", 2027): D(1100), ("m", 2029): D(900), ("m", 2035): D(800), ("m", 2037): D(800)}
    fn = farm_norms(
        [Housing("m", 100, "A1.100")], cat, "proportional", None, obs, read_ladder(), D(10)
    )[0]
    m = {p.year: p for p in fn.monitoring}
    assert m[2027].path_kg == D(1027) and m[2027].gap_kg == D(73) and m[2027].status == "behind"
    assert m[2029].status == "on track"  # path 1300 − 546 × 10/16 = 958.75
    assert m[2031].status == "no observation"
    assert [(e.year, e.step) for e in fn.history] == [(2027, 1), (2035, 2), (2037, 3)]
    assert fn.history[1].fine_eur == D(690)


def test_fine_without_avoided_cost_is_not_zero(params: ParameterSet) -> None:
    cat = load_catalogue(params)
    fn = farm_norms(
        [Housing("m", 100, "A1.100")],
        cat,
        "proportional",
        None,
        {("m", 2035): D(800)},
        read_ladder(),
    )[0]
    assert fn.history[0].fine_eur is None and "unknown" in fn.history[0].reason
