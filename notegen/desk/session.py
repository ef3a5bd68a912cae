"""The desk's sign-in sessions: a signed cookie naming the token it came from.

Signing in turns an access token (the service's) into the cookie
``notegen_desk``: the holder's name, the token's SHA-256, when the session
ends and its CSRF token, as JSON, signed with HMAC-SHA256 under a secret the
workspace keeps (``.notegen-desk/secret``, mode 0600, made once and shared
by every worker). The cookie never holds the token; every request looks the
token up again by its SHA-256, so a revoked or expired token ends its
sessions at once, and the roles are the token's as they are now.

This module does not import the web framework.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

#: The session cookie's name.
COOKIE = "notegen_desk"
#: The cookie that carries the sign-in form's CSRF token (before a session exists).
SIGNIN_COOKIE = "notegen_desk_signin"
#: Where in the workspace the secret lives.
SECRET_FILE = Path(".notegen-desk") / "secret"


@dataclass(frozen=True)
class Session:
    """What a session cookie says."""

    #: The token holder's name.
    name: str
    #: The SHA-256 of the token signed in with.
    token_sha256: str
    #: When the session ends (UTC).
    expires: dt.datetime
    #: The session's CSRF token, which every POST must carry.
    csrf: str


def desk_secret(workspace: Path) -> bytes:
    """The workspace's session secret, made (0600) on first use. Several
    worker processes may start at once: the file appears whole or not at
    all (written aside, then linked into place), and the first one wins.

    :raises ConfigError: if it cannot be read or made.
    """
    path = workspace / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        aside = path.with_name(f".secret-{os.getpid()}-{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):  # another worker made it first
                os.link(aside, path)
        finally:
            aside.unlink(missing_ok=True)
        return _read_secret(path)
    except OSError as exc:
        raise ConfigError(f"cannot make the desk's session secret {path}: "
                          f"{exc.strerror or exc}") from None


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the desk's session secret {path}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise ConfigError(f"the desk's session secret {path} is not 64 hex digits: remove it "
                          "and restart, and every desk session ends")
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, payload: str) -> str:
    return hmac.new(secret, f"{purpose}\n{payload}".encode("ascii"),
                    hashlib.sha256).hexdigest()


def seal(secret: bytes, session: Session) -> str:
    """The cookie value of ``session``."""
    payload = _b64(json.dumps({"n": session.name, "t": session.token_sha256,
                               "e": int(session.expires.timestamp()), "c": session.csrf},
                              separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(secret, 'session', payload)}"


def unseal(secret: bytes, value: str | None, now: dt.datetime) -> Session | None:
    """The session a cookie value carries, if its signature holds and it has
    not ended by ``now``; otherwise ``None``."""
    if not value or not value.isascii() or value.count(".") != 1 or len(value) > 4096:
        return None
    payload, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(secret, "session", payload)):
        return None
    try:
        data = json.loads(_unb64(payload))
        session = Session(str(data["n"]), str(data["t"]),
                          dt.datetime.fromtimestamp(int(data["e"]), dt.UTC), str(data["c"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return session if session.expires > now else None


def new_session(name: str, token_sha256: str, token_expires: dt.datetime | None,
                minutes: int, now: dt.datetime) -> Session:
    """A session for a token holder, ending after ``minutes`` or when the
    token expires, whichever comes first."""
    ends = now + dt.timedelta(minutes=minutes)
    if token_expires is not None and token_expires < ends:
        ends = token_expires
    return Session(name, token_sha256, ends.replace(microsecond=0), secrets.token_urlsafe(24))


def signin_token(secret: bytes, nonce: str) -> str:
    """The sign-in form's CSRF token for the random ``nonce`` its cookie holds."""
    return _mac(secret, "signin", nonce)


def same(given: str | None, expected: str) -> bool:
    """Whether a presented token equals the expected one (constant time)."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"),
                                                     expected.encode("utf-8"))
