"""Vehicles input files: the EEA CO2 monitoring data (CSV or Parquet, streamed), derogation
targets, credits, M1E lists, and the emission series of the 2040 and ESR accounts.

The EEA file is read lazily with polars (``scan_csv``/``scan_parquet``) and aggregated per
manufacturer or pool with the streaming engine, so memory stays bounded for files of 15 million
rows. Rows that cannot be used are never dropped silently: each gets a reason, and the caller
receives counts per reason, the first rows of each, and can write all of them to a file.

Errors and the reasons of skipped rows are translatable messages (``keten.core.messages``): the
English text (CLI, the skipped-rows file, exports, tests) is the one the checks always gave; a
web page shows them in its language (``Skipped.text``, ``str(exc)``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from keten.core.errors import InputError
from keten.core.messages import Msg, joined, msg
from keten.io.csvfile import cell_amount, cell_required, check_header, read_rows
from keten.vehicles.accounts import EsrYear, NetPoint
from keten.vehicles.model import FUEL_TYPES, Credits, Fleet

#: Columns keten needs in every EEA file. ``Mp`` (pool), ``Erwltp`` (eco-innovation savings)
#: and ``Cn`` are optional; ``M`` and ``Enedc`` are needed for 2020 (NEDC) only.
EEA_REQUIRED = ("Mh", "Ft", "Mt", "Ewltp", "R", "Year")
EEA_OPTIONAL = ("Mp", "Erwltp", "Cn", "M", "Enedc")
#: Sanity bounds (not rules; VH-09): keep the exact integer sums far from overflow.
MAX_REGISTRATIONS = 10**7
MAX_EMISSIONS = 10_000  # g/km
MAX_MASS = 100_000  # kg
MILLI = 1000
#: Exact Int64 sums: Σ R × mass [g] ≤ N × 10^8 stays below 2^63 while N ≤ 9 × 10^10 (VH-09).
MAX_FLEET_REGISTRATIONS = 9 * 10**10
EXAMPLE_ROWS = 5

_UNIT_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def _canonical(name: str) -> str:
    """EEA headers carry units ("Ewltp (g/km)", "M (kg)"): keep the field code only."""
    return _UNIT_SUFFIX.sub("", name).strip()


@dataclass(frozen=True)
class Skipped:
    """Rows not used, per reason: how many, and the first few row numbers with their values.

    ``reason`` is the English text (CLI, the skipped-rows file, exports); ``message`` the same
    reason as a translatable message, ``text`` its text in the current language (web pages)."""

    reason: str
    count: int
    examples: list[dict[str, object]]
    message: Msg | None = field(default=None, compare=False, repr=False)

    @property
    def translatable(self) -> str | Msg:
        """The reason as a translatable message when there is one, else its English text."""
        return self.reason if self.message is None else self.message

    @property
    def text(self) -> str:
        """The reason in the current context's language (English unless a translator is set)."""
        return self.reason if self.message is None else self.message.render()


@dataclass
class Monitoring:
    """The aggregated EEA data: fleets per (group, year) and the skipped-row summary."""

    fleets: dict[tuple[str, int], Fleet]
    skipped: list[Skipped] = field(default_factory=list)
    rows_read: int = 0

    @property
    def skipped_count(self) -> int:
        return sum(s.count for s in self.skipped)


NUMERIC_FIELDS = ("Mt", "Ewltp", "Erwltp", "R", "Year", "M", "Enedc")


