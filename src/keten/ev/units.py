"""Units (EREs/LREs) created by bookings (inboekingen).

Rules (EV-06):

* fuels:        units = round_down(MJ × (fossil comparator − GHG intensity) / g per ERE)
* electricity:  units = round_down(kWh × renewable share × electricity comparator × 3.6 / g per ERE)

Refused, with a one-line reason: intensity at or above the comparator, an RFNBO above the RFNBO
threshold, a non-positive quantity, an unknown fuel, unit, category or sector, a category that
cannot be booked in the sector (EV-08).

``units_for_booking`` is the exact Decimal rule for one booking with its trace. ``units_frame``
applies the same rule to a whole table with polars in exact scaled-integer arithmetic (Int128), for
files of millions of rows; a test checks that both agree on random input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import polars as pl

from keten.core.errors import ParameterError, RuleError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import NUMBER_PATTERN, div, mul, percent, round_down
from keten.core.trace import Trace
from keten.ev.energy import energy_mj, fuel_catalogue
from keten.ev.model import (
    CATEGORIES,
    ELECTRICITY_FUEL,
    ENERGY_FUEL,
    MAX_QUANTITY,
    MIN_INTENSITY,
    SECTORS,
    Booking,
    unit_name,
)
from keten.ev.obligation import check_sector, sectors_in

#: Sector × category combinations that cannot be booked (Bijlage 1, section 2): food and feed
#: crops only in land; Annex IX-B not in zeevaart (EV-08).
NOT_BOOKABLE = frozenset(
    {
        ("binnenvaart", "conventional"),
        ("zeevaart", "conventional"),
        ("luchtvaart", "conventional"),
        ("zeevaart", "annex-ixb"),
    }
)


_SCALE = 10**6  # six decimals, as NUMBER_PATTERN allows


@dataclass(frozen=True)
class BookingUnits:
    holder: str
    origin_sector: str
    category: str
    year: int
    units: int
    unit_name: str
    trace: Trace

    def to_dict(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "origin_sector": self.origin_sector,
            "category": self.category,
            "year": self.year,
            "units": self.units,
        }


def check_booking_type(params: ParameterSet, sector: str, category: str, year: int) -> None:
    check_sector(params, sector, year)
    if category not in CATEGORIES:
        raise RuleError(
            msg(
                "unknown category %(category)s (known: %(categories)s)",
                category=repr(category),
                categories=", ".join(CATEGORIES),
            )
        )
    if (sector, category) in NOT_BOOKABLE:
        raise RuleError(
            msg(
                "category %(category)s cannot be booked in sector %(sector)s (EV-08)",
                category=repr(category),
                sector=repr(sector),
            )
        )


def units_for_booking(booking: Booking, year: int, trace: Trace) -> BookingUnits:
    """Units created by one booking, with the arithmetic in ``trace``."""
    b = booking
    check_booking_type(trace.params, b.sector, b.category, year)
    if b.quantity <= 0:
        raise RuleError(msg("quantity must be positive, got %(quantity)s", quantity=b.quantity))
    if b.quantity >= MAX_QUANTITY:
        raise RuleError(
            msg(
                "quantity %(quantity)s is implausibly large (limit %(max_quantity)s)",
                quantity=b.quantity,
                max_quantity=MAX_QUANTITY,
            )
        )
    grams = trace.value("ev.grams_per_unit", year)
    if b.fuel == ELECTRICITY_FUEL:
        if b.ghg_intensity is not None:
            raise RuleError(
                msg("electricity takes no ghg_intensity: the grid renewable share applies")
            )
        mj = energy_mj(b.fuel, b.quantity, b.unit, year, trace)
        share = trace.value("ev.grid_renewable_share", year)
        comparator = trace.value("ev.electricity_comparator", year)
        exact = div(mul(mj, percent(share), comparator), grams)
        formula = f"{mj} MJ × {share}% × {comparator} g/MJ / {grams} g/ERE = {exact}"
    else:
        if b.ghg_intensity is None:
            raise RuleError(
                msg("fuel %(fuel)s needs a ghg_intensity (gCO2e/MJ)", fuel=repr(b.fuel))
            )
        comparator = trace.value("ev.fossil_comparator", year)
        ci = b.ghg_intensity
        if ci >= comparator:
            raise RuleError(
                msg(
                    "ghg_intensity %(ghg_intensity)s is at or above the fossil comparator "
                    "%(comparator)s g/MJ: no reduction",
                    ghg_intensity=ci,
                    comparator=comparator,
                )
            )
        if ci < MIN_INTENSITY:
            raise RuleError(
                msg(
                    "ghg_intensity %(ghg_intensity)s is implausibly low (limit %(min_ci)s)",
                    ghg_intensity=ci,
                    min_ci=MIN_INTENSITY,
                )
            )
        if b.category == "rfnbo":
            limit = trace.value("ev.rfnbo_max_intensity", year)
            if ci > limit:
                raise RuleError(
                    msg(
                        "an RFNBO may not exceed %(rfnbo_max)s gCO2e/MJ; got %(ghg_intensity)s",
                        rfnbo_max=limit,
                        ghg_intensity=ci,
                    )
                )
        mj = energy_mj(b.fuel, b.quantity, b.unit, year, trace)
        exact = div(mul(mj, comparator - ci), grams)
        formula = f"{mj} MJ × ({comparator} − {ci}) g/MJ / {grams} g/ERE = {exact}"
    units = round_down(exact)
    name = unit_name(b.sector)
    trace.step(
        msg("%(name)ss created", name=name),
        msg("%(formula)s → round down", formula=formula),
        units,
        "EV-06",
    )
    return BookingUnits(b.holder, b.sector, b.category, year, units, name, trace)


# --------------------------------------------------------------------------- vectorised path

BOOKING_COLUMNS = ("holder", "sector", "category", "fuel", "quantity", "unit", "ghg_intensity")

_SUFFIX = {"l": "per_l", "kg": "per_kg", "Nm3": "per_nm3"}

#: Row checks of the vectorised path, in order of priority: (code, field, message template).
#: The template is filled with the offending row's values (``row_message``: text values quoted
#: as ``repr`` where the template says so, the set's name, the year and the lists of valid
#: values); code 0 means valid. Checks 2 and 6 have no template of their own: their messages are
#: ``check_sector``'s refusal of the sector and the set's error for ``ev.grid_renewable_share``.
ROW_CHECKS: tuple[tuple[int, str, Msg | None], ...] = (
    (1, "holder", msg("is empty or starts with a space")),
    (2, "sector", None),
    (3, "category", msg("unknown category %(category)s (known: %(categories)s)")),
    (4, "category", msg("category %(category)s cannot be booked in sector %(sector)s (EV-08)")),
    (5, "fuel", msg("unknown fuel %(fuel)s (known: %(fuels)s)")),
    (6, "fuel", None),
    (7, "unit", msg("fuel %(fuel)s cannot be given in %(unit)s")),
    (8, "quantity", msg("not a number with at most 6 decimals: %(text)s")),
    (9, "quantity", msg("quantity must be positive, got %(quantity)s")),
    (10, "quantity", msg("quantity %(quantity)s is implausibly large (limit %(max_quantity)s)")),
    (
        11,
        "ghg_intensity",
        msg("electricity takes no ghg_intensity: the grid renewable share applies"),
    ),
    (12, "ghg_intensity", msg("fuel %(fuel)s needs a ghg_intensity (gCO2e/MJ)")),
    (13, "ghg_intensity", msg("not a number with at most 6 decimals: %(text)s")),
    (
        14,
        "ghg_intensity",
        msg(
            "ghg_intensity %(ghg_intensity)s is at or above the fossil comparator "
            "%(comparator)s g/MJ: no reduction"
        ),
    ),
    (
        15,
        "ghg_intensity",
        msg("ghg_intensity %(ghg_intensity)s is implausibly low (limit %(min_ci)s)"),
    ),
    (
        16,
        "ghg_intensity",
        msg("an RFNBO may not exceed %(rfnbo_max)s gCO2e/MJ; got %(ghg_intensity)s"),
    ),
)


def _grid_share_error(params: ParameterSet, year: int) -> Msg | str | None:
    """Why the set has no grid renewable share for ``year`` (``None``: it has one)."""
    try:
        params.get("ev.grid_renewable_share", year)
    except ParameterError as exc:
        reason = exc.args[0] if len(exc.args) == 1 else None
        return reason if isinstance(reason, Msg) else str(exc)
    return None


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

_UNITS = ("l", "kg", "Nm3", "MJ", "GJ", "kWh")


@dataclass(frozen=True)
class _Lookup:
    """Everything the row checks and the arithmetic need per (sector, category, fuel, unit).

    A row's four text fields are turned into one integer key (``key()``); the tables hold, per
    key: the first failing *static* check (codes 2–7 of ``ROW_CHECKS``, 0 if none), and the
    factors of ``units = q × red × kn // (kd × 10^12)`` in exact integers, with ``q`` and
    ``red`` scaled by 10^6. ``red`` is fixed for electricity (the electricity comparator) and
    ``comparator − intensity`` for fuels (null in the table). One gather per table replaces
    string comparisons on every row.
    """

    enums: tuple[pl.Enum, pl.Enum, pl.Enum, pl.Enum]
    code: pl.Series
    electricity: pl.Series
    rfnbo: pl.Series
    kn: pl.Series
    kd: pl.Series
    red: pl.Series
    #: For the fast path: ``kn × red`` for electricity (so that ``red`` is 1 there), else ``kn``.
    kn_red: pl.Series
    #: For the fast path: ``kd × 10^12`` (the scales of q and of the intensity).
    kd_scaled: pl.Series
    #: For the fast path: the highest accepted intensity (×10^6) of a fuel row — below the
    #: comparator, and at most the RFNBO limit for rfnbo — and null for electricity.
    ci_max: pl.Series

    def key(self) -> pl.Expr:
        key: pl.Expr = pl.lit(0, dtype=pl.UInt32)
        for col, enum in zip(("sector", "category", "fuel", "unit"), self.enums, strict=True):
            values = list(enum.categories)
            size = len(values) + 1  # the last code stands for "not in the list"
            key = key * size + _code(col, values).fill_null(size - 1)
        return key


def _code(col: str, values: list[str]) -> pl.Expr:
    """Position of the column's value in ``values`` (null if absent), as UInt32.

    Short lists compare directly (fast on polars' inline short strings); long ones hash.
    """
    if len(values) > 8:
        return pl.col(col).cast(pl.Enum(values), strict=False).to_physical().cast(pl.UInt32)
    code: pl.Expr = pl.lit(None, dtype=pl.UInt32)
    for i, v in reversed(list(enumerate(values))):
        code = pl.when(pl.col(col) == v).then(pl.lit(i, dtype=pl.UInt32)).otherwise(code)
    return code


def _lookup(params: ParameterSet, year: int) -> _Lookup:
    grams = Fraction(params.get("ev.grams_per_unit", year).value)
    catalogue = fuel_catalogue(params)
    grid_error = _grid_share_error(params, year)
    sectors = sectors_in(params, year)
    domains: list[list[str | None]] = [
        [*SECTORS, None],
        [*CATEGORIES, None],
        [*sorted(catalogue), None],
        [*_UNITS, None],
    ]
    fossil = int(params.get("ev.fossil_comparator", year).value * _SCALE)
    rfnbo_max = int(params.get("ev.rfnbo_max_intensity", year).value * _SCALE)
    code, elec, rfnbo, kn, kd, red, kn_red, ci_max = [], [], [], [], [], [], [], []
    for sector in domains[0]:
        for category in domains[1]:
            for fuel in domains[2]:
                for unit in domains[3]:
                    factor: Fraction | None = None
                    fixed: int | None = None
                    if sector not in sectors:
                        c = 2
                    elif category is None:
                        c = 3
                    elif (sector, category) in NOT_BOOKABLE:
                        c = 4
                    elif fuel is None:
                        c = 5
                    elif fuel == ELECTRICITY_FUEL and grid_error is not None:
                        c = 6
                    elif unit not in catalogue[fuel]:
                        c = 7
                    else:
                        c = 0
                        assert unit is not None
                        if fuel == ELECTRICITY_FUEL:
                            share = Fraction(params.get("ev.grid_renewable_share", year).value)
                            factor = Fraction(params.get("ev.mj_per_kwh", year).value) * share / 100
                            comparator = params.get("ev.electricity_comparator", year).value
                            fixed = int(comparator * _SCALE)
                        elif fuel == ENERGY_FUEL:
                            gj = Fraction(params.get("ev.mj_per_gj", year).value)
                            factor = Fraction(1) if unit == "MJ" else gj
                        else:
                            name = f"ev.lhv.{fuel}.{_SUFFIX[unit]}"
                            factor = Fraction(params.get(name, year).value)
                        factor /= grams
                    code.append(c)
                    elec.append(fuel == ELECTRICITY_FUEL)
                    rfnbo.append(category == "rfnbo")
                    kn.append(None if factor is None else factor.numerator)
                    kd.append(None if factor is None else factor.denominator)
                    red.append(fixed)
                    kn_red.append(kn[-1] if fixed is None or kn[-1] is None else kn[-1] * fixed)
                    limit = min(fossil - 1, rfnbo_max) if category == "rfnbo" else fossil - 1
                    ci_max.append(None if fuel == ELECTRICITY_FUEL else limit)
    enums = tuple(pl.Enum([v for v in d if v is not None]) for d in domains)
    return _Lookup(
        enums,  # type: ignore[arg-type]
        pl.Series(code, dtype=pl.UInt8),
        pl.Series(elec, dtype=pl.Boolean),
        pl.Series(rfnbo, dtype=pl.Boolean),
        pl.Series(kn, dtype=pl.Int128),
        pl.Series(kd, dtype=pl.Int128),
        pl.Series(red, dtype=pl.Int128),
        pl.Series(kn_red, dtype=pl.Int128),
        pl.Series([None if d is None else d * _SCALE * _SCALE for d in kd], dtype=pl.Int128),
        pl.Series(ci_max, dtype=pl.Int128),
    )


def _scaled(col: str, dtype: pl.DataType, *, wide: bool = False) -> pl.Expr:
    """A number column as an Int64 (``wide``: Int128) scaled by 10^6, exactly; null where it is
    not a number or too large for the type (both are refused by the row checks).

    Strings must match ``NUMBER_PATTERN`` (check 8/13); decimals have at most six decimals
    (checked when the file is opened); integers are taken as they are; floats are refused.
    """
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        if (dtype.precision or 38) - scale + 6 <= 38:
            # The Int128 behind the decimal rescaled to 10^6 — it fits, having at most 38
            # digits: the numbers of the cast below without a decimal cast per row.
            exact = pl.col(col).to_physical() * pl.lit(10 ** (6 - scale), dtype=pl.Int128)
        else:
            exact = pl.col(col).cast(pl.Decimal(38, 6)).to_physical()
    elif dtype.is_integer():
        exact = pl.col(col).cast(pl.Int128) * pl.lit(_SCALE, dtype=pl.Int128)
    else:
        exact = (
            pl.col(col)
            .str.strip_chars()
            .str.replace(",", ".", literal=True)
            .cast(pl.Decimal(38, 6), strict=False)
            .to_physical()
        )
    return exact if wide else exact.cast(pl.Int64, strict=False)


def _present(col: str, dtype: pl.DataType) -> pl.Expr:
    """True where the cell holds something (non-null, and non-blank for strings)."""
    if dtype == pl.Utf8:
        return pl.col(col).fill_null("").str.strip_chars() != ""
    return pl.col(col).is_not_null()


def _well_formed(col: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Utf8:
        return pl.col(col).fill_null("").str.strip_chars().str.contains(NUMBER_PATTERN)
    return pl.col(col).is_not_null()


def _staged(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """Input columns plus the per-row lookups and scaled numbers the checks and units need."""
    schema = frame.collect_schema()
    look = _lookup(params, year)
    return frame.with_columns(
        _key=look.key(),
        _q=_scaled("quantity", schema["quantity"], wide=True),
        _ci=_scaled("ghg_intensity", schema["ghg_intensity"], wide=True),
    ).with_columns(
        *(
            pl.lit(series).gather(pl.col("_key")).alias(name)
            for name, series in (
                ("_static", look.code),
                ("_elec", look.electricity),
                ("_rfnbo", look.rfnbo),
                ("_kn", look.kn),
                ("_kd", look.kd),
                ("_red", look.red),
            )
        )
    )


_STAGED = ("_key", "_q", "_ci", "_static", "_elec", "_rfnbo", "_kn", "_kd", "_red")


def _checks(schema: pl.Schema, params: ParameterSet, year: int) -> list[tuple[int, pl.Expr]]:
    """(code, condition) for every row check of ``ROW_CHECKS``, over a ``_staged`` frame."""
    qt, ct = schema["quantity"], schema["ghg_intensity"]
    fossil = int(params.get("ev.fossil_comparator", year).value * _SCALE)
    rfnbo_max = int(params.get("ev.rfnbo_max_intensity", year).value * _SCALE)
    q, ci, elec = pl.col("_q"), pl.col("_ci"), pl.col("_elec")
    holder = pl.col("holder").fill_null("")
    return [
        (1, (holder.str.len_bytes() == 0) | holder.str.starts_with(" ")),
        (7, pl.col("_static") != 0),  # codes 2–7, resolved from the lookup in row_codes
        (8, ~_well_formed("quantity", qt) | q.is_null()),  # null: too many digits to scale
        (9, q <= 0),
        (10, q >= int(MAX_QUANTITY) * _SCALE),
        (11, elec & _present("ghg_intensity", ct)),
        (12, ~elec & ~_present("ghg_intensity", ct)),
        (13, ~elec & (~_well_formed("ghg_intensity", ct) | ci.is_null())),
        (14, ~elec & (ci >= fossil)),
        (15, ~elec & (ci < int(MIN_INTENSITY) * _SCALE)),
        (16, ~elec & pl.col("_rfnbo") & (ci > rfnbo_max)),
    ]


def assess_bookings(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """Check and compute every booking row in one pass, exactly.

    ``frame`` has the ``BOOKING_COLUMNS`` (text columns as strings; quantity and ghg_intensity as
    strings, decimals or integers). The result keeps the input columns and adds ``_bad`` (True
    where any check of ``ROW_CHECKS`` fails; ``row_codes`` says which) and ``units`` (Int64;
    meaningful only where ``_bad`` is False).

    This is the fast path: the checks are folded into a few range tests over values looked up
    per (sector, category, fuel, unit). ``row_codes`` evaluates them one by one; a test checks
    that both flag the same rows.
    """
    schema = frame.collect_schema()
    qt, ct = schema["quantity"], schema["ghg_intensity"]
    fossil = int(params.get("ev.fossil_comparator", year).value * _SCALE)
    look = _lookup(params, year)
    staged = frame.with_columns(
        _key=look.key(), _q=_scaled("quantity", qt), _ci=_scaled("ghg_intensity", ct)
    ).with_columns(
        _kn=pl.lit(look.kn_red.cast(pl.Int64)).gather(pl.col("_key")),
        _kd=pl.lit(look.kd_scaled).gather(pl.col("_key")),
        _cimax=pl.lit(look.ci_max.cast(pl.Int64)).gather(pl.col("_key")),
    )
    q, ci, ci_max, kd = pl.col("_q"), pl.col("_ci"), pl.col("_cimax"), pl.col("_kd")
    fuel_row = ci_max.is_not_null()  # valid combination of a fuel (not electricity)
    elec_row = ci_max.is_null() & kd.is_not_null()  # valid combination of electricity
    holder = pl.col("holder")
    max_q = int(MAX_QUANTITY) * _SCALE - 1
    conditions = [
        ((holder.str.len_bytes() == 0) | holder.str.starts_with(" ")).fill_null(True),
        kd.is_null(),  # checks 2–7
        ~q.is_between(1, max_q).fill_null(False),  # checks 8–10
        elec_row & _present("ghg_intensity", ct),  # check 11
        fuel_row & ~ci.is_between(int(MIN_INTENSITY) * _SCALE, ci_max).fill_null(False),
    ]
    if qt == pl.Utf8:
        conditions.append(~_well_formed("quantity", qt))
    if ct == pl.Utf8:
        conditions.append(fuel_row & ~_well_formed("ghg_intensity", ct))
    # |ci| ≤ 1000 g/MJ and kn ≤ 10^12 keep ``multiplier × kn`` within Int64; the product with
    # q (up to 10^18) is taken in Int128. Rows where that is not so are refused anyway.
    multiplier = pl.when(fuel_row).then(pl.lit(fossil, dtype=pl.Int64) - ci).otherwise(1)
    factor = (multiplier * pl.col("_kn")).cast(pl.Int128)
    units = (q.cast(pl.Int128) * factor) // kd  # kd here is kd × 10^12 (the two scales)
    return staged.with_columns(_bad=pl.any_horizontal(conditions), units=units.cast(pl.Int64)).drop(
        "_key", "_q", "_ci", "_kn", "_kd", "_cimax"
    )


def row_codes(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """The input columns plus ``_code``: the first failing check of ``ROW_CHECKS`` (0 = valid).

    Slower than ``assess_bookings``; meant for the (few) rows it marked bad.
    """
    schema = frame.collect_schema()
    code: pl.Expr = pl.lit(0, dtype=pl.UInt8)
    for number, cond in reversed(_checks(schema, params, year)):
        value = pl.col("_static") if number == 7 else pl.lit(number, dtype=pl.UInt8)
        code = pl.when(cond.fill_null(False)).then(value).otherwise(code)
    return _staged(frame, params, year).with_columns(_code=code).drop(_STAGED)


def row_message(row: dict[str, object], params: ParameterSet, year: int) -> tuple[str, Msg | str]:
    """(field, translatable message) for a row whose ``_code`` is not 0."""
    number = int(str(row["_code"]))
    _, field, template = ROW_CHECKS[number - 1]
    if number == 2:  # the sector's own refusal: unknown, no table in the set, or not this year
        try:
            check_sector(params, str(row.get("sector") or ""), year)
        except RuleError as exc:
            return field, exc.translatable
    if template is None:  # check 6: the set has no grid renewable share for the year
        return field, _grid_share_error(params, year) or ""
    values = {k: ("" if v is None else v) for k, v in row.items()}
    context: dict[str, object] = {
        **{k: repr(values.get(k, "")) for k in ("sector", "category", "fuel", "unit")},
        "quantity": values.get("quantity", ""),
        "ghg_intensity": values.get("ghg_intensity", ""),
        "text": repr(values.get(field, "")),
        "categories": ", ".join(CATEGORIES),
        "fuels": ", ".join(sorted(fuel_catalogue(params))),
        "max_quantity": MAX_QUANTITY,
        "min_ci": MIN_INTENSITY,
        "comparator": params.get("ev.fossil_comparator", year).value,
        "rfnbo_max": params.get("ev.rfnbo_max_intensity", year).value,
    }
    names = _PLACEHOLDER.findall(template.template)
    return field, msg(template.template, **{k: context[k] for k in names})


def row_error(row: dict[str, object], params: ParameterSet, year: int) -> tuple[str, str]:
    """(field, message) for a row whose ``_code`` is not 0, as text in the current language
    (English unless a translator is set, see ``keten.core.messages``)."""
    field, message = row_message(row, params, year)
    return field, str(message)


def units_frame(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """Units per booking row: ``_bad, holder, origin_sector, category, year, units`` (see
    ``assess_bookings``). Callers must refuse the whole table if any ``_bad`` is True.
    """
    return assess_bookings(frame, params, year).select(
        "_bad",
        pl.col("holder"),
        pl.col("sector").alias("origin_sector"),
        pl.col("category"),
        pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.col("units"),
    )
