"""The MKI of a work computed over arrays: products × modules × indicators at once (MKI-17).

Same rules, same exact numbers as the per-element loop in :mod:`keten.mki.project` (the
reference, used for ``--explain`` and for transport from distance × mode):

* the profile values of the products the elements use go into one ``products × modules ×
  indicators`` numpy array of ``Decimal`` objects; every product, sum and multiplication is a
  ``Decimal`` operation in the 60-digit legal context (numpy only loops in C), so nothing is
  rounded and no float is involved (MKI-09);
* by distributivity, which holds exactly for exact decimals: per product ``P[m] = f × Σ_i value ×
  price`` and ``P_i = f × Σ_m value × price`` per group of modules; per element
  ``q × r × Σ_{replaced m} P[m] + q × Σ_{once m} P[m]``; per module and indicator of the work
  ``Σ_products P × Σ_{its elements} q (× r)``;
* the values are equal to the reference's, not always written with the same trailing zeros
  (``Decimal("1.50") == Decimal("1.5")``); every output shows them through ``tidy``.

``vectorised_mki`` returns ``None`` whenever the work needs something it does not do (transport
from distance × mode, a module or indicator outside the set) or any rule refuses the input:
the caller then runs the reference, which raises the same error it always did. Parameter uses
are recorded in ``trace`` only when a result is returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, Decimal, localcontext
from itertools import chain
from typing import Any

import numpy as np

from keten.core.errors import KetenError
from keten.core.quantity import LEGAL_CONTEXT, ZERO, div
from keten.core.trace import Trace
from keten.mki.model import (
    GWP_PARTS,
    GWP_TOTAL,
    INDICATORS,
    MODULES,
    REPLACED_MODULES,
    TRANSPORT_PREFIX,
    Element,
    Profile,
    priced_indicators,
)
from keten.mki.weights import category_factor, check_indicator, weight

UNGROUPED = "(none)"
_M = {m: k for k, m in enumerate(MODULES)}
_D = _M["D"]
_REPL = np.array([m in REPLACED_MODULES and m != "D" for m in MODULES])
_ONCE = np.array([m not in REPLACED_MODULES for m in MODULES])
_A4 = _M["A4"]

Arr = np.ndarray[Any, Any]


class _NotApplicable(Exception):
    """The work needs the reference path (see the module docstring)."""


def _objects(items: Iterable[Decimal], count: int = -1) -> Arr:
    """A 1-d object array of Decimals (``fromiter``: no per-item shape discovery, which costs
    more than the arithmetic for millions of values)."""
    return np.fromiter(items, dtype=object, count=count)


def _total(a: Arr) -> Decimal:
    """Exact Σ of a 1-d Decimal array (call in the 60-digit context)."""
    out = ZERO
    for v in a:
        out += v
    return out


def _dsum(a: Arr, axis: int) -> Arr:
    """Exact Σ over ``axis`` of a Decimal array (object dtype, 60-digit context)."""
    if a.shape[axis] == 0:
        shape = list(a.shape)
        del shape[axis]
        return np.full(shape, ZERO, dtype=object)
    out: Arr = np.add.reduce(a, axis=axis)
    return out


def vectorised_mki(
    elements: Sequence[Element],
    profiles: Mapping[str, Profile],
    trace: Trace,
    *,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None,
    include_d: bool,
) -> dict[str, Any] | None:
    """The fields of a ``ProjectResult`` (except trace and notes on the MKI step), or ``None``."""
    scratch = Trace(trace.params)
    try:
        out = _compute(elements, profiles, scratch, weighting_set, day, period, include_d)
    except (_NotApplicable, KetenError, ArithmeticError):
        return None
    trace.used.update(scratch.used)
    return out


def _replacements(period: Decimal | None, life: Decimal) -> int:
    """As ``project.replacements`` (MKI-04, MKI-05); refusals make the reference run."""
    if life <= 0:
        raise _NotApplicable
    if period is None:
        return 1
    if period <= 0:
        raise _NotApplicable
    n = div(period, life).to_integral_value(rounding=ROUND_CEILING, context=LEGAL_CONTEXT)
    return max(1, int(n))


def _compute(
    elements: Sequence[Element],
    profiles: Mapping[str, Profile],
    trace: Trace,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None,
    include_d: bool,
) -> dict[str, Any]:
    indicators = INDICATORS[weighting_set]
    index = {i: k for k, i in enumerate(indicators)}
    cell = {(m, i): (mk, ik) for m, mk in _M.items() for i, ik in index.items()}

    # --- elements: the checks of the reference, products in order of first use
    products: dict[str, int] = {}
    used: list[Profile] = []
    e_prod: list[int] = []
    reps: dict[str, int] = {}
    r_cache: dict[Decimal, int] = {}
    for e in elements:
        if e.element_id in reps or e.quantity < 0:
            raise _NotApplicable
        profile = profiles.get(e.product_id)
        if profile is None or e.product_id.startswith(TRANSPORT_PREFIX):
            raise _NotApplicable
        if e.unit is not None and e.unit != profile.unit:
            raise _NotApplicable
        k = products.get(e.product_id)
        if k is None:
            k = products[e.product_id] = len(used)
            used.append(profile)
        e_prod.append(k)
        r = r_cache.get(e.service_life_years)
        if r is None:
            r = r_cache[e.service_life_years] = _replacements(period, e.service_life_years)
        reps[e.element_id] = r

    # --- profile values: products × modules × indicators, with a presence mask
    n_p = len(used)
    shape = (n_p, len(MODULES), len(indicators))
    stride_p = len(MODULES) * len(indicators)
    stride_m = len(indicators)
    last_keys: list[tuple[str, str]] = []
    chunks: list[Arr] = []
    offsets = np.zeros(0, dtype=np.intp)
    patterns = 0
    for k, profile in enumerate(used):
        keys = list(profile.values)
        if keys != last_keys:  # profiles often list the same cells in the same order
            try:
                offsets = np.array(
                    [mk * stride_m + ik for mk, ik in map(cell.__getitem__, keys)], dtype=np.intp
                )
            except KeyError:
                raise _NotApplicable from None  # a module or indicator outside the set
            last_keys = keys
            patterns += 1
        chunks.append(offsets + k * stride_p)
    cells = chain.from_iterable(p.values.values() for p in used)
    if patterns == 1 and np.array_equal(offsets, np.arange(stride_p)):
        # every product gives every cell in the canonical order: the values are the tensor
        values = _objects(cells, n_p * stride_p).reshape(shape)
        present = np.ones(shape, dtype=bool)
    else:
        values = np.full(shape, ZERO, dtype=object)
        present = np.zeros(shape, dtype=bool)
        if chunks:
            pos = np.concatenate(chunks)
            values.reshape(-1)[pos] = _objects(cells, len(pos))
            present.reshape(-1)[pos] = True

    if weighting_set == "2":
        _climate(values, present, index)

    # --- prices and category factors (recorded only when the result is returned)
    priced = priced_indicators(weighting_set)
    ind_used: Arr = np.asarray(present.any(axis=(0, 1)))
    prices = np.full(len(indicators), ZERO, dtype=object)
    for i, ik in index.items():
        if ind_used[ik]:
            check_indicator(i, weighting_set)
            if i not in priced:
                raise _NotApplicable
            prices[ik] = weight(i, weighting_set, day, trace)
    factors_by_cat: dict[str, Decimal] = {}
    for profile in used:
        if profile.data_category not in factors_by_cat:
            factors_by_cat[profile.data_category] = category_factor(
                profile.data_category, day, trace
            )
    factor = _objects([factors_by_cat[p.data_category] for p in used])

    # --- element quantities per product
    qty = _objects([e.quantity for e in elements])
    rr = _objects([Decimal(reps[e.element_id]) for e in elements])
    e_idx = np.array(e_prod, dtype=np.intp)
    module_present: Arr = np.asarray(present.any(axis=2))  # products × modules
    has_a4 = module_present[:, _A4]
    for e, k in zip(elements, e_prod, strict=True):
        if e.transport is not None and not has_a4[k]:
            raise _NotApplicable  # transport from distance × mode: the reference does it

    cols = np.nonzero(ind_used)[0]  # indicators some used product has (priced ones only)
    # A copy of the used columns costs a pass over millions of scattered objects: only worth it
    # when it leaves out many columns (the others hold ZERO and price ZERO).
    if len(cols) < 0.75 * len(indicators):
        vals = values[:, :, cols]
    else:
        cols = np.arange(len(indicators))
        vals = values
    with localcontext(LEGAL_CONTEXT):
        # € per functional unit per product and module: f × Σ_i value × price (one object
        # matrix product: numpy loops in C over Decimal × and +, all exact in 60 digits)
        by_module_p = np.matmul(vals, prices[cols]) * factor[:, None]

        qr = qty * rr
        q1_p = np.full(n_p, ZERO, dtype=object)
        qr_p = np.full(n_p, ZERO, dtype=object)
        np.add.at(q1_p, e_idx, qty)
        np.add.at(qr_p, e_idx, qr)

        counted = _REPL | (np.arange(len(MODULES)) == _D) if include_d else _REPL
        masked: Arr = np.where(module_present, by_module_p, _objects([ZERO]))
        repl_sum = _dsum(masked[:, counted], 1)
        once_sum = _dsum(masked[:, _ONCE], 1)
        by_element_v = qr * repl_sum[e_idx] + qty * once_sum[e_idx]
        d_excluded = ZERO
        if not include_d:
            d_excluded = LEGAL_CONTEXT.add(ZERO, _total(qr * masked[e_idx, _D]))

        mult = np.where(
            np.array([m in REPLACED_MODULES for m in MODULES])[None, :],
            qr_p[:, None],
            q1_p[:, None],
        )
        module_tot = _dsum(masked * mult, 0)

        # per indicator: price × Σ_products (f × Σ q·r of its elements) × Σ_{counted replaced m}
        # value + (f × Σ q of its elements) × Σ_{once m} value — sums over modules first (adds
        # only), then two object matrix-vector products
        raw_tot = np.matmul(factor * qr_p, _group_sum(vals, counted)) + np.matmul(
            factor * q1_p, _group_sum(vals, _ONCE)
        )
        ind_repl = present[:, _REPL, :].any(axis=1)
        ind_once = present[:, _ONCE, :].any(axis=1)
        ind_any: Arr = np.asarray(ind_repl.any(axis=0) | ind_once.any(axis=0))
        if include_d:
            ind_any = ind_any | present[:, _D, :].any(axis=0)
        ind_tot = np.full(len(indicators), ZERO, dtype=object)
        ind_tot[cols] = raw_tot * prices[cols]

    by_element: dict[str, Decimal] = {}
    by_group: dict[str, Decimal] = {}
    add = LEGAL_CONTEXT.add
    for e, total in zip(elements, by_element_v, strict=True):
        total = add(ZERO, total)
        by_element[e.element_id] = total
        key = e.material_group or UNGROUPED
        by_group[key] = add(by_group.get(key, ZERO), total)
    mod_any: Arr = np.asarray(module_present.any(axis=0))
    by_module = {
        m: add(ZERO, module_tot[mk])
        for m, mk in _M.items()
        if mod_any[mk] and (m != "D" or include_d)
    }
    by_indicator = {i: add(ZERO, ind_tot[index[i]]) for i in priced if ind_any[index[i]]}
    without_a4 = [e.element_id for e, k in zip(elements, e_prod, strict=True) if not has_a4[k]]
    ignored = [
        e.element_id
        for e, k in zip(elements, e_prod, strict=True)
        if has_a4[k] and e.transport is not None
    ]
    return {
        "by_module": by_module,
        "by_element": by_element,
        "by_indicator": by_indicator,
        "by_material_group": by_group,
        "replacements": reps,
        "d_excluded_eur": d_excluded,
        "without_a4": without_a4,
        "ignored_transport": ignored,
    }


def _group_sum(vals: Arr, modules: Arr) -> Arr:
    """Σ over the modules selected by the boolean mask ``modules`` (axis 1), summed over runs
    of adjacent modules taken as views: no copy of the object array (call in the 60-digit
    context)."""
    out: Arr | None = None
    idx = np.flatnonzero(modules)
    if len(idx) == 0:
        return np.full((vals.shape[0], vals.shape[2]), ZERO, dtype=object)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1)
    for run in runs:
        part = _dsum(vals[:, run[0] : run[-1] + 1, :], 1)
        out = part if out is None else out + part
    assert out is not None
    return out


def _climate(values: Arr, present: Arr, index: Mapping[str, int]) -> None:
    """MKI-02/03 on the arrays: parts dropped where GWP-total is given; GWP-total = Σ parts
    (summed as the reference sums them) where all three are given and the total is not; only
    some parts and no total: the reference refuses it."""
    t = index[GWP_TOTAL]
    parts = [index[p] for p in GWP_PARTS]
    has_total = present[:, :, t]
    part_flags = present[:, :, parts]
    all_parts = part_flags.all(axis=2)
    any_parts = part_flags.any(axis=2)
    if (any_parts & ~all_parts & ~has_total).any():
        raise _NotApplicable
    derive = all_parts & ~has_total
    for k, m in zip(*np.nonzero(derive), strict=True):
        # the reference: sum((given[p] for p in GWP_PARTS), ZERO) in the caller's context
        values[k, m, t] = sum((values[k, m, p] for p in parts), ZERO)
        present[k, m, t] = True
    for p in parts:
        values[:, :, p] = ZERO
        present[:, :, p] = False
