"""From a note context to HTML, through sandboxed Jinja templates.

Templates are looked up in template folders, user folders first and the
built-in folder last; ``builtin/<name>`` always names the built-in file, so a
user template can extend the very template it overrides. Every template runs
in Jinja's sandbox with ``StrictUndefined`` and autoescaping on.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .companions import Companion, Document, build_companion
from .context import NoteContext, build_context, language_name
from .errors import Location, Problem, RecordError, TemplateError
from .guard import run_bounded
from .legal import check, cited, load_legal
from .lint import lint
from .loading import Case
from .models import NoteType, Profile
from .phrases import Catalogue, available_languages, capitalize_first, load_catalogue

logger = logging.getLogger(__name__)


def _builtin_folder() -> Path:
    # In a wheel the templates sit inside the package; in a checkout (or an
    # editable install) they are the repository's top-level templates/.
    packaged = Path(str(resources.files("notegen"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


#: The folder holding the built-in templates, catalogues and assets.
BUILTIN_FOLDER = _builtin_folder()


@dataclass(frozen=True)
class RenderOptions:
    """How to render a case. The command line and the Python API share it."""

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
    #: How long user templates may take to render, in seconds.
    time_limit: float = 10.0
    #: How much more memory user templates may take to render, in MiB.
    memory_limit_mb: int = 512
    #: Also produce a courtesy translation into this language, as an enclosure
    #: of the PDF.
    translation: str | None = None
    #: Set when rendering a courtesy translation of a note written in this
    #: language; :func:`~notegen.pdf.render_pdf` sets it for ``translation``.
    translation_of: str | None = None
    #: The WeasyPrint PDF variant: PDF/A-3b by default (archival, and it may
    #: carry the source records); ``None`` for plain PDF.
    pdf_variant: str | None = "pdf/a-3b"
    #: Embed the source records in the PDF (where the variant allows it).
    embed_record: bool = True

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every template folder in lookup order, the built-in one last."""
        return (*(folder.resolve() for folder in self.template_dirs), BUILTIN_FOLDER)


@jinja2.pass_context
def _sentence(context: jinja2.runtime.Context, text: str) -> str:
    """Filter: capitalise the first letter the way the note's language does."""
    return capitalize_first(text, context["note"].lang)


@functools.lru_cache(maxsize=8)
def make_environment(folders: tuple[Path, ...]) -> jinja2.Environment:
    """The sandboxed Jinja environment for ``folders`` (cached per folder list)."""
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader([str(folder) for folder in folders]),
        jinja2.PrefixLoader({"builtin": jinja2.FileSystemLoader(str(BUILTIN_FOLDER))}),
    ])
    environment = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["sentence"] = _sentence
    return environment


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


def template_name(case: Case, options: RenderOptions | None = None) -> str:
    """The template that renders ``case``: one per note type, one per companion."""
    if options is not None and options.document is not Document.note:
        return f"{options.document.value}.html.j2"
    note_type = (options and options.note_type) or case.note.type
    return f"{note_type.value}.html.j2"


@dataclass(frozen=True)
class Prepared:
    """A note ready for its template: its context and phrases, and the
    warnings found on the way."""

    context: NoteContext
    catalogue: Catalogue
    #: Problems that do not stop a render (legal bases that may misapply).
    warnings: tuple[Problem, ...]
    #: The companion document's own context, if one is rendered.
    companion: Companion | None = None


