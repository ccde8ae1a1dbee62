"""Property tests of the Energie Vervoer engine (hypothesis).

Obligations (EV-01, EV-03), units (EV-06; the Decimal rule against the vectorised polars path),
the best allocation (EV-07, EV-12..EV-16) checked against brute force on tiny instances, and the
least-cost plan (EV-18).
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from itertools import product

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.ev.compliance import Compliance, compliance, least_cost_plans
from keten.ev.energy import fuel_catalogue
from keten.ev.model import (
    CATEGORIES,
    ELECTRICITY_FUEL,
    LIMITED,
    OBLIGATION_ROWS,
    QUANTITY_UNITS,
    SCARCE,
    SECTORS,
    SUB_OBLIGATIONS,
    Booking,
    Holding,
    UnitType,
)
from keten.ev.obligation import Obligation, obligation_for_base
from keten.ev.units import (
    BOOKING_COLUMNS,
    NOT_BOOKABLE,
    row_codes,
    units_for_booking,
    units_frame,
)

PARAMS = load_set("ev", "bijlage-1")
CATALOGUE = fuel_catalogue(PARAMS)
ALL_TYPES = [UnitType(s, c) for s in SECTORS for c in CATEGORIES]
YEARS = st.integers(2026, 2030)
S = "S"

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


# --------------------------------------------------------------------------------- helpers


def held_map(holdings: list[Holding]) -> dict[UnitType, int]:
    out: dict[UnitType, int] = defaultdict(int)
    for h in holdings:
        out[h.unit_type] += h.amount
    return out


def run(obs: list[Obligation], holdings: list[Holding], year: int) -> Compliance:
    (c,) = compliance(obs, holdings, PARAMS, year)
    return c


def check_plan(c: Compliance, obs: list[Obligation], available: dict[UnitType, int]) -> None:
    """Every constraint of EV-12..EV-16, checked independently of keten.ev.allocation.verify."""
    by_type: dict[UnitType, int] = defaultdict(int)
    by_sector: dict[str, int] = defaultdict(int)
    for p in c.plan:
        assert p.amount > 0
        by_type[UnitType(p.origin_sector, p.category)] += p.amount
        by_sector[p.sector] += p.amount
    for t, n in by_type.items():
        assert n <= available.get(t, 0), f"{t} surrendered {n} > available {available.get(t, 0)}"
    for ob in obs:
        s, rows = ob.sector, ob.rows
        mine = [p for p in c.plan if p.sector == s]
        assert by_sector[s] <= rows["total"]
        foreign = sum(p.amount for p in mine if p.origin_sector != s)
        assert foreign <= rows["vrije_ruimte"]
        for cat, row in LIMITED.items():
            assert sum(p.amount for p in mine if p.category == cat) <= rows[row]
        (out,) = [o for o in c.sectors if o.sector == s]
        assert out.surrendered == by_sector[s]
        assert out.shortfall == rows["total"] - by_sector[s] >= 0
        assert out.from_other_sectors == foreign
        for cat, row in SUB_OBLIGATIONS.items():
            if rows[row] > 0:
                got = sum(p.amount for p in mine if p.category == cat)
                assert 0 <= out.sub_shortfall[cat] <= rows[row]
                # Missing = the part minus every unit of its category surrendered here (EV-15).
                assert out.sub_shortfall[cat] == max(0, rows[row] - got)
        assert sum(out.sub_shortfall.values()) <= out.shortfall


@st.composite
def supplier_case(draw: st.DrawFn, max_base: int = 10**7, max_sectors: int = 3):
    """One supplier: 1..3 sector obligations from random bases, and random holdings."""
    year = draw(YEARS)
    sectors = draw(
        st.lists(st.sampled_from(SECTORS), min_size=1, max_size=max_sectors, unique=True)
    )
    obs = [
        obligation_for_base(S, s, year, Decimal(draw(st.integers(0, max_base))), Trace(PARAMS))
        for s in sectors
    ]
    total = sum(o.rows["total"] for o in obs)
    # Bias the unit types towards the supplier's own sectors.
    origin = st.sampled_from([*sectors, *sectors, *SECTORS])
    types = draw(
        st.lists(st.builds(UnitType, origin, st.sampled_from(CATEGORIES)), max_size=6, unique=True)
    )
    holdings = [Holding(S, t, draw(st.integers(0, max(1, total)))) for t in types]
    return year, obs, holdings


# ------------------------------------------------------------------------------ obligations


def exact_row(sector: str, row: str, year: int, base: Fraction) -> Fraction:
    """EV-01 computed independently with fractions: base × 94 × pct / 100 / 1000."""
    name = f"ev.{sector}.{row}"
    if name not in PARAMS:
        return Fraction(0)  # EV-04
    pct = Fraction(PARAMS.get(name, year).value)
    return base * Fraction(94) * pct / 100 / 1000


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


@FAST
@given(
    sector=st.sampled_from(SECTORS),
    year=YEARS,
    micro=st.integers(0, 10**15),
    k=st.one_of(st.integers(1, 10**4), st.decimals(Decimal("0.001"), Decimal(1000), places=3)),
)
def test_obligation_scales_linearly(sector: str, year: int, micro: int, k: Decimal | int) -> None:
    """Obligation(k × E) = round_half_up(k × exact(E)) for every row (EV-01, EV-03)."""
    energy = Decimal(micro).scaleb(-6)  # up to 10^9 MJ with six decimals
    kk = Decimal(k)
    ob1 = obligation_for_base(S, sector, year, energy, Trace(PARAMS))
    obk = obligation_for_base(S, sector, year, kk * energy, Trace(PARAMS))
    for row in OBLIGATION_ROWS:
        exact = exact_row(sector, row, year, Fraction(energy))
        assert ob1.rows[row] == half_up(exact), row
        assert obk.rows[row] == half_up(Fraction(kk) * exact), row


# ------------------------------------------------------------------------------ compliance


@FAST
@given(
    case=supplier_case(),
    extra=st.lists(
        st.tuples(st.sampled_from(ALL_TYPES), st.integers(1, 10**6)), min_size=1, max_size=4
    ),
)
def test_adding_units_never_increases_the_shortfall(case, extra) -> None:
    """EV-16: the shortfall is that of the best allocation, so more units can only help."""
    year, obs, holdings = case
    before = run(obs, holdings, year)
    more = holdings + [Holding(S, t, n) for t, n in extra]
    after = run(obs, more, year)
    assert after.shortfall_total <= before.shortfall_total
    check_plan(before, obs, held_map(holdings))
    check_plan(after, obs, held_map(more))


@FAST
@given(
    sector=st.sampled_from(SECTORS),
    year=YEARS,
    base=st.integers(0, 10**7),
    cat=st.sampled_from(sorted(LIMITED)),
    surplus=st.integers(0, 10**5),
    extra=st.lists(
        st.tuples(st.sampled_from(SECTORS), st.integers(1, 10**6)), min_size=1, max_size=3
    ),
    others=st.lists(st.tuples(st.sampled_from(ALL_TYPES), st.integers(0, 10**5)), max_size=4),
)
def test_units_beyond_a_cap_change_nothing(sector, year, base, cat, surplus, extra, others) -> None:
    """EV-14: once a supplier holds at least the cap of a limited category, more units of that
    category (from any origin) never change the shortfall."""
    ob = obligation_for_base(S, sector, year, Decimal(base), Trace(PARAMS))
    cap = ob.rows[LIMITED[cat]]
    holdings = [Holding(S, t, n) for t, n in others if t.category != cat]
    holdings.append(Holding(S, UnitType(sector, cat), cap + surplus))
    before = run([ob], holdings, year)
    more = holdings + [Holding(S, UnitType(o, cat), n) for o, n in extra]
    after = run([ob], more, year)
    assert after.shortfall_by_sector == before.shortfall_by_sector
    assert sum(p.amount for p in after.plan if p.category == cat) <= cap
    check_plan(after, [ob], held_map(more))


@FAST
@given(case=supplier_case())
def test_plan_respects_holdings_and_totals(case) -> None:
    """The plan never surrenders more of a type than is held, never a negative amount, never
    more than a sector's total; foreign units within the vrije ruimte, caps respected."""
    year, obs, holdings = case
    c = run(obs, holdings, year)
    check_plan(c, obs, held_map(holdings))
    assert c.shortfall_total == sum(o.shortfall for o in c.sectors)
    assert c.compliant == (c.shortfall_total == 0)


