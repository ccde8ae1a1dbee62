"""Bad input for the MKI readers and rules: one clear error naming file, row and field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from keten.core.errors import InputError, RuleError
from keten.core.trace import Trace
from keten.io.mki_files import (
    read_batches,
    read_bids,
    read_ceilings,
    read_epd_xml,
    read_profiles,
    read_project,
)
from keten.mki.award import Bid, Method, rank_bids
from keten.mki.model import Element, Profile
from keten.mki.project import project_mki, replacements
from keten.mki.weights import load_weighting_set

PROFILE_HEAD = "product_id,unit,data_category,module,indicator,value\n"
GOOD_PROFILE = PROFILE_HEAD + "p,m3,1,A1-A3,GWP-total,100\ntransport:truck,tkm,1,A4,GWP-total,0.1\n"
PROJECT_HEAD = "element_id,product_id,quantity,service_life_years"


def put(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("p,m3,1,A1-A3,GWP-totaal,1", r"row 1, field 'indicator': unknown indicator 'GWP-totaal'"),
        ("p,m3,1,A1-A3,GWP,1", r"field 'indicator'.*it is a set 1 code"),
        ("p,m3,1,A9,GWP-total,1", r"row 1, field 'module': unknown module 'A9'"),
        ("p,m3,4,A1-A3,GWP-total,1", r"field 'data_category': unknown data category '4'"),
        ("p,m3,1,A1-A3,GWP-total,1e", r"field 'value': not a number"),
        ("p,m3,1,A1-A3,GWP-total,", r"field 'value': is empty"),
        (",m3,1,A1-A3,GWP-total,1", r"field 'product_id': is empty"),
    ],
)
def test_profile_rows_refused(tmp_path: Path, row: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        read_profiles(put(tmp_path, "pr.csv", PROFILE_HEAD + row + "\n"), "2")


def test_profile_inconsistencies(tmp_path: Path) -> None:
    dup = PROFILE_HEAD + "p,m3,1,A1-A3,GWP-total,1\np,m3,1,A1-A3,GWP-total,2\n"
    with pytest.raises(InputError, match="row 2, field 'indicator': duplicate"):
        read_profiles(put(tmp_path, "a.csv", dup), "2")
    unit = PROFILE_HEAD + "p,m3,1,A1-A3,GWP-total,1\np,t,1,C3,GWP-total,2\n"
    with pytest.raises(InputError, match="row 2, field 'unit': product p has unit 'm3' in row 1"):
        read_profiles(put(tmp_path, "b.csv", unit), "2")
    cat = PROFILE_HEAD + "p,m3,1,A1-A3,GWP-total,1\np,m3,3,C3,GWP-total,2\n"
    with pytest.raises(InputError, match="field 'data_category'"):
        read_profiles(put(tmp_path, "c.csv", cat), "2")
    with pytest.raises(InputError, match="header: missing column"):
        read_profiles(put(tmp_path, "d.csv", "product_id,unit\np,m3\n"), "2")


def test_profile_exponent_values_accepted(tmp_path: Path) -> None:
    """EPDs print 1.2E-07 (MKI-15): read exactly."""
    text = PROFILE_HEAD + "p,kg,1,A1-A3,ODP,1.2E-07\n"
    (prof,) = read_profiles(put(tmp_path, "e.csv", text), "2").values()
    assert prof.values[("A1-A3", "ODP")] == Decimal("1.2E-7")


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("e1,p,-5,50", r"row 1, field 'quantity': must not be negative"),
        ("e1,p,5,0", r"row 1, field 'service_life_years': must be positive"),
        ("e1,p,5,-1", r"field 'service_life_years': must not be negative"),
        ("e1,q,5,50", r"row 1, field 'product_id': no profile for product 'q'"),
        ("e1,transport:truck,5,50", r"field 'product_id': no profile for product"),
        ("e1,p,5,abc", r"field 'service_life_years': not a number"),
        ("e1,p,1e3,50", r"field 'quantity': not a number"),
    ],
)
def test_project_rows_refused(tmp_path: Path, row: str, match: str) -> None:
    profs = read_profiles(put(tmp_path, "pr.csv", GOOD_PROFILE), "2")
    with pytest.raises(InputError, match=match):
        read_project(put(tmp_path, "pj.csv", PROJECT_HEAD + "\n" + row + "\n"), profs)


def test_project_unit_mismatch_and_transport(tmp_path: Path) -> None:
    profs = read_profiles(put(tmp_path, "pr.csv", GOOD_PROFILE), "2")
    text = PROJECT_HEAD + ",unit\ne1,p,5,50,t\n"
    with pytest.raises(InputError, match=r"field 'unit': unit 't' does not match .* 'm3'"):
        read_project(put(tmp_path, "a.csv", text), profs)
    partial = PROJECT_HEAD + ",transport_mode\ne1,p,5,50,truck\n"
    with pytest.raises(InputError, match="transport needs all of"):
        read_project(put(tmp_path, "b.csv", partial), profs)
    ship = PROJECT_HEAD + ",transport_mode,distance_km,tonnes_per_unit\ne1,p,5,50,ship,10,2\n"
    with pytest.raises(InputError, match="field 'transport_mode': no transport profile"):
        read_project(put(tmp_path, "c.csv", ship), profs)
    dup = PROJECT_HEAD + "\ne1,p,5,50\ne1,p,5,50\n"
    with pytest.raises(InputError, match="row 2, field 'element_id': element e1 already in row 1"):
        read_project(put(tmp_path, "d.csv", dup), profs)
    with pytest.raises(InputError, match="no elements"):
        read_project(put(tmp_path, "e.csv", PROJECT_HEAD + "\n"), profs)


def test_domain_refuses_bad_elements_without_reader() -> None:
    """The rules check too (the domain can be called without the file reader)."""
    p = Profile("p", "m3", "1", {("A1-A3", "GWP-total"): Decimal(1)})
    day = dt.date(2025, 9, 1)

    def go(e: Element) -> None:
        project_mki([e], {"p": p}, Trace(load_weighting_set("2")), weighting_set="2", day=day)

    with pytest.raises(RuleError, match="quantity must not be negative"):
        go(Element("e", "p", Decimal(-1), Decimal(10)))
    with pytest.raises(RuleError, match="service life must be positive"):
        go(Element("e", "p", Decimal(1), Decimal(0)))
    with pytest.raises(RuleError, match="no profile for product 'x'"):
        go(Element("e", "x", Decimal(1), Decimal(10)))
    with pytest.raises(RuleError, match="does not match the functional unit"):
        go(Element("e", "p", Decimal(1), Decimal(10), unit="t"))
    with pytest.raises(RuleError, match="reference period must be positive"):
        replacements(Decimal(0), Decimal(10))


def test_bids_refused(tmp_path: Path) -> None:
    head = "bidder,price_eur,mki_eur\n"
    with pytest.raises(InputError, match="row 2, field 'bidder': bidder A already in row 1"):
        read_bids(put(tmp_path, "a.csv", head + "A,1,1\nA,2,2\n"))
    with pytest.raises(InputError, match="row 1, field 'price_eur': must not be negative"):
        read_bids(put(tmp_path, "b.csv", head + "A,-1,1\n"))
    with pytest.raises(InputError, match="field 'mki_eur': not a number"):
        read_bids(put(tmp_path, "c.csv", head + "A,1,x\n"))
    with pytest.raises(InputError, match="no bids"):
        read_bids(put(tmp_path, "d.csv", head))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "mki-w"}, "needs --factor"),
        ({"name": "mki-w", "factor": Decimal(-1)}, "must not be negative"),
        ({"name": "bounded", "upper": Decimal(1)}, "needs --upper, --lower"),
        (
            {"name": "bounded", "upper": Decimal(1), "lower": Decimal(1), "max_discount": 1},
            "upper MKI bound must be above",
        ),
        ({"name": "lowest-price"}, "unknown method"),
    ],
)
def test_award_methods_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(RuleError, match=match):
        Method(**kwargs)  # type: ignore[arg-type]


def test_rank_refuses_empty_and_duplicates() -> None:
    m = Method("mki-w", factor=Decimal(1))
    t = Trace(load_weighting_set("2"))
    with pytest.raises(RuleError, match="no bids"):
        rank_bids([], m, t)
    with pytest.raises(RuleError, match="appears twice"):
        rank_bids([Bid("A", Decimal(1), Decimal(1))] * 2, m, t)


def test_batches_and_ceilings_refused(tmp_path: Path) -> None:
    bh = "batch_id,material,product_group,unit,mki_eur_per_unit\n"
    with pytest.raises(InputError, match="field 'unit': concrete ceilings are per m3, not per 't'"):
        read_batches(put(tmp_path, "a.csv", bh + "b1,concrete,g,t,1\n"))
    with pytest.raises(InputError, match="field 'material': unknown material 'wood'"):
        read_batches(put(tmp_path, "b.csv", bh + "b1,wood,g,m3,1\n"))
    ch = "material,product_group,unit,ceiling_eur,source\n"
    with pytest.raises(InputError, match="field 'ceiling_eur': must be positive"):
        read_ceilings(put(tmp_path, "c.csv", ch + "steel,s,t,0,x\n"))
    with pytest.raises(InputError, match="field 'source': is empty"):
        read_ceilings(put(tmp_path, "d.csv", ch + "steel,s,t,5,\n"))
    with pytest.raises(InputError, match="row 2, field 'product_group': second ceiling"):
        read_ceilings(put(tmp_path, "e.csv", ch + "steel,s,t,5,x\nsteel,s,t,6,y\n"))


EPD_HEAD = (
    '<processDataSet xmlns="http://lca.jrc.it/ILCD/Process" '
    'xmlns:common="http://lca.jrc.it/ILCD/Common" xmlns:epd="http://www.iai.kit.edu/EPD/2013">'
)


def _epd(body: str) -> str:
    return EPD_HEAD + "<LCIAResults>" + body + "</LCIAResults></processDataSet>"


def _result(desc: str, amounts: str) -> str:
    return (
        "<LCIAResult><referenceToLCIAMethodDataSet><common:shortDescription>"
        f"{desc}</common:shortDescription></referenceToLCIAMethodDataSet>"
        f"<common:other>{amounts}</common:other></LCIAResult>"
    )


@pytest.mark.parametrize(
    ("xml", "match"),
    [
        ("<processDataSet", "not well-formed XML"),
        ("<flowDataSet/>", "not an ILCD process data set"),
        (_epd(""), "no LCIAResults"),
        (_epd(_result("Unknown thing", "")), "cannot tell the indicator"),
        (_epd(_result("Global warming (GWP)", "")), "GWP is not in weighting set 2"),
        (_epd(_result("x (AP)", '<epd:amount module="A9">1</epd:amount>')), "unknown module"),
        (_epd(_result("x (AP)", '<epd:amount module="A4">one</epd:amount>')), "not a number"),
        (_epd(_result("x (AP)", '<epd:amount module="A4">ND</epd:amount>')), "no declared"),
    ],
)
def test_epd_xml_refused(tmp_path: Path, xml: str, match: str) -> None:
    path = put(tmp_path, "epd.xml", xml)
    with pytest.raises(InputError, match=match):
        read_epd_xml(path, "2", product_id="p", unit="m3", data_category="1")


def test_epd_xml_refuses_entities(tmp_path: Path) -> None:
    """A hostile file with an external entity is not expanded (no file read, no network)."""
    secret = put(tmp_path, "secret.txt", "42")
    xml = f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>' + _epd(
        _result("x (AP)", '<epd:amount module="A4">&e;</epd:amount>')
    )
    with pytest.raises(InputError):
        read_epd_xml(put(tmp_path, "h.xml", xml), "2", product_id="p", unit="m3", data_category="1")
