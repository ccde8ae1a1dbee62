"""The streaming EEA reader against a plain Python recount, and the synthetic generator."""

from __future__ import annotations

import tempfile
from decimal import Decimal as D
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from vehicles_testdata import row, write_eea

from keten.io.vehicles_files import aggregate_monitoring, scan_monitoring, write_synthetic
from keten.vehicles.synthetic import COLUMNS

decimal3 = st.decimals(min_value=0, max_value=400, places=3, allow_nan=False, allow_infinity=False)

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["", "P"]),
        st.decimals(min_value=800, max_value=3500, places=2),
        decimal3,
        st.decimals(min_value=0, max_value=3, places=2),
        st.integers(min_value=1, max_value=5000),
        st.sampled_from(["2025", "2026"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(rows_strategy)
def test_streaming_sums_equal_exact_recount(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        f = write_eea(
            Path(tmp) / "h.csv",
            [
                row(mh, mp=mp, mt=str(mt), e=str(e), eco=str(eco), r=str(r), year=y)
                for mh, mp, mt, e, eco, r, y in rows
            ],
        )
        mon = aggregate_monitoring(scan_monitoring(f), str(f), [2025], zlev_threshold=D(50))
    expected: dict[str, dict[str, D]] = {}
    skipped = 0
    for mh, mp, mt, e, eco, r, y in rows:
        if y != "2025":
            skipped += 1
            continue
        g = expected.setdefault(mp or mh, {k: D(0) for k in ("n", "m", "e", "eco", "zn", "ze")})
        g["n"] += r
        g["m"] += r * mt
        g["e"] += r * e
        g["eco"] += r * eco
        if e <= 50:
            g["zn"] += r
            g["ze"] += r * e
    assert mon.skipped_count == skipped
    assert mon.rows_read == len(rows)
    assert {k[0] for k in mon.fleets} == set(expected)
    for name, g in expected.items():
        fl = mon.fleets[(name, 2025)]
        assert fl.registrations == g["n"]
        assert fl.sum_mass == g["m"]
        assert fl.sum_emissions == g["e"]
        assert fl.sum_eco == g["eco"]
        assert fl.zlev_registrations == g["zn"]
        assert fl.zlev_sum_emissions == g["ze"]


def test_pool_members_listed(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "p.csv", [row("B", mp="P"), row("A", mp="P"), row("C")])
    mon = aggregate_monitoring(scan_monitoring(f), str(f), [2025])
    assert mon.fleets[("P", 2025)].members == ("A", "B")
    assert mon.fleets[("C", 2025)].members == ()


def test_nedc_reads_m_and_enedc(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "n.csv", [row("A", year="2020", m="1479.88", enedc="110", mt="")])
    mon = aggregate_monitoring(scan_monitoring(f), str(f), [2020], nedc=True)
    fl = mon.fleets[("A", 2020)]
    assert (fl.sum_mass, fl.sum_emissions) == (D("1479.88"), D(110))


def test_synthetic_has_the_eea_schema_and_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    write_synthetic(a, 2500, seed=7)
    write_synthetic(b, 2500, seed=7)
    fa, fb = pl.read_csv(a), pl.read_parquet(b)
    assert tuple(fa.columns) == COLUMNS == tuple(fb.columns)
    assert fa.height == fb.height == 2500
    assert fa["Ewltp"].to_list() == fb["Ewltp"].to_list()
    mon = aggregate_monitoring(scan_monitoring(a), str(a), [2025], zlev_threshold=D(50))
    assert mon.skipped == [] and sum(f.registrations for f in mon.fleets.values()) == 2500


def test_parquet_typed_columns_bad_rows_reported(tmp_path: Path) -> None:
    # Parquet keeps numeric types: a null mass, a negative and a NaN emission, another year.
    f = tmp_path / "t.parquet"
    pl.DataFrame(
        {
            "Mh": ["A", "A", "B", "C", "D"],
            "Ft": ["petrol", "petrol", "diesel", "petrol", "petrol"],
            "Mt": [1650.15, None, 1650.15, 1650.15, 1650.15],
            "Ewltp": [100.0, 100.0, -1.0, float("nan"), 100.0],
            "R": [2, 1, 1, 1, 1],
            "Year": [2025, 2025, 2025, 2025, 2024],
        }
    ).write_parquet(f)
    mon = aggregate_monitoring(scan_monitoring(f), str(f), [2025])
    assert list(mon.fleets) == [("A", 2025)] and mon.fleets[("A", 2025)].registrations == 2
    reasons = {s.reason: [e["row"] for e in s.examples] for s in mon.skipped}
    assert reasons == {
        "missing mass (Mt)": [2],
        "negative emissions (Ewltp)": [3],
        "emissions (Ewltp) is not a number: 'nan'": [4],
        "row of another year (Year): '2024'": [5],
    }


def test_typed_csv_read_falls_back_to_text_on_a_bad_number(tmp_path: Path) -> None:
    from keten.io.vehicles_files import read_monitoring

    f = write_eea(tmp_path / "h.csv", [row("A"), row("B", mt="heavy")])
    mon = read_monitoring(f, [2025])
    assert [s.reason for s in mon.skipped] == ["mass (Mt) is not a number: 'heavy'"]
    assert mon.skipped[0].examples[0]["row"] == 2


def test_implausible_total_registrations_refused(tmp_path: Path) -> None:
    # 9001 rows × R 10^7 = 9.001 × 10^10 > 9 × 10^10: exact Int64 sums are no longer guaranteed
    import pytest

    from keten.core.errors import InputError

    f = write_eea(tmp_path / "big.csv", [row("A", r="10000000")] * 9001)
    with pytest.raises(InputError, match="more than 90,000,000,000 registrations"):
        aggregate_monitoring(scan_monitoring(f), str(f), [2025])
    f2 = write_eea(tmp_path / "ok.csv", [row("A", r="10000000")] * 9000)
    mon = aggregate_monitoring(scan_monitoring(f2), str(f2), [2025])
    assert mon.fleets[("A", 2025)].registrations == 9 * 10**10
    assert mon.fleets[("A", 2025)].sum_mass == D("1650.15") * 9 * 10**10
