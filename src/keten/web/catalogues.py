"""Keep the UI catalogues in step with the code.

    python -m keten.web.catalogues                  # extract, update every .po, list gaps
    python -m keten.web.catalogues only AREA        # the same for one area only
    python -m keten.web.catalogues set-nl AREA < nl.json   # fill Dutch: {"id": "tekst", …}


Areas: a page module ``pages/<area>.py`` and the templates in ``templates/<area>/`` form the
area ``<area>``; everything else (``templates/*.html``, ``ui.py``, ``app.py``, ``pages/home.py``,
``pages/auth.py``) is the area ``core``. For each area and language the strings marked with
``_()`` / ``gettext`` are extracted (Babel) into ``locale/<lang>/<area>.po``: new ids are added
(Dutch with an empty translation to fill in, English identical to the id), ids no longer used are
dropped, existing translations are kept.

The areas ``messages*`` hold error messages of the services and rules engines: the templates of
the ``msg(...)`` calls (``keten.core.messages``). ``messages``: the register (``keten/registry``,
``keten/ledger``), the Energie Vervoer rules engine ``keten/ev``, ``keten/core/errors.py``,
``keten/core/params.py`` and the shared CSV reader ``keten/io/csvfile.py``;
``messages_<domain>``: a domain's engine ``keten/<domain>`` and its file reader
``keten/io/<domain>_files.py``. Pages show them translated; the JSON APIs and the CLI stay
English.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from keten.web.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).parent
CORE_MODULES = (
    "ui.py",
    "app.py",
    "forms.py",
    "results.py",
    "traces.py",
    "charts.py",
    "pages/home.py",
    "pages/auth.py",
    "pages/__init__.py",
)
PACKAGE = ROOT.parent  # src/keten
MESSAGES_AREA = "messages"
#: area → (folders, modules) under src/keten whose ``msg(...)`` templates it holds.
MESSAGE_AREAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    MESSAGES_AREA: (
        ("registry", "ledger", "ev"),
        (
            "core/errors.py",
            "core/params.py",
            "core/quantity.py",
            "io/csvfile.py",
            "io/ev_files.py",
        ),
    ),
    **{
        f"messages_{domain}": ((domain,), (f"io/{domain}_files.py",))
        for domain in ("nitrogen", "mki", "footprint", "vehicles")
    },
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def area_of(path: Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("templates/"):
        parts = rel.split("/")
        return parts[1] if len(parts) > 2 else "core"
    if rel.startswith("pages/") and rel not in CORE_MODULES:
        return Path(rel).stem
    return "core"


def sources() -> list[Path]:
    files = sorted((ROOT / "templates").rglob("*.html"))
    files += [ROOT / m for m in CORE_MODULES if (ROOT / m).exists()]
    files += sorted(
        p
        for p in (ROOT / "pages").glob("*.py")
        if p.relative_to(ROOT).as_posix() not in CORE_MODULES
    )
    return files


def message_sources() -> list[tuple[str, Path]]:
    """(area, module) for every module whose ``msg(...)`` templates form a ``messages*`` area."""
    out: list[tuple[str, Path]] = []
    for area, (folders, modules) in MESSAGE_AREAS.items():
        files = [PACKAGE / m for m in modules]
        for folder in folders:
            files += sorted((PACKAGE / folder).rglob("*.py"))
        out += [(area, f) for f in files if f.exists()]
    return out


def extract() -> dict[str, dict[str, list[str]]]:
    """area → message id → places (``file:line``) where it is used."""
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for area, path in message_sources():
        for line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"msg": None}
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for mid in ids:
                if mid:
                    place = f"{path.relative_to(PACKAGE.parent).as_posix()}:{line}"
                    out[area].setdefault(mid, []).append(place)
    for path in sources():
        method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
        options = JINJA_OPTIONS if path.suffix == ".html" else {}
        # Pages may raise errors with ``msg(...)`` too: their templates belong to the page's area.
        keywords = {"_": None, "gettext": None, **({"msg": None} if path.suffix == ".py" else {})}
        for line, message, _comments, _context in extract_from_file(
            method, str(path), keywords=keywords, options=options
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for mid in ids:
                if mid:
                    place = f"{path.relative_to(ROOT).as_posix()}:{line}"
                    out[area_of(path)].setdefault(mid, []).append(place)
    return out


def update(only: str | None = None) -> list[Path]:
    """Rewrite the catalogues of every area (or of the area ``only``); the files written."""
    written = []
    used = extract()
    for lang in LANGUAGES:
        folder = LOCALE_DIR / lang
        folder.mkdir(parents=True, exist_ok=True)
        elsewhere = _translations(folder)
        for area in sorted(set(used) | {p.stem for p in folder.glob("*.po")}):
            if only is not None and area != only:
                continue
            path = folder / f"{area}.po"
            old: dict[str, str] = {}
            if path.exists():
                with path.open("rb") as fh:
                    for m in read_po(fh, locale=lang):
                        if m.id and isinstance(m.id, str) and isinstance(m.string, str):
                            old[m.id] = m.string
            if area not in used:
                path.unlink()
                continue
            cat = Catalog(locale=lang, project="keten", fuzzy=False)
            for mid, places in sorted(used[area].items()):
                # A new id already translated in another area gets that translation (one
                # message, one text: the suite checks that no id is translated two ways).
                text = (
                    old.get(mid) or elsewhere.get(mid, "")
                    if lang != "en"
                    else (old.get(mid) or mid)
                )
                cat.add(
                    mid, text, locations=[(p.split(":")[0], int(p.split(":")[1])) for p in places]
                )
            with path.open("wb") as fh:
                write_po(
                    fh, cat, width=100, omit_header=True, sort_output=True, include_lineno=False
                )
            written.append(path)
    return written


def _translations(folder: Path) -> dict[str, str]:
    """Message id → translation over every catalogue in ``folder`` (as found on disk)."""
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            for m in read_po(fh):
                if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string:
                    out.setdefault(m.id, m.string)
    return out


def set_dutch(area: str, translations: dict[str, str]) -> int:
    """Fill Dutch translations of ``area`` from a mapping id → text; the number set."""
    path = LOCALE_DIR / "nl" / f"{area}.po"
    with path.open("rb") as fh:
        cat = read_po(fh, locale="nl")
    n = 0
    for mid, text in translations.items():
        m = cat.get(mid)
        if m is None:
            raise SystemExit(f"{area}: no message {mid!r} (run the update first)")
        m.string = text
        n += 1
    with path.open("wb") as fh:
        write_po(fh, cat, width=100, omit_header=True, sort_output=True, include_lineno=False)
    return n


USAGE = __doc__.split("\n\n")[1] if __doc__ else ""


def main() -> int:
    args = sys.argv[1:]
    known = args == [] or (len(args) == 2 and args[0] in ("only", "set-nl"))
    if not known:  # --help, a typo or a missing AREA: say how, change nothing
        print("usage:\n" + USAGE, file=sys.stderr if args not in (["-h"], ["--help"]) else None)
        return 0 if args in (["-h"], ["--help"]) else 2
    if len(sys.argv) == 3 and sys.argv[1] == "set-nl":
        import json

        print(set_dutch(sys.argv[2], json.load(sys.stdin)), "translations set")
        return 0
    only = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "only" else None
    for p in update(only):
        print(p.relative_to(ROOT.parent.parent.parent))
    missing = [
        (area, mid)
        for area, ids in extract().items()
        if only is None or area == only
        for mid in ids
        if not _translated(area, mid)
    ]
    for area, mid in missing:
        print(f"untranslated (nl/{area}.po): {mid!r}", file=sys.stderr)
    return 0


def _translated(area: str, mid: str) -> bool:
    path = LOCALE_DIR / "nl" / f"{area}.po"
    with path.open("rb") as fh:
        return any(m.id == mid and m.string for m in read_po(fh, locale="nl"))


if __name__ == "__main__":
    raise SystemExit(main())