# ----------------------------------------------------------------------------- least cost


@st.composite
def priced_case(draw: st.DrawFn):
    year, obs, holdings = draw(supplier_case(max_base=10**6))
    cents = st.integers(1, 50_000)
    prices = {t: Decimal(draw(cents)).scaleb(-2) for t in ALL_TYPES}
    return year, obs, holdings, prices


@FAST
@given(case=priced_case())
def test_least_cost_plan_with_every_price(case) -> None:
    """EV-18: with a price for every unit type the plan is compliant, its cost is the exact
    Decimal sum of its purchases, and no simple feasible purchase is cheaper."""
    year, obs, holdings, prices = case
    (plan,) = least_cost_plans(obs, holdings, prices, PARAMS, year)
    assert plan.compliance.compliant
    assert plan.compliance.shortfall_total == 0
    assert all(p.amount > 0 for p in plan.purchases)
    assert plan.cost_eur == sum(
        (Decimal(p.amount) * prices[UnitType(p.origin_sector, p.category)] for p in plan.purchases),
        Decimal(0),
    )
    available = held_map(holdings)
    for p in plan.purchases:
        available[UnitType(p.origin_sector, p.category)] += p.amount
    check_plan(plan.compliance, obs, available)

    # Simple purchase 1: ignore all holdings; buy every part from the sector's own type.
    simple1 = Decimal(0)
    for ob in obs:
        s, rows = ob.sector, ob.rows
        subs = 0
        for cat, row in SUB_OBLIGATIONS.items():
            simple1 += rows[row] * prices[UnitType(s, cat)]
            subs += rows[row]
        simple1 += (rows["total"] - subs) * prices[UnitType(s, "other")]
    assert plan.cost_eur <= simple1

    # Simple purchase 2: on top of the best allocation of the holdings, buy what is missing —
    # each missing sub-obligation from the own-sector type of its category, the rest as
    # own-sector 'other'. Feasible (checked) and never cheaper than the plan.
    best = run(obs, holdings, year)
    buy: dict[UnitType, int] = defaultdict(int)
    for out in best.sectors:
        for cat, n in out.sub_shortfall.items():
            buy[UnitType(out.sector, cat)] += n
        buy[UnitType(out.sector, "other")] += out.shortfall - sum(out.sub_shortfall.values())
    bought = [Holding(S, t, n) for t, n in buy.items() if n > 0]
    assert run(obs, holdings + bought, year).compliant
    simple2 = sum((n * prices[t] for t, n in buy.items()), Decimal(0))
    assert plan.cost_eur <= simple2


