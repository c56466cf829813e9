"""Signed-in browser sessions, held in the server's memory.

A session id is 256 random bits in an HttpOnly, SameSite=Lax cookie: scripts on the page
cannot read it, and another site cannot send it along with a form post. Nothing is stored on
disk, so a restart signs everyone out, and signing out deletes the session, not just the
cookie. Only the user name is kept: the role is looked up on every request, so a user removed
from the users file loses access at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "diploqa_session"


@dataclass(frozen=True)
class Session:
    user: str
    expires: float  # on the store's clock


class SessionStore:
    """Sessions that end ``lifetime`` seconds after sign-in."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._sessions[session_id] = Session(user, self._clock() + self.lifetime)
        return session_id

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires <= self._clock():
                del self._sessions[session_id]
                return None
            return session

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _prune(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[key]
