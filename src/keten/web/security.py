"""Sessions, CSRF protection and login rate limiting for the HTML pages.

- A signed-in person has a server-side session (:class:`~keten.store.models.WebSession`): the
  cookie ``keten_session`` holds a random token, the database only its SHA-256. Logging out or
  changing the password ends it; it expires after ``session_hours``. The cookie is HttpOnly,
  SameSite=Strict and Secure (``KETEN_COOKIE_SECURE=0`` turns Secure off for a plain-http
  deployment that is not on localhost; browsers accept Secure cookies from http://localhost and
  http://127.0.0.1).
- CSRF: every form carries ``csrf_token``. For a signed-in person it must equal the session's
  token (synchronizer token); before sign-in (the login form) it must equal the ``keten_csrf``
  cookie (double submit; the cookie is SameSite=Strict and HttpOnly). Uploads sent by script send
  the token in the ``X-CSRF-Token`` header instead.
- Login attempts: at most ``MAX_FAILURES`` failures per user name and ``MAX_FAILURES_PER_IP``
  per client address within ``WINDOW``; further attempts are refused (HTTP 429) until the window
  has passed. The counter lives in the process (one counter per server process).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import delete, select

from keten.registry.service import Actor, Registry
from keten.store.models import User, WebSession

SESSION_COOKIE = "keten_session"
CSRF_COOKIE = "keten_csrf"
LANG_COOKIE = "keten_lang"
MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 30
WINDOW = 15 * 60.0


def cookie_secure() -> bool:
    return os.environ.get("KETEN_COOKIE_SECURE", "1").strip().lower() not in ("0", "false", "no")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    csrf: str
    session_id: int


class Sessions:
    """Server-side sessions of signed-in people."""

    def __init__(self, reg: Registry, hours: float = 12.0) -> None:
        self.reg = reg
        self.hours = hours

    def start(self, actor: Actor) -> tuple[str, str]:
        """A new session for ``actor``: (cookie token, CSRF token)."""
        token, csrf = new_token(), new_token()
        now = self.reg.clock()
        with self.reg.ledger.transaction() as s:
            s.execute(delete(WebSession).where(WebSession.expires_at < now))
            s.add(
                WebSession(
                    token_hash=_digest(token),
                    user_id=actor.user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + dt.timedelta(hours=self.hours),
                )
            )
        return token, csrf

    def find(self, token: str | None) -> SignedIn | None:
        if not token or len(token) > 100:
            return None
        with self.reg.ledger.sessions() as s:
            row = s.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.token_hash == _digest(token))
            ).first()
            if row is None:
                return None
            ws, u = row
            expires = ws.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
            if not u.active or expires <= self.reg.clock():
                return None
            return SignedIn(Actor(u.id, u.username, u.role, u.holder_id), ws.csrf, ws.id)

    def end(self, token: str | None) -> None:
        if not token:
            return
        with self.reg.ledger.transaction() as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))

    def end_all(self, user_id: int, *, keep: int | None = None) -> None:
        """End every session of a user (after a password change), except ``keep``."""
        with self.reg.ledger.transaction() as s:
            q = delete(WebSession).where(WebSession.user_id == user_id)
            if keep is not None:
                q = q.where(WebSession.id != keep)
            s.execute(q)


class LoginLimiter:
    """Failed sign-in attempts per user name and per client address in a sliding window."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        max_per_ip: int = MAX_FAILURES_PER_IP,
        window: float = WINDOW,
    ) -> None:
        self.max_failures = max_failures
        self.max_per_ip = max_per_ip
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def blocked(self, username: str, ip: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return (
                len(self._recent(f"u:{username.lower()}", now)) >= self.max_failures
                or len(self._recent(f"ip:{ip}", now)) >= self.max_per_ip
            )

    def failed(self, username: str, ip: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(f"u:{username.lower()}", now).append(now)
            self._recent(f"ip:{ip}", now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)
