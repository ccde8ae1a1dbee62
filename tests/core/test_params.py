"""The parameter loader (keten.core.params): schema refusals, exact numbers, lookups, real sets.

Small parameter files are written to a temporary params root ``tmp/ev/common/*.yaml`` and
``tmp/ev/<set>/*.yaml`` and loaded with ``load_set(..., root=tmp)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from keten.core.errors import ParameterError, ParameterFileError
from keten.core.params import (
    Parameter,
    ParameterSet,
    ValueEntry,
    available_sets,
    load_set,
    params_root,
)

SET_FILE = "ev/s1/p.yaml"

VALID_PARAM = """\
  ev.x:
    description: a test parameter
    unit: "%"
    source: test source, table T, row R
    values:
      - {year: 2026, value: 1.5}
"""


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _file(body: str, *, domain: str = "ev", set_name: str = "s1", extra: str = "") -> str:
    """A parameter file whose ``parameters:`` block is ``body`` (already indented by two)."""
    return f"domain: {domain}\nset: {set_name}\ndescription: test file\n{extra}parameters:\n{body}"


def _param(values: str, *, name: str = "ev.x", head: str | None = None) -> str:
    """One parameter ``name`` with the given ``values`` lines (each a YAML flow mapping)."""
    if head is None:
        head = '    description: a test parameter\n    unit: "%"\n    source: test source\n'
    lines = "".join(f"      - {v}\n" for v in values.strip().splitlines())
    return f"  {name}:\n{head}    values:\n{lines}"


def _load(root: Path, set_name: str = "s1") -> ParameterSet:
    return load_set("ev", set_name, root=root)


def _refused(root: Path, *fragments: str, set_name: str = "s1", file: str = SET_FILE) -> str:
    """Load must raise ParameterFileError: one line, naming the file and every fragment."""
    with pytest.raises(ParameterFileError) as exc:
        _load(root, set_name)
    message = str(exc.value)
    assert "\n" not in message, message
    assert file in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "ev" / "common").mkdir(parents=True)
    (tmp_path / "ev" / "s1").mkdir(parents=True)
    return tmp_path


# --- a valid file ------------------------------------------------------------------------------


def test_valid_file_loads(root: Path) -> None:
    path = _write(root, SET_FILE, _file(VALID_PARAM))
    ps = _load(root)
    pv = ps.get("ev.x", 2026)
    assert pv.value == Decimal("1.5")
    assert (pv.unit, pv.source, pv.status, pv.file, pv.period) == (
        "%",
        "test source, table T, row R",
        "source",
        SET_FILE,
        "2026",
    )
    assert not pv.flagged
    assert ps.file_hashes == {SET_FILE: hashlib.sha256(path.read_bytes()).hexdigest()}
    assert ps.domain == "ev" and ps.name == "s1"


def test_common_files_are_part_of_every_set(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    _write(root, "ev/s2/p.yaml", _file(VALID_PARAM, set_name="s2"))
    _write(
        root,
        "ev/common/c.yaml",
        _file(_param("{year: 2026, value: 7}", name="ev.c"), set_name="common"),
    )
    for name in ("s1", "s2"):
        ps = _load(root, name)
        assert ps.names() == ["ev.c", "ev.x"]
        assert ps.get("ev.c", 2026).file == "ev/common/c.yaml"
        assert set(ps.file_hashes) == {"ev/common/c.yaml", f"ev/{name}/p.yaml"}


# --- schema refusals ---------------------------------------------------------------------------


def test_unknown_key_at_file_level_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM, extra="verison: 2\n"))
    _refused(root, "verison")


def test_unknown_key_at_parameter_level_refused(root: Path) -> None:
    head = '    description: d\n    unit: "%"\n    source: s\n    remark: typo\n'
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    _refused(root, "remark", "ev.x")


def test_unknown_key_at_value_level_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{yaer: 2026, value: 1}")))
    _refused(root, "yaer", "ev.x")


def test_missing_unit_refused(root: Path) -> None:
    head = "    description: d\n    source: s\n"
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    _refused(root, "unit", "ev.x")


def test_missing_source_refused(root: Path) -> None:
    head = '    description: d\n    unit: "%"\n'
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    _refused(root, "source", "ev.x")


@pytest.mark.parametrize("blank", ['""', '"   "'], ids=["empty", "spaces"])
def test_empty_source_refused(root: Path, blank: str) -> None:
    head = f'    description: d\n    unit: "%"\n    source: {blank}\n'
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    _refused(root, "source", "ev.x")


def test_empty_unit_refused(root: Path) -> None:
    head = '    description: d\n    unit: ""\n    source: s\n'
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    _refused(root, "unit", "ev.x")


def test_parameter_without_values_refused(root: Path) -> None:
    body = '  ev.x:\n    description: d\n    unit: "%"\n    source: s\n    values: []\n'
    _write(root, SET_FILE, _file(body))
    _refused(root, "ev.x")


@pytest.mark.parametrize(
    "values",
    [
        pytest.param("{year: 2026, value: 1}\n{year: 2026, value: 2}", id="year-vs-same-year"),
        pytest.param(
            "{year: 2026, value: 1}\n{valid_from: 2026-06-01, valid_to: 2026-12-31, value: 2}",
            id="year-vs-period-inside",
        ),
        pytest.param(
            "{year: 2026, value: 1}\n{valid_from: 2025-07-01, valid_to: 2026-01-01, value: 2}",
            id="year-vs-period-touching-first-day",
        ),
        pytest.param(
            "{year: 2030, value: 1}\n{valid_from: 2026-01-01, value: 2}",
            id="year-vs-open-ended-before",
        ),
        pytest.param(
            "{valid_from: 2026-01-01, value: 1}\n{valid_from: 2028-01-01, value: 2}",
            id="open-ended-vs-open-ended",
        ),
        pytest.param(
            "{valid_from: 2026-01-01, valid_to: 2026-06-30, value: 1}\n"
            "{valid_from: 2026-06-30, valid_to: 2026-12-31, value: 2}",
            id="periods-sharing-one-day",
        ),
        pytest.param(
            "{valid_from: 2020-01-01, valid_to: 2030-12-31, value: 1}\n"
            "{year: 2022, value: 2}\n{year: 2027, value: 3}",
            id="long-period-around-two-years",
        ),
    ],
)
def test_overlapping_periods_refused(root: Path, values: str) -> None:
    _write(root, SET_FILE, _file(_param(values)))
    _refused(root, "overlap", "ev.x")


@pytest.mark.parametrize(
    "values",
    [
        pytest.param("{year: 2026, value: 1}\n{year: 2027, value: 2}", id="consecutive-years"),
        pytest.param(
            "{valid_from: 2026-01-01, valid_to: 2026-06-30, value: 1}\n"
            "{valid_from: 2026-07-01, value: 2}",
            id="adjacent-periods",
        ),
        pytest.param(
            "{year: 2027, value: 2}\n{valid_from: 2020-01-01, valid_to: 2026-12-31, value: 1}",
            id="period-then-year-unsorted",
        ),
    ],
)
def test_adjacent_periods_accepted(root: Path, values: str) -> None:
    _write(root, SET_FILE, _file(_param(values)))
    assert "ev.x" in _load(root)


def test_valid_to_before_valid_from_refused(root: Path) -> None:
    _write(
        root, SET_FILE, _file(_param("{valid_from: 2026-07-01, valid_to: 2026-06-30, value: 1}"))
    )
    _refused(root, "valid_to", "ev.x")


def test_single_day_period_accepted(root: Path) -> None:
    _write(
        root, SET_FILE, _file(_param("{valid_from: 2026-07-01, valid_to: 2026-07-01, value: 1}"))
    )
    assert _load(root).at("ev.x", dt.date(2026, 7, 1)).value == 1


@pytest.mark.parametrize(
    "value",
    [
        "{year: 2026, valid_from: 2026-01-01, value: 1}",
        "{year: 2026, valid_to: 2026-12-31, value: 1}",
    ],
    ids=["year-and-valid_from", "year-and-valid_to"],
)
def test_both_year_and_period_refused(root: Path, value: str) -> None:
    _write(root, SET_FILE, _file(_param(value)))
    _refused(root, "year", "ev.x")


@pytest.mark.parametrize(
    "value",
    ["{value: 1}", "{valid_to: 2026-12-31, value: 1}"],
    ids=["nothing", "only-valid_to"],
)
def test_value_without_validity_refused(root: Path, value: str) -> None:
    _write(root, SET_FILE, _file(_param(value)))
    _refused(root, "validity", "ev.x")


def test_value_missing_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{year: 2026, printed: '1%'}")))
    _refused(root, "value", "ev.x")


def test_unknown_value_without_note_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{year: 2026, value: unknown}")))
    _refused(root, "note", "ev.x")


def test_unknown_value_with_empty_note_refused(root: Path) -> None:
    """A value marked unknown needs a note *saying why*; an empty note says nothing.

    Exposes a gap: ``ValueEntry._validity`` only checks ``note is None`` (params.py:92).
    """
    _write(root, SET_FILE, _file(_param('{year: 2026, value: unknown, note: ""}')))
    _refused(root, "note", "ev.x")


@pytest.mark.parametrize("word", ["true", "false", "yes", "no", "on", "off"])
def test_boolean_value_refused(root: Path, word: str) -> None:
    _write(root, SET_FILE, _file(_param(f"{{year: 2026, value: {word}}}")))
    _refused(root, "boolean", "ev.x")


@pytest.mark.parametrize("text", ["null", "'14,4'", "'abc'", "'NaN'", "'Infinity'", "[1]"])
def test_non_number_value_refused(root: Path, text: str) -> None:
    _write(root, SET_FILE, _file(_param(f"{{year: 2026, value: {text}}}")))
    _refused(root, "ev.x")


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", "1:30.5"])
def test_yaml_special_float_refused_as_file_error(root: Path, text: str) -> None:
    """YAML 1.1 floats that are no decimal number (infinity, NaN, sexagesimal) are refused with a
    ParameterFileError naming the file.

    Exposes a bug: ``_construct_decimal`` (params.py:52) calls ``Decimal('.inf')``, which raises
    ``decimal.InvalidOperation``; ``_read_file`` only catches ``yaml.YAMLError``, so the raw
    exception escapes without naming the file.
    """
    _write(root, SET_FILE, _file(_param(f"{{year: 2026, value: {text}}}")))
    _refused(root)


def test_invalid_status_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1, status: guessed}")))
    _refused(root, "status", "ev.x")


# --- exact numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.05", "0.05"),
        ("0.1", "0.1"),
        ("0.2", "0.2"),
        ("0.3", "0.3"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1.20", "1.20"),
        ("14.4", "14.4"),
        ("-0.5", "-0.5"),
        ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
        ("1_000.25", "1000.25"),
        ("7", "7"),
        ("'3.3'", "3.3"),
    ],
)
def test_yaml_numbers_are_exact_decimals(root: Path, text: str, expected: str) -> None:
    _write(root, SET_FILE, _file(_param(f"{{year: 2026, value: {text}}}")))
    value = _load(root).get("ev.x", 2026).value
    assert isinstance(value, Decimal)
    assert str(value) == expected
    assert value == Decimal(expected)


def test_decimal_sums_stay_exact(root: Path) -> None:
    """0.1 + 0.2 == 0.3 exactly: values never pass through binary floating point."""
    values = "{year: 2026, value: 0.1}\n{year: 2027, value: 0.2}\n{year: 2028, value: 0.3}"
    _write(root, SET_FILE, _file(_param(values)))
    ps = _load(root)
    a, b, c = (ps.get("ev.x", y).value for y in (2026, 2027, 2028))
    assert a + b == c
    assert a + b == Decimal("0.3")
    assert 0.1 + 0.2 != 0.3  # the float trap the loader avoids


# --- file-level consistency --------------------------------------------------------------------


def test_domain_disagreeing_with_folder_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM, domain="ets"))
    _refused(root, "ets")


def test_set_disagreeing_with_folder_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM, set_name="s2"))
    _refused(root, "s2", "s1")


def test_common_file_declaring_a_set_refused(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    _write(root, "ev/common/c.yaml", _file(_param("{year: 2026, value: 1}", name="ev.c")))
    _refused(root, file="ev/common/c.yaml")


def test_same_parameter_in_two_files_of_a_set_refused(root: Path) -> None:
    _write(root, "ev/s1/a.yaml", _file(VALID_PARAM))
    _write(root, "ev/s1/b.yaml", _file(VALID_PARAM))
    message = _refused(root, "ev.x", file="ev/s1/b.yaml")
    assert "ev/s1/a.yaml" in message


def test_same_parameter_in_common_and_set_refused(root: Path) -> None:
    _write(root, "ev/common/c.yaml", _file(VALID_PARAM, set_name="common"))
    _write(root, SET_FILE, _file(VALID_PARAM))
    message = _refused(root, "ev.x")
    assert "ev/common/c.yaml" in message


@pytest.mark.parametrize(
    "text",
    [
        "domain: ev\nset: s1\nparameters: [unclosed\n",
        "domain: ev\nset: s1\n  bad: indent\n",
        "domain: ev\nset: s1\ndescription: 'unterminated\n",
        "\tdomain: ev\n",
    ],
    ids=["unclosed-list", "bad-indent", "unterminated-quote", "tab"],
)
def test_invalid_yaml_refused(root: Path, text: str) -> None:
    (root / SET_FILE).write_text(text, encoding="utf-8")
    _refused(root, "YAML")


@pytest.mark.parametrize(
    "text", ["", "- a list\n", "just a string\n"], ids=["empty", "list", "str"]
)
def test_file_that_is_no_mapping_refused(root: Path, text: str) -> None:
    (root / SET_FILE).write_text(text, encoding="utf-8")
    _refused(root)


# --- lookups -----------------------------------------------------------------------------------

YEARS_2026_2030 = "\n".join(f"{{year: {y}, value: {y - 2025}}}" for y in range(2026, 2031))


def test_unknown_parameter_name(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    with pytest.raises(ParameterError) as exc:
        _load(root).get("ev.nope", 2026)
    assert "ev.nope" in str(exc.value)
    assert "'s1'" in str(exc.value)


@pytest.mark.parametrize("year", [2025, 2031, 1900])
def test_year_outside_coverage(root: Path, year: int) -> None:
    _write(root, SET_FILE, _file(_param(YEARS_2026_2030)))
    with pytest.raises(ParameterError) as exc:
        _load(root).get("ev.x", year)
    message = str(exc.value)
    assert "ev.x" in message
    assert "'s1'" in message
    assert str(year) in message
    assert "2026–2030" in message
    assert "\n" not in message


def test_coverage_of_non_consecutive_years_lists_them(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}\n{year: 2028, value: 2}")))
    with pytest.raises(ParameterError, match=re.escape("(covered: 2026, 2028)")):
        _load(root).get("ev.x", 2027)


def test_coverage_of_single_year(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    with pytest.raises(ParameterError, match=re.escape("(covered: 2026)")):
        _load(root).get("ev.x", 2027)


def test_year_lookups_inside_coverage(root: Path) -> None:
    _write(root, SET_FILE, _file(_param(YEARS_2026_2030)))
    ps = _load(root)
    assert [ps.get("ev.x", y).value for y in range(2026, 2031)] == [1, 2, 3, 4, 5]


def test_unknown_value_lookup_names_parameter_and_note(root: Path) -> None:
    note = "figures for 2027 were not found in any source"
    values = f"{{year: 2026, value: 1}}\n{{year: 2027, value: unknown, note: '{note}'}}"
    _write(root, SET_FILE, _file(_param(values)))
    ps = _load(root)
    assert ps.get("ev.x", 2026).value == 1
    with pytest.raises(ParameterError) as exc:
        ps.get("ev.x", 2027)
    message = str(exc.value)
    assert note in message
    assert "unknown" in message
    assert "ev.x" in message and "'s1'" in message
    with pytest.raises(ParameterError, match=re.escape(note)):
        ps.at("ev.x", dt.date(2027, 5, 1))


def test_lookup_by_date(root: Path) -> None:
    values = (
        "{valid_from: 2026-01-01, valid_to: 2026-03-31, value: 1}\n"
        "{valid_from: 2026-04-01, valid_to: 2027-12-31, value: 2}\n"
        "{valid_from: 2028-01-01, value: 3}"
    )
    _write(root, SET_FILE, _file(_param(values)))
    ps = _load(root)
    assert ps.at("ev.x", dt.date(2026, 1, 1)).value == 1
    assert ps.at("ev.x", dt.date(2026, 3, 31)).value == 1
    assert ps.at("ev.x", dt.date(2026, 4, 1)).value == 2
    assert ps.at("ev.x", dt.date(2027, 12, 31)).value == 2
    assert ps.at("ev.x", dt.date(2028, 1, 1)).value == 3
    assert ps.at("ev.x", dt.date(2999, 12, 31)).value == 3
    assert ps.at("ev.x", dt.date(2026, 4, 1)).period == "2026-04-01..2027-12-31"
    assert ps.at("ev.x", dt.date(2030, 1, 1)).period == "2028-01-01.."
    # a year wholly inside one period may be asked for by year
    assert ps.get("ev.x", 2027).value == 2
    assert ps.get("ev.x", 2040).value == 3
    with pytest.raises(ParameterError) as exc:
        ps.at("ev.x", dt.date(2025, 12, 31))
    assert "2025-12-31" in str(exc.value) and "ev.x" in str(exc.value)


def test_lookup_by_date_of_year_values(root: Path) -> None:
    _write(root, SET_FILE, _file(_param(YEARS_2026_2030)))
    ps = _load(root)
    assert ps.at("ev.x", dt.date(2026, 12, 31)).value == 1
    assert ps.at("ev.x", dt.date(2027, 1, 1)).value == 2
    with pytest.raises(ParameterError, match="2026–2030"):
        ps.at("ev.x", dt.date(2031, 1, 1))


def test_value_changing_mid_year(root: Path) -> None:
    values = (
        "{valid_from: 2026-01-01, valid_to: 2026-06-30, value: 1}\n"
        "{valid_from: 2026-07-01, valid_to: 2026-12-31, value: 2}"
    )
    _write(root, SET_FILE, _file(_param(values)))
    ps = _load(root)
    with pytest.raises(ParameterError) as exc:
        ps.get("ev.x", 2026)
    assert "ev.x" in str(exc.value)
    assert "2026" in str(exc.value)
    assert "date" in str(exc.value)
    assert ps.at("ev.x", dt.date(2026, 6, 30)).value == 1
    assert ps.at("ev.x", dt.date(2026, 7, 1)).value == 2


def test_value_starting_mid_year_refused_for_that_year(root: Path) -> None:
    _write(root, SET_FILE, _file(_param("{valid_from: 2026-07-01, value: 2}")))
    ps = _load(root)
    with pytest.raises(ParameterError, match=re.escape("ev.x")):
        ps.get("ev.x", 2026)
    assert ps.get("ev.x", 2027).value == 2
    assert ps.at("ev.x", dt.date(2026, 7, 1)).value == 2


def test_per_value_status_and_source_override(root: Path) -> None:
    values = (
        "{year: 2026, value: 1}\n"
        "{year: 2027, value: 2, status: inferred, note: interpolated}\n"
        "{year: 2028, value: 3, source: other source}"
    )
    _write(root, SET_FILE, _file(_param(values)))
    ps = _load(root)
    first, second, third = (ps.get("ev.x", y) for y in (2026, 2027, 2028))
    assert (first.status, first.flagged) == ("source", False)
    assert (second.status, second.flagged, second.note) == ("inferred", True, "interpolated")
    assert (third.source, third.status) == ("other source", "source")
    assert first.source == "test source"


def test_parameter_level_status_inherited(root: Path) -> None:
    head = '    description: d\n    unit: "%"\n    source: s\n    status: third-party\n'
    _write(root, SET_FILE, _file(_param("{year: 2026, value: 1}", head=head)))
    pv = _load(root).get("ev.x", 2026)
    assert pv.status == "third-party"
    assert pv.flagged


def test_unknown_set_lists_known_sets(root: Path) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    (root / "ev" / "s0").mkdir()
    with pytest.raises(ParameterError) as exc:
        load_set("ev", "nope", root=root)
    message = str(exc.value)
    assert "nope" in message
    assert "s0, s1" in message
    assert "common" not in message


def test_unknown_domain_has_no_sets(root: Path) -> None:
    assert available_sets("xx", root=root) == []
    with pytest.raises(ParameterError, match="none"):
        load_set("xx", "s1", root=root)


def test_common_is_not_a_set(root: Path) -> None:
    with pytest.raises(ParameterError, match="common"):
        load_set("ev", "common", root=root)


def test_available_sets(root: Path) -> None:
    (root / "ev" / "b-set").mkdir()
    (root / "ev" / "a-set").mkdir()
    (root / "ev" / "stray.yaml").write_text("not a set folder", encoding="utf-8")
    assert available_sets("ev", root=root) == ["a-set", "b-set", "s1"]


def test_available_sets_of_the_real_params() -> None:
    assert available_sets("ev") == ["besluit-2025", "bijlage-1"]


def test_params_root_from_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(root, SET_FILE, _file(VALID_PARAM))
    monkeypatch.setenv("KETEN_PARAMS_DIR", str(root))
    assert params_root() == root
    assert load_set("ev", "s1").get("ev.x", 2026).value == Decimal("1.5")


# --- the real parameter sets -------------------------------------------------------------------


def _entries(ps: ParameterSet) -> Iterator[tuple[str, Parameter, ValueEntry]]:
    for name in ps.names():
        param = ps.parameter(name)
        for entry in param.spec.values:
            yield name, param, entry


@pytest.mark.parametrize("set_name", ["bijlage-1", "besluit-2025"])
def test_real_set_every_parameter_has_unit_and_source(set_name: str) -> None:
    ps = load_set("ev", set_name)
    assert ps.names()
    for name in ps.names():
        spec = ps.parameter(name).spec
        assert spec.unit.strip(), name
        assert spec.source.strip(), name
        assert spec.description.strip(), name


@pytest.mark.parametrize("set_name", ["bijlage-1", "besluit-2025"])
def test_real_set_non_source_values_are_flagged(set_name: str) -> None:
    """Every value whose status is not 'source' is visible as ParamValue.flagged (DESIGN rule 2)."""
    ps = load_set("ev", set_name)
    seen_flagged = 0
    for name, param, entry in _entries(ps):
        status = entry.status or param.spec.status
        if entry.value == "unknown":
            with pytest.raises(ParameterError, match="unknown"):
                ps.at(name, entry.start)
            continue
        pv = ps.at(name, entry.start)
        assert pv.value == entry.value
        assert pv.status == status
        assert pv.flagged is (status != "source"), (name, entry)
        assert pv.unit and pv.source
        seen_flagged += pv.flagged
    # common holds third-party and unverified values; besluit-2025 inferred ones too
    assert seen_flagged > 0


def test_real_common_lhv_values_are_all_unverified() -> None:
    """EV-09: every value in params/ev/common/lhv.yaml is marked unverified."""
    ps = load_set("ev", "bijlage-1")
    lhv = [n for n in ps.names() if ps.parameter(n).file == "ev/common/lhv.yaml"]
    assert len(lhv) >= 10
    assert all(n.startswith("ev.lhv.") for n in lhv)
    for name in lhv:
        param = ps.parameter(name)
        for entry in param.spec.values:
            pv = ps.at(name, entry.start)
            assert pv.status == "unverified", name
            assert pv.flagged, name


def test_real_common_lhv_file_has_only_unverified_statuses() -> None:
    """EV-09, read straight from the file: no value or parameter in lhv.yaml claims 'source'."""
    import yaml

    path = params_root() / "ev" / "common" / "lhv.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["parameters"]
    for name, spec in data["parameters"].items():
        assert spec.get("status") == "unverified", name
        for value in spec["values"]:
            assert value.get("status", "unverified") == "unverified", name