# ---------------------------------------------------------------------- units: two paths


def decimal_text(draw: st.DrawFn, low: int, high: int) -> tuple[Decimal, str]:
    """A number with 0..6 decimals in [low, high) as (Decimal, text as a file would have it)."""
    places = draw(st.integers(0, 6))
    scale = 10**places
    n = draw(st.integers(low * scale, high * scale - 1))
    value = Decimal(n).scaleb(-places)
    text = format(value, "f")
    style = draw(st.sampled_from(["plain", "comma", "plus", "space"]))
    if style == "comma":
        text = text.replace(".", ",")
    elif style == "plus" and not text.startswith("-"):
        text = "+" + text
    elif style == "space":
        text = f" {text} "
    return value, text


@st.composite
def valid_booking(draw: st.DrawFn, year: int):
    sector = draw(st.sampled_from(SECTORS))
    category = draw(st.sampled_from([c for c in CATEGORIES if (sector, c) not in NOT_BOOKABLE]))
    fuels = [f for f in CATALOGUE if year == 2026 or f != ELECTRICITY_FUEL]
    fuel = draw(st.sampled_from(sorted(fuels)))
    unit = draw(st.sampled_from(CATALOGUE[fuel]))
    magnitude = draw(st.sampled_from([10, 10**4, 10**8, 10**12]))
    q, q_text = decimal_text(draw, 0, magnitude)
    if q == 0:
        q, q_text = Decimal(1), "1"
    if fuel == ELECTRICITY_FUEL:
        ci, ci_text = None, draw(st.sampled_from([None, "", "  "]))
    else:
        top = 28 if category == "rfnbo" else 94
        ci, ci_text = decimal_text(draw, -1000, top)
    holder = draw(st.sampled_from(["A", "B", "Brandstof BV"]))
    b = Booking(holder, sector, category, fuel, q, unit, ci)
    row = (holder, sector, category, fuel, q_text, unit, ci_text)
    return b, row


