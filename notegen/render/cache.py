"""Rendered notes kept by what decides their bytes: a content-addressed
cache of outputs.

A render is a pure function of its inputs (notegen's output is
reproducible), so its output can be kept under a key that covers all of
them and handed back when the same inputs come again. The key
(:func:`output_key`) is a SHA-256 over

- the records as rendered: the canonical record JSON the PDF embeds, with
  the note's type, language and translation as rendered;
- the render options (settled) and the output format;
- every file of the template folders in use, by content: templates,
  catalogues, legal wording, style sheets, images and fonts, the built-in
  folder too (a symlink also by where it leads);
- the software: notegen's version and a stamp of its own files (a changed
  checkout is another notegen), the versions of WeasyPrint and of the
  libraries that write the PDF, and Python's;
- ``SOURCE_DATE_EPOCH`` and ``FONTCONFIG_FILE``.

Hashing a folder's files reads them once per process: a file whose path,
size, modification and change times and inode are the same as when it was
last hashed is not read again (a warm process, such as the daemon, pays a
``stat`` per file).

Entries are files under ``<cache_dir>/outputs/``, written whole (a temporary
file, then :func:`os.replace`) and checked on every read against the digest
stored with them: a damaged entry is dropped (logged as a warning) and the
note rendered again. The folder is kept under its size bound (``cache_max_mb``)
by removing the least recently used entries (a hit touches its entry).
Writers in several processes may share a folder: the last complete write of
an entry wins, and all are the same bytes.

What the cache does not see: the system libraries WeasyPrint draws with
(Pango, HarfBuzz, fontconfig). After upgrading them, render with
``--no-cache`` or empty the folder. ``notegen issue`` never uses the cache:
the note it issues carries a number the register has just given.

The stamp of notegen's own code in the key is
:func:`~notegen.version.code_stamp`, taken when this module is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import logging
import os
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..version import __version__, code_changed, code_stamp

if TYPE_CHECKING:
    from ..options import RenderOptions
    from ..records.case import Case
    from ..template_folders import TemplateFolders

logger = logging.getLogger(__name__)

#: Bumped whenever the key or the entries change meaning.
FORMAT = 1
#: The first line of every entry.
_MAGIC = b"notegen-cache 1\n"
#: The size bound when the settings give none, in MiB.
DEFAULT_MAX_MB = 256
#: The libraries besides WeasyPrint whose version can change an output's bytes (PDF or DOCX).
_LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "pyphen", "fonttools",
              "jinja2", "babel", "python-docx", "docxtpl", "lxml",
              "docxcompose")
#: The environment variables that change a render's bytes.
_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "FONTCONFIG_FILE")
#: A temporary file older than this (seconds) was left by a writer that died.
_STALE_TEMPORARY = 3600.0

#: The content digest of each file hashed, with the stat it had then.
_digests: dict[str, tuple[tuple[int, int, int, int, int], bytes]] = {}
#: The template folder stacks fingerprinted in this process, with their digest.
_stacks: dict[TemplateFolders, str] = {}
_lock = threading.Lock()


def default_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where the cache lives unless ``cache_dir`` says otherwise:
    ``$XDG_CACHE_HOME/notegen``, else ``~/.cache/notegen``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "notegen"


def _stat_key(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def file_digest(path: Path | str) -> bytes:
    """The SHA-256 of the file at ``path``, read only if it changed since
    this process last hashed it.

    :raises OSError: if it cannot be read.
    """
    name = os.fspath(path)
    with open(name, "rb") as stream:
        info = os.fstat(stream.fileno())
        stamp = _stat_key(info)
        known = _digests.get(name)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = hashlib.file_digest(stream, "sha256").digest()
    with _lock:
        _digests[name] = (stamp, digest)
    return digest


def _walk(folder: Path) -> Iterator[tuple[str, Path]]:
    """Every entry under ``folder`` (links not followed), by its relative
    name, in an order that does not depend on the file system."""
    for root, directories, files in os.walk(folder, followlinks=False):
        directories.sort()
        base = Path(root)
        for name in sorted([*files, *(d for d in directories if (base / d).is_symlink())]):
            entry = base / name
            yield entry.relative_to(folder).as_posix(), entry


def folder_digest(folders: TemplateFolders) -> str:
    """A digest of every file in ``folders`` (the built-in one too): their
    names, where links lead, and their contents."""
    digest = hashlib.sha256()
    for folder in folders.all:
        digest.update(f"folder\0{folder}\0".encode())
        for name, entry in _walk(folder):
            encoded = name.encode("utf-8", "surrogateescape")
            if entry.is_symlink():
                with contextlib.suppress(OSError):
                    target = os.readlink(entry)
                    digest.update(b"link\0" + encoded + b"\0"
                                  + target.encode("utf-8", "surrogateescape") + b"\0")
            try:
                mode = entry.stat().st_mode
                if stat.S_ISREG(mode):
                    digest.update(b"file\0" + encoded + b"\0" + file_digest(entry))
            except OSError:  # unreadable or dangling: a render cannot read it either
                digest.update(b"none\0" + encoded + b"\0")
    found = digest.hexdigest()
    with _lock:
        _stacks[folders] = found
    return found


def changed_stacks(extra: Iterable[TemplateFolders] = ()) -> list[TemplateFolders]:
    """The stacks fingerprinted in this process (and ``extra``) whose files
    changed since: what a long-lived process must forget of them."""
    changed = []
    for folders in {*_stacks, *extra}:
        before = _stacks.get(folders)
        if folder_digest(folders) != before and before is not None:
            changed.append(folders)
    return changed


code_stamp()  # now, before the modules a render imports later


@cache
def _versions() -> dict[str, str | None]:
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def software() -> dict[str, Any]:
    """What of the software decides a render's bytes."""
    return {"notegen": __version__, "code": code_stamp(), "libraries": _versions(),
            "python": sys.version}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def output_key(case: Case, options: RenderOptions, fmt: str,
               environ: Mapping[str, str] | None = None) -> str:
    """The key of the output of ``case`` rendered to ``fmt`` with settled
    ``options``: a SHA-256, in hex, over everything that decides its bytes
    (the module's docstring lists it)."""
    from ..template_folders import builtin
    from .pdf import rendered_records

    environ = dict(os.environ if environ is None else environ)
    # The fonts a render will see: the built-in ones unless the caller chose.
    environ.setdefault("FONTCONFIG_FILE", str(builtin().font("fonts.conf")))
    payload = {
        "format": FORMAT,
        "output": fmt,
        "records": hashlib.sha256(rendered_records(case, options)).hexdigest(),
        "options": {field.name: _plain(getattr(options, field.name))
                    for field in dataclasses.fields(options)},
        "folders": folder_digest(options.folders),
        "software": software(),
        "environment": {name: environ.get(name) for name in _ENVIRONMENT},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What the cache gives back: the output, and the warnings its render
    logged (logged again on a hit, so a repeat says what the first said)."""

    data: bytes
    warnings: tuple[str, ...] = ()


class OutputCache:
    """The outputs kept in ``folder``, at most ``max_mb`` MiB of them."""

    def __init__(self, folder: Path, max_mb: int = DEFAULT_MAX_MB) -> None:
        self.folder = Path(folder) / "outputs"
        self.max_bytes = max_mb * 1024 * 1024

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.folder / key[:2] / key

    def get(self, key: str) -> Entry | None:
        """The entry of ``key``, or ``None``: none kept, or the one kept was
        damaged (then it is removed, and a warning logged)."""
        path = self._path(key)
        try:
            with open(path, "rb") as stream:
                raw = stream.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.info("cannot read the cache entry %s: %s", path, exc)
            return None
        entry = _parse(raw)
        if entry is None:
            logger.warning("the cache entry %s was damaged: removed, the note is rendered "
                           "again", path)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to go
        logger.debug("cache hit %s", key)
        return entry

    def put(self, key: str, data: bytes, warnings: Iterable[str] = ()) -> None:
        """Keep ``data`` (and the ``warnings`` of its render) under ``key``,
        then bring the folder back under its bound. A cache that cannot be
        written is logged and otherwise ignored: the note was rendered."""
        path = self._path(key)
        header = json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                             "warnings": list(warnings)}, ensure_ascii=False).encode()
        raw = _MAGIC + header + b"\n" + data
        if len(raw) > self.max_bytes:
            logger.debug("not cached: %d bytes is more than the cache holds", len(raw))
            return
        if code_changed():
            logger.info("not cached: notegen's files changed while this process ran, "
                        "so the render may come from older code")
            return
        try:
            # Only its user may read what it keeps: notes before they are issued.
            self.folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            for folder in (self.folder, path.parent):
                folder.mkdir(exist_ok=True, mode=0o700)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(raw)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            logger.warning("cannot write to the cache in %s (%s): renders are not kept; "
                           "set cache_dir, or cache = false", self.folder, exc)
            return
        self.trim()

    def entries(self) -> list[tuple[Path, os.stat_result]]:
        """Every entry with its stat, least recently used first; temporary
        files left by writers that died are removed on the way."""
        found = []
        now = time.time()
        try:
            shards = list(os.scandir(self.folder))
        except OSError:
            return []
        for shard in shards:
            if not shard.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                for item in os.scandir(shard.path):
                    with contextlib.suppress(OSError):
                        info = item.stat(follow_symlinks=False)
                        if item.name.startswith(".tmp-"):
                            if now - info.st_mtime > _STALE_TEMPORARY:
                                os.unlink(item.path)
                        elif stat.S_ISREG(info.st_mode):
                            found.append((Path(item.path), info))
        found.sort(key=lambda pair: pair[1].st_mtime_ns)
        return found

    def size(self) -> int:
        """The bytes the entries take."""
        return sum(info.st_size for _, info in self.entries())

    def trim(self) -> None:
        """Remove the least recently used entries until the rest fit the bound."""
        entries = self.entries()
        total = sum(info.st_size for _, info in entries)
        for path, info in entries:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                logger.debug("cache: removed %s (least recently used)", path.name)
            total -= info.st_size


def _parse(raw: bytes) -> Entry | None:
    """The entry ``raw`` holds, or ``None`` if it is damaged."""
    if not raw.startswith(_MAGIC):
        return None
    header, newline, data = raw[len(_MAGIC):].partition(b"\n")
    try:
        meta = json.loads(header)
        digest, size, warnings = meta["sha256"], meta["size"], meta["warnings"]
    except (ValueError, KeyError, TypeError):
        return None
    if not newline or len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        return None
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        return None
    return Entry(data, tuple(warnings))


def forget_digests() -> None:
    """Forget every file digest this process knows (tests; a process that
    cannot trust file times)."""
    with _lock:
        _digests.clear()
        _stacks.clear()
