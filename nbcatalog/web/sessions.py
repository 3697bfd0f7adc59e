"""Logged-in sessions (kept in memory) and the throttle on failed logins.

A session is a random 256-bit id in an HttpOnly, SameSite=Strict cookie; the
server keeps only the id's SHA-256, with the user name, the session's CSRF token
and when it expires. Restarting the app logs everybody out, by design.

Example:
    >>> store = SessionStore(lifetime_seconds=3600)
    >>> sid, session = store.create("alice")
    >>> store.get(sid).user
    'alice'
    >>> store.end(sid); store.get(sid) is None
    True
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_SESSIONS = 10_000


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


@dataclass
class Session:
    """One login: who, the CSRF token its forms carry, and when it ends (monotonic time)."""

    user: str
    csrf: str
    expires: float


class SessionStore:
    """Sessions by id, thread-safe, forgotten when they expire.

    Example:
        >>> SessionStore(lifetime_seconds=60).get("not-a-session") is None
        True
    """

    def __init__(
        self, lifetime_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lifetime = lifetime_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> tuple[str, Session]:
        """A new session for `user`: (the id for the cookie, the session)."""
        session_id = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), self._clock() + self.lifetime)
        with self._lock:
            self._drop_expired()
            if len(self._sessions) >= MAX_SESSIONS:  # keep memory bounded: oldest goes
                oldest = min(self._sessions, key=lambda k: self._sessions[k].expires)
                del self._sessions[oldest]
            self._sessions[_key(session_id)] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id, or None (unknown, ended or expired)."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(_key(session_id))
            if session is not None and session.expires <= self._clock():
                del self._sessions[_key(session_id)]
                return None
            return session

    def end(self, session_id: str | None) -> None:
        """Log a session out (nothing happens for an unknown id)."""
        if session_id:
            with self._lock:
                self._sessions.pop(_key(session_id), None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[key]


class LoginThrottle:
    """Refuses logins for a while after too many failures from one address or for one name.

    `max_failures` failures within `window_seconds` lock that key until the oldest
    of them is older than the window. A good login clears its keys.

    Example:
        >>> t = LoginThrottle(max_failures=2, window_seconds=60)
        >>> t.failed(["ip:192.0.2.1"]); t.failed(["ip:192.0.2.1"])
        >>> t.retry_after(["ip:192.0.2.1"]) > 0
        True
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 15 * 60,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until any of `keys` may try again (0: allowed now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, keys: Iterable[str]) -> None:
        """Count a failed login against each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                self._failures[key].append(now)
            if len(self._failures) > MAX_SESSIONS:  # bounded memory under a spray
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    self._failures.pop(key, None)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of each key."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
