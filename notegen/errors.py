"""The exceptions notegen raises.

Every error a user can cause (bad records, a broken template or catalogue,
a render that cannot complete, broken settings, a register that refuses) is a
:class:`NotegenError`. Anything else escaping notegen is a bug and is left to
show its traceback.

Each error carries a plain sentence and, where there are several things
wrong, :attr:`~NotegenError.problems`: every one, located by file, line,
column and field. Errors survive a process boundary with their kind and
problems (they pickle), so a render bounded in a child process reports
exactly what the same render in the parent would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where in an input file a problem was found.

    ``line`` and ``column`` count from 1; either may be unknown (``None``).
    ``field`` is the dotted path inside the record, e.g. ``incidents[2].date``.
    """

    file: Path | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            place = str(self.file)
            if self.line is not None:
                place += f":{self.line}"
                if self.column is not None:
                    place += f":{self.column}"
            parts.append(place)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, in a plain sentence, with its location."""

    message: str
    location: Location = Location()

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, str | int | None]:
        """The problem as JSON takes it: message, file, line, column, field."""
        where = self.location
        return {"message": self.message, "file": str(where.file) if where.file else None,
                "line": where.line, "column": where.column, "field": where.field}


def _restore(kind: type[NotegenError], args: tuple[Any, ...],
             state: dict[str, Any]) -> NotegenError:
    """Rebuild a pickled error without calling its ``__init__`` (whose
    signature differs from class to class)."""
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class NotegenError(Exception):
    """The root of every error caused by input rather than by a bug.

    The command line prints it without a traceback and exits with
    :attr:`exit_code`; the service answers with its sentence and problems.
    """

    #: The process exit code the command line uses for this error.
    exit_code = 1
    #: Every problem behind the error, located; empty if the sentence says it all.
    problems: tuple[Problem, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self), self.args, dict(self.__dict__))


def _listed(sentence: str, problems: tuple[Problem, ...]) -> str:
    """``sentence``, then each problem on a line of its own."""
    return "\n".join([sentence, *(f"  {p}" for p in problems)])


class RecordError(NotegenError):
    """Raised when incident records cannot be read or do not validate.

    All problems found are collected before raising, so a user fixes them in
    one pass. :attr:`problems` lists them, each with file, line and field path.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        counted = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(_listed(f"the records have {counted}:", self.problems))


class TemplateError(NotegenError):
    """Raised when a template, a phrase catalogue or the legal wording is
    missing, invalid or fails to render.

    Carries the template name and line where Jinja reports one; a data file
    of a template folder (a catalogue) reports every problem in
    :attr:`problems`, located like record problems.
    """

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None,
                 problems: Iterable[Problem] = ()) -> None:
        #: The message without the location.
        self.message = message
        self.template = template
        self.line = line
        self.problems = tuple(problems)
        where = ""
        if template is not None:
            where = f"template {template}" + (f", line {line}" if line is not None else "")
        super().__init__(_listed(f"{where}: {message}" if where else message, self.problems))


class RenderError(NotegenError):
    """Raised when the PDF cannot be produced (a blocked resource, a glyph the
    fonts lack, an output file that cannot be written)."""


class ConfigError(NotegenError):
    """Raised when the settings (``notegen.toml``, ``NOTEGEN_*`` variables, the
    service's tokens file) are unreadable or invalid."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(_listed(message, self.problems))


class RegisterError(NotegenError):
    """Raised when the register of issued notes cannot be opened or refuses
    an operation (no such note, cancelled already, busy)."""


class RegisterBusy(RegisterError):
    """Raised when another writer held the register for longer than the
    wait allowed: nothing was written, and trying again later may succeed."""


class DaemonError(NotegenError):
    """Raised when the daemon's folder is unsafe or the daemon cannot be
    reached or refuses; the command line then works in its own process."""
