"""Access control for ``diploqa serve``: accounts, API tokens, sessions and back-off.

* :mod:`.users` — the users file (accounts with Argon2id password hashes, hashed tokens).
* :mod:`.sessions` — signed-in browser sessions, in memory, with expiry.
* :mod:`.limiter` — back-off after failed sign-ins, per address and per user name.
* :mod:`.middleware` — the ASGI middleware in front of every route (needs the ``ui`` extra).
"""

from .limiter import Backoff
from .sessions import COOKIE, SessionStore
from .users import (
    ROLES,
    Account,
    Token,
    Users,
    UsersFileError,
    UsersSource,
    load_users,
    password_hasher,
    save_users,
)

__all__ = [
    "COOKIE",
    "ROLES",
    "Account",
    "Backoff",
    "SessionStore",
    "Token",
    "Users",
    "UsersFileError",
    "UsersSource",
    "load_users",
    "password_hasher",
    "save_users",
]
