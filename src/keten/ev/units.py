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

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import polars as pl

from keten.core.errors import RuleError
from keten.core.params import ParameterSet
from keten.core.quantity import NUMBER_PATTERN, div, mul, percent, round_down
from keten.core.trace import Trace
from keten.ev.energy import energy_mj, fuel_catalogue
from keten.ev.model import CATEGORIES, ELECTRICITY_FUEL, SECTORS, Booking, unit_name
from keten.ev.obligation import check_sector

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

#: Input sanity bounds (not rules): they keep exact Int128 arithmetic far from overflow (EV-11).
MAX_QUANTITY = Decimal(10) ** 12
MIN_INTENSITY = Decimal(-1000)

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


def check_booking_type(params: ParameterSet, sector: str, category: str) -> None:
    check_sector(params, sector)
    if category not in CATEGORIES:
        raise RuleError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
    if (sector, category) in NOT_BOOKABLE:
        raise RuleError(f"category {category!r} cannot be booked in sector {sector!r} (EV-08)")


def units_for_booking(booking: Booking, year: int, trace: Trace) -> BookingUnits:
    """Units created by one booking, with the arithmetic in ``trace``."""
    b = booking
    check_booking_type(trace.params, b.sector, b.category)
    if b.quantity <= 0:
        raise RuleError(f"quantity must be positive, got {b.quantity}")
    if b.quantity >= MAX_QUANTITY:
        raise RuleError(f"quantity {b.quantity} is implausibly large (limit {MAX_QUANTITY})")
    grams = trace.value("ev.grams_per_unit", year)
    if b.fuel == ELECTRICITY_FUEL:
        if b.ghg_intensity is not None:
            raise RuleError("electricity takes no ghg_intensity: the grid renewable share applies")
        mj = energy_mj(b.fuel, b.quantity, b.unit, year, trace)
        share = trace.value("ev.grid_renewable_share", year)
        comparator = trace.value("ev.electricity_comparator", year)
        exact = div(mul(mj, percent(share), comparator), grams)
        formula = f"{mj} MJ × {share}% × {comparator} g/MJ / {grams} g/ERE = {exact}"
    else:
        if b.ghg_intensity is None:
            raise RuleError(f"fuel {b.fuel!r} needs a ghg_intensity (gCO2e/MJ)")
        comparator = trace.value("ev.fossil_comparator", year)
        ci = b.ghg_intensity
        if ci >= comparator:
            raise RuleError(
                f"ghg_intensity {ci} is at or above the fossil comparator {comparator} g/MJ: "
                "no reduction"
            )
        if ci < MIN_INTENSITY:
            raise RuleError(f"ghg_intensity {ci} is implausibly low (limit {MIN_INTENSITY})")
        if b.category == "rfnbo":
            limit = trace.value("ev.rfnbo_max_intensity", year)
            if ci > limit:
                raise RuleError(f"an RFNBO may not exceed {limit} gCO2e/MJ; got {ci}")
        mj = energy_mj(b.fuel, b.quantity, b.unit, year, trace)
        exact = div(mul(mj, comparator - ci), grams)
        formula = f"{mj} MJ × ({comparator} − {ci}) g/MJ / {grams} g/ERE = {exact}"
    units = round_down(exact)
    name = unit_name(b.sector)
    trace.step(f"{name}s created", f"{formula} → round down", units, "EV-06")
    return BookingUnits(b.holder, b.sector, b.category, year, units, name, trace)


# --------------------------------------------------------------------------- vectorised path

BOOKING_COLUMNS = ("holder", "sector", "category", "fuel", "quantity", "unit", "ghg_intensity")


def _fraction(d: Decimal) -> Fraction:
    return Fraction(d)


