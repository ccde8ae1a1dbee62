"""The shared web helpers: bounded result stores and form reading."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
from pathlib import Path

import pytest
from starlette.datastructures import FormData, Headers, UploadFile

from keten.core.errors import InputError
from keten.registry.service import NotFound
from keten.web import forms, i18n
from keten.web.results import BoundedStore


def test_store_gives_a_value_only_to_its_owner_and_drops_the_oldest() -> None:
    store: BoundedStore[str] = BoundedStore(max_items=2, missing=lambda: "gone")
    a = store.put("alice", "A")
    assert store.get("alice", a) == "A"
    with pytest.raises(NotFound, match="gone"):
        store.get("bob", a)
    store.put("alice", "B")
    store.put("alice", "C")
    assert len(store) == 2
    with pytest.raises(NotFound):
        store.get("alice", a)


def test_store_bounds_bytes_but_keeps_the_newest_and_expires_old_values() -> None:
    store: BoundedStore[bytes] = BoundedStore(
        max_items=10, max_bytes=5, size=len, missing=lambda: "gone"
    )
    a = store.put("u", b"abc")
    b = store.put("u", b"defg")
    with pytest.raises(NotFound):
        store.get("u", a)
    big = store.put("u", b"0123456789")
    assert store.get("u", big) == b"0123456789"
    with pytest.raises(NotFound):
        store.get("u", b)
    old: BoundedStore[int] = BoundedStore(max_items=10, max_age=-1.0, missing=lambda: "gone")
    with pytest.raises(NotFound):
        old.get("u", old.put("u", 1))


def _form(**files: bytes) -> FormData:
    items: list[tuple[str, str | UploadFile]] = [("name", "  Brandstof BV  ")]
    for k, data in files.items():
        items.append((k, UploadFile(io.BytesIO(data), filename=f"dir/{k}.csv", headers=Headers())))
    return FormData(items)


def _run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine in a thread of its own: the browser tests keep an event loop running in
    the main thread for the rest of the session."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_text_and_uploads(tmp_path: Path) -> None:
    c = forms.Checked()
    form = _form(small=b"a,b\n", large=b"x" * 11)
    assert forms.text(form, "name", c, limit=5) == "Brand"
    assert c.values["name"] == "Brand"
    assert forms.text(form, "absent") == ""
    assert _run(forms.upload(form, "small", c, 10)) == ("small.csv", b"a,b\n")
    assert _run(forms.upload(form, "large", c, 10)) is None
    assert c.errors["large"] == i18n.gettext("The file is too large (at most %(n)s bytes).", n=10)
    assert _run(forms.upload(form, "none", c, 10)) is None
    assert _run(forms.save(form, "none", c, tmp_path, limit=10)) is None
    assert c.errors["none"] == i18n.gettext("Choose a file.")
    path = _run(forms.save(_form(small=b"a,b\n"), "small", c, tmp_path, limit=10))
    assert path is not None and path.read_bytes() == b"a,b\n"
    c.refuse(InputError("bad value", file=str(path), row=2, field="b"))
    assert "small.csv" in c.errors["small"] and str(tmp_path) not in c.errors["small"]
