"""An SME's PACT pages (issue 7, "an SME enters its product footprints in the web app and shares
them with named customers only"), under ``/footprint/pact``, for a signed-in **ketenpartner**
(a company's person, member of a PACT organisation: ``keten footprint pact member-add``).

- ``/footprint/pact``: the organisation's own footprints (product, declared unit, pCF per
  declared unit, status, validity, shared with), the upload of a PACT JSON file (validated as
  ``keten footprint pact load`` does, stored all or nothing) and the footprints other
  organisations shared with this one (read only).
- ``/footprint/pact/new``: a form with the fields :func:`keten.footprint.pact.build_footprint`
  needs; the footprint is validated by :mod:`keten.footprint.pact` and every problem is shown
  next to its field.
- ``/footprint/pact/fp/{id}``: one own footprint: share it with a named customer organisation,
  stop sharing, deprecate it (Active → Deprecated, the one change PACT v3 allows under the same
  id; FP-37), export the PACT document (``…/export.json``, also for a footprint shared with the
  organisation).
- ``/footprint/pact/fp/{id}/correct``: a corrected version of an own Active footprint, the
  entry form filled from the original: a new footprint with ``precedingPfIds = [id]``, shared
  with the original's customers, while the original becomes Deprecated, in one step
  (:meth:`keten.footprint.pact_store.PactStore.correct`; FP-43, FP-44).
- ``/footprint/pact/received/{id}``: a footprint shared with the organisation and how it feeds
  the organisation's scope 3.1: quantity purchased × pCF / declared unit amount, computed by
  :func:`keten.footprint.scope3.scope3` itself (supplier-specific method, FP-34; only Active
  footprints count, FP-33).

Authorisation is checked on every request, server-side: the role (403), the membership (403),
and the footprint id — an id that is not the organisation's own (or, for export and the scope 3.1
view, not shared with it) answers 404 as one that does not exist (FP-36).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from keten.core.errors import InputError, KetenError
from keten.core.messages import msg
from keten.core.params import load_set
from keten.core.quantity import parse_number, tidy
from keten.core.trace import Trace
from keten.footprint.pact import (
    STANDARDS,
    UNITS,
    PcfEntry,
    build_footprint,
    check_footprints,
    per_unit,
)
from keten.footprint.pact_store import NoSuchFootprint, PactStore, StoredFootprint
from keten.footprint.scope3 import Purchase, scope3
from keten.registry.service import Actor, AuthError, NotFound
from keten.web import i18n, ui

router = ui.page_router()
_ = i18n.gettext

ROLE = "ketenpartner"
Partner = Annotated[Actor, Depends(ui.roles(ROLE))]
MAX_UPLOAD = 5 * 1024 * 1024  # bytes of a PACT JSON file
MAX_COMMENT = 1000  # characters of a status comment (deprecation, correction)
PARAMS = "beleidsagenda-2026"
BASE = "/footprint/pact"

#: form field of each JSON path build_footprint reports a problem at
FIELD_OF_PATH = {
    "productIds": "product_id",
    "productNameCompany": "product_name",
    "productDescription": "product_description",
    "companyIds": "company_id",
    "pcf.declaredUnitOfMeasurement": "declared_unit",
    "pcf.declaredUnitAmount": "declared_amount",
    "pcf.productMassPerDeclaredUnit": "mass_kg",
    "pcf.pcfExcludingBiogenicUptake": "pcf_excluding_biogenic",
    "pcf.pcfIncludingBiogenicUptake": "pcf_including_biogenic",
    "pcf.fossilGhgEmissions": "fossil_ghg",
    "pcf.fossilCarbonContent": "fossil_carbon",
    "pcf.referencePeriodStart": "reference_start",
    "pcf.referencePeriodEnd": "reference_end",
    "pcf.crossSectoralStandards": "standards",
    "pcf.geographyCountry": "country",
    "pcf.primaryDataShare": "primary_data_share",
    "pcf.dqi.technologicalDQR": "dqr_technological",
    "pcf.dqi.geographicalDQR": "dqr_geographical",
    "pcf.dqi.temporalDQR": "dqr_temporal",
}
REQUIRED_NUMBERS = (
    "declared_amount",
    "mass_kg",
    "pcf_excluding_biogenic",
    "pcf_including_biogenic",
    "fossil_ghg",
    "fossil_carbon",
)
DQR_FIELDS = ("dqr_technological", "dqr_geographical", "dqr_temporal")


def field_of(path: str) -> str:
    """The form field for a JSON path (``productIds[0]`` → ``product_id``); ``_form`` if none."""
    base = path.split("[", 1)[0]
    return FIELD_OF_PATH.get(base, "_form")


def pact_store(request: Request) -> PactStore:
    reg = ui.registry(request)
    return PactStore(reg.ledger.sessions, clock=reg.clock)


def member(request: Request, actor: Actor) -> tuple[PactStore, str]:
    """The PACT store and the person's organisation; 403 when they are not a member of one."""
    store = pact_store(request)
    org = store.member_org(actor.user_id)
    if org is None:
        raise AuthError(_("%(user)s is not a member of a PACT organisation.", user=actor.username))
    return store, org