def frame_of(rows: list[tuple[object, ...]]) -> pl.LazyFrame:
    schema = dict.fromkeys(BOOKING_COLUMNS, pl.Utf8)
    return pl.DataFrame(rows, schema=schema, orient="row").lazy()


@st.composite
def valid_table(draw: st.DrawFn):
    year = draw(YEARS)
    rows = draw(st.lists(valid_booking(year), min_size=1, max_size=25))
    return year, rows


@FAST
@given(case=valid_table())
def test_units_frame_equals_units_for_booking(case) -> None:
    """EV-06: the vectorised Int128 path equals the Decimal rule row by row, in input order."""
    year, rows = case
    out = units_frame(frame_of([r for _, r in rows]), PARAMS, year).collect()
    assert out.height == len(rows)
    assert out["_bad"].to_list() == [False] * len(rows)
    got = out.select("holder", "origin_sector", "category", "year", "units").rows()
    want = []
    for b, _ in rows:
        bu = units_for_booking(b, year, Trace(PARAMS))
        want.append((bu.holder, bu.origin_sector, bu.category, bu.year, bu.units))
    assert got == want


def test_units_frame_order_on_a_large_table() -> None:
    """Row order of the vectorised path is the input order on a large mixed table (the join
    with the factor table must not reorder rows)."""
    fuels = sorted((f, u) for f, us in CATALOGUE.items() for u in us)
    rows = []
    for i in range(60_000):
        fuel, unit = fuels[i % len(fuels)]
        ci = None if fuel == ELECTRICITY_FUEL else str(i % 90)
        rows.append((f"h{i}", "land", "other", fuel, str(i + 1), unit, ci))
    out = units_frame(frame_of(rows), PARAMS, 2026).collect()
    assert out["holder"].to_list() == [r[0] for r in rows]
    sample = range(0, 60_000, 997)
    for i in sample:
        _, sector, category, fuel, q, unit, ci = rows[i]
        b = Booking(
            "x", sector, category, fuel, Decimal(q), unit, None if ci is None else Decimal(ci)
        )
        assert out["units"][i] == units_for_booking(b, 2026, Trace(PARAMS)).units


@st.composite
def any_booking(draw: st.DrawFn):
    """Bookings that may break any rule (numbers always well-formed)."""
    sector = draw(st.sampled_from([*SECTORS, "spoor"]))
    category = draw(st.sampled_from([*CATEGORIES, "biogas"]))
    fuel = draw(st.sampled_from([*sorted(CATALOGUE), "kerosine"]))
    unit = draw(st.sampled_from(QUANTITY_UNITS))
    q = draw(
        st.sampled_from(["-5", "0", "0.000001", "12.5", "1000000000000", "999999999999.999999"])
    )
    ci = draw(
        st.sampled_from([None, "-1000.5", "-1000", "0", "28.2", "28.21", "93.999999", "94", "120"])
    )
    return ("H", sector, category, fuel, q, unit, ci)


