"""The desk's live preview: a draft (the case with unsaved edits) rendered
to the note's HTML, warm, with every problem and warning located by field.

:class:`DraftPreview` loads the draft through
:meth:`~notegen.desk.workspace.Workspace.draft` (nothing is written),
words it (:func:`~notegen.prepare`) and renders its HTML
(:func:`~notegen.render_html`) in the language and note type asked for.
The process stays warm between renders: the compiled templates, the phrase
catalogues and the legal wording are cached by the stages themselves
(:func:`~notegen.render.html.make_environment`, ``load_catalogue``,
``load_legal``) and loaded when the preview is made, so a keystroke costs
only the reading of the draft and the wording and templating of one note.

A user's mistake never raises: the records' problems (a
:class:`~notegen.RecordError`, the checks of form among them), a template's
(:class:`~notegen.TemplateError`) and a render's
(:class:`~notegen.RenderError`) come back as :class:`FieldProblem` s, each
with the workspace file and field it concerns and the form field's key
(``<file>::<field>``, as the desk names its inputs); the warnings are those
``notegen validate --json`` reports (legal bases that may misapply).

The HTML carries its style sheet inline, and the fonts it names as
``static/fonts/…`` relative URLs: whoever serves it (in an iframe) serves
``static/…`` from the template folders, as ``notegen watch`` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import Settings
from ..errors import NotegenError, Problem, TemplateError
from ..options import RenderOptions, settle, with_settings
from ..records.models import NoteType
from ..render.html import render_html, warm_templates
from ..wording.catalogue import load_catalogue
from ..wording.legal import load_legal
from ..wording.prepare import prepare
from .workspace import Edit, Workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldProblem:
    """A problem or warning, located for the desk's form."""

    message: str
    #: The workspace file it is in (rel); ``None``: not in the workspace
    #: (a template, a catalogue) or nowhere in particular.
    file: str | None
    line: int | None
    #: The field path inside ``file``, as an :class:`~notegen.desk.workspace.Edit` names it.
    field: str | None
    #: ``<file>::<field>``: the form field it belongs to, if any.
    key: str | None

    def as_dict(self) -> dict[str, str | int | None]:
        return {"message": self.message, "file": self.file, "line": self.line,
                "field": self.field, "key": self.key}


@dataclass(frozen=True)
class PreviewResult:
    """What a render of a draft gives the desk."""

    #: The note's HTML; ``None`` when it cannot render (see :attr:`problems`).
    html: str | None
    #: What stops the note (errors), located.
    problems: list[FieldProblem]
    #: What does not stop it but should be looked at (legal bases that may misapply).
    warnings: list[FieldProblem]
    #: How long the render took, in milliseconds.
    elapsed_ms: float
    #: The courtesy translation's HTML, when asked for and the note has one.
    translation_html: str | None = None
    #: The language and note type rendered (the note's own where none was asked for).
    lang: str | None = None
    note_type: NoteType | None = None
    #: The incidents the note recalls (its list, or what its rule resolved
    #: to), oldest first where a rule chose them; ``None`` when the draft
    #: does not load.
    recalled: tuple[str, ...] | None = None
    #: What the note's chronology rule chose by itself; ``None``: no rule.
    chosen: tuple[str, ...] | None = None


class DraftPreview:
    """Renders drafts of the cases of ``workspace``, warm; ``settings``
    give the template folders (default: the workspace's) and a render's limits."""

    def __init__(self, workspace: Workspace, settings: Settings | None = None) -> None:
        self.workspace = workspace
        options = RenderOptions(template_dirs=workspace.folders.user)
        if settings is not None:
            options = with_settings(options, settings)
        #: The options every render starts from.
        self.options = options
        self.warm()

    def warm(self) -> None:
        """Load what every render needs: templates, every language's
        phrases, the legal wording. A broken one is reported by the render
        that needs it."""
        folders = self.options.folders
        try:
            warm_templates(folders)
            for lang in folders.languages():
                load_catalogue(lang, folders)
            load_legal(folders)
        except NotegenError as exc:
            logger.debug("cannot warm the preview: %s", exc)

    def render(self, rel: str, edits: Sequence[Edit], *, lang: str | None,
               note_type: NoteType | str | None, translation: bool = False) -> PreviewResult:
        """The case ``rel`` with ``edits`` applied (nothing written), rendered
        in ``lang`` and as ``note_type`` (the note's own where ``None``); with
        ``translation``, its courtesy translation too (if the note has one)."""
        start = time.perf_counter()
        rendered: str | None = None
        translated: str | None = None
        warnings: list[FieldProblem] = []
        settled_lang: str | None = lang
        settled_type: NoteType | None = None
        recalled: tuple[str, ...] | None = None
        chosen: tuple[str, ...] | None = None
        try:
            kind = NoteType(note_type) if note_type else None
        except ValueError:
            return PreviewResult(None, [FieldProblem(
                f"{note_type!r} is not a note type; choose one of "
                f"{', '.join(t.value for t in NoteType)}", None, None, None, None)], [],
                (time.perf_counter() - start) * 1000)
        try:
            options = replace(self.options, lang=lang or None, note_type=kind)
            case = self.workspace.draft(edits, rel)
            recalled = tuple(case.note.earlier)
            chosen = case.chronology.chosen if case.chronology is not None else None
            options = settle(case, options)
            settled_lang, settled_type = options.lang, options.note_type
            # quiet: the desk shows the warnings; the log would repeat them per keystroke
            prepared = prepare(case, options, quiet=True)
            warnings = [self.located(w) for w in prepared.warnings]
            rendered = render_html(case, options, prepared=prepared)
            if translation and options.translation:
                other = replace(options, lang=options.translation, translation=None,
                                translation_of=options.lang)
                translated = render_html(case, other,
                                         prepared=prepare(case, other, quiet=True))
        except NotegenError as exc:
            problems = self.problems(exc)
        else:
            problems = []
        elapsed = (time.perf_counter() - start) * 1000
        logger.debug("previewed %s in %.1f ms", rel, elapsed)
        return PreviewResult(rendered if not problems else None, problems, warnings, elapsed,
                             translated if not problems else None, settled_lang,
                             settled_type, recalled, chosen)

    def problems(self, error: NotegenError) -> list[FieldProblem]:
        """``error`` as located problems (its sentence, if it lists none)."""
        if error.problems:
            return [self.located(problem) for problem in error.problems]
        message = str(error).split("\n")[0]
        if isinstance(error, TemplateError):
            message = error.message
            if error.line is not None:
                message += f" (template line {error.line})"
        return [FieldProblem(message, None, None, None, None)]

    def located(self, problem: Problem) -> FieldProblem:
        """``problem`` located by workspace file and field; a file outside
        the workspace (a template, a catalogue) is not named."""
        where = problem.location
        rel = self.workspace.rel(Path(where.file)) if where.file is not None else None
        if rel is None and where.file is not None and not Path(where.file).is_absolute():
            # Located by a rel already (a path the desk refused, a file's syntax).
            candidate = Path(where.file).as_posix()
            rel = candidate if (self.workspace.root / candidate).exists() else None
        field = where.field if rel is not None else None
        message = problem.message
        if where.file is not None and rel is None:
            message = f"{message} (in {Path(where.file).name})"
        return FieldProblem(message, rel, where.line if rel is not None else None, field,
                            f"{rel}::{field}" if rel is not None and field else None)