def _factor_table(params: ParameterSet, year: int) -> pl.DataFrame:
    """Per (fuel, unit): units = q × red × kn // (kd × 10^12), exact (red and q scaled by 10^6)."""
    grams = _fraction(params.get("ev.grams_per_unit", year).value)
    rows: list[dict[str, object]] = []
    for fuel, units in fuel_catalogue(params).items():
        for unit in units:
            if fuel == ELECTRICITY_FUEL:
                # Electricity needs the grid share of the year; if unknown, the error surfaces
                # only when an electricity row is present (see units_frame).
                continue
            if fuel == "energy":
                mj = (
                    Fraction(1)
                    if unit == "MJ"
                    else _fraction(params.get("ev.mj_per_gj", year).value)
                )
            else:
                suffix = {"l": "per_l", "kg": "per_kg", "Nm3": "per_nm3"}[unit]
                mj = _fraction(params.get(f"ev.lhv.{fuel}.{suffix}", year).value)
            k = mj / grams
            rows.append(
                {"fuel": fuel, "unit": unit, "kn": k.numerator, "kd": k.denominator, "elec": False}
            )
    return pl.DataFrame(
        rows,
        schema={
            "fuel": pl.Utf8,
            "unit": pl.Utf8,
            "kn": pl.Int128,
            "kd": pl.Int128,
            "elec": pl.Boolean,
        },
    )


def _electricity_factor(params: ParameterSet, year: int) -> tuple[int, int, int]:
    """(kn, kd, red_scaled) for electricity: kWh × 3.6 × share/100 / grams, red = comparator."""
    grams = _fraction(params.get("ev.grams_per_unit", year).value)
    share = _fraction(params.get("ev.grid_renewable_share", year).value) / 100
    mj = _fraction(params.get("ev.mj_per_kwh", year).value)
    comp = params.get("ev.electricity_comparator", year).value
    k = mj * share / grams
    return k.numerator, k.denominator, int(comp * _SCALE)


def _scaled(col: str, dtype: pl.DataType) -> pl.Expr:
    """A number column as an Int128 scaled by 10^6, exactly.

    Strings must match ``NUMBER_PATTERN`` (checked by ``booking_errors``); decimals must have at
    most six decimals; integers are taken as they are. Floats are refused before this point.
    """
    if isinstance(dtype, pl.Decimal):
        return pl.col(col).cast(pl.Decimal(38, 6)).to_physical().cast(pl.Int128)
    if dtype.is_integer():
        return pl.col(col).cast(pl.Int128) * pl.lit(_SCALE, dtype=pl.Int128)
    return (
        pl.col(col)
        .str.strip_chars()
        .str.replace(",", ".", literal=True)
        .cast(pl.Decimal(38, 6), strict=False)
        .to_physical()
        .cast(pl.Int128)
    )


def _present(col: str, dtype: pl.DataType) -> pl.Expr:
    """True where the cell holds something (non-null, and non-blank for strings)."""
    if dtype == pl.Utf8:
        return pl.col(col).fill_null("").str.strip_chars() != ""
    return pl.col(col).is_not_null()