@FAST
@given(year=st.sampled_from([2026, 2027]), rows=st.lists(any_booking(), min_size=1, max_size=20))
def test_frame_refuses_exactly_what_units_for_booking_refuses(year, rows) -> None:
    """Both paths accept and refuse the same rows; where both accept, the units agree."""
    out = units_frame(frame_of(rows), PARAMS, year).collect()
    codes = row_codes(frame_of(rows), PARAMS, year).collect()["_code"]
    # The fast path's verdict equals the detailed checks' verdict on every row.
    assert out["_bad"].to_list() == [c != 0 for c in codes]
    for row, code, units in zip(rows, codes, out["units"], strict=True):
        holder, sector, category, fuel, q, unit, ci = row
        b = Booking(
            holder, sector, category, fuel, Decimal(q), unit, None if ci is None else Decimal(ci)
        )
        try:
            expected = units_for_booking(b, year, Trace(PARAMS)).units
        except KetenError:
            assert code != 0, row
        else:
            assert code == 0, row
            assert units == expected, row


# --------------------------------------------------------------- brute-force optimality


BIG = 1000  # > any scarce count here: key = coverage × BIG − scarce orders lexicographically


def _sector_keys(rows: dict[str, int], sector: str, types: list[UnitType], held: list[int]):
    """Key of every feasible surrender vector y (units of each type given to ``sector``).

    Feasible: foreign ≤ vrije ruimte (EV-13); each limited category ≤ its cap (EV-14); and the
    units fit the parts (EV-15) — Hall's condition for parts annex-ixa (A), rfnbo (R), general
    (G = total − A − R) with annex-ixa units fitting A or G, rfnbo units R or G, others only G.
    """
    total, pa, pr = rows["total"], rows["annex_ixa_min"], rows["rfnbo_min"]
    g = total - pa - pr
    keys = {}
    for y in product(*(range(h + 1) for h in held)):
        foreign = sum(n for n, t in zip(y, types, strict=True) if t.origin_sector != sector)
        if foreign > rows["vrije_ruimte"]:
            continue
        if any(
            sum(n for n, t in zip(y, types, strict=True) if t.category == cat) > rows[row]
            for cat, row in LIMITED.items()
        ):
            continue
        a = sum(n for n, t in zip(y, types, strict=True) if t.category == "annex-ixa")
        r = sum(n for n, t in zip(y, types, strict=True) if t.category == "rfnbo")
        o = sum(y) - a - r
        if o > g or o + a > g + pa or o + r > g + pr or o + a + r > total:
            continue
        keys[y] = sum(y) * BIG - (a + r)
    return keys


def brute_force(obs: list[Obligation], types: list[UnitType], held: list[int]) -> int:
    """Best key (max coverage, then min scarce) over all integer allocations."""
    first = _sector_keys(obs[0].rows, obs[0].sector, types, held)
    if len(obs) == 1:
        return max(first.values())
    second = _sector_keys(obs[1].rows, obs[1].sector, types, held)
    # best2[c] = best key of sector 2 with at most c of each type (down-closure by DP).
    best2: dict[tuple[int, ...], int] = {}
    for c in product(*(range(h + 1) for h in held)):
        best = second.get(c, -(10**9))
        for i, ci in enumerate(c):
            if ci:
                best = max(best, best2[(*c[:i], ci - 1, *c[i + 1 :])])
        best2[c] = best
    return max(
        k + best2[tuple(h - n for h, n in zip(held, y, strict=True))] for y, k in first.items()
    )


