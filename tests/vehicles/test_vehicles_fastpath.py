"""VH-17: the clean pass checks the text fields (Mh, Ft) once per distinct (Mp, Mh, Ft) group
instead of once per row. The reference is the per-row pass the reader uses with an M1E list
(every check on every row): with an M1E list that matches no car, both must give the same
fleets, the same refused rows with the same reasons, and the same row count — for any mix of
clean rows, padded or upper-case text, missing or unknown text, and bad numbers.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal as D
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from vehicles_testdata import row, write_eea

from keten.io.vehicles_files import (
    Monitoring,
    aggregate_monitoring,
    read_monitoring,
    scan_monitoring,
)

NO_CAR = {("nobody", "no model")}  # an M1E list that selects the per-row pass and matches nothing

rows_strategy = st.lists(
    st.builds(
        lambda mh, mp, ft, mt, e, eco, r, y: row(
            mh, mp=mp, ft=ft, mt=mt, e=e, eco=eco, r=r, year=y
        ),
        st.sampled_from(["A", " A", "A ", "B", "", " "]),
        st.sampled_from(["", "P", " P", " "]),
        st.sampled_from(["petrol", "PETROL", " diesel ", "electric", "", "kerosene"]),
        st.sampled_from(
            ["1650.15", "1500", "0", "-3", "x", "", "1234.5678", "inf", "1e3", "100001"]
        ),
        st.sampled_from(["100", "0", "49.999", "50", "12.5", "", "nan", "-inf", " 7 ", "-0"]),
        st.sampled_from(["", "1.5", "0", "-1", "2.0001", "NaN", "inf", "10001"]),
        st.sampled_from(["1", "3", "0", "2.5", "", "20000000", "1.0", "nan", "-2"]),
        st.sampled_from(["2025", "2026", "", "2025.5", "nan", " 2025 ", "2025.0"]),
    ),
    min_size=1,
    max_size=30,
)


def summary(mon: Monitoring) -> tuple[object, ...]:
    fleets = sorted((k, repr(v)) for k, v in mon.fleets.items())
    skipped = [(s.reason, s.count, repr(s.examples)) for s in mon.skipped]  # nan != nan
    return fleets, skipped, mon.rows_read


@settings(max_examples=80, deadline=None)
@given(rows_strategy)
def test_group_text_checks_equal_per_row_checks(rows: list[dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        f = write_eea(Path(tmp) / "h.csv", rows)
        for typed in (False, True):
            try:
                lf = scan_monitoring(f, typed=typed)
                fast = aggregate_monitoring(lf, str(f), [2025], zlev_threshold=D(50))
            except Exception as exc:  # a typed scan fails on text in a numeric field
                assert typed, exc
                continue
            ref = aggregate_monitoring(
                scan_monitoring(f, typed=typed), str(f), [2025], zlev_threshold=D(50), m1e=NO_CAR
            )
            assert summary(fast) == summary(ref)
        both = read_monitoring(f, [2025], zlev_threshold=D(50))
        ref = read_monitoring(f, [2025], zlev_threshold=D(50), m1e=NO_CAR)
        assert summary(both) == summary(ref)


def test_padded_and_upper_case_text_join_one_fleet(tmp_path: Path) -> None:
    """' A', 'A ' and 'A' are one manufacturer; 'PETROL' and ' diesel ' are known fuel types.
    Registrations 1 + 2 + 3 = 6; Σ mass 1000 + 2 × 1100 + 3 × 1200 = 6800."""
    f = write_eea(
        tmp_path / "h.csv",
        [
            row("A", mt="1000", ft="petrol"),
            row(" A", mt="1100", r="2", ft="PETROL"),
            row("A ", mt="1200", r="3", ft=" diesel "),
        ],
    )
    mon = aggregate_monitoring(scan_monitoring(f), str(f), [2025])
    assert list(mon.fleets) == [("A", 2025)]
    fleet = mon.fleets[("A", 2025)]
    assert (fleet.registrations, fleet.sum_mass) == (6, D(6800))
    assert mon.skipped == [] and mon.rows_read == 3


def test_bad_text_rows_are_reported_one_by_one(tmp_path: Path) -> None:
    """Rows refused by a text check are still counted and named per row (VH-09), with the first
    failing check as the reason: an empty Mh before an unknown Ft."""
    f = write_eea(
        tmp_path / "h.csv",
        [
            row("A"),
            row("A", ft="kerosene"),
            row("", ft="kerosene"),
            row("B", ft="kerosene", r="3"),
            row(" ", ft="petrol"),
        ],
    )
    mon = aggregate_monitoring(scan_monitoring(f), str(f), [2025])
    got = [(s.reason, s.count, [e["row"] for e in s.examples]) for s in mon.skipped]
    assert got == [
        ("unknown fuel type (Ft): 'kerosene'", 2, [2, 4]),
        ("missing manufacturer (Mh)", 2, [3, 5]),
    ]
    assert mon.fleets[("A", 2025)].registrations == 1 and mon.rows_read == 5
