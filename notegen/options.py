"""How to render a case: the options every stage and every face share.

:class:`RenderOptions` says what to make of a case (language, note type,
which document, courtesy translation, PDF variant), where the templates are
and how far a render may go. :func:`settle` fills in what the options leave
open from the note itself, so every stage sees exactly what is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from .config import Settings
from .records.case import Case
from .records.models import NoteType
from .template_folders import TemplateFolders


class Document(StrEnum):
    """What a render produces from a case: the note, or a document told
    from the same context that goes with it in a démarche."""

    note = "note"
    talking_points = "talking_points"
    press_release = "press_release"


@dataclass(frozen=True)
class RenderOptions:
    """How to render a case. The command line, the service and the Python
    API share it. ``note_type`` and ``document`` take the enums or their
    values as strings (``RenderOptions(note_type="aide_memoire")``).

    Every render runs in a child process bounded by ``time_limit``,
    ``memory_limit_mb`` and ``page_limit`` (:mod:`notegen.render.limits`):
    the defaults are far beyond any real note, and settable in
    ``notegen.toml`` or ``NOTEGEN_*`` variables."""

    #: Template folders searched before the built-in one, first match wins.
    template_dirs: tuple[Path, ...] = ()
    #: Render in this language instead of the note's own.
    lang: str | None = None
    #: Render as this note type instead of the note's own.
    note_type: NoteType | None = None
    #: The note itself, or a document that goes with it (talking points, a
    #: press release), told from the same context.
    document: Document = Document.note
    #: Treat warnings (legal bases that misapply) as errors.
    strict: bool = False
    #: How long a render (wording, template, layout and PDF) may take, in
    #: seconds; a note takes about 0.1 s.
    time_limit: float = 60.0
    #: How much more memory a render may take, in MiB; a note takes about 30.
    memory_limit_mb: int = 1024
    #: How many pages a render may make (a note and its courtesy translation
    #: together); a note has 1-4.
    page_limit: int = 50
    #: Also produce a courtesy translation into this language, as an enclosure
    #: of the PDF.
    translation: str | None = None
    #: Set when rendering a courtesy translation of a note written in this
    #: language; :func:`~notegen.render_pdf` sets it for ``translation``.
    translation_of: str | None = None
    #: The WeasyPrint PDF variant: PDF/A-3b by default (archival, and it may
    #: carry the source records); ``None`` for plain PDF.
    pdf_variant: str | None = "pdf/a-3b"
    #: Embed the source records in the PDF (where the variant allows it).
    embed_record: bool = True

    def __post_init__(self) -> None:
        # Accept the values as strings, as a caller outside Python gives them.
        if self.note_type is not None and not isinstance(self.note_type, NoteType):
            object.__setattr__(self, "note_type", NoteType(self.note_type))
        if not isinstance(self.document, Document):
            object.__setattr__(self, "document", Document(self.document))
        object.__setattr__(self, "template_dirs", tuple(Path(d) for d in self.template_dirs))

    @property
    def folders(self) -> TemplateFolders:
        """The template folders in lookup order, the built-in one last."""
        return TemplateFolders.of(self.template_dirs)


def settle(case: Case, options: RenderOptions | None = None) -> RenderOptions:
    """``options`` with what they leave open (language, note type, courtesy
    translation) taken from the note: exactly what will be rendered."""
    options = options or RenderOptions()
    note = case.note
    if options.translation_of is not None:  # rendering the translation itself
        return replace(options, note_type=options.note_type or note.type)
    return replace(options, lang=options.lang or note.language,
                   note_type=options.note_type or note.type,
                   translation=options.translation or note.translation)


def with_settings(options: RenderOptions, settings: Settings) -> RenderOptions:
    """``options`` with what the settings decide: the template folders (where
    the options name none) and the limits of a render (where set)."""
    limits = {name: value for name in ("time_limit", "memory_limit_mb", "page_limit")
              if (value := getattr(settings, name)) is not None}
    return replace(options, template_dirs=options.template_dirs or settings.template_dirs,
                   **limits)
