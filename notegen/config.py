"""Project settings from ``notegen.toml``, so a ministry's desk need not repeat
its template folders on every command.

notegen looks for ``notegen.toml`` in the current folder and its parents; the
first found applies. Paths in it are relative to the file::

    [notegen]
    template_dirs = ["ministry-templates"]
    register = "register.db"      # or "postgresql://notegen@db.mfa/notes"
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Location, Problem, RecordError

logger = logging.getLogger(__name__)

#: The name of the project settings file.
CONFIG_NAME = "notegen.toml"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_dirs: list[str] = Field(default_factory=list)
    # ("register" is a method of BaseModel: read it under another name.)
    register_url: str | None = Field(None, alias="register")


@dataclass(frozen=True)
class Config:
    """Settings found for a folder; empty if there is no ``notegen.toml``."""

    #: The file they came from, if any.
    path: Path | None = None
    #: Template folders, made absolute, searched before the built-in one.
    template_dirs: tuple[Path, ...] = ()
    #: The register of issued notes: a database URL, or an SQLite file
    #: (relative to the settings file).
    register: str | None = None


def find_config(start: Path | None = None) -> Config:
    """The settings of the first ``notegen.toml`` in ``start`` (default: the
    current folder) or its parents.

    :raises RecordError: if the file is not valid TOML or has unknown settings.
    """
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_NAME
        if path.is_file():
            return _read(path)
    return Config()


def _read(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        settings = _Settings.model_validate(data.get("notegen", {}))
    except tomllib.TOMLDecodeError as exc:
        raise RecordError([Problem(f"invalid TOML: {exc}", Location(path))]) from None
    except ValidationError as exc:
        raise RecordError([Problem(f"notegen.{'.'.join(map(str, e['loc']))}: {e['msg']}",
                                   Location(path)) for e in exc.errors()]) from None
    folders = tuple((path.parent / name).resolve() for name in settings.template_dirs)
    for folder in folders:
        if not folder.is_dir():
            raise RecordError([Problem(f"template folder {folder} does not exist",
                                       Location(path))])
    register = settings.register_url
    if register is not None and "://" not in register:
        register = str((path.parent / register).resolve())
    logger.info("settings from %s", path)
    return Config(path, folders, register)
