"""Bounded per-process stores of recent results (export tables, refused-upload reports).

A value is kept under a random id (``secrets.token_urlsafe``) and given back only to the owner
that stored it (a user id or a browser's CSRF token). The store holds at most ``max_items``
values, optionally at most ``max_bytes`` in all (as measured by ``size``; the newest value is
always kept) and each for at most ``max_age`` seconds; the oldest go first. Per process: a
restart forgets everything, and the pages say to compute again.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from keten.registry.service import NotFound

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    owner: str
    created: float
    size: int
    value: T


class BoundedStore(Generic[T]):
    """Recent values per owner; :meth:`get` raises :class:`NotFound` with ``missing()`` (called
    at refusal time, so a translated message is in the visitor's language) for an unknown or
    expired id or another owner's value."""

    def __init__(
        self,
        *,
        max_items: int,
        missing: Callable[[], str],
        max_bytes: int | None = None,
        size: Callable[[T], int] | None = None,
        max_age: float | None = None,
        id_bytes: int = 16,
    ) -> None:
        if max_bytes is not None and size is None:
            raise ValueError("max_bytes needs a size function")
        self.max_items, self.max_bytes, self.max_age = max_items, max_bytes, max_age
        self._size, self._missing, self._id_bytes = size, missing, id_bytes
        self._items: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, owner: str, value: T) -> str:
        key = secrets.token_urlsafe(self._id_bytes)
        size = self._size(value) if self._size is not None else 0
        with self._lock:
            self._purge()
            self._items[key] = _Entry(owner, time.monotonic(), size, value)
            self._bytes += size
            while len(self._items) > self.max_items or (
                self.max_bytes is not None and len(self._items) > 1 and self._bytes > self.max_bytes
            ):
                self._bytes -= self._items.popitem(last=False)[1].size
        return key

    def get(self, owner: str, key: str) -> T:
        with self._lock:
            self._purge()
            item = self._items.get(key)
        if item is None or not secrets.compare_digest(item.owner.encode(), owner.encode()):
            raise NotFound(self._missing())
        return item.value

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self) -> None:
        """Drop the values older than ``max_age`` (they are in insertion order)."""
        if self.max_age is None:
            return
        now = time.monotonic()
        while self._items:
            key, first = next(iter(self._items.items()))
            if now - first.created <= self.max_age:
                break
            self._bytes -= first.size
            del self._items[key]
