"""The users file: accounts (name, role, password hash) and API tokens (id, user, role, hash).

One JSON file, written atomically with mode 0600 and refused when group or others may read it:
hashes are not passwords, but an offline guessing attack should need the file first. Passwords
are hashed with Argon2id (memory-hard, so a stolen file is slow to guess on GPUs). Tokens are
not: a token carries 256 random bits, which no one can guess, so a fast SHA-256 is enough to
keep a stolen file from revealing them, and a request pays no 50 ms KDF per call.

A token reads ``dq_<id>_<secret>``: the id (not secret) finds its record in one lookup, names
it in logs and in ``diploqa tokens revoke``; only the secret part is hashed.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import DiploqaError
from ..files import atomic_write

ROLES = ("reader", "editor")
FORMAT_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_TOKEN = re.compile(r"dq_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
#: A hash verified for unknown user names too, so the time taken does not tell which exist.
_DUMMY_PASSWORD = "not a password of anyone"


class UsersFileError(DiploqaError):
    """The users file is missing, unreadable, malformed, or readable by other users."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password: str  # the Argon2id hash, never the password


@dataclass(frozen=True)
class Token:
    id: str
    user: str
    role: str
    hash: str  # "sha256:<hex>" of the secret part
    label: str = ""
    created: str = ""


@dataclass(frozen=True)
class Users:
    """The accounts and tokens of one users file (an immutable snapshot)."""

    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)

    def role_of(self, name: str) -> str | None:
        account = self.accounts.get(name)
        return account.role if account else None

    def check_password(self, name: str, password: str, hasher: PasswordHasher) -> Account | None:
        """The account if ``password`` is its password (slow on purpose: Argon2id)."""
        account = self.accounts.get(name)
        stored = account.password if account else _dummy_hash(hasher)
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return account

    def check_token(self, token: str) -> tuple[Token | None, str]:
        """``(token record, its id)`` when ``token`` is valid; ``(None, id or "")`` when not.
        The role is the lower of the token's and its user's current one."""
        match = _TOKEN.fullmatch(token)
        if not match:
            return None, ""
        token_id, secret = match.groups()
        record = self.tokens.get(token_id)
        if record is None or not hmac.compare_digest(record.hash, _token_hash(secret)):
            return None, token_id
        role = self.role_of(record.user)
        if role is None:
            return None, token_id
        return replace(record, role="reader" if "reader" in (role, record.role) else role), token_id

    # -- editing (the CLI) ------------------------------------------------------------------

    def with_user(self, name: str, role: str, password: str, hasher: PasswordHasher) -> Users:
        check_name(name)
        check_role(role)
        if name in self.accounts:
            raise UsersFileError(f"user {name!r} exists already: remove it first to change it")
        if not password:
            raise UsersFileError("the password is empty")
        account = Account(name, role, hasher.hash(password))
        return replace(self, accounts={**self.accounts, name: account})

    def without_user(self, name: str) -> Users:
        """Remove an account and every token of it."""
        if name not in self.accounts:
            raise UsersFileError(f"no user {name!r}")
        accounts = {k: v for k, v in self.accounts.items() if k != name}
        tokens = {k: v for k, v in self.tokens.items() if v.user != name}
        return Users(accounts, tokens)

    def with_token(self, user: str, label: str = "") -> tuple[Users, str]:
        """A new token for ``user`` with the user's role; returns it in plain once."""
        role = self.role_of(user)
        if role is None:
            raise UsersFileError(f"no user {user!r}: add it first with diploqa users add")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        record = Token(token_id, user, role, _token_hash(secret), label, created)
        return replace(self, tokens={**self.tokens, token_id: record}), f"dq_{token_id}_{secret}"

    def without_tokens(self, user_or_id: str) -> tuple[Users, list[str]]:
        """Revoke one token by id, or every token of a user; returns the ids revoked."""
        gone = [t.id for t in self.tokens.values() if user_or_id in (t.id, t.user)]
        if not gone:
            raise UsersFileError(f"no token with id {user_or_id!r} and no token of such a user")
        return replace(self, tokens={k: v for k, v in self.tokens.items() if k not in gone}), gone

    def to_json(self) -> str:
        data = {
            "version": FORMAT_VERSION,
            "users": [asdict(a) for a in self.accounts.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def password_hasher() -> PasswordHasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, t=3)."""
    return PasswordHasher()


_dummy_hashes: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def _token_hash(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UsersFileError(
            f"bad user name {name!r}: 1–64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UsersFileError(f"bad role {role!r}: one of {', '.join(ROLES)}")


# -- the file ---------------------------------------------------------------------------------


def load_users(path: Path, missing_ok: bool = False) -> Users:
    """Read and validate the users file; any problem is one :class:`UsersFileError` line."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if missing_ok:
            return Users()
        raise UsersFileError(
            f"no users file {path}: add a user with "
            f"diploqa users add NAME --role editor --users {path}"
        ) from None
    except OSError as err:
        raise UsersFileError(f"cannot read the users file {path}: {err.strerror}") from None
    if info.st_mode & 0o077:
        raise UsersFileError(
            f"the users file {path} may be read by other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}): chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsersFileError(f"the users file {path} is not valid JSON ({err})") from None
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError, UsersFileError) as err:
        raise UsersFileError(f"the users file {path} is damaged: {err}") from None


def _parse(data: object) -> Users:
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError(f"expected an object with version {FORMAT_VERSION}")
    accounts: dict[str, Account] = {}
    for entry in data["users"]:
        account = Account(str(entry["name"]), str(entry["role"]), str(entry["password"]))
        check_name(account.name)
        check_role(account.role)
        if not account.password.startswith("$argon2"):
            raise ValueError(f"user {account.name!r} has no Argon2 password hash")
        accounts[account.name] = account
    tokens: dict[str, Token] = {}
    for entry in data["tokens"]:
        fields = {k: str(entry[k]) for k in ("id", "user", "role", "hash")}
        extra = {k: str(entry.get(k, "")) for k in ("label", "created")}
        token = Token(**fields, **extra)
        check_role(token.role)
        if not re.fullmatch(r"[0-9a-f]{12}", token.id) or not token.hash.startswith("sha256:"):
            raise ValueError(f"token {token.id!r} is malformed")
        tokens[token.id] = token
    return Users(accounts, tokens)


def save_users(path: Path, users: Users) -> None:
    """Write the file atomically, readable by its owner only (0600)."""
    atomic_write(Path(path), users.to_json().encode("utf-8"), mode=0o600)


@contextmanager
def users_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of the users file, so that two people
    adding users at once do not lose one of the additions (``.<name>.lock`` beside it)."""
    path = Path(path)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class UsersSource:
    """The users file as the running server sees it: re-read when it changes on disk (checked
    at most once a second), so ``diploqa users remove`` or ``tokens revoke`` takes effect
    within seconds without a restart. A file that turns unreadable or invalid while serving
    refuses everyone (fail closed) until it is fixed."""

    def __init__(self, path: Path, clock=None) -> None:
        import time

        self.path = Path(path)
        self._clock = clock or time.monotonic
        self._users: Users | None = load_users(self.path)
        self._seen = self._signature()
        self._checked = self._clock()
        self.error: str | None = None

    def _signature(self) -> tuple | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size, info.st_mode)

    def current(self) -> Users | None:
        """The users now; None while the file is broken."""
        now = self._clock()
        if now - self._checked >= 1.0:
            self._checked = now
            signature = self._signature()
            if signature != self._seen:
                self._seen = signature
                try:
                    self._users, self.error = load_users(self.path), None
                except UsersFileError as err:
                    self._users, self.error = None, str(err)
        return self._users
