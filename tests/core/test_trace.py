"""Traces, receipts (keten.core.trace) and exact JSON output (keten.core.jsonout)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import keten
from keten.core.errors import ParameterError
from keten.core.jsonout import dumps
from keten.core.params import ParameterSet, load_set, params_root
from keten.core.trace import Trace, merged

D = Decimal


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _param(name: str, value: str, status: str = "source") -> str:
    return (
        f"  {name}:\n    description: d\n    unit: MJ\n    source: src of {name}\n"
        f"    status: {status}\n    values:\n      - {{year: 2026, value: {value}}}\n"
    )


@pytest.fixture
def tmp_set(tmp_path: Path) -> ParameterSet:
    """Set s1: ev/common/c.yaml (ev.c), ev/s1/a.yaml (ev.a), ev/s1/b.yaml (ev.b, unverified)."""
    head = "domain: ev\nset: {s}\ndescription: d\nparameters:\n"
    _write(tmp_path, "ev/common/c.yaml", head.format(s="common") + _param("ev.c", "3"))
    _write(tmp_path, "ev/s1/a.yaml", head.format(s="s1") + _param("ev.a", "0.1"))
    _write(tmp_path, "ev/s1/b.yaml", head.format(s="s1") + _param("ev.b", "0.2", "unverified"))
    return load_set("ev", "s1", root=tmp_path)


@pytest.fixture(scope="module")
def bijlage1() -> ParameterSet:
    return load_set("ev", "bijlage-1")


def _sha(rel: str) -> str:
    return hashlib.sha256((params_root() / rel).read_bytes()).hexdigest()


# --- Trace.value / record ----------------------------------------------------------------------


def test_value_returns_decimal_and_records_param_value(tmp_set: ParameterSet) -> None:
    trace = Trace(tmp_set)
    assert trace.value("ev.a", 2026) == D("0.1")
    assert list(trace.used) == [("ev.a", "2026")]
    pv = trace.used[("ev.a", "2026")]
    assert pv == tmp_set.get("ev.a", 2026)
    assert (pv.name, pv.unit, pv.source, pv.file) == ("ev.a", "MJ", "src of ev.a", "ev/s1/a.yaml")


def test_value_recording_is_idempotent(tmp_set: ParameterSet) -> None:
    trace = Trace(tmp_set)
    trace.value("ev.a", 2026)
    trace.value("ev.a", 2026)
    assert len(trace.used) == 1


def test_record_of_date_lookup(bijlage1: ParameterSet) -> None:
    trace = Trace(bijlage1)
    pv = bijlage1.at("ev.fossil_comparator", dt.date(2026, 5, 1))
    assert trace.record(pv) == D(94)
    assert trace.used == {("ev.fossil_comparator", "2026-01-01.."): pv}


def test_failed_lookup_records_nothing(tmp_set: ParameterSet) -> None:
    trace = Trace(tmp_set)
    with pytest.raises(ParameterError):
        trace.value("ev.a", 2027)
    assert trace.used == {}
    assert trace.receipt().files == {}


# --- receipt -----------------------------------------------------------------------------------


def test_receipt_lists_exactly_the_files_used(tmp_set: ParameterSet, tmp_path: Path) -> None:
    trace = Trace(tmp_set)
    trace.value("ev.a", 2026)
    trace.value("ev.c", 2026)
    receipt = trace.receipt()
    assert set(receipt.files) == {"ev/s1/a.yaml", "ev/common/c.yaml"}
    for rel, digest in receipt.files.items():
        assert digest == hashlib.sha256((tmp_path / rel).read_bytes()).hexdigest()
    assert receipt.keten_version == keten.__version__
    assert (receipt.domain, receipt.parameter_set) == ("ev", "s1")


def test_receipt_of_empty_trace_has_no_files(tmp_set: ParameterSet) -> None:
    assert Trace(tmp_set).receipt().files == {}


def test_receipt_of_real_set_hashes_file_bytes(bijlage1: ParameterSet) -> None:
    """A result using Bijlage 1 table Land row Totaal and the comparator cites both files only."""
    trace = Trace(bijlage1)
    trace.value("ev.land.total", 2026)
    trace.value("ev.zeevaart.total", 2030)
    trace.record(bijlage1.at("ev.fossil_comparator", dt.date(2026, 1, 1)))
    files = trace.receipt().files
    assert files == {
        "ev/bijlage-1/obligations.yaml": _sha("ev/bijlage-1/obligations.yaml"),
        "ev/common/constants.yaml": _sha("ev/common/constants.yaml"),
    }
    assert "ev/common/lhv.yaml" not in files


def test_receipt_hash_changes_with_file_bytes(tmp_path: Path) -> None:
    head = "domain: ev\nset: s1\ndescription: d\nparameters:\n"
    path = _write(tmp_path, "ev/s1/a.yaml", head + _param("ev.a", "1"))
    first = Trace(load_set("ev", "s1", root=tmp_path))
    first.value("ev.a", 2026)
    path.write_text(path.read_text(encoding="utf-8") + "# comment\n", encoding="utf-8")
    second = Trace(load_set("ev", "s1", root=tmp_path))
    second.value("ev.a", 2026)
    a, b = first.receipt().files["ev/s1/a.yaml"], second.receipt().files["ev/s1/a.yaml"]
    assert a != b
    assert b == hashlib.sha256(path.read_bytes()).hexdigest()


# --- flagged, to_dict, merged ------------------------------------------------------------------


def test_flagged_lists_non_source_values(tmp_set: ParameterSet) -> None:
    trace = Trace(tmp_set)
    trace.value("ev.a", 2026)
    assert trace.flagged() == []
    trace.value("ev.b", 2026)
    trace.value("ev.c", 2026)
    flagged = trace.flagged()
    assert [pv.name for pv in flagged] == ["ev.b"]
    assert flagged[0].status == "unverified"


def test_flagged_real_values(bijlage1: ParameterSet) -> None:
    """EV-09: an LHV value is unverified; constants.yaml grams_per_unit is third-party."""
    trace = Trace(bijlage1)
    trace.value("ev.land.total", 2026)
    trace.record(bijlage1.at("ev.lhv.diesel.per_kg", dt.date(2026, 1, 1)))
    trace.record(bijlage1.at("ev.grams_per_unit", dt.date(2026, 1, 1)))
    statuses = {pv.name: pv.status for pv in trace.flagged()}
    assert statuses == {"ev.lhv.diesel.per_kg": "unverified", "ev.grams_per_unit": "third-party"}


def test_to_dict(tmp_set: ParameterSet) -> None:
    trace = Trace(tmp_set)
    a = trace.value("ev.a", 2026)
    c = trace.value("ev.c", 2026)
    trace.step("product", "a × c", a * c, ref="EV-01")
    trace.step("rounded", "round_half_up(product)", 0)
    out = trace.to_dict()
    assert set(out) == {"steps", "parameters", "receipt"}
    assert out["steps"] == [
        {"label": "product", "formula": "a × c", "result": "0.3", "ref": "EV-01"},
        {"label": "rounded", "formula": "round_half_up(product)", "result": "0", "ref": ""},
    ]
    assert [p["name"] for p in out["parameters"]] == ["ev.a", "ev.c"]
    assert out["parameters"][0] == {
        "name": "ev.a",
        "period": "2026",
        "value": "0.1",
        "unit": "MJ",
        "source": "src of ev.a",
        "status": "source",
        "file": "ev/s1/a.yaml",
    }
    receipt = out["receipt"]
    assert receipt["keten_version"] == keten.__version__
    assert (receipt["domain"], receipt["parameter_set"]) == ("ev", "s1")
    assert list(receipt["parameter_files"]) == ["ev/common/c.yaml", "ev/s1/a.yaml"]
    assert receipt["parameter_files"] == dict(sorted(trace.receipt().files.items()))
    json.loads(dumps(out))  # serialisable


def test_merged_keeps_steps_in_order_and_all_uses(tmp_set: ParameterSet) -> None:
    one, two = Trace(tmp_set), Trace(tmp_set)
    one.value("ev.a", 2026)
    one.step("first", "a", 1)
    two.value("ev.b", 2026)
    two.step("second", "b", 2)
    out = merged(tmp_set, [one, two])
    assert [s.label for s in out.steps] == ["first", "second"]
    assert set(out.used) == {("ev.a", "2026"), ("ev.b", "2026")}
    assert set(out.receipt().files) == {"ev/s1/a.yaml", "ev/s1/b.yaml"}
    assert [s.label for s in one.steps] == ["first"]  # inputs untouched


# --- jsonout.dumps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0.1",
        "0.30000000000000004",
        "123456789012345678.123456",
        "-0.000001",
        "1.20",
        "0",
        "14.4",
        "123456789012345678901234567890123456789",
    ],
)
def test_dumps_writes_decimal_digit_for_digit(text: str) -> None:
    out = dumps(D(text))
    assert out == text
    assert json.loads(out, parse_float=Decimal, parse_int=Decimal) == D(text)


def test_dumps_nested_structures() -> None:
    obj = {
        "total": D("123456789012345678.123456"),
        "rows": [D("0.1"), (D("1.20"), "text"), {"x": D("-3")}],
        "name": "Zeevaart 8,2%",
        "n": 3,
        "f": 0.5,
        "none": None,
        "flag": True,
    }
    out = dumps(obj)
    assert '"total": 123456789012345678.123456' in out
    assert "1.20" in out
    assert '"1.20"' not in out
    back = json.loads(out, parse_float=Decimal)
    assert back["total"] == D("123456789012345678.123456")
    assert back["rows"] == [D("0.1"), [D("1.20"), "text"], {"x": -3}]
    assert back["name"] == "Zeevaart 8,2%"
    assert (back["n"], back["f"], back["none"], back["flag"]) == (3, D("0.5"), None, True)
    assert json.loads(out)["rows"][0] == 0.1  # plain json.loads parses too


def test_dumps_compact_and_non_ascii() -> None:
    out = dumps({"v": D("0.1"), "s": "gCO₂e/MJ"}, indent=None)
    assert out == '{"v": 0.1, "s": "gCO₂e/MJ"}'


def test_dumps_leaves_strings_alone() -> None:
    """Only Decimal values become numbers: a string that looks like a number stays a string."""
    out = dumps({"a": "0.1", "b": "dec:5"})
    assert json.loads(out) == {"a": "0.1", "b": "dec:5"}


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_dumps_round_trips_any_finite_decimal(value: Decimal) -> None:
    out = dumps({"v": value, "l": [value]})
    back = json.loads(out, parse_float=Decimal, parse_int=Decimal)
    assert back["v"] == value
    assert back["l"] == [value]
    assert "\\u0000" not in out
