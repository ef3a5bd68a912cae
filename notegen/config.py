"""Settings, resolved once for every face: ``notegen.toml`` and the
``NOTEGEN_*`` environment variables.

notegen looks for ``notegen.toml`` in the current folder and its parents; the
first found applies. Paths in it are relative to the file::

    [notegen]
    template_dirs = ["ministry-templates"]
    register = "register.db"      # or "postgresql://notegen@db.mfa/notes"
    tokens = "tokens.json"        # the service's tokens
    time_limit = 30               # seconds a render may take
    memory_limit_mb = 1024        # MiB more memory a render may take
    page_limit = 50               # pages a render may make
    max_body = 2000000            # bytes a service request may carry
    trust = ["ministry-root.pem"] # roots the service's /verify trusts
    register_wait = 30            # seconds to wait for a busy register
    signing_key = "service.p12"   # the service's own key (PKCS#12), for ?sign=true
    tsa = "http://tsa.mfa/tsr"    # an RFC 3161 time-stamping authority (PAdES B-T)
    access_log = "access.jsonl"   # the service's access log ("-": standard error)
    workspace = "cases"           # the drafting desk's folder of cases (notegen serve)
    catalogue = "catalogue"       # the ministry's incident catalogue (service and desk)
    desk_session_minutes = 480    # how long a desk sign-in lasts (never past its token)
    cache = true                  # keep rendered notes by their inputs (--no-cache: not now)
    cache_dir = "~/.cache/notegen" # where (default: $XDG_CACHE_HOME/notegen)
    cache_max_mb = 256            # how much of them, least recently used dropped first
    daemon = true                 # render in a warm per-user process (--no-daemon: not now)
    daemon_idle_minutes = 10      # how long it waits for work before it ends
    worker_growth_mb = 256        # MiB a service worker may grow once warm before it is replaced

An environment variable overrides the file's setting of the same name:
``NOTEGEN_REGISTER``, ``NOTEGEN_TOKENS``, ``NOTEGEN_TIME_LIMIT``,
``NOTEGEN_MEMORY_LIMIT_MB``, ``NOTEGEN_PAGE_LIMIT``, ``NOTEGEN_MAX_BODY``,
``NOTEGEN_TRUST`` (files separated by ``os.pathsep``, ":" on Linux),
``NOTEGEN_REGISTER_WAIT``, ``NOTEGEN_SIGNING_KEY``, ``NOTEGEN_TSA``,
``NOTEGEN_ACCESS_LOG``, ``NOTEGEN_WORKSPACE``, ``NOTEGEN_CATALOGUE``,
``NOTEGEN_DESK_SESSION_MINUTES``, ``NOTEGEN_CACHE``, ``NOTEGEN_CACHE_DIR``,
``NOTEGEN_CACHE_MAX_MB``, ``NOTEGEN_DAEMON``, ``NOTEGEN_DAEMON_IDLE_MINUTES``,
``NOTEGEN_WORKER_GROWTH_MB``; ``NOTEGEN_NO_DAEMON`` (any value but empty or
``0``) turns the daemon off whatever the file says.
A key's passphrase is never a setting: it comes from
``NOTEGEN_KEY_PASSPHRASE`` or a prompt. The
command line and the service both read their settings through
:func:`load_settings`, so they cannot disagree.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError
from pydantic_core import ErrorDetails

from .errors import ConfigError, Location, Problem

logger = logging.getLogger(__name__)

#: The name of the project settings file.
CONFIG_NAME = "notegen.toml"

#: The environment variables that override a setting, by setting.
ENVIRONMENT = {"register": "NOTEGEN_REGISTER", "tokens": "NOTEGEN_TOKENS",
               "time_limit": "NOTEGEN_TIME_LIMIT",
               "memory_limit_mb": "NOTEGEN_MEMORY_LIMIT_MB", "page_limit": "NOTEGEN_PAGE_LIMIT",
               "max_body": "NOTEGEN_MAX_BODY", "trust": "NOTEGEN_TRUST",
               "register_wait": "NOTEGEN_REGISTER_WAIT", "signing_key": "NOTEGEN_SIGNING_KEY",
               "tsa": "NOTEGEN_TSA", "access_log": "NOTEGEN_ACCESS_LOG",
               "workspace": "NOTEGEN_WORKSPACE", "catalogue": "NOTEGEN_CATALOGUE",
               "desk_session_minutes": "NOTEGEN_DESK_SESSION_MINUTES",
               "cache": "NOTEGEN_CACHE", "cache_dir": "NOTEGEN_CACHE_DIR",
               "cache_max_mb": "NOTEGEN_CACHE_MAX_MB", "daemon": "NOTEGEN_DAEMON",
               "daemon_idle_minutes": "NOTEGEN_DAEMON_IDLE_MINUTES",
               "worker_growth_mb": "NOTEGEN_WORKER_GROWTH_MB"}


class _File(BaseModel):
    """The ``[notegen]`` table of ``notegen.toml``, or the environment's values."""

    model_config = ConfigDict(extra="forbid")

    template_dirs: list[str] = Field(default_factory=list)
    # ("register" is a method of BaseModel: read it under another name.)
    register_url: str | None = Field(None, alias="register")
    tokens: str | None = None
    time_limit: PositiveFloat | None = None
    memory_limit_mb: PositiveInt | None = None
    page_limit: PositiveInt | None = None
    max_body: PositiveInt | None = None
    trust: list[str] = Field(default_factory=list)
    register_wait: PositiveFloat | None = None
    signing_key: str | None = None
    tsa: str | None = Field(None, pattern=r"^https?://")
    access_log: str | None = None
    workspace: str | None = None
    catalogue: str | None = None
    desk_session_minutes: PositiveInt | None = None
    cache: bool | None = None
    cache_dir: str | None = None
    cache_max_mb: PositiveInt | None = None
    daemon: bool | None = None
    daemon_idle_minutes: PositiveFloat | None = None
    worker_growth_mb: PositiveFloat | None = None


