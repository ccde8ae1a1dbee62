"""Company scope 3 category 1 (purchased goods and services) and category 4 (transport from direct
suppliers), seed 001 ("scope 3.1 ... de diensten, grondstoffen en materialen die zijn ingekocht").

Methods (GHG Protocol Scope 3 guidance as summarised in research/footprint.md §1.5):

* **spend-based**: ``E = spend × deflator × M[k, (region, sector)] / scale`` — the MRIO
  multiplier of the supplying region and sector (per unit of the MRIO's money) is the
  cradle-to-gate factor; ``deflator`` converts the purchase's currency and price year to the MRIO's
  currency and price year (user table, FP-20); ``scale`` is the MRIO's money unit (10⁶ for M.EUR).
  Caveat (FP-22): MRIO multipliers are per unit of output at **basic prices**; invoices are at
  purchaser prices (with trade and transport margins and taxes), so a spend-based figure
  overstates the producer's share and understates nothing else — the result says so;
* **average-data**: ``E = quantity × activity factor`` (kg CO2e per unit, with its source);
* **supplier-specific**: ``E = quantity × pcfExcludingBiogenicUptake / declaredUnitAmount`` from the
  supplier's PACT footprint (FP-34), the quantity in its declared unit;
* **hybrid**: ``E = supplier scope 1+2 allocated to the purchase (primary) + spend × deflator ×
  M_up / scale``, ``M_up = M − S``: the MRIO supplies only what lies upstream of the supplier's own
  emissions (FP-24).

Transport from direct suppliers in vehicles the company does not own is category 4 and reported
apart (GHG Protocol; pymrio issue #153). The share of primary data = emissions from supplier data
(supplier-specific lines and the primary part of hybrid lines) / category 1 total (FP-23); the
data-quality score is the emission-weighted mean DQR of the lines (FP-25).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from keten.core.errors import InputError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, exact_sum, mul, tidy
from keten.core.trace import Trace
from keten.footprint.pact import mean_dqr, parse_datetime, per_unit

METHODS = ("spend", "average", "supplier", "hybrid")
BASIC_PRICE_CAVEAT = (
    "spend-based factors are MRIO multipliers at basic prices applied to spend at purchaser "
    "prices (FP-22)"
)

_MONEY_RE = re.compile(
    r"^\s*(?:(M|MIO|MILL|MILLION|MN|K|THOUSAND|B|BN|BILLION)[\s.]*)?([A-Z]{3})\s*$", re.IGNORECASE
)
_SCALES = {
    None: 1,
    "K": 10**3,
    "THOUSAND": 10**3,
    "M": 10**6,
    "MIO": 10**6,
    "MILL": 10**6,
    "MILLION": 10**6,
    "MN": 10**6,
    "B": 10**9,
    "BN": 10**9,
    "BILLION": 10**9,
}

#: The parameter holding each method's default data-quality rating (FP-25).
_DQR_NAMES = {
    "spend": "spend_based",
    "average": "average_data",
    "supplier": "supplier_specific",
    "hybrid": "hybrid",
}


def money_unit(unit: str) -> tuple[str, int]:
    """``"M.EUR"`` → ``("EUR", 1000000)``; ``"Mill USD"`` → ``("USD", 1000000)`` (FP-21)."""
    m = _MONEY_RE.match(unit)
    if not m:
        raise InputError(
            msg(
                "cannot read the MRIO's money unit %(unit)s (expected e.g. M.EUR, Mill USD)",
                unit=repr(unit),
            ),
            field="unit",
        )
    prefix = m.group(1).upper() if m.group(1) else None
    return m.group(2).upper(), _SCALES[prefix]


@dataclass(frozen=True)
class Purchase:
    row: int
    supplier: str
    product: str
    method: str
    supplier_region: str = ""
    sector: str = ""
    amount: Decimal | None = None
    currency: str = ""
    price_year: int | None = None
    quantity: Decimal | None = None
    quantity_unit: str = ""
    activity_factor: Decimal | None = None
    factor_source: str = ""
    pact_product_id: str = ""
    supplier_scope12_kg: Decimal | None = None
    transport_kg: Decimal | None = None


@dataclass(frozen=True)
class SpendFactors:
    """What spend-based and hybrid lines need from the MRIO: per (region, sector) the total and
    upstream multipliers of one stressor, the MRIO money unit and price year."""

    stressor: str
    unit: str  # of the stressor, e.g. kg
    money: str  # e.g. M.EUR
    price_year: int
    total: Mapping[tuple[str, str], float]
    upstream: Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class Line:
    row: int
    supplier: str
    product: str
    method: str
    category: str  # "3.1" or "4"
    kg_co2e: Decimal
    primary_kg: Decimal
    dqr: Decimal | None
    basis: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "supplier": self.supplier,
            "product": self.product,
            "method": self.method,
            "category": self.category,
            "kg_co2e": tidy(self.kg_co2e),
            "primary_kg_co2e": tidy(self.primary_kg),
            "dqr": None if self.dqr is None else tidy(self.dqr),
            "basis": self.basis,
        }


@dataclass
class Scope3Result:
    lines: list[Line]
    trace: Trace
    notes: list[str] = field(default_factory=list)

    def total(self, category: str = "3.1") -> Decimal:
        return exact_sum(ln.kg_co2e for ln in self.lines if ln.category == category)

    @property
    def primary_share(self) -> Decimal | None:
        """Primary-data share of category 3.1, % (FP-23)."""
        tot = self.total("3.1")
        if tot == 0:
            return None
        prim = exact_sum(ln.primary_kg for ln in self.lines if ln.category == "3.1")
        return LEGAL_CONTEXT.divide(prim * 100, tot)

    @property
    def data_quality(self) -> Decimal | None:
        """Emission-weighted mean DQR of the category 3.1 lines (FP-25)."""
        rated = [ln for ln in self.lines if ln.category == "3.1" and ln.dqr is not None]
        weight = exact_sum(abs(ln.kg_co2e) for ln in rated)
        if weight == 0:
            return None
        num = exact_sum(mul(abs(ln.kg_co2e), Decimal(ln.dqr or 0)) for ln in rated)
        return LEGAL_CONTEXT.divide(num, weight)

    def by(self, key: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for ln in self.lines:
            if ln.category == "3.1":
                k = str(getattr(ln, key))
                out[k] = out.get(k, Decimal(0)) + ln.kg_co2e
        return out

    def summary(self) -> dict[str, Any]:
        def opt(v: Decimal | None) -> Decimal | None:
            return None if v is None else tidy(v)

        return {
            "category_3_1_kg_co2e": tidy(self.total("3.1")),
            "category_4_kg_co2e": tidy(self.total("4")),
            "primary_data_share_pct": opt(self.primary_share),
            "data_quality_score": opt(self.data_quality),
            "by_method": {k: tidy(v) for k, v in self.by("method").items()},
            "by_supplier": {k: tidy(v) for k, v in self.by("supplier").items()},
            "by_product": {k: tidy(v) for k, v in self.by("product").items()},
            "notes": self.notes,
        }


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _need(p: Purchase, name: str) -> Any:
    v = getattr(p, name)
    if v is None or v == "":
        raise InputError(
            msg("is required for method %(method)s", method=p.method), row=p.row, field=name
        )
    return v


def _spend(
    p: Purchase,
    factors: SpendFactors | None,
    deflators: Mapping[tuple[str, int], Decimal],
    trace: Trace,
    upstream: bool,
) -> Decimal:
    if factors is None:
        raise InputError(
            msg("a spend-based or hybrid line needs an MRIO, and none was chosen"),
            row=p.row,
            field="method",
        )
    amount: Decimal = _need(p, "amount")
    currency: str = _need(p, "currency").upper()
    year: int = _need(p, "price_year")
    key = (_need(p, "supplier_region"), _need(p, "sector"))
    table = factors.upstream if upstream else factors.total
    if key not in table:
        raise InputError(
            msg(
                "no MRIO multiplier for region %(region)s, sector %(sector)s",
                region=repr(key[0]),
                sector=repr(key[1]),
            ),
            row=p.row,
            field="sector" if key[0] in {r for r, _ in table} else "supplier_region",
        )
    mcur, scale = money_unit(factors.money)
    if (currency, year) == (mcur, factors.price_year):
        deflator = Decimal(1)
    elif (currency, year) in deflators:
        deflator = deflators[(currency, year)]
    else:
        raise InputError(
            msg(
                "no deflator from %(currency)s %(year)s to the MRIO's %(mcur)s "
                "%(price_year)s: add a row for it to the deflators",
                currency=currency,
                year=year,
                mcur=mcur,
                price_year=factors.price_year,
            ),
            row=p.row,
            field="price_year",
        )
    m = _dec(table[key])
    result = LEGAL_CONTEXT.divide(amount * deflator * m, Decimal(scale))
    label = "M_up" if upstream else "M"
    trace.step(
        f"row {p.row} {p.supplier}/{p.product} ({'hybrid upstream' if upstream else 'spend'})",
        f"{amount} {currency} × deflator {deflator} × {label}[{key[0]}, {key[1]}] {m} "
        f"{factors.unit}/{factors.money} / {scale}",
        f"{tidy(result)} {factors.unit}",
        "FP-20 FP-22" if not upstream else "FP-24",
    )
    return result


def _pact_for(p: Purchase, pacts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    pid = _need(p, "pact_product_id")
    hits = [fp for fp in pacts if pid in fp.get("productIds", []) and fp.get("status") == "Active"]
    if not hits:
        raise InputError(
            msg(
                "no active PACT footprint for product %(pid)s among the PACT footprints given",
                pid=repr(pid),
            ),
            row=p.row,
            field="pact_product_id",
        )
    return max(hits, key=lambda fp: parse_datetime(fp["pcf"]["referencePeriodEnd"]))  # FP-33


def scope3(
    purchases: Sequence[Purchase],
    trace: Trace,
    year: int,
    factors: SpendFactors | None = None,
    deflators: Mapping[tuple[str, int], Decimal] | None = None,
    pacts: Sequence[Mapping[str, Any]] = (),
) -> Scope3Result:
    """Scope 3.1 (and 4) lines for ``purchases`` in reporting ``year`` (module docstring)."""
    deflators = deflators or {}
    lines: list[Line] = []
    notes: list[str] = []
    rated: dict[str, Decimal] = {}

    def rating(method: str) -> Decimal:
        """The method's default DQR, looked up (and so listed among the parameters used) only
        when a line uses it."""
        if method not in rated:
            rated[method] = trace.value(f"footprint.scope3.dqr.{_DQR_NAMES[method]}", year)
        return rated[method]

    for p in purchases:
        if p.method not in METHODS:
            raise InputError(
                msg(
                    "unknown method %(method)s (expected %(methods)s)",
                    method=repr(p.method),
                    methods=", ".join(METHODS),
                ),
                row=p.row,
                field="method",
            )
        primary = Decimal(0)
        dqr: Decimal | None = rating(p.method)
        if p.method == "spend":
            kg = _spend(p, factors, deflators, trace, upstream=False)
            basis = "MRIO multiplier (basic prices)"
            if BASIC_PRICE_CAVEAT not in notes:
                notes.append(BASIC_PRICE_CAVEAT)
        elif p.method == "average":
            q: Decimal = _need(p, "quantity")
            f: Decimal = _need(p, "activity_factor")
            _need(p, "quantity_unit")
            src = _need(p, "factor_source")
            kg = q * f
            basis = f"activity factor: {src}"
            trace.step(
                f"row {p.row} {p.supplier}/{p.product} (average-data)",
                f"{q} {p.quantity_unit} × {f} kg CO2e/{p.quantity_unit}",
                f"{tidy(kg)} kg CO2e",
            )
        elif p.method == "supplier":
            fp = _pact_for(p, pacts)
            q = _need(p, "quantity")
            unit = fp["pcf"]["declaredUnitOfMeasurement"]
            if _need(p, "quantity_unit") != unit:
                raise InputError(
                    msg(
                        "unit %(quantity_unit)s differs from the footprint's declared unit "
                        "%(unit)s",
                        quantity_unit=repr(p.quantity_unit),
                        unit=repr(unit),
                    ),
                    row=p.row,
                    field="quantity_unit",
                )
            pu = per_unit(fp)
            kg = LEGAL_CONTEXT.multiply(q, pu)
            primary = kg
            dqr = mean_dqr(fp) or rating("supplier")
            basis = f"PACT footprint {fp['id']}"
            trace.step(
                f"row {p.row} {p.supplier}/{p.product} (supplier-specific)",
                f"{q} {unit} × {fp['pcf']['pcfExcludingBiogenicUptake']} kg CO2e / "
                f"{fp['pcf']['declaredUnitAmount']} {unit}",
                f"{tidy(kg)} kg CO2e",
                "FP-34",
            )
        else:  # hybrid
            s12: Decimal = _need(p, "supplier_scope12_kg")
            if s12 < 0:
                raise InputError(
                    msg("must not be negative"), row=p.row, field="supplier_scope12_kg"
                )
            up = _spend(p, factors, deflators, trace, upstream=True)
            kg = s12 + up
            primary = s12
            trace.step(
                f"row {p.row} {p.supplier}/{p.product} (hybrid)",
                f"{s12} kg supplier scope 1+2 + {tidy(up)} kg upstream",
                f"{tidy(kg)} kg CO2e",
                "FP-24",
            )
            basis = "supplier scope 1+2 + MRIO upstream multiplier"
            if BASIC_PRICE_CAVEAT not in notes:
                notes.append(BASIC_PRICE_CAVEAT)
        lines.append(Line(p.row, p.supplier, p.product, p.method, "3.1", kg, primary, dqr, basis))
        if p.transport_kg is not None:
            if p.transport_kg < 0:
                raise InputError(msg("must not be negative"), row=p.row, field="transport_kg")
            lines.append(
                Line(
                    p.row,
                    p.supplier,
                    p.product,
                    p.method,
                    "4",
                    p.transport_kg,
                    Decimal(0),
                    None,
                    "transport from direct supplier (category 4)",
                )
            )
    return Scope3Result(lines, trace, notes)