def scan_monitoring(path: Path, *, typed: bool = False) -> pl.LazyFrame:
    """Lazy frame over an EEA monitoring file (.csv or .parquet) with canonical column names.

    CSV columns are read as text, so every value is validated by keten, not guessed by a parser;
    with ``typed`` the numeric fields are parsed as numbers by the CSV reader (faster; a value
    that does not parse makes the whole scan fail — see ``read_monitoring``).
    """
    name = str(path)
    if not path.exists():
        raise InputError(msg("file not found"), file=name)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=name)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            lf = pl.scan_parquet(path)
            header = lf.collect_schema().names()
        elif suffix in (".csv", ".txt"):
            with path.open("rb") as fh:
                first = fh.readline()
            try:
                text = first.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InputError(msg("not UTF-8 text (header line)"), file=name) from None
            if not text.strip():
                raise InputError(msg("empty file; expected a header line"), file=name)
            header = next(csv.reader([text]))
            overrides = (
                {h: pl.Float64 for h in header if _canonical(h) in NUMERIC_FIELDS} if typed else {}
            )
            lf = pl.scan_csv(path, infer_schema=False, schema_overrides=overrides)
        else:
            raise InputError(msg("expected a .csv or .parquet file"), file=name)
    except InputError:
        raise
    except Exception as exc:  # polars/arrow errors on corrupt files
        raise InputError(_cannot_read(exc), file=name) from None
    canon = [_canonical(h) for h in header]
    dupes = sorted({c for c in canon if canon.count(c) > 1})
    if dupes:
        raise InputError(
            msg("header: duplicate column(s) %(columns)s", columns=", ".join(dupes)), file=name
        )
    missing = [c for c in EEA_REQUIRED if c not in canon]
    if missing:
        raise InputError(
            msg(
                "header: missing column(s) %(columns)s (need %(header)s)",
                columns=", ".join(missing),
                header=",".join(EEA_REQUIRED),
            ),
            file=name,
        )
    renames = {h: c for h, c in zip(header, canon, strict=True) if h != c}
    if renames:
        lf = lf.rename(renames)
    keep = [c for c in (*EEA_REQUIRED, *EEA_OPTIONAL) if c in canon]
    return lf.select(keep)


def _cannot_read(exc: Exception) -> Msg:
    """A library's error on a corrupt file: its first line, kept as it is (English)."""
    return msg("cannot read: %(error)s", error=str(exc).splitlines()[0])


def _t(col: str) -> pl.Expr:
    """The stripped text of a column (computed once per row as ``_t_<col>``)."""
    return pl.col(f"_t_{col}")


def _v(col: str) -> pl.Expr:
    """The number in a column (computed once per row as ``_v_<col>``; null if not a number)."""
    return pl.col(f"_v_{col}")


def _e(col: str) -> pl.Expr:
    """True where a numeric column is empty (computed once per row as ``_e_<col>``)."""
    return pl.col(f"_e_{col}")


def _prepare(schema: pl.Schema, numeric: Sequence[str], text_cols: Sequence[str]) -> list[pl.Expr]:
    """Per-row columns the checks use: ``_v_`` numbers, ``_e_`` empty flags, ``_t_`` text.

    Columns already numeric (Parquet) are used as they are; text columns (CSV) are stripped and
    parsed, a value that does not parse becoming null (reported as "not a number")."""
    out = []
    for c in text_cols:
        out.append(pl.col(c).cast(pl.String).str.strip_chars().alias(f"_t_{c}"))
    for c in numeric:
        if schema[c].is_numeric():
            out.append(pl.col(c).cast(pl.Float64).alias(f"_v_{c}"))
            out.append(pl.col(c).is_null().alias(f"_e_{c}"))
        else:
            s = pl.col(c).cast(pl.String).str.strip_chars()
            out.append(s.cast(pl.Float64, strict=False).alias(f"_v_{c}"))
            out.append((s.is_null() | (s == "")).alias(f"_e_{c}"))
    return out