@dataclass(frozen=True)
class Settings:
    """The settings in force; defaults where neither file nor environment
    gives one."""

    #: The ``notegen.toml`` they came from, if any.
    path: Path | None = None
    #: Template folders, made absolute, searched before the built-in one.
    template_dirs: tuple[Path, ...] = ()
    #: The register of issued notes: a database URL, or an SQLite file
    #: (made absolute).
    register: str | None = None
    #: The service's tokens file.
    tokens: Path | None = None
    #: Seconds a render may take (the service has a default of its own).
    time_limit: float | None = None
    #: MiB of memory a render may take beyond what its process has.
    memory_limit_mb: int | None = None
    #: Pages a render may make.
    page_limit: int | None = None
    #: Bytes a service request may carry.
    max_body: int = 2_000_000
    #: Root certificates (PEM or DER files) a signer must chain to for the
    #: service's ``/verify`` to call a signature valid.
    trust: tuple[Path, ...] = ()
    #: Seconds a command or request waits for a register busy with another
    #: writer before it gives up (nothing issued, no number taken).
    register_wait: float = 30.0
    #: The service's own signing key (PKCS#12), for requests that ask for a
    #: signed note; its passphrase comes from ``NOTEGEN_KEY_PASSPHRASE``.
    signing_key: Path | None = None
    #: An RFC 3161 time-stamping authority's URL: signatures then carry a
    #: timestamp (PAdES B-T).
    tsa: str | None = None
    #: Where the service writes its access log (JSON lines): a file, or
    #: ``-`` for standard error (the default).
    access_log: Path | None = None
    #: The drafting desk's workspace: the folder of cases ``notegen serve``
    #: serves the desk over (none: no desk).
    workspace: Path | None = None
    #: The ministry's incident catalogue (a folder of record files) the
    #: service's ``/incidents`` and the desk's catalogue page read.
    catalogue: Path | None = None
    #: Minutes a desk sign-in lasts; never longer than its token.
    desk_session_minutes: int = 480
    #: Keep rendered notes by what decides their bytes (:mod:`notegen.render.cache`).
    cache: bool = True
    #: Where they are kept (none: ``$XDG_CACHE_HOME/notegen``).
    cache_dir: Path | None = None
    #: How many MiB of them, the least recently used dropped first.
    cache_max_mb: int = 256
    #: Let the command line hand renders to a warm per-user process
    #: (:mod:`notegen.daemon`).
    daemon: bool = True
    #: Minutes that process waits for work before it ends.
    daemon_idle_minutes: float = 10.0
    #: MiB of resident memory a service worker may gain over what it held
    #: once warm before it is replaced (:mod:`notegen.service.workers`).
    worker_growth_mb: float = 256.0


