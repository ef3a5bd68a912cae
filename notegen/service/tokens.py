"""The service's tokens file: who may call the service, in which roles, until when.

The file is JSON, named by ``NOTEGEN_TOKENS`` (or ``tokens`` in
``notegen.toml``), and keeps each token only as its SHA-256::

    {"tokens": [
      {"name": "desk-1", "sha256": "<64 hex digits>", "roles": ["drafter"],
       "created": "2026-12-06T14:00:00Z", "expires": "2027-03-06T14:00:00Z"},
      {"name": "desk-0", "sha256": "…", "roles": ["issuer"],
       "created": "2026-01-10T09:00:00Z", "revoked": "2026-12-01T08:30:00Z"}
    ]}

``created``, ``expires`` and ``revoked`` are optional. A revoked token
stays in the file, so the access log can say that a refused token was
revoked (and whose it was). ``notegen token add|list|revoke`` keep the file;
it is written whole or not at all. This module does not import the web
framework: the command line manages tokens without the service extra.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ..config import Settings
from ..errors import ConfigError, Location, Problem

#: The roles a token may carry: ``drafter`` validates and renders,
#: ``issuer`` also issues and cancels, ``reader`` queries the register.
ROLES = ("drafter", "issuer", "reader")

Role = Literal["drafter", "issuer", "reader"]


class _Entry(BaseModel):
    """One entry of the tokens file, as written."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    roles: list[Role] = Field(min_length=1)
    created: AwareDatetime | None = None
    expires: AwareDatetime | None = None
    revoked: AwareDatetime | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens: list[_Entry]