def _texts(schema: pl.Schema, numeric: Sequence[str]) -> list[pl.Expr]:
    """The text of numeric columns, for the reasons of refused rows only (a number read by the
    reader is shown without a spurious ``.0``; NaN and infinities in lower case)."""
    out = []
    for c in numeric:
        if schema[c].is_numeric():
            v = pl.col(c).cast(pl.Float64)
            whole = v.is_finite() & (v == v.round(0)) & (v.abs() < 1e15)
            text = (
                pl.when(whole)
                .then(v.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(v.cast(pl.String).str.to_lowercase())
            )
        else:
            text = pl.col(c).cast(pl.String).str.strip_chars()
        out.append(text.alias(f"_t_{c}"))
    return out


#: A row check: (when the row is refused, why — a translatable reason whose English text is the
#: reason the file reports —, the offending value shown after the reason or None).
Check = tuple[pl.Expr, Msg, pl.Expr | None]


def _check_number(
    col: str, *, integer: bool, maximum: float, what: Msg, allow_zero: bool, required: bool
) -> list[Check]:
    """Conditions (when → reason, detail) for one numeric column, in order of precedence;
    ``what`` names the quantity (a word shown to the user, translated with the reason)."""
    t, v = _t(col), _v(col)  # the text is only evaluated for refused rows
    empty = _e(col)
    named: dict[str, object] = {"what": what, "column": col}
    checks: list[Check] = []
    if required:
        checks.append((empty, msg("missing %(what)s (%(column)s)", **named), None))
    bad = ~empty & (v.is_null() | ~v.is_finite())
    checks.append((bad, msg("%(what)s (%(column)s) is not a number", **named), t))
    checks.append((~empty & (v < 0), msg("negative %(what)s (%(column)s)", **named), None))
    if not allow_zero:
        checks.append((~empty & (v == 0), msg("%(what)s (%(column)s) is zero", **named), None))
    checks.append(
        (
            ~empty & (v > maximum),
            msg("%(what)s (%(column)s) above %(maximum)s", **named, maximum=format(maximum, "g")),
            None,
        )
    )
    if integer:
        checks.append(
            (
                ~empty & (v != v.round(0)),
                msg("%(what)s (%(column)s) is not a whole number", **named),
                t,
            )
        )
    else:
        scaled = v * MILLI
        checks.append(
            (
                ~empty & ((scaled - scaled.round(0)).abs() > 1e-6),
                msg("%(what)s (%(column)s) has more than 3 decimals", **named),
                t,
            )
        )
    return checks


def _with_value(reason: Msg, value: str) -> Msg:
    """A reason followed by the offending value, as the file reports it: ``reason: 'value'``."""
    return msg("%(reason)s: '%(value)s'", reason=reason, value=value)


def _reason_messages(checks: Sequence[Check]) -> dict[str, Msg]:
    """English reason → its translatable message, for the checks of one read."""
    return {why.english(): why for _, why, _ in checks}


def _message_of(reason: str, known: dict[str, Msg]) -> Msg | None:
    """The translatable message of a reason as the file reports it: a check's English reason,
    or that reason followed by ``: 'value'`` (the row's value). None if it is neither."""
    if reason in known:
        return known[reason]
    for english, why in known.items():
        head = english + ": '"
        if reason.startswith(head) and reason.endswith("'") and len(reason) > len(head):
            return _with_value(why, reason[len(head) : -1])
    return None


def _ok_number(
    col: str, *, integer: bool, maximum: float, allow_zero: bool, required: bool
) -> pl.Expr:
    """True where a numeric column passes every check of ``_check_number`` — the same decision
    in fewer operations, for the clean pass. Polars orders NaN above every number, so NaN and
    +inf fail ``v <= maximum`` and -inf fails the lower bound; an empty or unreadable value is
    null and fails (or passes, when the column is optional and the value empty)."""
    v = _v(col)
    low = v >= 0 if allow_zero else v > 0
    if integer:
        exact = v == v.round(0)
    else:
        scaled = v * MILLI
        exact = (scaled - scaled.round(0)).abs() <= 1e-6
    ok = (low & (v <= maximum) & exact).fill_null(False)
    return ok if required else _e(col) | ok


def _milli(col: str) -> pl.Expr:
    """Value × 1000 as an exact integer; 0 where the row is refused anyway (NaN, ±inf, huge)."""
    v = _v(col)
    safe = pl.when(v.is_finite() & (v.abs() < 1e12)).then(v).otherwise(0.0)
    return (safe * MILLI).round(0).cast(pl.Int64)


def aggregate_monitoring(
    lf: pl.LazyFrame,
    file: str,
    years: Sequence[int],
    *,
    nedc: bool = False,
    zlev_threshold: Decimal | None = None,
    m1e: set[tuple[str, str]] | None = None,
    skipped_out: Path | None = None,
) -> Monitoring:
    """Validate every row, then sum per (manufacturer or pool, year) in one streaming pass.

    ``nedc`` selects the 2020 fields (mass in running order ``M``, ``Enedc``) instead of ``Mt``
    and ``Ewltp``. Pools: the group is ``Mp`` when given, else ``Mh`` (Art. 6, VH-16). Rows that
    fail a check get a reason and are counted per reason (VH-09); a second, short pass collects
    the first rows of each reason only when there are any.
    """
    cols = lf.collect_schema().names()
    if skipped_out is not None and not skipped_out.parent.is_dir():
        raise InputError(msg("folder for the skipped rows does not exist"), file=str(skipped_out))
    mass_col, e_col = ("M", "Enedc") if nedc else ("Mt", "Ewltp")
    for c in (mass_col, e_col):
        if c not in cols:
            raise InputError(
                msg("header: missing column %(column)s (needed for this year)", column=c),
                file=file,
            )
    has_pool, has_eco, has_cn = "Mp" in cols, "Erwltp" in cols, "Cn" in cols
    if m1e and not has_cn:
        raise InputError(
            msg("header: an M1E list needs the column Cn (commercial name)"), file=file
        )
    numeric = ["Year", mass_col, e_col, "R", *(["Erwltp"] if has_eco else [])]
    text = ["Mh", "Ft", *[c for c in ("Mp", "Cn") if c in cols and (c != "Cn" or m1e)]]
    schema = lf.collect_schema()
    year_t, year_v = _t("Year"), _v("Year")
    conditions: list[Check] = [
        (_e("Year"), msg("missing year (Year)"), None),
        (
            year_v.is_null() | (year_v != year_v.round(0)),
            msg("year (Year) is not a whole number"),
            year_t,
        ),
        (~year_v.is_in([float(y) for y in years]), msg("row of another year (Year)"), year_t),
        (_t("Mh").is_null() | (_t("Mh") == ""), msg("missing manufacturer (Mh)"), None),
        (_t("Ft").is_null() | (_t("Ft") == ""), msg("missing fuel type (Ft)"), None),
        (
            ~_t("Ft").str.to_lowercase().is_in(list(FUEL_TYPES)),
            msg("unknown fuel type (Ft)"),
            _t("Ft"),
        ),
    ]
    # conditions[3:6] read text (Mh, Ft): the clean pass makes them once per group (VH-17)
    text_checks = slice(3, 6)
    conditions += _check_number(
        mass_col, integer=False, maximum=MAX_MASS, what=msg("mass"), allow_zero=False, required=True
    )
    conditions += _check_number(
        e_col,
        integer=False,
        maximum=MAX_EMISSIONS,
        what=msg("emissions"),
        allow_zero=True,
        required=True,
    )
    if has_eco:
        conditions += _check_number(
            "Erwltp",
            integer=False,
            maximum=MAX_EMISSIONS,
            what=msg("eco-innovation savings"),
            allow_zero=True,
            required=False,
        )
    conditions += _check_number(
        "R",
        integer=True,
        maximum=MAX_REGISTRATIONS,
        what=msg("registrations"),
        allow_zero=False,
        required=True,
    )
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    detail: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, why, value in reversed(conditions):
        reason = pl.when(cond.fill_null(True)).then(pl.lit(why.english())).otherwise(reason)
        detail = (
            pl.when(cond.fill_null(True))
            .then(pl.lit(None, dtype=pl.String) if value is None else value)
            .otherwise(detail)
        )
    ok = ~pl.any_horizontal([cond.fill_null(True) for cond, _, _ in conditions])
    base = lf.with_columns(_prepare(schema, numeric, text)).with_columns(ok.alias("_ok"))
    # Row numbers (1 = first data row) only for the pass over refused rows: an index keeps the
    # streaming engine in file order, which the clean pass does not need.
    numbered = (
        lf.with_row_index("row", offset=1)
        .with_columns(_prepare(schema, numeric, text))
        .with_columns(ok.alias("_ok"))
    )
    # Bad rows: the reason (first failing check, with the offending value) — evaluated only for
    # rows that fail, so clean files pay for one boolean per row.
    bad = (
        numbered.filter(~pl.col("_ok"))
        .with_columns(_texts(schema, numeric))
        .with_columns(reason.alias("reason"), detail.alias("detail"))
        .with_columns(
            pl.when(pl.col("detail").is_null())
            .then(pl.col("reason"))
            .otherwise(pl.format("{}: '{}'", pl.col("reason"), pl.col("detail")))
            .alias("reason")
        )
    )
    e = _milli(e_col)
    zlev = pl.lit(False) if zlev_threshold is None else e <= int(zlev_threshold * MILLI)
    sums = ("n", "sum_mass", "sum_e", "sum_eco", "zlev_n", "zlev_e", "m1e_n", "m1e_e")

    def staged(ok_col: pl.Expr, m1e_col: pl.Expr) -> list[pl.Expr]:
        """Year and the exact Int64 sums of one row; 0 where ``ok_col`` refuses the row."""
        r = pl.when(ok_col).then(_milli("R") // MILLI).otherwise(0)
        e_r = r * e
        return [
            pl.when(ok_col).then(year_v.cast(pl.Int64)).alias("year"),
            r.alias("n"),
            (r * _milli(mass_col)).alias("sum_mass"),  # r is 0 on refused rows
            e_r.alias("sum_e"),
            (r * (_milli("Erwltp") if has_eco else pl.lit(0, dtype=pl.Int64))).alias("sum_eco"),
            pl.when(zlev).then(r).otherwise(0).alias("zlev_n"),
            pl.when(zlev).then(e_r).otherwise(0).alias("zlev_e"),
            pl.when(m1e_col).then(r).otherwise(0).alias("m1e_n"),
            pl.when(m1e_col).then(e_r).otherwise(0).alias("m1e_e"),
        ]

    if m1e:
        keys = pl.LazyFrame(
            {
                "_t_Mh": [k[0] for k in m1e],
                "_t_Cn": [k[1] for k in m1e],
                "m1e": [True] * len(m1e),
            }
        )
        good_rows = base.join(keys, on=["_t_Mh", "_t_Cn"], how="left").with_columns(
            pl.col("m1e").fill_null(False)
        )
        ok_col = pl.col("_ok")
        grouped = good_rows.select(
            ok_col,
            pl.when(ok_col).then(_t("Mp") if has_pool else pl.lit("")).alias("pool"),
            pl.when(ok_col).then(_t("Mh")).alias("manufacturer"),
            *staged(ok_col, pl.col("m1e")),
        ).group_by("_ok", "pool", "manufacturer", "year")
    else:
        # VH-17: the text checks (Mh, Ft) depend on the text alone, so they are made once per
        # distinct raw (Mp, Mh, Ft) after the streaming pass; per row only the numeric checks
        # run. A group that fails a text check holds refused rows: the pass over refused rows
        # below then reports each of them with its reason, exactly as a per-row check would.
        # The numeric checks of ``conditions`` are evaluated as one conjunction (_ok_number).
        ok_num = (
            year_v.is_in([float(y) for y in years]).fill_null(False)
            & _ok_number(mass_col, integer=False, maximum=MAX_MASS, allow_zero=False, required=True)
            & _ok_number(
                e_col, integer=False, maximum=MAX_EMISSIONS, allow_zero=True, required=True
            )
            & _ok_number(
                "R", integer=True, maximum=MAX_REGISTRATIONS, allow_zero=False, required=True
            )
        )
        if has_eco:
            ok_num = ok_num & _ok_number(
                "Erwltp", integer=False, maximum=MAX_EMISSIONS, allow_zero=True, required=False
            )
        ok_n = pl.col("_ok_num")
        r, e_m = pl.col("_r"), pl.col("_e_milli")
        z = pl.lit(False) if zlev_threshold is None else e_m <= int(zlev_threshold * MILLI)
        raw = [c for c in ("Mp", "Mh", "Ft") if c in cols]
        # Intermediate columns are materialised once per row (the streaming engine does not
        # share common subexpressions between the sums).
        grouped = (
            lf.with_columns(_prepare(schema, numeric, []))
            .with_columns(ok_num.alias("_ok_num"))
            .with_columns(
                pl.when(ok_n).then(_milli("R") // MILLI).otherwise(0).alias("_r"),
                e.alias("_e_milli"),
            )
            .select(
                ok_n,
                *(pl.col(c).cast(pl.String).alias(f"_raw_{c}") for c in raw),
                pl.when(ok_n).then(year_v.cast(pl.Int64)).alias("year"),
                r.alias("n"),
                (r * _milli(mass_col)).alias("sum_mass"),  # r is 0 on refused rows
                (r * e_m).alias("sum_e"),
                (r * (_milli("Erwltp") if has_eco else pl.lit(0, dtype=pl.Int64))).alias("sum_eco"),
                pl.when(z).then(r).otherwise(0).alias("zlev_n"),
                pl.when(z).then(r * e_m).otherwise(0).alias("zlev_e"),
            )
            .group_by("_ok_num", *(f"_raw_{c}" for c in raw), "year")
        )
    agg = grouped.agg(
        pl.len().alias("rows"),
        *(
            pl.col(c).sum() if m1e or not c.startswith("m1e") else pl.lit(0, pl.Int64).alias(c)
            for c in sums
        ),
    )
    bad_agg = bad.group_by("reason").agg(pl.len().alias("rows"), pl.col("row").min().alias("first"))
    try:
        # One streaming pass over the file; a second one only when some rows were refused.
        everything = agg.collect(engine="streaming")
        if not m1e:
            everything = _text_checked(everything, conditions[text_checks], has_pool)
        agg_df = everything.filter(pl.col("_ok"))
        summary = pl.DataFrame(schema={"reason": pl.String, "rows": pl.UInt32, "first": pl.UInt32})
        ex_df = None
        if agg_df.height < everything.height:
            summary = bad_agg.collect(engine="streaming")
            ex_df = (
                bad.head(1000)
                .select("row", "reason", "Mh", "Ft", mass_col, e_col, "R", "Year")
                .collect(engine="streaming")
            )
    except pl.exceptions.PolarsError as exc:
        raise InputError(_cannot_read(exc), file=file) from None
    if skipped_out is not None:
        try:
            # Every refused row with its reason; a header only when none was refused.
            bad.select("row", "reason", *cols).sink_csv(skipped_out)
        except pl.exceptions.PolarsError as exc:
            raise InputError(_cannot_read(exc), file=file) from None
        except OSError as exc:
            raise InputError(
                msg("cannot write: %(error)s", error=exc.strerror or str(exc)),
                file=str(skipped_out),
            ) from None
    good = agg_df.with_columns(
        pl.when(pl.col("pool").is_not_null() & (pl.col("pool") != ""))
        .then(pl.col("pool"))
        .otherwise(pl.col("manufacturer"))
        .alias("group")
    )
    pooled = good.group_by("group", "year").agg(
        *(pl.col(c).sum() for c in sums),
        pl.col("manufacturer").unique().sort().alias("members"),
        (pl.col("pool").is_not_null() & (pl.col("pool") != "")).any().alias("is_pool"),
    )
    if pooled.height and int(pooled["n"].max()) > MAX_FLEET_REGISTRATIONS:  # type: ignore[arg-type]
        raise InputError(
            msg(
                "a fleet has more than %(limit)s registrations (exact sums)",
                limit=format(MAX_FLEET_REGISTRATIONS, ","),
            ),
            file=file,
        )
    fleets: dict[tuple[str, int], Fleet] = {}
    for row in pooled.iter_rows(named=True):
        name, year = row["group"], int(row["year"])
        fleets[(name, year)] = Fleet(
            name=name,
            year=year,
            registrations=int(row["n"]),
            sum_mass=_dec(row["sum_mass"]),
            sum_emissions=_dec(row["sum_e"]),
            sum_eco=_dec(row["sum_eco"]),
            zlev_registrations=int(row["zlev_n"] or 0),
            zlev_sum_emissions=_dec(row["zlev_e"]),
            m1e_registrations=int(row["m1e_n"] or 0),
            m1e_sum_emissions=_dec(row["m1e_e"]),
            members=tuple(row["members"]) if row["is_pool"] else (),
        )
    skipped = []
    known = _reason_messages(conditions)
    for srow in summary.sort("first").iter_rows(named=True):
        assert ex_df is not None
        ex = ex_df.filter(pl.col("reason") == srow["reason"]).head(EXAMPLE_ROWS).to_dicts()
        message = _message_of(srow["reason"], known)
        skipped.append(Skipped(srow["reason"], int(srow["rows"]), ex, message))
    return Monitoring(fleets, skipped, int(everything["rows"].sum()))


def _text_checked(groups: pl.DataFrame, checks: Sequence[Check], has_pool: bool) -> pl.DataFrame:
    """Groups of raw (Mp, Mh, Ft) with the text checks made once per group (VH-17): ``_ok`` is
    the numeric checks of every row of the group and the text checks of its key; ``pool`` and
    ``manufacturer`` are the stripped texts, as the per-row pass computes them."""
    keyed = groups.with_columns(
        *(
            pl.col(f"_raw_{c}").str.strip_chars().alias(f"_t_{c}")
            for c in ("Mp", "Mh", "Ft")
            if f"_raw_{c}" in groups.columns
        )
    )
    text_ok = ~pl.any_horizontal([cond.fill_null(True) for cond, _, _ in checks])
    ok = pl.col("_ok_num") & text_ok
    return keyed.select(
        ok.alias("_ok"),
        pl.when(ok).then(_t("Mp") if has_pool else pl.lit("")).alias("pool"),
        pl.when(ok).then(_t("Mh")).alias("manufacturer"),
        pl.when(ok).then(pl.col("year")).alias("year"),
        pl.exclude("_ok_num", "year", "^_raw_.*$", "^_t_.*$"),
    )


def read_monitoring(
    path: Path,
    years: Sequence[int],
    *,
    nedc: bool = False,
    zlev_threshold: Decimal | None = None,
    m1e: set[tuple[str, str]] | None = None,
    skipped_out: Path | None = None,
) -> Monitoring:
    """Scan, validate and aggregate an EEA file. A CSV is first read with numeric fields parsed
    by the reader; if any value does not parse, it is read again as text so that every such row
    is reported with its reason (VH-09)."""
    kw = {"nedc": nedc, "zlev_threshold": zlev_threshold, "m1e": m1e, "skipped_out": skipped_out}
    if path.suffix.lower() == ".csv":
        try:
            return aggregate_monitoring(scan_monitoring(path, typed=True), str(path), years, **kw)  # type: ignore[arg-type]
        except InputError:
            pass
    return aggregate_monitoring(scan_monitoring(path), str(path), years, **kw)  # type: ignore[arg-type]


def no_usable_rows(mon: Monitoring, year: int, file: str) -> InputError:
    """The refusal of a file none of whose rows can be used for ``year``, with the reasons of
    the skipped rows (translated where the message is shown; English text as the CLI's)."""
    if not mon.skipped:
        return InputError(msg("no usable rows for %(year)s", year=year), file=file)
    reasons = [
        msg("%(reason)s ×%(count)s", reason=s.translatable, count=s.count) for s in mon.skipped
    ]
    return InputError(
        msg(
            "no usable rows for %(year)s (%(n)s skipped: %(reasons)s)",
            year=year,
            n=mon.skipped_count,
            reasons=joined(reasons),
        ),
        file=file,
    )


def _dec(v: object) -> Decimal:
    """An Int64 sum of milli-units as an exact Decimal."""
    return Decimal(int(v or 0)) / MILLI  # type: ignore[call-overload]


# ----------------------------------------------------------------------------- small CSV files

DEROGATION_COLUMNS = ("manufacturer", "year", "target")
CREDIT_COLUMNS = ("manufacturer", "year", "steel", "fuels")
M1E_COLUMNS = ("manufacturer", "commercial_name")


def _decimal(value: str, file: str, row: int, col: str, *, negative: bool = False) -> Decimal:
    d = cell_amount(value, file, row, col)  # below 10^15 (VH-18, GEN-01)
    if d < 0 and not negative:
        raise InputError(msg("must not be negative"), file=file, row=row, field=col)
    return d


def _year(value: str, file: str, row: int, col: str = "year") -> int:
    if not re.fullmatch(r"[0-9]{4}", cell_required(value, file, row, col)):
        raise InputError(
            msg("not a year: %(value)s", value=repr(value)), file=file, row=row, field=col
        )
    return int(value)


def read_derogations(path: Path) -> dict[tuple[str, int], Decimal]:
    """Small-volume derogation targets (Art. 10), as granted to the manufacturer: user input."""
    name, out = str(path), {}
    for row, r in read_rows(path, DEROGATION_COLUMNS):
        key = (
            cell_required(r["manufacturer"], name, row, "manufacturer"),
            _year(r["year"], name, row),
        )
        if key in out:
            raise InputError(
                msg("duplicate manufacturer and year"), file=name, row=row, field="manufacturer"
            )
        out[key] = _decimal(r["target"], name, row, "target")
    return out


def read_credits(path: Path) -> dict[tuple[str, int], Credits]:
    """Credits claimed under COM(2025) 995 (g/km): steel and fuels per manufacturer and year."""
    name, out = str(path), {}
    for row, r in read_rows(path, CREDIT_COLUMNS):
        key = (
            cell_required(r["manufacturer"], name, row, "manufacturer"),
            _year(r["year"], name, row),
        )
        if key in out:
            raise InputError(
                msg("duplicate manufacturer and year"), file=name, row=row, field="manufacturer"
            )
        out[key] = Credits(
            _decimal(r["steel"], name, row, "steel"), _decimal(r["fuels"], name, row, "fuels")
        )
    return out


def read_m1e(path: Path) -> set[tuple[str, str]]:
    """Small affordable EU-made electric cars (M1E): (manufacturer Mh, commercial name Cn)."""
    name, out = str(path), set()
    for row, r in read_rows(path, M1E_COLUMNS):
        key = (
            cell_required(r["manufacturer"], name, row, "manufacturer"),
            cell_required(r["commercial_name"], name, row, "commercial_name"),
        )
        if key in out:
            raise InputError(msg("duplicate entry"), file=name, row=row, field="commercial_name")
        out.add(key)
    return out


def _header(path: Path, required: Sequence[str], optional: Sequence[str]) -> list[str]:
    name = str(path)
    if not path.exists():
        raise InputError(msg("file not found"), file=name)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=name)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except UnicodeDecodeError:
        raise InputError(msg("not UTF-8 text"), file=name) from None
    header = [h.strip() for h in header]
    if not header:
        raise InputError(
            msg("empty file; expected header %(header)s", header=",".join(required)), file=name
        )
    check_header(name, header, [*required, *[h for h in optional if h in header]])
    return header


def check_series_size(path: Path, limit: int) -> None:
    """Refuse an emission series file larger than ``limit`` bytes (a web page's upload limit)."""
    if path.stat().st_size > limit:
        raise InputError(msg("too large for an emission series"), file=str(path))


def _series_years(path: Path, columns: list[str]) -> list[tuple[int, int, dict[str, str]]]:
    name, out, seen = str(path), [], set()
    for row, r in read_rows(path, columns):
        y = _year(r["year"], name, row)
        if y in seen:
            raise InputError(
                msg("duplicate year %(year)s", year=y), file=name, row=row, field="year"
            )
        seen.add(y)
        out.append((row, y, r))
    if not out:
        raise InputError(msg("no data rows"), file=name)
    return out


def read_net_series(path: Path) -> list[NetPoint]:
    """2040 series: ``year,net_emissions[,credits]`` (any one unit, e.g. Mt CO2e)."""
    name = str(path)
    cols = _header(path, ("year", "net_emissions"), ("credits",))
    out = []
    for row, y, r in _series_years(path, cols):
        net = _decimal(r["net_emissions"], name, row, "net_emissions", negative=True)
        credits = _decimal(r["credits"], name, row, "credits") if r.get("credits") else Decimal(0)
        out.append(NetPoint(y, net, credits))
    return out


ESR_OPTIONAL = ("aea", "transfer_in", "transfer_out", "ets_flex", "lulucf_flex")


def read_esr_series(path: Path) -> tuple[list[EsrYear], Decimal | None]:
    """ESR series: ``year,emissions[,aea,transfer_in,transfer_out,ets_flex,lulucf_flex]`` in t
    CO2e. A 2005 row gives the base of the 2030 target; rows 2021–2030 the compliance table."""
    name = str(path)
    cols = _header(path, ("year", "emissions"), ESR_OPTIONAL)
    out, base = [], None
    for row, y, r in _series_years(path, cols):
        emissions = _decimal(r["emissions"], name, row, "emissions")
        if y == 2005:
            for c in ESR_OPTIONAL:
                if r.get(c):
                    raise InputError(
                        msg("only emissions belong in the 2005 row"), file=name, row=row, field=c
                    )
            base = emissions
            continue
        if not 2021 <= y <= 2030:
            raise InputError(
                msg(
                    "year %(year)s is outside the ESR period 2021–2030 (and not the 2005 base)",
                    year=y,
                ),
                file=name,
                row=row,
                field="year",
            )
        opt = {c: _decimal(r[c], name, row, c) if r.get(c) else None for c in ESR_OPTIONAL}
        out.append(
            EsrYear(
                y,
                emissions,
                opt["aea"],
                opt["transfer_in"] or Decimal(0),
                opt["transfer_out"] or Decimal(0),
                opt["ets_flex"] or Decimal(0),
                opt["lulucf_flex"] or Decimal(0),
            )
        )
    return out, base


def write_synthetic(path: Path, rows: int, year: int = 2025, seed: int = 1) -> None:
    """Write a synthetic EEA file (.csv or .parquet) in chunks of 10^6 rows (bounded memory)."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    from keten.vehicles.synthetic import generate

    chunk = 1_000_000
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(msg("expected a .csv or .parquet file name"), file=str(path))
    if not path.parent.is_dir():
        raise InputError(msg("folder for the output file does not exist"), file=str(path))
    try:
        fh = path.open("wb")
    except OSError as exc:
        raise InputError(
            msg("cannot write: %(error)s", error=exc.strerror or str(exc)), file=str(path)
        ) from None
    writer = None
    with fh:
        for i, start in enumerate(range(0, rows, chunk)):
            frame = generate(min(chunk, rows - start), year, seed + i, start_id=start + 1)
            if suffix == ".csv":
                frame.write_csv(fh, include_header=(i == 0))
            else:
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                writer.write_table(table)
        if writer is not None:
            writer.close()
