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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .context import NoteContext, build_context
from .errors import Location, Problem, RecordError, TemplateError
from .loading import Case
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
    #: The WeasyPrint PDF variant, e.g. "pdf/a-3b"; ``None`` for plain PDF.
    pdf_variant: str | None = None

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


def template_name(case: Case) -> str:
    """The template that renders ``case``: one per note type."""
    return f"{case.note.type.value}.html.j2"


def prepare(case: Case, options: RenderOptions | None = None) -> tuple[NoteContext, Catalogue]:
    """Load the phrase catalogue for the note's language and build its context."""
    options = options or RenderOptions()
    lang = options.lang or case.note.language
    catalogue = load_catalogue(lang, options.folders)
    if catalogue is None:
        available = available_languages(options.folders)
        problem = (f"no phrase catalogue for language {lang!r}; available: "
                   f"{', '.join(available) or 'none'}")
        # A language chosen for this render has no place in the records.
        location = case.locate(None, "language") if options.lang is None else Location()
        raise RecordError([Problem(problem, location)])
    return build_context(case, catalogue), catalogue


def render_html(case: Case, options: RenderOptions | None = None) -> str:
    """Render ``case`` to the HTML of its note.

    :raises TemplateError: if a template is missing, invalid or fails.
    :raises RecordError: if the records lack text in the note's language.
    """
    options = options or RenderOptions()
    context, catalogue = prepare(case, options)
    environment = make_environment(options.folders)
    name = template_name(case)
    try:
        return environment.get_template(name).render(note=context, phrase=catalogue.phrase)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or str(exc), template=exc.filename or exc.name,
                            line=exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name!r} not found in "
                            f"{', '.join(map(str, options.folders))}") from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
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