@dataclass(frozen=True)
class Token:
    """One token of the file: its holder's name, its SHA-256 and roles, and
    when it was made, expires or was revoked (UTC)."""

    name: str
    sha256: str
    roles: tuple[Role, ...]
    created: dt.datetime | None = None
    expires: dt.datetime | None = None
    revoked: dt.datetime | None = None

    def state(self, now: dt.datetime) -> Literal["active", "expired", "revoked"]:
        """Whether the token admits its holder at ``now``."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return "expired"
        return "active"

    def as_json(self) -> dict[str, object]:
        """The token's entry in the tokens file."""
        entry: dict[str, object] = {"name": self.name, "sha256": self.sha256,
                                    "roles": list(self.roles)}
        for key in ("created", "expires", "revoked"):
            value = getattr(self, key)
            if value is not None:
                entry[key] = _utc(value)
        return entry


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def read_tokens(path: Path) -> tuple[Token, ...]:
    """The tokens in the file ``path``.

    :raises ConfigError: if it cannot be read or is not a tokens file, with
        every problem located by field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the tokens in {path}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        parsed = _File.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(f"{path} is not a tokens file", [
            Problem(error["msg"], Location(path, field=".".join(map(str, error["loc"])) or None))
            for error in exc.errors(include_url=False)]) from None
    return tuple(Token(item.name, item.sha256.lower(), tuple(item.roles),
                       *(value.astimezone(dt.UTC) if value is not None else None
                         for value in (item.created, item.expires, item.revoked)))
                 for item in parsed.tokens)


def write_tokens(path: Path, tokens: Iterable[Token]) -> None:
    """Write ``tokens`` to ``path``, whole or not at all (with the mode the
    umask gives: it holds digests, not tokens, and the service's user must
    read it)."""
    from ..render.atomic import write_atomic

    text = json.dumps({"tokens": [token.as_json() for token in tokens]}, indent=2) + "\n"
    write_atomic(path, text.encode("utf-8"))


def new_token(name: str, roles: Iterable[str], *, expires: dt.datetime | None = None,
              now: dt.datetime | None = None) -> tuple[str, Token]:
    """A fresh random token, and the entry of the tokens file that admits it."""
    secret = secrets.token_urlsafe(32)
    made = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    checked = _Entry.model_validate({"name": name, "sha256": digest(secret),
                                     "roles": list(roles)})
    return secret, Token(checked.name, checked.sha256, tuple(checked.roles), made,
                         expires.astimezone(dt.UTC) if expires else None)


def add_token(path: Path, token: Token) -> None:
    """Add ``token`` to the tokens file ``path``, made if missing.

    :raises ConfigError: if the file is not a tokens file, or a token of that
        name still admits its holder (revoke it first).
    """
    tokens = read_tokens(path) if path.exists() else ()
    now = dt.datetime.now(dt.UTC)
    if any(old.name == token.name and old.state(now) == "active" for old in tokens):
        raise ConfigError(f"{path} already has a token named {token.name!r}: revoke it first, "
                          "or choose another name")
    write_tokens(path, (*tokens, token))


def revoke_token(path: Path, name: str, *, now: dt.datetime | None = None) -> Token:
    """Mark the token ``name`` of the file ``path`` revoked; it stays in the
    file, so refusals of it are logged as revoked.

    :raises ConfigError: if the file has no unrevoked token of that name.
    """
    now = now or dt.datetime.now(dt.UTC)
    tokens = list(read_tokens(path))
    found = [index for index, token in enumerate(tokens)
             if token.name == name and token.revoked is None]
    if not found:
        raise ConfigError(f"{path} has no token named {name!r} that is not revoked already")
    for index in found:
        tokens[index] = replace(tokens[index], revoked=now.replace(microsecond=0))
    write_tokens(path, tokens)
    return tokens[found[-1]]


def digest(secret: str) -> str:
    """The SHA-256 (hex) a token is kept as."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_DURATION = re.compile(r"(\d{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """When a token given ``--expires text`` expires: after a duration
    (``90d``, ``12h``, ``30m``, ``2w``) from ``now``, at the end of a day
    (``2027-03-31``: the token works through that day, UTC), or at a moment
    (``2027-03-31T18:00:00+04:00``).

    :raises ValueError: if ``text`` is none of these, or lies in the past.
    """
    now = now or dt.datetime.now(dt.UTC)
    text = text.strip()
    duration = _DURATION.fullmatch(text)
    if duration is not None:
        moment = now + dt.timedelta(**{_UNITS[duration[2]]: int(duration[1])})
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = dt.date.fromisoformat(text) + dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    else:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is neither a duration (90d, 12h, 30m, 2w), a date "
                             "(2027-03-31) nor a moment with its UTC offset") from None
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset: add Z or +HH:MM")
    if moment <= now:
        raise ValueError(f"{text!r} lies in the past")
    return moment.astimezone(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Admission:
    """What the tokens file says of a presented token: its entry (``None``
    if unknown) and, if it is refused, why."""

    token: Token | None
    refused: str | None


class TokenStore:
    """The tokens a running service admits, read again from their file
    whenever it changes, so a revocation or a new token applies at once.

    If the file becomes unreadable, every request is refused (by raising
    :class:`ConfigError`) until it is readable again.
    """

    def __init__(self, path: Path | None, tokens: Iterable[Token] | None = None) -> None:
        self.path = path
        self._tokens = tuple(tokens) if tokens is not None else ()
        self._stamp: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        if tokens is None:
            self.current()

    def current(self) -> tuple[Token, ...]:
        """The tokens as the file holds them now.

        :raises ConfigError: if it cannot be read.
        """
        if self.path is None:
            return self._tokens
        try:
            status = self.path.stat()
        except OSError as exc:
            raise ConfigError(f"cannot read the tokens in {self.path}: "
                              f"{exc.strerror or exc}") from None
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        with self._lock:
            if stamp != self._stamp:
                self._tokens = read_tokens(self.path)
                self._stamp = stamp
            return self._tokens

    def admit(self, secret: str, now: dt.datetime | None = None) -> Admission:
        """Whether ``secret`` admits its holder at ``now``; the digests are
        compared in constant time."""
        wanted = digest(secret)
        found = None
        for token in self.current():
            if hmac.compare_digest(token.sha256, wanted):
                found = token
        if found is None:
            return Admission(None, "unknown token")
        state = found.state(now or dt.datetime.now(dt.UTC))
        return Admission(found, None if state == "active" else f"{state} token")


def load_tokens(settings: Settings) -> TokenStore:
    """The tokens of the file the settings name.

    :raises ConfigError: if no file is named, or it cannot be read.
    """
    if settings.tokens is None:
        raise ConfigError("the service needs its tokens: set NOTEGEN_TOKENS (or tokens in "
                          "notegen.toml) to their file (see `notegen token add`)")
    return TokenStore(settings.tokens)
