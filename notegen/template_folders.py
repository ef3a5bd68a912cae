"""The template folders: the one place that answers "where is this file?".

A render looks files up in a stack of folders: the ministry's folders first,
in the order given, and the built-in folder last; the first folder that has a
file wins. Templates, phrase catalogues (``catalogues/<lang>.yaml``), the
legal wording (``legal/…``), style sheets, images and fonts (``static/…``)
are all found this way, by :class:`TemplateFolders`, for every stage: the
Jinja loader, the catalogue and legal-wording merges, WeasyPrint's URL
fetcher and the signature stamp's font ask it, and nothing else walks the
folders. ``builtin/<name>`` always names the built-in file, so a user
template can extend the very template it overrides.

A file is found only if it is a regular file whose real path (symlinks
followed) lies inside the folder it was found in: a link in a template
folder cannot reach a file outside it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import TemplateError
from .records.models import LANGUAGE_PATTERN

logger = logging.getLogger(__name__)

#: A language code (as records write it) in a file name: ``catalogues/ru.yaml``.
LANGUAGE_CODE = re.compile(LANGUAGE_PATTERN)

#: Where fonts lie in a template folder; the built-in one also holds the
#: fontconfig file that makes the fonts there the only ones a render sees.
FONTS_FOLDER = "static/fonts"

#: The prefix that names a built-in file even where a user folder has one.
BUILTIN_PREFIX = "builtin/"


def _packaged(name: str) -> Path:
    # In a wheel the templates and seeds sit inside the package; in a checkout
    # (or an editable install) they are the repository's top-level folders.
    packaged = Path(str(resources.files("notegen"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


#: The folder holding the built-in templates, catalogues and assets.
BUILTIN_FOLDER = _packaged("templates").resolve()

#: The worked cases, against which ``templates check`` renders.
SEEDS_FOLDER = _packaged("seeds").resolve()


@dataclass(frozen=True)
class TemplateFolders:
    """The folders files are looked up in: ``user`` folders first, in order,
    then the built-in folder. Hashable, so what is read from them can be
    cached per stack."""

    #: The ministry's folders, as given (made absolute by :meth:`of`).
    user: tuple[Path, ...] = ()

    @classmethod
    def of(cls, user: tuple[Path, ...] | list[Path] = ()) -> TemplateFolders:
        """The stack of ``user`` folders (resolved) over the built-in one."""
        return _stack(tuple(Path(folder).resolve() for folder in user))

    @property
    def all(self) -> tuple[Path, ...]:
        """Every folder in lookup order, the built-in one last."""
        return (*self.user, BUILTIN_FOLDER)

    @property
    def first(self) -> Path:
        """The folder relative URLs of a document resolve against."""
        return self.all[0]

    def __iter__(self) -> Iterator[Path]:
        return iter(self.all)

    def find(self, name: str) -> Path | None:
        """The file ``name`` (a relative path with ``/``) in the first folder
        that has it, or ``None``; ``builtin/<name>`` looks in the built-in
        folder only."""
        if name.startswith(BUILTIN_PREFIX):
            return _inside(BUILTIN_FOLDER, name.removeprefix(BUILTIN_PREFIX))
        return next(self.each(name), None)

    def each(self, name: str) -> Iterator[Path]:
        """The file ``name`` in every folder that has it, first folder first:
        the layers of a file that folders add to rather than replace (a
        catalogue, the legal wording)."""
        for folder in self.all:
            found = _inside(folder, name)
            if found is not None:
                yield found

    def font(self, name: str) -> Path:
        """The font file ``name`` of ``static/fonts/``.

        :raises TemplateError: if no folder has it.
        """
        found = self.find(f"{FONTS_FOLDER}/{name}")
        if found is None:
            raise TemplateError(f"no font {FONTS_FOLDER}/{name} in "
                                f"{', '.join(map(str, self.all))}")
        return found

    def names(self, folder_name: str, suffix: str) -> list[str]:
        """The stems of the files ending in ``suffix`` in ``folder_name`` of
        any folder, sorted: e.g. the languages that have a catalogue."""
        stems = set()
        for folder in self.all:
            for path in (folder / folder_name).glob(f"*{suffix}"):
                if _inside(folder, path.relative_to(folder).as_posix()) is not None:
                    stems.add(path.name.removesuffix(suffix))
        return sorted(stems)

    def languages(self) -> list[str]:
        """The languages some folder has a phrase catalogue for."""
        return [name for name in self.names("catalogues", ".yaml")
                if LANGUAGE_CODE.fullmatch(name)]

    def same_file(self, path: Path) -> Path | None:
        """For an absolute ``path`` inside one of the folders, the file at the
        same relative path in the first folder that has it (a style sheet
        of the built-in folder can so use a ministry's image); ``None`` for a
        path outside every folder, or a file no folder has."""
        resolved = path.resolve()
        for folder in self.all:
            if resolved.is_relative_to(folder):
                return self.find(resolved.relative_to(folder).as_posix())
        # A path through a symlinked folder: its real path is what counts.
        return None


def unreadable(folder: Path) -> Iterator[tuple[Path, str]]:
    """The entries of ``folder`` (searched without following links) that a
    render will never read, with why: links leading outside it, links that
    lead nowhere or in a loop, and files that are not regular files (a pipe,
    a device). What ``templates check`` reports."""
    folder = folder.resolve()
    for root, directories, files in os.walk(folder, followlinks=False):
        for name in sorted([*directories, *files]):
            entry = Path(root) / name
            try:
                real = entry.resolve(strict=True)
                mode = real.stat().st_mode
            except (OSError, RuntimeError):
                yield entry, "it is a link that leads nowhere, or in a loop"
                continue
            if not real.is_relative_to(folder):
                yield entry, "it leads outside the template folder"
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                yield entry, "it is not a regular file"


@functools.lru_cache(maxsize=16)
def _stack(user: tuple[Path, ...]) -> TemplateFolders:
    return TemplateFolders(user)


def builtin() -> TemplateFolders:
    """The built-in folder alone."""
    return _stack(())


def _inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` if it is a regular file whose real path lies inside
    ``folder``; else ``None``."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return None
    candidate = folder / name
    try:
        real = candidate.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    if not stat.S_ISREG(mode):
        return None
    if not real.is_relative_to(folder):
        logger.warning("ignored %s: it leads outside its template folder %s", candidate,
                       folder)
        return None
    return real
