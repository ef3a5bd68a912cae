"""What ``notegen serve`` checks before it starts its workers, and the line
it prints: an operator sees at once where the service listens and what it
was given, and a broken tokens file, trust root or signing key stops it
there, clearly, rather than in every worker or on the first request.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Settings
from ..errors import ConfigError, Location, Problem
from ..version import __version__
from .tokens import Token, load_tokens


@dataclass(frozen=True)
class Checked:
    """What the settings give the service, checked."""

    tokens: tuple[Token, ...]
    trust_roots: int
    signing_key: bool


def check(settings: Settings, environ: dict[str, str] | None = None) -> Checked:
    """Read the tokens, the trust roots and the signing key the settings name.

    :raises ConfigError: if the tokens file cannot be read, a trust root is
        not a certificate, or the signing key cannot be opened with the
        passphrase in ``NOTEGEN_KEY_PASSPHRASE``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    environ = dict(os.environ) if environ is None else environ
    tokens = load_tokens(settings).current()
    problems = []
    for root in settings.trust:
        data = root.read_bytes()
        try:
            if b"-----BEGIN" in data:
                x509.load_pem_x509_certificates(data)
            else:
                x509.load_der_x509_certificate(data)
        except ValueError:
            problems.append(Problem(f"trust root {root} is not a certificate (PEM or DER)",
                                    Location(settings.path)))
    if problems:
        raise ConfigError("the settings name a trust root that is not a certificate", problems)
    if settings.signing_key is not None:
        passphrase = environ.get("NOTEGEN_KEY_PASSPHRASE")
        try:
            key, certificate, _ = pkcs12.load_key_and_certificates(
                settings.signing_key.read_bytes(),
                passphrase.encode("utf-8") if passphrase else None)
        except (OSError, ValueError, TypeError):
            raise ConfigError(f"cannot open the service's signing key {settings.signing_key}: "
                              "not a PKCS#12 file, or not with the passphrase in "
                              "NOTEGEN_KEY_PASSPHRASE") from None
        if key is None or certificate is None:
            raise ConfigError(f"the service's signing key {settings.signing_key} holds no "
                              "key and certificate")
    return Checked(tokens, len(settings.trust), settings.signing_key is not None)


def shown_register(url: str | None) -> str:
    """Where the register is, fit for a log: its kind, and the file or the
    server and database, without a password."""
    if not url:
        return "none"
    if not url.startswith(("postgresql://", "postgres://")):
        return f"sqlite {url.removeprefix('sqlite:///').removeprefix('sqlite://')}"
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    if parts.password:
        user = f"{parts.username or ''}:***@"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql {user}{parts.hostname or ''}{port}{parts.path}"


def startup_line(settings: Settings, checked: Checked, *, host: str, port: int,
                 workers: int, now: dt.datetime | None = None) -> str:
    """The line ``notegen serve`` prints on standard error as it starts."""
    now = now or dt.datetime.now(dt.UTC)
    states = [token.state(now) for token in checked.tokens]
    inactive = ", ".join(f"{states.count(state)} {state}" for state in ("expired", "revoked")
                         if state in states)
    folders = [str(folder) for folder in settings.template_dirs]
    log = settings.access_log
    address = f"[{host}]" if ":" in host else host
    return (f"notegen {__version__} serving http://{address}:{port} with {workers} worker"
            f"{'s' if workers != 1 else ''}; register: {shown_register(settings.register)}; "
            f"templates: {', '.join([*folders, 'built-in'])}; "
            f"tokens: {len(states)}{f' ({inactive})' if inactive else ''}; "
            f"trust roots: {checked.trust_roots}; "
            f"signing key: {'yes' if checked.signing_key else 'no'}; "
            f"access log: {'stderr' if log is None or log == Path('-') else log}; "
            f"desk: {settings.workspace or 'none (no workspace)'}; "
            f"workers replaced past {settings.worker_growth_mb:g} MiB of growth")
