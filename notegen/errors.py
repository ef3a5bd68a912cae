"""The exceptions notegen raises.

Every error a user can cause (bad records, a broken template, a render that
cannot complete) is a :class:`NotegenError`. Anything else escaping notegen is
a bug and is left to show its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


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


class NotegenError(Exception):
    """The root of every error caused by input rather than by a bug.

    The command line prints it without a traceback and exits with
    :attr:`exit_code`.
    """

    #: The process exit code the command line uses for this error.
    exit_code = 1


class RecordError(NotegenError):
    """Raised when incident records cannot be read or do not validate.

    All problems found are collected before raising, so a user fixes them in
    one pass. :attr:`problems` lists them, each with file, line and field path.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        return "\n".join([f"the records have {head}:", *(f"  {p}" for p in self.problems)])


class TemplateError(NotegenError):
    """Raised when a template is missing, does not compile or fails to render.

    Carries the template name and line where Jinja reports one.
    """

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None):
        #: The message without the location.
        self.message = message
        self.template = template
        self.line = line
        where = ""
        if template is not None:
            where = f"template {template}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


class RenderError(NotegenError):
    """Raised when the PDF cannot be produced (a blocked resource, a glyph the
    fonts lack, an output file that cannot be written)."""