def load_settings(start: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """The settings for a command run in ``start`` (default: the current
    folder): the first ``notegen.toml`` there or in a parent, with the
    ``NOTEGEN_*`` variables of ``environ`` (default: the process's) over it.

    :raises ConfigError: if the file is not valid TOML, has unknown or
        invalid settings or names a template folder that does not exist, or
        a variable has an invalid value.
    """
    environ = os.environ if environ is None else environ
    folder = (start or Path.cwd()).resolve()
    path = next((candidate / CONFIG_NAME for candidate in (folder, *folder.parents)
                 if (candidate / CONFIG_NAME).is_file()), None)
    given = _read(path) if path is not None else _File()
    base = path.parent if path is not None else folder
    overrides: dict[str, object] = {name: environ[variable]
                                    for name, variable in ENVIRONMENT.items()
                                    if environ.get(variable)}
    if "trust" in overrides:
        overrides["trust"] = str(overrides["trust"]).split(os.pathsep)
    try:
        from_environment = _File.model_validate(overrides)
    except ValidationError as exc:
        raise ConfigError("invalid settings in the environment", [
            Problem(f"{ENVIRONMENT[_field(error)]}: {error['msg']}")
            for error in exc.errors(include_url=False)]) from None
    merged = given.model_copy(update=from_environment.model_dump(exclude_unset=True,
                                                                 by_alias=False))
    folders = tuple((base / name).resolve() for name in merged.template_dirs)
    missing = [Problem(f"template folder {folder} does not exist", Location(path))
               for folder in folders if not folder.is_dir()]
    if missing:
        raise ConfigError(f"the settings in {path} name a missing folder", missing)
    register = merged.register_url
    if register is not None and "://" not in register:
        # A file given in the environment is relative to where the command runs.
        anchor = folder if "register" in overrides else base
        register = str((anchor / register).resolve())

    def resolved(name: str, value: str | None) -> Path | None:
        # A file given in the environment is relative to where the command runs.
        return None if value is None else ((folder if name in overrides else base)
                                           / value).resolve()

    tokens = resolved("tokens", merged.tokens)
    signing_key = resolved("signing_key", merged.signing_key)
    if signing_key is not None and not signing_key.is_file():
        raise ConfigError("the settings name a missing signing key",
                          [Problem(f"signing key {signing_key} is not a file", Location(path))])
    access_log = (Path("-") if merged.access_log == "-"
                  else resolved("access_log", merged.access_log))
    trust = tuple(((folder if "trust" in overrides else base) / name).resolve()
                  for name in merged.trust)
    unreadable = [Problem(f"trust root {root} is not a file", Location(path))
                  for root in trust if not root.is_file()]
    if unreadable:
        raise ConfigError("the settings name a missing trust root", unreadable)
    workspace = resolved("workspace", merged.workspace)
    if workspace is not None and not workspace.is_dir():
        raise ConfigError("the settings name a missing workspace",
                          [Problem(f"workspace {workspace} is not a folder", Location(path))])
    catalogue = resolved("catalogue", merged.catalogue)
    if catalogue is not None and not catalogue.is_dir():
        raise ConfigError("the settings name a missing catalogue",
                          [Problem(f"catalogue {catalogue} is not a folder", Location(path))])
    if path is not None:
        logger.info("settings from %s", path)
    return Settings(path=path, template_dirs=folders, register=register, tokens=tokens,
                    time_limit=merged.time_limit, memory_limit_mb=merged.memory_limit_mb,
                    page_limit=merged.page_limit,
                    max_body=merged.max_body or Settings.max_body, trust=trust,
                    register_wait=merged.register_wait or Settings.register_wait,
                    signing_key=signing_key, tsa=merged.tsa, access_log=access_log,
                    workspace=workspace, catalogue=catalogue,
                    desk_session_minutes=(merged.desk_session_minutes
                                          or Settings.desk_session_minutes),
                    cache=merged.cache is not False,
                    cache_dir=(None if merged.cache_dir is None else resolved(
                        "cache_dir", os.path.expanduser(merged.cache_dir))),
                    cache_max_mb=merged.cache_max_mb or Settings.cache_max_mb,
                    daemon=merged.daemon is not False and not no_daemon(environ),
                    daemon_idle_minutes=(merged.daemon_idle_minutes
                                         or Settings.daemon_idle_minutes),
                    worker_growth_mb=merged.worker_growth_mb or Settings.worker_growth_mb)


def no_daemon(environ: Mapping[str, str]) -> bool:
    """Whether ``NOTEGEN_NO_DAEMON`` turns the daemon off."""
    return environ.get("NOTEGEN_NO_DAEMON", "").strip() not in ("", "0")


def _field(error: ErrorDetails) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    return "register" if name == "register_url" else name


def _read(path: Path) -> _File:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML",
                          [Problem(str(exc), Location(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    unknown = sorted(set(data) - {"notegen"})
    table = data.get("notegen", {})
    problems = [Problem(f"unknown table [{name}]: settings go under [notegen]",
                        Location(path, field=name)) for name in unknown]
    if not isinstance(table, dict):
        problems.append(Problem("notegen must be a table: [notegen]", Location(path)))
        table = {}
    try:
        settings = _File.model_validate(table)
    except ValidationError as exc:
        problems += [Problem(error["msg"], Location(path, field=f"notegen.{_field(error)}"))
                     for error in exc.errors(include_url=False)]
        settings = _File()
    if problems:
        raise ConfigError(f"the settings in {path} have problems", problems)
    return settings