@st.composite
def tiny_case(draw: st.DrawFn):
    sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=2, unique=True))
    obs = []
    for s in sectors:
        total = draw(st.integers(0, 8))
        pa = draw(st.integers(0, total))
        pr = draw(st.integers(0, total - pa))
        vr = draw(st.integers(0, total))
        rows = {
            "total": total,
            "sector_specific": total - vr,
            "vrije_ruimte": vr,
            "annex_ixa_min": pa,
            "rfnbo_min": pr,
            "conventional_cap": draw(st.integers(0, 8)),
            "annex_ixb_cap": draw(st.integers(0, 8)),
        }
        obs.append(Obligation(S, s, 2026, Decimal(0), rows, Trace(PARAMS)))
    origin = st.sampled_from([*sectors, *sectors, *SECTORS])
    types = draw(
        st.lists(
            st.builds(UnitType, origin, st.sampled_from(CATEGORIES)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    held = [draw(st.integers(0, 6)) for _ in types]
    return obs, types, held


@settings(max_examples=50, deadline=None)
@given(case=tiny_case())
def test_allocation_is_optimal_against_brute_force(case) -> None:
    """EV-16 then EV-07: the solver's total shortfall is the brute-force minimum, and among the
    allocations with that shortfall its scarce-unit use is the minimum."""
    obs, types, held = case
    c = run(obs, [Holding(S, t, n) for t, n in zip(types, held, strict=True)], 2026)
    check_plan(c, obs, dict(zip(types, held, strict=True)))
    covered = sum(p.amount for p in c.plan)
    scarce = sum(p.amount for p in c.plan if p.category in SCARCE)
    best = brute_force(obs, types, held)
    total = sum(o.rows["total"] for o in obs)
    best_cover = -(-best // BIG)  # ceil: key = cover × BIG − scarce with 0 ≤ scarce < BIG
    assert c.shortfall_total == total - best_cover
    assert covered * BIG - scarce == best


def test_brute_force_helper_on_a_known_case() -> None:
    """The oracle itself on a hand case: zeevaart total 5, vrije ruimte 2; held land other 4,
    zeevaart annex-ixa 4. Best: 2 land + 3 annex-ixa (cover 5, scarce 3) → key 5 × 1000 − 3."""
    rows = {
        "total": 5,
        "sector_specific": 3,
        "vrije_ruimte": 2,
        "annex_ixa_min": 0,
        "rfnbo_min": 0,
        "conventional_cap": 0,
        "annex_ixb_cap": 0,
    }
    ob = Obligation(S, "zeevaart", 2026, Decimal(0), rows, Trace(PARAMS))
    types = [UnitType("land", "other"), UnitType("zeevaart", "annex-ixa")]
    assert brute_force([ob], types, [4, 4]) == 5 * BIG - 3


def _vectors(limits: list[int], total: int):
    """Every y with 0 ≤ y[i] ≤ limits[i] and Σ y ≤ total (a sector never takes more)."""

    def rec(i: int, left: int, acc: tuple[int, ...]):
        if i == len(limits):
            yield acc
            return
        for n in range(min(limits[i], left) + 1):
            yield from rec(i + 1, left - n, (*acc, n))

    return rec(0, total, ())


def _feasible(rows: dict[str, int], sector: str, types: list[UnitType], y: tuple[int, ...]) -> bool:
    """Same conditions as in ``_sector_keys`` (EV-13, EV-14, EV-15)."""
    total, pa, pr = rows["total"], rows["annex_ixa_min"], rows["rfnbo_min"]
    g = total - pa - pr
    pairs = list(zip(y, types, strict=True))
    if sum(n for n, t in pairs if t.origin_sector != sector) > rows["vrije_ruimte"]:
        return False
    for cat, row in LIMITED.items():
        if sum(n for n, t in pairs if t.category == cat) > rows[row]:
            return False
    a = sum(n for n, t in pairs if t.category == "annex-ixa")
    r = sum(n for n, t in pairs if t.category == "rfnbo")
    o = sum(y) - a - r
    return o <= g and o + a <= g + pa and o + r <= g + pr and o + a + r <= total


def least_cost_brute_force(
    obs: list[Obligation],
    types: list[UnitType],
    held: list[int],
    prices: list[Decimal | None],
) -> tuple[int, Decimal]:
    """(max coverage, min cost at that coverage) over all integer plans (EV-18)."""
    grand = sum(o.rows["total"] for o in obs)
    limits = [h if p is None else h + grand for h, p in zip(held, prices, strict=True)]
    per_sector = [
        [y for y in _vectors(limits, o.rows["total"]) if _feasible(o.rows, o.sector, types, y)]
        for o in obs
    ]
    zero = tuple(0 for _ in types)
    best: tuple[int, Decimal] | None = None
    for combo in product(*per_sector, *([[zero]] * (2 - len(obs)))):
        use = [sum(c) for c in zip(*combo, strict=True)]
        if any(u > lim for u, lim in zip(use, limits, strict=True)):
            continue
        cost = sum(
            (
                max(0, u - h) * p
                for u, h, p in zip(use, held, prices, strict=True)
                if p is not None and u > h
            ),
            Decimal(0),
        )
        cand = (sum(use), -cost)
        if best is None or cand > (best[0], -best[1]):
            best = (sum(use), cost)
    assert best is not None
    return best


@st.composite
def tiny_priced_case(draw: st.DrawFn):
    obs, types, held = draw(tiny_case())
    if len(obs) == 2:  # keep the pair enumeration small
        for ob in obs:
            t = min(ob.rows["total"], 5)
            ob.rows.update(
                total=t,
                vrije_ruimte=min(ob.rows["vrije_ruimte"], t),
                annex_ixa_min=min(ob.rows["annex_ixa_min"], t),
            )
            ob.rows["rfnbo_min"] = min(ob.rows["rfnbo_min"], t - ob.rows["annex_ixa_min"])
            ob.rows["sector_specific"] = t - ob.rows["vrije_ruimte"]
    price = st.one_of(st.none(), st.integers(1, 2_000).map(lambda c: Decimal(c).scaleb(-2)))
    prices = [draw(price) for _ in types]
    return obs, types, held, prices


@settings(max_examples=50, deadline=None)
@given(case=tiny_priced_case())
def test_least_cost_is_optimal_against_brute_force(case) -> None:
    """EV-18: the plan reaches the largest coverage that purchases allow, at the least cost."""
    obs, types, held, prices = case
    price_map = {t: p for t, p in zip(types, prices, strict=True) if p is not None}
    holdings = [Holding(S, t, n) for t, n in zip(types, held, strict=True)]
    (plan,) = least_cost_plans(obs, holdings, price_map, PARAMS, 2026)
    cover, cost = least_cost_brute_force(obs, types, held, prices)
    total = sum(o.rows["total"] for o in obs)
    assert plan.compliance.shortfall_total == total - cover
    assert plan.cost_eur == cost


@st.composite
def malformed_booking(draw: st.DrawFn) -> tuple[object, ...]:
    """Rows whose text cells may be malformed (EV-11): blank holders, numbers with exponents,
    too many decimals or digits, missing values."""
    holder = draw(st.sampled_from(["", " H", "H"]))
    fuel = draw(st.sampled_from(["hvo", "electricity", "diesel"]))
    unit = {"hvo": "l", "electricity": "kWh", "diesel": "kg"}[fuel]
    q = draw(
        st.sampled_from(
            ["1e3", "abc", "", "1.1234567", "9" * 25, "12", "12,5", "-0", "999999999999.999999"]
        )
    )
    ci = draw(st.sampled_from([None, "", "1e1", "x", "10", "10.0000001", "-1000", "9" * 25]))
    return (holder, "land", "other", fuel, q, unit, ci)


@FAST
@given(rows=st.lists(malformed_booking(), min_size=1, max_size=20))
def test_fast_and_detailed_checks_agree_on_malformed_cells(rows) -> None:
    """The one-pass verdict (assess_bookings) equals the detailed checks (row_codes), and the
    detailed code names the first failing check of ROW_CHECKS in its order (EV-11)."""
    fast = units_frame(frame_of(rows), PARAMS, 2026).collect()["_bad"].to_list()
    codes = row_codes(frame_of(rows), PARAMS, 2026).collect()["_code"].to_list()
    assert fast == [c != 0 for c in codes]
    for (holder, *_rest), code in zip(rows, codes, strict=True):
        if holder in ("", " H"):
            assert code == 1
