"""Dated, sourced parameters (DESIGN.md rules 1, 2 and 6).

Layout: ``params/<domain>/<set>/*.yaml``. A *parameter set* of a domain is the files in its folder
plus the files in ``params/<domain>/common/`` (values every set shares, such as comparators).
Each file looks like::

    domain: ev
    set: bijlage-1
    description: ...
    parameters:
      ev.land.total:
        description: Totaal (row "Totaal" of the table Land)
        unit: "%"
        source: seed 004_502c408745ad4f95.txt, Bijlage 1, table Land, row Totaal
        values:
          - {year: 2026, value: 14.4, printed: "14,4%"}
          - {valid_from: 2031-01-01, valid_to: 2031-06-30, value: unknown, note: ...}

Numbers are read as exact decimals (YAML floats never pass through binary floating point).
The loader refuses unknown keys, a missing unit or source, a value without validity, and
overlapping periods. A lookup outside coverage or of a value marked ``unknown`` raises a
``ParameterError`` that names the parameter, the set and the years covered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from keten.core.errors import ParameterError, ParameterFileError, UnknownValueError
from keten.core.messages import msg

Status = Literal["source", "third-party", "inferred", "unverified", "assumption", "unknown"]

COMMON_SET = "common"


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML floats as exact ``Decimal`` (``0.05`` stays ``0.05``)."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    value = Decimal(text.replace("_", ""))  # ".inf", ".nan", "1:30" raise InvalidOperation
    if not value.is_finite():
        raise ArithmeticError(text)
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class ValueEntry(BaseModel):
    """One dated value of a parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    value: Decimal | Literal["unknown"]
    printed: str | None = None
    source: str | None = None
    status: Status | None = None
    note: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _exact(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a boolean is not a value")
        if isinstance(v, float):
            raise ValueError("floats are not allowed; write the number as printed")
        if isinstance(v, int):
            return Decimal(v)
        return v

    @model_validator(mode="after")
    def _validity(self) -> ValueEntry:
        if self.year is not None:
            if self.valid_from is not None or self.valid_to is not None:
                raise ValueError("give either 'year' or 'valid_from'/'valid_to', not both")
        elif self.valid_from is None:
            raise ValueError("a value needs a validity: 'year' or 'valid_from' (and 'valid_to')")
        elif self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("'valid_to' is before 'valid_from'")
        if self.value == "unknown" and not (self.note or "").strip():
            raise ValueError("a value marked unknown needs a 'note' saying why")
        if isinstance(self.value, Decimal) and not self.value.is_finite():
            raise ValueError("a value must be a finite number")
        return self

    @property
    def start(self) -> dt.date:
        if self.year is not None:
            return dt.date(self.year, 1, 1)
        assert self.valid_from is not None
        return self.valid_from

    @property
    def end(self) -> dt.date:
        """Last day of validity, inclusive (``date.max`` when open-ended)."""
        if self.year is not None:
            return dt.date(self.year, 12, 31)
        return self.valid_to or dt.date.max

    def period_label(self) -> str:
        if self.year is not None:
            return str(self.year)
        return f"{self.start.isoformat()}..{'' if self.end == dt.date.max else self.end}"


class ParameterSpec(BaseModel):
    """A parameter: description, unit, source and its dated values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    unit: str
    source: str
    status: Status = "source"
    values: list[ValueEntry]

    @field_validator("unit", "source", "description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @model_validator(mode="after")
    def _no_overlap(self) -> ParameterSpec:
        if not self.values:
            raise ValueError("needs at least one value")
        ordered = sorted(self.values, key=lambda e: e.start)
        for a, b in pairwise(ordered):
            if b.start <= a.end:
                raise ValueError(f"periods overlap: {a.period_label()} and {b.period_label()}")
        return self


class ParameterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str
    set: str
    description: str
    parameters: dict[str, ParameterSpec]


@dataclass(frozen=True)
class ParamValue:
    """The value of one parameter for one period, with everything needed to cite it."""

    name: str
    value: Decimal
    unit: str
    period: str
    source: str
    status: str
    file: str
    printed: str | None = None
    note: str | None = None

    @property
    def flagged(self) -> bool:
        """True when the value is not read in an authoritative source (status other than source)."""
        return self.status != "source"


@dataclass(frozen=True)
class Parameter:
    name: str
    spec: ParameterSpec
    file: str

    def coverage(self) -> str:
        """Human description of the periods covered, e.g. ``2026–2030``."""
        entries = sorted(self.spec.values, key=lambda e: e.start)
        if all(e.year is not None for e in entries):
            years = [e.year for e in entries]
            assert all(y is not None for y in years)
            ints = [int(y) for y in years if y is not None]
            if ints == list(range(ints[0], ints[-1] + 1)):
                return f"{ints[0]}–{ints[-1]}" if len(ints) > 1 else str(ints[0])
            return ", ".join(str(y) for y in ints)
        return ", ".join(e.period_label() for e in entries)

    def _resolve(self, entry: ValueEntry, set_name: str, when: str) -> ParamValue:
        if entry.value == "unknown":
            raise UnknownValueError(
                msg(
                    "parameter %(name)s is unknown in set '%(set)s' for %(when)s: %(note)s",
                    name=self.name,
                    set=set_name,
                    when=when,
                    note=entry.note,
                )
            )
        return ParamValue(
            name=self.name,
            value=entry.value,
            unit=self.spec.unit,
            period=entry.period_label(),
            source=entry.source or self.spec.source,
            status=entry.status or self.spec.status,
            file=self.file,
            printed=entry.printed,
            note=entry.note,
        )

    def covers(self, year: int) -> bool:
        """True when a value (possibly marked unknown) is given for the whole of ``year``."""
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            return False
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        return any(e.start <= first and e.end >= last for e in self.spec.values)

    def for_year(self, year: int, set_name: str) -> ParamValue:
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise ParameterError(msg("year %(year)s is not a calendar year", year=year))
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        hits = [e for e in self.spec.values if e.start <= last and e.end >= first]
        if len(hits) == 1 and hits[0].start <= first and hits[0].end >= last:
            return self._resolve(hits[0], set_name, str(year))
        if hits:
            raise ParameterError(
                msg(
                    "parameter %(name)s changes during %(year)s in set '%(set)s'; "
                    "ask for a date instead of a year",
                    name=self.name,
                    year=year,
                    set=set_name,
                )
            )
        raise ParameterError(
            msg(
                "parameter %(name)s has no value for %(year)s in set '%(set)s' "
                "(covered: %(covered)s)",
                name=self.name,
                year=year,
                set=set_name,
                covered=self.coverage(),
            )
        )

    def at(self, day: dt.date, set_name: str) -> ParamValue:
        for e in self.spec.values:
            if e.start <= day <= e.end:
                return self._resolve(e, set_name, day.isoformat())
        raise ParameterError(
            msg(
                "parameter %(name)s has no value on %(day)s in set '%(set)s' "
                "(covered: %(covered)s)",
                name=self.name,
                day=day.isoformat(),
                set=set_name,
                covered=self.coverage(),
            )
        )


@dataclass(frozen=True)
class ParameterSet:
    """All parameters of one named set of one domain, with the hash of every file read."""

    domain: str
    name: str
    parameters: dict[str, Parameter]
    file_hashes: dict[str, str]

    def __contains__(self, name: object) -> bool:
        return name in self.parameters

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise ParameterError(
                msg(
                    "parameter %(name)s does not exist in set '%(set)s' of domain '%(domain)s'",
                    name=name,
                    set=self.name,
                    domain=self.domain,
                )
            ) from None

    def get(self, name: str, year: int) -> ParamValue:
        """The value of ``name`` for the whole calendar year ``year``."""
        return self.parameter(name).for_year(year, self.name)

    def at(self, name: str, day: dt.date) -> ParamValue:
        """The value of ``name`` on ``day``."""
        return self.parameter(name).at(day, self.name)

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self.parameters if n.startswith(prefix))


def params_root() -> Path:
    """The ``params/`` folder: ``$KETEN_PARAMS_DIR``, else the one beside the source tree."""
    env = os.environ.get("KETEN_PARAMS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "params"
        if candidate.is_dir():
            return candidate
    raise ParameterError(msg("no params/ folder found; set KETEN_PARAMS_DIR to its path"))


def _read_file(path: Path, root: Path) -> tuple[ParameterFile, str]:
    raw = path.read_bytes()
    rel = path.relative_to(root).as_posix()
    try:
        data = yaml.load(raw, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise ParameterFileError(f"{rel}: not valid YAML: {first}") from None
    except ArithmeticError:
        raise ParameterFileError(f"{rel}: a number is not a finite decimal") from None
    try:
        parsed = ParameterFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ParameterFileError(f"{rel}: {loc}: {err['msg']}") from None
    return parsed, hashlib.sha256(raw).hexdigest()


def available_sets(domain: str, root: Path | None = None) -> list[str]:
    base = (root or params_root()) / domain
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and p.name != COMMON_SET)


def load_set(domain: str, name: str, root: Path | None = None) -> ParameterSet:
    """Load parameter set ``name`` of ``domain`` (its folder plus the domain's ``common``)."""
    root = root or params_root()
    sets = available_sets(domain, root)
    if name not in sets:
        raise ParameterError(
            msg(
                "unknown parameter set '%(name)s' for %(domain)s (known: %(known)s)",
                name=name,
                domain=domain,
                known=", ".join(sets) or msg("none"),
            )
        )
    folders = [root / domain / COMMON_SET, root / domain / name]
    parameters: dict[str, Parameter] = {}
    hashes: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            parsed, digest = _read_file(path, root)
            rel = path.relative_to(root).as_posix()
            if parsed.domain != domain or parsed.set != folder.name:
                raise ParameterFileError(
                    f"{rel}: declares domain '{parsed.domain}' set '{parsed.set}' but lies in "
                    f"{domain}/{folder.name}"
                )
            hashes[rel] = digest
            for pname, spec in parsed.parameters.items():
                if pname in parameters:
                    raise ParameterFileError(
                        f"{rel}: parameter {pname} is also defined in {parameters[pname].file}"
                    )
                parameters[pname] = Parameter(name=pname, spec=spec, file=rel)
    return ParameterSet(domain=domain, name=name, parameters=parameters, file_hashes=hashes)