def not_found() -> NotFound:
    return NotFound(_("There is no footprint with this id for your organisation."))


def own(store: PactStore, org: str, pf_id: str) -> StoredFootprint:
    try:
        return store.own_footprint(org, pf_id)
    except NoSuchFootprint:
        raise not_found() from None


def visible(store: PactStore, org: str, pf_id: str) -> StoredFootprint:
    try:
        return store.visible_footprint(org, pf_id)
    except NoSuchFootprint:
        raise not_found() from None


def row_of(fp: StoredFootprint) -> dict[str, Any]:
    """What the tables show of a footprint."""
    pcf = fp.document["pcf"]
    return {
        "id": fp.pf_id,
        "owner": fp.owner,
        "product": fp.document["productNameCompany"],
        "product_ids": fp.document["productIds"],
        "amount": Decimal(pcf["declaredUnitAmount"]),
        "unit": pcf["declaredUnitOfMeasurement"],
        "pcf": Decimal(pcf["pcfExcludingBiogenicUptake"]),
        "per_unit": tidy(per_unit(fp.document)),
        "status": fp.status,
        "valid_start": fp.valid_start,
        "valid_end": fp.valid_end,
        "shared_with": fp.shared_with,
    }


def utc_text(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ----------------------------------------------------------------------------- overview


def overview(
    request: Request, store: PactStore, org: str, *, status: int = 200, **extra: Any
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "org": org,
        "own": [row_of(fp) for fp in store.footprints_of(org)],
        "received": [row_of(fp) for fp in store.received(org)],
        "page": "overview",
    }
    ctx.update(extra)
    return ui.render(request, "pact/overview.html", ctx, status=status)


@router.get(BASE, response_class=HTMLResponse)
def pact_home(request: Request, actor: Partner) -> HTMLResponse:
    store, org = member(request, actor)
    return overview(request, store, org)


@router.post(f"{BASE}/upload", response_class=HTMLResponse)
async def pact_upload(request: Request, actor: Partner) -> Response:
    store, org = member(request, actor)
    form = await request.form()
    item = form.get("file")
    error = None
    result = None
    if not isinstance(item, UploadFile) or not item.filename:
        error = _("Choose a PACT JSON file.")
    else:
        data = await item.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            error = _("The file is too large (at most %(n)s bytes).", n=MAX_UPLOAD)
        else:
            try:
                result = load_document(store, org, data)
            except InputError as exc:
                where = f"{exc.field}: " if exc.field else ""
                error = _("Nothing was stored. %(problem)s", problem=where + exc.reason)
    if result is None:
        return overview(request, store, org, status=422, errors={"file": error})
    counts = {a: sum(1 for _i, x in result.actions if x == a) for a in ("added", "unchanged")}
    deprecated = sum(1 for _i, x in result.actions if x == "deprecated")
    return ui.redirect(
        BASE,
        _(
            "%(n)s footprint(s) read: %(added)s added, %(unchanged)s unchanged, "
            "%(deprecated)s deprecated.",
            n=len(result.actions),
            added=counts["added"],
            unchanged=counts["unchanged"],
            deprecated=deprecated,
        ),
    )


def load_document(store: PactStore, org: str, data: bytes) -> Any:
    """Validate a PACT JSON document and store its footprints for ``org``, all or nothing."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise InputError(msg("not UTF-8 text (byte %(start)s)", start=exc.start)) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            msg("not valid JSON: %(reason)s (line %(lineno)s)", reason=exc.msg, lineno=exc.lineno)
        ) from None
    except RecursionError:
        raise InputError(msg("not valid JSON: nested too deeply")) from None
    return store.add_footprints(org, check_footprints(doc))


# ----------------------------------------------------------------------------- entry form


def entry_values(store: PactStore, org: str) -> dict[str, Any]:
    """Starting values of the form: the company id of the organisation's latest footprint."""
    own_fps = store.footprints_of(org)
    company_id = own_fps[-1].document["companyIds"][0] if own_fps else ""
    return {"company_id": company_id, "declared_unit": "kilogram", "standards": ["ISO14067"]}


def entry_page(
    request: Request,
    org: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    *,
    page: str = "new",
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The footprint entry form: ``new`` (pact/new.html) or ``correct`` (pact/correct.html, with
    the original in ``extra``)."""
    return ui.render(
        request,
        f"pact/{page}.html",
        {
            "org": org,
            "values": values,
            "errors": errors or {},
            "unit_options": [(u, u) for u in UNITS],
            "standards": STANDARDS,
            "page": page,
            "existing": None,  # the stored footprint an entry collides with (stored_twin)
            **(extra or {}),
        },
        status=status,
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def pact_new(request: Request, actor: Partner) -> HTMLResponse:
    store, org = member(request, actor)
    return entry_page(request, org, entry_values(store, org))


class EntryForm:
    """The entry form's fields, read and checked one by one (errors per field)."""

    def __init__(self, form: FormData) -> None:
        self.form = form
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, limit: int = 500, required: bool = True) -> str:
        raw = self.form.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        self.values[name] = value
        if required and not value:
            self.errors[name] = _("Fill in this field.")
        elif len(value) > limit:
            self.errors[name] = _("At most %(n)s characters.", n=limit)
        return value

    def number(self, name: str, required: bool = True) -> Decimal | None:
        value = self.text(name, 40, required)
        if not value:
            return None
        try:
            return parse_number(value)
        except ValueError:
            self.errors[name] = _("Enter a number with at most six decimals, e.g. 1000 or 2,5.")
            return None

    def day(self, name: str) -> str:
        value = self.text(name, 10)
        if not value:
            return ""
        try:
            return dt.date.fromisoformat(value).isoformat() + "T00:00:00Z"
        except ValueError:
            self.errors[name] = _("Enter a date (YYYY-MM-DD).")
            return ""


def read_entry(form: FormData) -> tuple[EntryForm, PcfEntry | None, str]:
    """The entry of the form and the company id; ``None`` when a field is wrong."""
    f = EntryForm(form)
    product_id = f.text("product_id", 500)
    product_name = f.text("product_name", 200)
    description = f.text("product_description", 1000, required=False)
    company_id = f.text("company_id", 500)
    unit = f.text("declared_unit", 40)
    if unit and unit not in UNITS:
        f.errors["declared_unit"] = _("Choose a declared unit from the list.")
    numbers = {name: f.number(name) for name in REQUIRED_NUMBERS}
    start = f.day("reference_start")
    end = f.day("reference_end")
    standards = [s for s in form.getlist("standards") if isinstance(s, str)]
    f.values["standards"] = standards
    if not standards:
        f.errors["standards"] = _("Choose at least one standard.")
    elif any(s not in STANDARDS for s in standards):
        f.errors["standards"] = _("Choose standards from the list.")
    country = f.text("country", 2, required=False).upper()
    f.values["country"] = country
    share = f.number("primary_data_share", required=False)
    dqr = [f.number(name, required=False) for name in DQR_FIELDS]
    given = [d for d in dqr if d is not None]
    if given and len(given) < len(dqr):
        for name, d in zip(DQR_FIELDS, dqr, strict=True):
            if d is None and name not in f.errors:
                f.errors[name] = _("Give all three data-quality ratings, or none.")
    if f.errors:
        return f, None, company_id
    nums = {k: v for k, v in numbers.items() if v is not None}
    entry = PcfEntry(
        product_id=product_id,
        product_name=product_name,
        product_description=description,
        declared_unit=unit,
        declared_amount=nums["declared_amount"],
        mass_kg=nums["mass_kg"],
        pcf_excluding_biogenic=nums["pcf_excluding_biogenic"],
        pcf_including_biogenic=nums["pcf_including_biogenic"],
        fossil_ghg=nums["fossil_ghg"],
        fossil_carbon=nums["fossil_carbon"],
        reference_start=start,
        reference_end=end,
        standards=tuple(standards),
        country=country or None,
        primary_data_share=share,
        dqr=(given[0], given[1], given[2]) if len(given) == 3 else None,
    )
    return f, entry, company_id


def stored_twin(
    store: PactStore, org: str, fp: dict[str, Any], errors: dict[str, str]
) -> StoredFootprint | None:
    """The organisation's stored footprint with ``fp``'s id (same company, product and reference
    start, FP-32) but other figures, and what the person at the form can do about it; the store's
    own words speak of JSON fields (precedingPfIds) the form has none of."""
    try:
        twin = store.own_footprint(org, fp["id"])
    except NoSuchFootprint:
        return None
    product = fp["productNameCompany"]
    start = ui.day(fp["pcf"]["referencePeriodStart"])
    if twin.status == "Active":
        errors["_form"] = _(
            "%(product)s already has a footprint for the reference period from %(start)s, with "
            "other figures. A stored footprint is not changed: open it and enter a correction.",
            product=product,
            start=start,
        )
    else:
        errors["_form"] = _(
            "%(product)s already has a footprint for the reference period from %(start)s; it is "
            "deprecated. A new entry with the same product and period would get the same id "
            "(FP-32): choose another start of the reference period or upload a PACT document "
            "with a new id.",
            product=product,
            start=start,
        )
    return twin


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def pact_create(request: Request, actor: Partner) -> Response:
    store, org = member(request, actor)
    f, entry, company_id = read_entry(await request.form())
    fp: dict[str, Any] | None = None
    action = ""
    existing: StoredFootprint | None = None
    if entry is not None:
        created = utc_text(ui.registry(request).clock())
        try:
            fp = build_footprint(entry, org, company_id, created)
            action = store.add_footprints(org, [fp]).actions[0][1]
        except InputError as exc:
            path = exc.field.split(".", 1)[1] if exc.field.startswith("data[") else exc.field
            name = field_of(path)
            f.errors[name] = exc.reason if name != "_form" else f"{path}: {exc.reason}"
            if fp is not None and path == "id":
                existing = stored_twin(store, org, fp, f.errors)
    if f.errors or fp is None:
        extra = {"existing": existing.pf_id} if existing is not None else None
        return entry_page(request, org, f.values, f.errors, status=422, extra=extra)
    message = (
        _("The footprint is stored.")
        if action == "added"
        else _("This footprint was stored already, unchanged.")
    )
    return ui.redirect(f"{BASE}/fp/{fp['id']}", message)


# ----------------------------------------------------------------------------- one footprint


def detail_page(
    request: Request,
    store: PactStore,
    org: str,
    fp: StoredFootprint,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    customers = [o for o in store.orgs() if o != org]
    successors = [
        other.pf_id
        for other in store.footprints_of(org)
        if fp.pf_id in (other.document.get("precedingPfIds") or [])
    ]
    return ui.render(
        request,
        "pact/footprint.html",
        {
            "org": org,
            "fp": row_of(fp),
            "doc": fp.document,
            "customers": customers,
            "preceding": list(fp.document.get("precedingPfIds") or []),
            "successors": successors,
            "customer_options": [("", "—")] + [(c, c) for c in customers],
            "errors": errors or {},
            "values": values or {},
            "page": "footprint",
        },
        status=status,
    )


@router.get(BASE + "/fp/{pf_id}", response_class=HTMLResponse)
def pact_footprint(request: Request, pf_id: str, actor: Partner) -> HTMLResponse:
    store, org = member(request, actor)
    return detail_page(request, store, org, own(store, org, pf_id))


@router.post(BASE + "/fp/{pf_id}/share", response_class=HTMLResponse)
def pact_share(
    request: Request,
    pf_id: str,
    actor: Partner,
    customer: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    store, org = member(request, actor)
    fp = own(store, org, pf_id)
    error = None
    if not customer.strip():
        error = _("Choose a customer.")
    elif customer == org:
        error = _("Your organisation always sees its own footprints.")
    elif customer not in store.orgs():
        error = _("%(name)s is not a known organisation.", name=customer)
    if error is not None:
        return detail_page(
            request,
            store,
            org,
            fp,
            errors={"customer": error},
            values={"customer": customer},
            status=422,
        )
    new = store.share(org, [fp.pf_id], customer)
    message = (
        _("Shared with %(name)s.", name=customer)
        if new
        else _("It was shared with %(name)s already.", name=customer)
    )
    return ui.redirect(f"{BASE}/fp/{fp.pf_id}", message)


@router.post(BASE + "/fp/{pf_id}/unshare", response_class=HTMLResponse)
def pact_unshare(
    request: Request,
    pf_id: str,
    actor: Partner,
    customer: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    store, org = member(request, actor)
    fp = own(store, org, pf_id)
    if customer not in fp.shared_with:
        return detail_page(
            request,
            store,
            org,
            fp,
            errors={"unshare": _("The footprint is not shared with %(name)s.", name=customer)},
            status=422,
        )
    store.unshare(org, [fp.pf_id], customer)
    return ui.redirect(
        f"{BASE}/fp/{fp.pf_id}", _("%(name)s no longer sees this footprint.", name=customer)
    )


@router.post(BASE + "/fp/{pf_id}/deprecate", response_class=HTMLResponse)
def pact_deprecate(
    request: Request,
    pf_id: str,
    actor: Partner,
    comment: Annotated[str, Form()] = "",
) -> Response:
    store, org = member(request, actor)
    fp = own(store, org, pf_id)
    if len(comment.strip()) > MAX_COMMENT:  # next to the field, not a bare "Request refused"
        return detail_page(
            request,
            store,
            org,
            fp,
            errors={"comment": _("At most %(n)s characters.", n=MAX_COMMENT)},
            values={"comment": comment.strip()},
            status=422,
        )
    try:
        changed = store.deprecate(org, fp.pf_id, comment)
    except KetenError as exc:
        return detail_page(request, store, org, fp, errors={"comment": str(exc)}, status=422)
    message = (
        _("The footprint is deprecated.") if changed else _("The footprint was deprecated already.")
    )
    return ui.redirect(f"{BASE}/fp/{fp.pf_id}", message)


# ----------------------------------------------------------------------------- correction

#: fields of a footprint that the entry form carries into a correction (FP-44)
FORM_TOP = {"id", "specVersion", "created", "status", "companyName", "companyIds"}
FORM_TOP |= {"productDescription", "productIds", "productNameCompany", "pcf", "precedingPfIds"}
FORM_PCF = {v.split(".", 1)[1] for v in FIELD_OF_PATH if v.startswith("pcf.")} - {
    "dqi.technologicalDQR",
    "dqi.geographicalDQR",
    "dqi.temporalDQR",
}
FORM_PCF |= {"dqi", "ipccCharacterizationFactors", "exemptedEmissionsPercent"}


def _day_of(text: str) -> str:
    """The date part of an RFC 3339 time, for a date field."""
    return text[:10]


def correction_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The entry form filled from the footprint ``doc`` (the original of a correction)."""
    pcf = doc["pcf"]
    dqi = pcf.get("dqi") or {}
    return {
        "product_id": doc["productIds"][0],
        "product_name": doc["productNameCompany"],
        "product_description": doc.get("productDescription", ""),
        "company_id": doc["companyIds"][0],
        "declared_unit": pcf["declaredUnitOfMeasurement"],
        "declared_amount": pcf["declaredUnitAmount"],
        "mass_kg": pcf["productMassPerDeclaredUnit"],
        "pcf_excluding_biogenic": pcf["pcfExcludingBiogenicUptake"],
        "pcf_including_biogenic": pcf["pcfIncludingBiogenicUptake"],
        "fossil_ghg": pcf["fossilGhgEmissions"],
        "fossil_carbon": pcf["fossilCarbonContent"],
        "reference_start": _day_of(pcf["referencePeriodStart"]),
        "reference_end": _day_of(pcf["referencePeriodEnd"]),
        "standards": list(pcf["crossSectoralStandards"]),
        "country": pcf.get("geographyCountry", ""),
        "primary_data_share": pcf.get("primaryDataShare", ""),
        "dqr_technological": dqi.get("technologicalDQR", ""),
        "dqr_geographical": dqi.get("geographicalDQR", ""),
        "dqr_temporal": dqi.get("temporalDQR", ""),
        "comment": "",
    }


def not_carried(doc: dict[str, Any]) -> list[str]:
    """Parts of the original that the entry form does not carry into the correction (FP-44)."""
    out = sorted(k for k in doc if k not in FORM_TOP)
    out += sorted(f"pcf.{k}" for k in doc["pcf"] if k not in FORM_PCF)
    for key in ("productIds", "companyIds"):
        out += [f"{key}[{i}]" for i in range(1, len(doc[key]))]
    return out


def active_original(store: PactStore, org: str, pf_id: str) -> StoredFootprint:
    """``org``'s footprint ``pf_id`` (404 otherwise, FP-36), which must be Active (FP-43)."""
    fp = own(store, org, pf_id)
    if fp.status != "Active":
        raise InputError(
            _(
                "This footprint is deprecated and cannot be corrected; correct the footprint "
                "that replaced it (FP-43)."
            )
        )
    return fp


def correction_page(
    request: Request,
    org: str,
    fp: StoredFootprint,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    extra = {"fp": row_of(fp), "dropped": not_carried(fp.document)}
    return entry_page(request, org, values, errors, status, page="correct", extra=extra)


@router.get(BASE + "/fp/{pf_id}/correct", response_class=HTMLResponse)
def pact_correct_form(request: Request, pf_id: str, actor: Partner) -> HTMLResponse:
    store, org = member(request, actor)
    fp = active_original(store, org, pf_id)
    return correction_page(request, org, fp, correction_values(fp.document))


@router.post(BASE + "/fp/{pf_id}/correct", response_class=HTMLResponse)
async def pact_correct(request: Request, pf_id: str, actor: Partner) -> Response:
    """Store a corrected version of an own Active footprint: a new footprint with
    ``precedingPfIds = [original]``, shared with the original's customers; the original becomes
    Deprecated (FP-43, FP-44)."""
    store, org = member(request, actor)
    original = own(store, org, pf_id)
    form = await request.form()
    f, entry, company_id = read_entry(form)
    raw = form.get("comment")
    comment = raw.strip() if isinstance(raw, str) else ""
    f.values["comment"] = comment
    if len(comment) > MAX_COMMENT:
        f.errors["comment"] = _("At most %(n)s characters.", n=MAX_COMMENT)
    done = None
    if entry is not None and not f.errors:
        created = utc_text(ui.registry(request).clock())
        try:
            fp = build_footprint(entry, org, company_id, created, preceding=[original.pf_id])
            done = store.correct(org, original.pf_id, fp, comment)
        except InputError as exc:
            path = exc.field.split(".", 1)[1] if exc.field.startswith("data[") else exc.field
            name = field_of(path)
            where = "" if name != "_form" or path in ("", "id") else f"{path}: "
            f.errors[name] = where + exc.reason
        except NoSuchFootprint:
            raise not_found() from None
    if done is None:
        return correction_page(request, org, original, f.values, f.errors, status=422)
    if done.action == "unchanged":
        message = _("This correction was stored already, unchanged.")
    elif done.shared_with:
        message = _(
            "The correction is stored and the original is deprecated. %(names)s now see the "
            "correction as well.",
            names=", ".join(done.shared_with),
        )
    else:
        message = _("The correction is stored and the original is deprecated.")
    return ui.redirect(f"{BASE}/fp/{done.pf_id}", message)


@router.get(BASE + "/fp/{pf_id}/export.json")
def pact_export(request: Request, pf_id: str, actor: Partner) -> Response:
    """The PACT document of a footprint the organisation owns or received."""
    store, org = member(request, actor)
    fp = visible(store, org, pf_id)
    text = json.dumps(fp.document, indent=2, ensure_ascii=False) + "\n"
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="pact-{fp.pf_id}.json"'},
    )


# ----------------------------------------------------------------------------- received → 3.1


@router.get(BASE + "/received/{pf_id}", response_class=HTMLResponse)
def pact_received(
    request: Request, pf_id: str, actor: Partner, quantity: str | None = None
) -> HTMLResponse:
    """A footprint shared with the organisation and its part in a scope 3.1 calculation."""
    store, org = member(request, actor)
    fp = visible(store, org, pf_id)
    if fp.owner == org:
        raise not_found()  # own footprints are on /fp/{id}
    errors: dict[str, str] = {}
    result: dict[str, Any] | None = None
    values: dict[str, Any] = {}
    if quantity is not None:
        values["quantity"] = quantity[:40]
        try:
            q = parse_number(quantity[:40])
            if q < 0:
                raise ValueError
        except ValueError:
            errors["quantity"] = _(
                "Enter a quantity of zero or more with at most six decimals, e.g. 5000 or 2,5."
            )
        else:
            if fp.status != "Active":  # the engine's words name the CLI's --pact option
                errors["quantity"] = _(
                    "This footprint is deprecated: only an Active footprint counts in scope 3.1 "
                    "(FP-33)."
                )
            else:
                try:
                    result = scope31(ui.registry(request).clock().year, fp, q)
                except InputError as exc:
                    errors["quantity"] = exc.reason
    return ui.render(
        request,
        "pact/received.html",
        {
            "org": org,
            "fp": row_of(fp),
            "doc": fp.document,
            "result": result,
            "errors": errors,
            "values": values,
            "page": "received",
        },
        status=422 if errors else 200,
    )


def scope31(year: int, fp: StoredFootprint, quantity: Decimal) -> dict[str, Any]:
    """Scope 3.1 of buying ``quantity`` declared units of ``fp``'s product, by the
    supplier-specific method of :func:`keten.footprint.scope3.scope3` (FP-34)."""
    doc = fp.document
    unit = doc["pcf"]["declaredUnitOfMeasurement"]
    purchase = Purchase(
        row=1,
        supplier=fp.owner,
        product=doc["productNameCompany"],
        method="supplier",
        quantity=quantity,
        quantity_unit=unit,
        pact_product_id=doc["productIds"][0],
    )
    trace = Trace(load_set("footprint", PARAMS))
    res = scope3([purchase], trace, year, pacts=[doc])
    line = res.lines[0]
    step = trace.steps[-1]
    return {
        "kg": tidy(line.kg_co2e),
        "formula": step.formula,
        "ref": step.ref,
        "quantity": quantity,
        "unit": unit,
        "primary_share": res.primary_share,
        "basis": line.basis,
        "dqr": line.dqr,
    }
