"""National footprint over time (/footprint/national, issue 7): several MRIO years with a year
each, domestic vs. abroad per year in a table and a line chart, user-set non-binding targets and
the distance to them (FP-07, FP-08, FP-45) — the numbers of ``keten footprint national`` with the
same inputs, CSV/Excel exports equal to the page, bad input refused next to its field (422),
every POST needs the CSRF token. The page touches no database."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_web_mki import browser, cells, en_number, error, same_as_page
from typer.testing import CliRunner
from web_site import make_registry

from keten.cli.footprint import app as fp_cli
from keten.footprint.mrio import MRIO, Extension
from keten.io.footprint_files import write_parquet_mrio
from keten.web.app import create_web_app

EX = Path(__file__).resolve().parents[2] / "examples" / "footprint"
TARGETS = "year,value,scope\n2030,242,total\n2030,150,abroad\n"  # examples/footprint/targets.csv


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("fps") / "k.db"
    app = create_web_app(make_registry(f"sqlite:///{db}"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def mrio_2024(folder: Path) -> Path:
    """The example MRIO (docs/footprint.md) four years on: NL households buy 5 EUR of CN goods
    instead of 10 and emit 8 kg directly instead of 10; A and S are unchanged.

    x = L y with y = [50, 40, 5 + 30, 20]: [1.25·50, 40, 1·50 + 2·35, 20] = [62.5, 40, 120, 20]."""
    A = np.array([[0.2, 0, 0, 0], [0, 0, 0, 0], [0.4, 0, 0.5, 0], [0, 0, 0, 0]])
    x = np.array([62.5, 40.0, 120.0, 20.0])
    S = np.array([1.0, 0.5, 3.0, 1.0])
    Y = np.array([[50.0, 0.0], [40.0, 0.0], [5.0, 30.0], [0.0, 20.0]])
    ext = Extension("emissions", ("GHG",), ("kg",), (S * x)[None, :], np.array([[8.0, 0.0]]))
    system = MRIO.from_flows(
        ("NL", "CN"),
        ("goods", "services"),
        ("households",),
        A * x[None, :],
        Y,
        extensions={"emissions": ext},
        unit="EUR",
        year=2024,
        price_year=2020,
        name="tiny-2024",
    )
    out = folder / "tiny-2024"
    write_parquet_mrio(system, out)
    return out


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.writestr(f"{folder.name}/{p.relative_to(folder).as_posix()}", p.read_bytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def later(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mrio_2024(tmp_path_factory.mktemp("mrio"))


def base(**extra: str) -> dict[str, str]:
    return {"region": "NL", "extension": "emissions", "stressor": "GHG", **extra}


def two_years(b: Any, later: Path, targets: str = TARGETS, **extra: Any) -> Any:
    """The example MRIO as 2020 and the uploaded 2024 MRIO."""
    data = base(
        mrio_source_0="example",
        year_0="2020",
        mrio_source_1="upload",
        year_1="2024",
        targets=targets,
        **extra,
    )
    files = {"mrio_1": ("tiny-2024.zip", zipped(later), "application/zip")}
    return b.post("/footprint/national", data, files=files)


def num(text: str) -> float:
    return float(en_number(text))


def link(html: str, table: str, fmt: str = "csv") -> str:
    m = re.search(rf'href="(/footprint/export/[^"/]+/{table}\.{fmt})"', html)
    assert m, table
    return m.group(1)


# ----------------------------------------------------------------------------- numbers


def test_two_year_series_with_targets(client: TestClient, later: Path) -> None:
    """2020 (docs/footprint.md): footprint 4.25·50 + 6·10 + 0.5·40 + 10 = 302.5 = domestic 92.5
    + abroad 3·(1·50 + 2·10) = 210.
    2024: footprint 4.25·50 + 6·5 + 0.5·40 + 8 = 270.5 = domestic 62.5 + 20 + 8 = 90.5 + abroad
    3·(1·50 + 2·5) = 180; production 90.5, balance 270.5 − 90.5 = 180.
    Targets 2030 (FP-08, from the latest year 2024): total 270.5 − 242 = 28.5 (28.5 / 270.5 =
    10.54 %), −28.5 / (2030 − 2024) = −4.75 a year; abroad 180 − 150 = 30, −30 / 6 = −5 a year.
    From 2020: 302.5 − 242 = 60.5, −60.5 / 10 = −6.05; 210 − 150 = 60, −60 / 10 = −6."""
    b = browser(client, "en")
    r = two_years(b, later)
    assert r.status_code == 200, r.text
    series = cells(r.text, "national-series")
    assert [row[0] for row in series] == ["2020", "2024"]
    expected = [
        [302.5, 92.5, 210, 210 / 302.5, 92.5, 210],
        [270.5, 90.5, 180, 180 / 270.5, 90.5, 180],
    ]
    for row, want in zip(series, expected, strict=True):
        assert [num(v) for v in row[1:]] == pytest.approx(want, rel=1e-9)
    targets = cells(r.text, "national-targets")
    assert [[*row[:2], row[3], row[8]] for row in targets] == [
        ["2030", "total", "2024", "no"],
        ["2030", "abroad", "2024", "no"],
    ]
    got = [[num(row[i]) for i in (2, 4, 5, 6, 7)] for row in targets]
    assert got == [
        pytest.approx([242, 270.5, 270.5 - 242, 28.5 / 270.5 * 100, -28.5 / 6], rel=1e-9),
        pytest.approx([150, 180, 180 - 150, 30 / 180 * 100, -30 / 6], rel=1e-9),
    ]
    assert got[0][2] == pytest.approx(28.5) and got[0][4] == pytest.approx(-4.75)
    per_year = cells(r.text, "national-target-years")
    assert [(row[1], row[3], num(row[5]), num(row[7])) for row in per_year] == [
        ("total", "2020", pytest.approx(60.5), pytest.approx(-6.05)),
        ("total", "2024", pytest.approx(28.5), pytest.approx(-4.75)),
        ("abroad", "2020", pytest.approx(60.0), pytest.approx(-6.0)),
        ("abroad", "2024", pytest.approx(30.0), pytest.approx(-5.0)),
    ]
    # the latest year's source regions: NL 90.5 (incl. F_Y 8), CN 180
    assert [[q, num(v)] for q, v in cells(r.text, "national-sources")] == [
        ["NL", pytest.approx(90.5)],
        ["CN", pytest.approx(180)],
    ]
    # one line chart: footprint, domestic, abroad and the two target series over 2020, 2024, 2030
    chart = re.search(r'<svg class="chart".*?</svg>', r.text, re.S)
    assert chart and "domestic and abroad per year" in chart.group(0)
    for name in ("Footprint", "Domestic", "Abroad", "Target (footprint)", "Target (abroad)"):
        assert f">{name}</text>" in chart.group(0), name
    assert "Target (footprint) — 2030: 242" in chart.group(0)
    assert "Abroad — 2024: 180" in chart.group(0)
    assert "Example input" in r.text


def test_equals_the_cli_with_the_same_inputs(client: TestClient, later: Path) -> None:
    runner = CliRunner()
    args = ["national", "--mrio", str(EX / "tiny-mrio"), "--mrio", str(later)]
    args += ["--year", "2020", "--year", "2024", "--region", "NL", "--extension", "emissions"]
    args += ["--stressor", "GHG", "--targets", str(EX / "targets.csv"), "--format", "json"]
    out = runner.invoke(fp_cli, args)
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    r = two_years(browser(client, "en"), later)
    for row, year in zip(cells(r.text, "national-series"), cli["years"], strict=True):
        assert int(row[0]) == year["year"]
        for j, k in enumerate(("total", "domestic", "abroad", "abroad_share"), start=1):
            assert num(row[j]) == pytest.approx(year[k], rel=1e-12)
    for row, d in zip(cells(r.text, "national-targets"), cli["targets"], strict=True):
        assert num(row[5]) == pytest.approx(d["distance"], rel=1e-12)
        assert num(row[7]) == pytest.approx(d["annual_change_needed"], rel=1e-12)


def test_exports_equal_the_page(client: TestClient, later: Path) -> None:
    b = browser(client, "en")
    r = two_years(b, later)
    for table, header in (
        ("national-series", ["year", "total", "domestic", "abroad", "abroad_share"]),
        ("national-targets", ["target_year", "scope", "target", "latest_year", "latest"]),
        ("national-target-years", ["target_year", "scope", "target", "year", "value"]),
    ):
        exported = list(csv.reader(io.StringIO(b.get(link(r.text, table)).text)))
        assert exported[0][:5] == header
        same_as_page(cells(r.text, table), exported[1:])
        xlsx = b.get(link(r.text, table, "xlsx"))
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_targets_as_an_uploaded_csv_and_the_mrio_year(client: TestClient) -> None:
    """Without a year the MRIO's own year is used (2020 for the example), as the CLI does."""
    b = browser(client, "en")
    r = b.post(
        "/footprint/national",
        base(mrio_source_0="example", targets=""),
        files={"targets_file": ("targets.csv", (EX / "targets.csv").read_bytes(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert [row[0] for row in cells(r.text, "national-series")] == ["2020"]
    row = cells(r.text, "national-targets")[0]  # docs/footprint.md: 60.5 (20 %), −6.05 a year
    assert [num(row[i]) for i in (5, 6, 7)] == pytest.approx([60.5, 20, -6.05], rel=1e-9)


def test_without_targets_only_the_series(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/footprint/national", base(mrio_source_0="example", year_0="2022"))
    assert r.status_code == 200
    assert cells(r.text, "national-series")[0][0] == "2022"
    assert 'data-table="national-targets"' not in r.text


def test_add_a_row_keeps_the_values(client: TestClient) -> None:
    b = browser(client, "en")
    page = b.get("/footprint/national")
    assert page.status_code == 200 and 'name="mrio_source_2"' in page.text
    assert 'name="mrio_source_3"' not in page.text
    r = b.post(
        "/footprint/national",
        base(mrio_source_0="example", year_0="2020", rows="3", action="add_row"),
    )
    assert r.status_code == 200 and 'name="mrio_source_3"' in r.text
    assert 'name="year_0" type="text" value="2020"' in r.text
    assert 'data-table="national-series"' not in r.text


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {
                "mrio_source_0": "example",
                "year_0": "2020",
                "mrio_source_1": "example",
                "year_1": "2020",
            },
            "year_1",
            "2020 is given twice",
        ),
        ({"mrio_source_0": "example", "year_1": "2024"}, "mrio_source_1", "Choose the MRIO"),
        ({"mrio_source_0": "example", "year_0": "20x0"}, "year_0", "Enter a year"),
        ({"mrio_source_0": "upload"}, "mrio_0", "Choose a file."),
        ({"mrio_source_0": "/etc/passwd"}, "mrio_source_0", "Choose one of the offered"),
        ({}, "mrio_source_0", "Choose at least one MRIO."),
        ({"mrio_source_0": "example", "region": ""}, "region", "Enter a region"),
        ({"mrio_source_0": "example", "region": "DE"}, "region", "unknown region 'DE'"),
        ({"mrio_source_0": "example", "stressor": "CO9"}, "stressor", "unknown stressor"),
        (
            {"mrio_source_0": "example", "targets": "year,value,scope\n2030,veel,total"},
            "targets",
            "targets, row 1, field 'value'",
        ),
        (
            {"mrio_source_0": "example", "targets": "year,value,scope\n2030,100,world"},
            "targets",
            "unknown scope 'world'",
        ),
        (
            {"mrio_source_0": "example", "targets": "year,value,scope\n2030,-1,total"},
            "targets",
            "field 'value': must not be negative",
        ),
        (
            {"mrio_source_0": "example", "targets": "jaar,waarde\n2030,100"},
            "targets",
            "targets",
        ),
        (
            {
                "mrio_source_0": "example",
                "targets": "year,value,scope\n2030,200,total\n2030,210,total",
            },
            "targets",
            "two targets for 2030 (total)",
        ),
        (
            {"mrio_source_0": "example", "targets": "year,value,scope\n2010,200,total"},
            "targets",
            "no footprint year at or before the target year 2010",
        ),
    ],
    ids=[
        "duplicate-year",
        "year-without-mrio",
        "bad-year",
        "no-file",
        "unknown-source",
        "nothing",
        "no-region",
        "unknown-region",
        "unknown-stressor",
        "non-numeric-target",
        "bad-scope",
        "negative-target",
        "bad-header",
        "duplicate-target",
        "target-too-early",
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    client: TestClient, data: dict[str, str], field: str, words: str
) -> None:
    b = browser(client, "en")
    r = b.post("/footprint/national", {**base(), **data})
    assert r.status_code == 422, r.text
    assert words in error(r.text, field), error(r.text, field)
    assert "/footprint/export/" not in r.text  # no result kept


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (b"not a zip", "tiny.zip: not a zip file"),
        (b"PK\x03\x04broken", "tiny.zip"),
    ],
)
def test_bad_mrio_file_is_refused_next_to_its_row(
    client: TestClient, upload: bytes, words: str
) -> None:
    b = browser(client, "en")
    r = b.post(
        "/footprint/national",
        base(mrio_source_0="example", year_0="2020", mrio_source_1="upload", year_1="2024"),
        files={"mrio_1": ("tiny.zip", upload, "application/zip")},
    )
    assert r.status_code == 422
    assert words in error(r.text, "mrio_1")


def test_bad_targets_file_and_both_kinds_of_targets(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post(
        "/footprint/national",
        base(mrio_source_0="example", targets=""),
        files={"targets_file": ("mine.csv", b"year,value,scope\n2030,1e3,total\n", "text/csv")},
    )
    assert r.status_code == 422
    assert error(r.text, "targets_file").startswith("mine.csv, row 1, field 'value'")
    r = b.post(
        "/footprint/national",
        base(mrio_source_0="example", targets=TARGETS),
        files={"targets_file": ("mine.csv", TARGETS.encode(), "text/csv")},
    )
    assert r.status_code == 422 and "not both" in error(r.text, "targets")


def test_post_needs_the_csrf_token(client: TestClient) -> None:
    b = browser(client)
    for token in ("", "forged"):
        r = b.post("/footprint/national", base(mrio_source_0="example"), csrf=token)
        assert r.status_code == 403 and "/footprint/export/" not in r.text


def test_page_in_both_languages_and_accessible(client: TestClient, later: Path) -> None:
    from test_web_accessibility import _check

    nl = browser(client, "nl").get("/footprint/national")
    assert nl.status_code == 200 and "Nationale voetafdruk" in nl.text
    en = browser(client, "en")
    page = en.get("/footprint/national")
    assert "National footprint over time" in page.text
    assert 'href="/footprint/national" aria-current="page"' in page.text
    problems = _check("/footprint/national", page.text)
    r = two_years(en, later)
    problems += _check("/footprint/national (result)", r.text)
    bad = en.post("/footprint/national", base(mrio_source_0="example", year_0="x"))
    problems += _check("/footprint/national (errors)", bad.text)
    assert problems == []
    dutch = two_years(browser(client, "nl"), later)
    assert dutch.status_code == 200 and "270,5" in dutch.text


def test_a_year_of_superscript_digits_is_refused_not_a_500(client: TestClient) -> None:
    """ "²⁰²²" passed ``str.isdigit`` and then broke ``int`` (a 500)."""
    b = browser(client, "en")
    r = b.post("/footprint/national", base(mrio_source_0="example", year_0="²⁰²²"))
    assert r.status_code == 422
    assert "Enter a year, e.g. 2024." in r.text