def prepare(case: Case, options: RenderOptions | None = None) -> Prepared:
    """Word the note of ``case``: load the phrases of its language with the
    sender's house formulae, choose and check its legal bases, build its
    context and lint its form.

    :raises RecordError: for problems in the records, and for warnings too
        when ``options.strict`` is set.
    :raises TemplateError: for a broken catalogue.
    """
    location = case.locate(None, "language") if not (options and options.lang) else Location()
    options = settle(case, options)
    note_type = options.note_type or case.note.type
    catalogue = _catalogue(case, options.lang or case.note.language, options, note_type,
                           location)
    legal = load_legal(options.folders)
    citations = cited(case, legal)
    warnings = check(case, citations)
    enclosures: tuple[str, ...] = ()
    if options.translation:
        enclosures = (catalogue.phrase("enclosure.translation", language=language_name(
            options.translation, catalogue)),)
    mark = ""
    if options.translation_of:
        mark = catalogue.phrase("translation.mark", language=language_name(
            options.translation_of, catalogue))
    context = build_context(case, catalogue, citations, note_type, enclosures, mark)
    problems = lint(case, catalogue, context, note_type)
    if options.strict:
        problems.extend(warnings)
    if problems:
        raise RecordError(problems)
    for warning in warnings:
        logger.warning("%s", warning)
    return Prepared(context, catalogue, tuple(warnings),
                    build_companion(options.document, context, catalogue))


def _catalogue(case: Case, lang: str, options: RenderOptions, note_type: NoteType,
               location: Location) -> Catalogue:
    """The phrases of ``lang`` with the sender's house formulae over them."""
    catalogue = load_catalogue(lang, options.folders)
    if catalogue is None:
        available = available_languages(options.folders)
        problem = (f"no phrase catalogue for language {lang!r}; available: "
                   f"{', '.join(available) or 'none'}")
        # (A language chosen for this render has no place in the records.)
        raise RecordError([Problem(problem, location)])
    sender = case.parties[case.note.sender]
    house = sender.formulae.get(lang, {}) if isinstance(sender, Profile) else {}
    unknown = [key for key in house if key not in catalogue.phrases
               and key.partition(".")[2] not in catalogue.phrases]
    if unknown:
        raise RecordError([Problem(
            f"{key!r} is not a phrase of the {catalogue.language} catalogue, so this house "
            "formula would never be used (check the key's spelling)",
            case.locate(sender.id, "formulae", lang, key)) for key in unknown])
    return catalogue.with_phrases(house, variant=note_type.value)


def render_html(case: Case, options: RenderOptions | None = None) -> str:
    """Render ``case`` to the HTML of its note.

    Templates from user folders run in a child process bounded in time and
    memory (``options.time_limit``, ``options.memory_limit_mb``): a template
    that loops forever or builds huge strings is stopped with an error.

    :raises TemplateError: if a template is missing, invalid, fails or
        exceeds its bounds.
    :raises RecordError: if the records lack text in the note's language.
    """
    options = options or RenderOptions()
    prepared = prepare(case, options)
    arguments = (options.folders, template_name(case, options), prepared.context,
                 prepared.catalogue, prepared.companion)
    if not options.template_dirs:
        return _render_template(*arguments)
    return run_bounded(_render_template, arguments, seconds=options.time_limit,
                       memory_mb=options.memory_limit_mb)


def _render_template(folders: tuple[Path, ...], name: str, context: NoteContext,
                     catalogue: Catalogue, companion: Companion | None) -> str:
    environment = make_environment(folders)
    try:
        return environment.get_template(name).render(note=context, doc=companion,
                                                      phrase=catalogue.phrase)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or str(exc), template=exc.filename or exc.name,
                            line=exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name!r} not found in "
                            f"{', '.join(map(str, folders))}") from None
    except TemplateError as exc:
        # A phrase the template asked for: point at the template's line.
        template_file, line = _template_frame(sys.exc_info()[2])
        if template_file is None:
            raise
        raise TemplateError(exc.message, template=template_file, line=line) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
            RecursionError) as exc:
        # Undefined names, sandbox refusals, and what an expression in a
        # template can raise: the template's fault, reported at its line.
        template_file, line = _template_frame(sys.exc_info()[2])
        if template_file is None:
            raise  # not raised by template code: a bug in notegen
        raise TemplateError(str(exc) or type(exc).__name__, template=template_file,
                            line=line) from None


def _template_frame(tb: object) -> tuple[str | None, int | None]:
    """The innermost template file and line in a traceback Jinja rewrote."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(tb):  # type: ignore[arg-type]
        if frame.filename.endswith((".j2", ".html", ".css")):
            found = (frame.filename, frame.lineno)
    return found