def _well_formed(col: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Utf8:
        return pl.col(col).fill_null("").str.strip_chars().str.contains(NUMBER_PATTERN)
    return pl.col(col).is_not_null()


def booking_errors(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """Adds ``_row`` (1-based), ``_field`` and ``_error`` (null when the row is valid).

    ``frame`` has the ``BOOKING_COLUMNS`` as strings. The first applicable error per row is given.
    """
    fossil = int(params.get("ev.fossil_comparator", year).value * _SCALE)
    rfnbo_max = int(params.get("ev.rfnbo_max_intensity", year).value * _SCALE)
    sectors = [s for s in SECTORS if f"ev.{s}.total" in params]
    catalogue = fuel_catalogue(params)
    fuel_units = [f"{f}|{u}" for f, us in catalogue.items() for u in us]
    not_bookable = [f"{s}|{c}" for s, c in NOT_BOOKABLE]
    schema = frame.collect_schema()
    qt, ct = schema["quantity"], schema["ghg_intensity"]
    q_ok = _well_formed("quantity", qt)
    ci_given = _present("ghg_intensity", ct)
    ci_ok = _well_formed("ghg_intensity", ct)
    is_elec = pl.col("fuel") == ELECTRICITY_FUEL
    q = _scaled("quantity", qt)
    ci = _scaled("ghg_intensity", ct)
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col("holder").fill_null("").str.strip_chars() == "", "holder", pl.lit("is empty")),
        (
            ~pl.col("sector").is_in(sectors) | pl.col("sector").is_null(),
            "sector",
            pl.format("unknown sector '{}' for parameter set", pl.col("sector").fill_null("")),
        ),
        (
            ~pl.col("category").is_in(list(CATEGORIES)) | pl.col("category").is_null(),
            "category",
            pl.format("unknown category '{}'", pl.col("category").fill_null("")),
        ),
        (
            pl.concat_str([pl.col("sector"), pl.col("category")], separator="|").is_in(
                not_bookable
            ),
            "category",
            pl.format(
                "category '{}' cannot be booked in sector '{}' (EV-08)", "category", "sector"
            ),
        ),
        (
            ~pl.col("fuel").is_in(list(catalogue)) | pl.col("fuel").is_null(),
            "fuel",
            pl.format("unknown fuel '{}'", pl.col("fuel").fill_null("")),
        ),
        (
            ~pl.concat_str([pl.col("fuel"), pl.col("unit")], separator="|").is_in(fuel_units)
            | pl.col("unit").is_null(),
            "unit",
            pl.format("fuel '{}' cannot be given in '{}'", "fuel", pl.col("unit").fill_null("")),
        ),
        (
            ~q_ok | pl.col("quantity").is_null(),
            "quantity",
            pl.lit("is not a number (max 6 decimals)"),
        ),
        (q <= 0, "quantity", pl.lit("must be positive")),
        (
            q >= int(MAX_QUANTITY) * _SCALE,
            "quantity",
            pl.lit(f"is implausibly large (limit {MAX_QUANTITY})"),
        ),
        (is_elec & ci_given, "ghg_intensity", pl.lit("electricity takes no ghg_intensity")),
        (~is_elec & ~ci_given, "ghg_intensity", pl.lit("is required for fuels (gCO2e/MJ)")),
        (~is_elec & ~ci_ok, "ghg_intensity", pl.lit("is not a number (max 6 decimals)")),
        (
            ~is_elec & (ci >= fossil),
            "ghg_intensity",
            pl.lit("is at or above the fossil comparator"),
        ),
        (
            ~is_elec & (ci < int(MIN_INTENSITY) * _SCALE),
            "ghg_intensity",
            pl.lit("is implausibly low"),
        ),
        (
            ~is_elec & (pl.col("category") == "rfnbo") & (ci > rfnbo_max),
            "ghg_intensity",
            pl.lit("exceeds the RFNBO maximum intensity"),
        ),
    ]
    field: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    error: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    for cond, name, message in reversed(checks):
        hit = cond.fill_null(False)
        field = pl.when(hit).then(pl.lit(name)).otherwise(field)
        error = pl.when(hit).then(message).otherwise(error)
    return frame.with_row_index("_row", offset=1).with_columns(_field=field, _error=error)


def units_frame(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.LazyFrame:
    """Units per booking row for a table of *valid* bookings (see ``booking_errors``).

    Input columns: ``BOOKING_COLUMNS`` as strings. Output: ``holder, origin_sector, category,
    year, units`` (units as Int64). Exact: scaled-integer arithmetic, floor at the end.
    """
    fossil_s = int(params.get("ev.fossil_comparator", year).value * _SCALE)
    factors = _factor_table(params, year)
    schema = frame.collect_schema()
    is_elec = pl.col("fuel") == ELECTRICITY_FUEL
    base = frame.join(factors.lazy(), on=["fuel", "unit"], how="left")
    q = _scaled("quantity", schema["quantity"])
    ci = _scaled("ghg_intensity", schema["ghg_intensity"])
    # Fuels: red = comparator − intensity (both ×10^6); units = q×red×kn // (kd×10^12).
    fuel_units = (q * (pl.lit(fossil_s, dtype=pl.Int128) - ci) * pl.col("kn")) // (
        pl.col("kd") * pl.lit(_SCALE * _SCALE, dtype=pl.Int128)
    )
    has_elec = base.select(is_elec.any()).collect().item()
    if has_elec:
        ekn, ekd, ered = _electricity_factor(params, year)
        elec_units = (q * pl.lit(ered * ekn, dtype=pl.Int128)) // pl.lit(
            ekd * _SCALE * _SCALE, dtype=pl.Int128
        )
        units = pl.when(is_elec).then(elec_units).otherwise(fuel_units)
    else:
        units = fuel_units
    return base.select(
        pl.col("holder"),
        pl.col("sector").alias("origin_sector"),
        pl.col("category"),
        pl.lit(year, dtype=pl.Int64).alias("year"),
        units.cast(pl.Int64).alias("units"),
    )
