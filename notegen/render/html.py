"""From a note context to HTML, through sandboxed Jinja templates.

Templates are found by the template folders (:class:`~notegen.TemplateFolders`:
user folders first, the built-in folder last; ``builtin/<name>`` always names
the built-in file, so a user template can extend the very template it
overrides). Every template runs in Jinja's sandbox with ``StrictUndefined``
and autoescaping on, in a child process bounded in time and memory
(:mod:`.limits`): a user template can loop for ever, and a built-in one be
given a record text of megabytes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import stat
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import TemplateError
from ..options import Document, RenderOptions
from ..records.case import Case
from ..template_folders import BUILTIN_FOLDER, BUILTIN_PREFIX, TemplateFolders
from ..wording.catalogue import Catalogue, capitalize_first
from ..wording.companions import Companion
from ..wording.context import NoteContext
from ..wording.prepare import Prepared, prepare
from ..wording.typography import typeset_html
from .limits import Stage, inside, on_files_changed, run_bounded, shorten_quotes, stage

logger = logging.getLogger(__name__)


@jinja2.pass_context
def _sentence(context: jinja2.runtime.Context, text: str) -> str:
    """Filter: capitalise the first letter the way the note's language does."""
    return capitalize_first(text, context["note"].lang)


class _FolderLoader(jinja2.BaseLoader):
    """Jinja's loader over the template folders: it asks them for each file."""

    def __init__(self, folders: TemplateFolders) -> None:
        self.folders = folders

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folders.find(template)
        if path is None:
            raise jinja2.TemplateNotFound(template)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read the template: {exc}", template=str(path)
                                ) from None
        return source, str(path), lambda: True  # read once per process


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates in a folder, keyed by each
    template's name and file as Jinja keys it, and by everything that decides
    the code it compiles to: the environment's settings, and the notegen and
    Jinja versions (Jinja checks the source's checksum and the Python
    version itself). A file that cannot be written is only not kept."""

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        return super().get_bucket(environment, f"{_settings_key(environment)}|{name}",
                                  filename, source)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            logger.debug("compiled template not kept in %s: %s", self.directory, exc)


def _settings_key(environment: jinja2.Environment) -> str:
    from ..version import __version__

    settings = (__version__, jinja2.__version__, type(environment).__qualname__,
                environment.block_start_string, environment.block_end_string,
                environment.variable_start_string, environment.variable_end_string,
                environment.comment_start_string, environment.comment_end_string,
                environment.line_statement_prefix, environment.line_comment_prefix,
                environment.trim_blocks, environment.lstrip_blocks,
                environment.newline_sequence, environment.keep_trailing_newline,
                environment.autoescape, environment.optimized, sorted(environment.extensions),
                sorted(getattr(environment, "intercepted_binops", ())),
                sorted(getattr(environment, "intercepted_unops", ())))
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


#: Where compiled templates are kept between processes, if anywhere
#: (:func:`keep_compiled_templates`).
_compiled: _CompiledTemplates | None = None


def keep_compiled_templates(folder: Path) -> bool:
    """Keep the templates this process compiles in ``folder``, and take
    those kept there by earlier processes instead of compiling them again (a
    cold render compiles its templates in about 20 ms; loading them takes
    about 2). Applies to the environments made from now on.

    The files there are code that runs outside the sandbox when loaded, so
    ``folder`` is used only if it is a folder of this user's own that no one
    else may open (it and its parent, the cache folder, are made so if
    missing); returns whether it is used.
    """
    global _compiled
    try:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the cache folder
        folder.mkdir(exist_ok=True, mode=0o700)
        info = folder.lstat()
    except OSError as exc:
        logger.debug("no compiled templates kept in %s: %s", folder, exc)
        return False
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & 0o077):
        logger.debug("no compiled templates kept in %s: not a private folder of this user",
                     folder)
        return False
    _compiled = _CompiledTemplates(str(folder))
    return True


@functools.lru_cache(maxsize=8)
def make_environment(folders: TemplateFolders) -> jinja2.Environment:
    """The sandboxed Jinja environment for ``folders`` (cached per stack)."""
    environment = ImmutableSandboxedEnvironment(
        loader=_FolderLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=_compiled,
    )
    environment.filters["sentence"] = _sentence
    return environment


def template_name(case: Case, options: RenderOptions | None = None) -> str:
    """The template that renders ``case``: one per note type, one per companion."""
    if options is not None and options.document is not Document.note:
        return f"{options.document.value}.html.j2"
    note_type = (options and options.note_type) or case.note.type
    return f"{note_type.value}.html.j2"


def render_html(case: Case, options: RenderOptions | None = None, *,
                prepared: Prepared | None = None) -> str:
    """Render ``case`` to the HTML of its note (or the document ``options`` name).

    ``prepared`` is the note already worded with these options (by
    :func:`~notegen.prepare`), so that a caller who needed it first does not
    word the note twice.

    With a ministry's template folders, the note is worded and its template
    run in a child process bounded in time and memory
    (``options.time_limit``, ``options.memory_limit_mb``): a template that
    loops forever or builds huge strings is stopped with an error. The
    built-in templates run here: they do work in proportion to the records,
    which the reader bounds (:mod:`notegen.records.reading`), and a preview
    is then 8 times faster than through a child. (A PDF is always laid out
    in a bounded child: layout is not linear.)

    :raises TemplateError: if a template is missing, invalid, fails or
        exceeds its bounds.
    :raises RecordError: if the records lack text in the note's language.
    """
    options = options or RenderOptions()
    if not options.template_dirs or inside():
        return _render(case, options, prepared)
    warm_templates(options.folders)
    html: str = run_bounded(_render, (case, options, prepared), seconds=options.time_limit,
                            memory_mb=options.memory_limit_mb, reads=options.folders)
    return html


def _render(case: Case, options: RenderOptions, prepared: Prepared | None) -> str:
    stage(Stage.template)
    prepared = prepared or prepare(case, options)
    return _render_template(options.folders, template_name(case, options), prepared.context,
                            prepared.catalogue, prepared.companion)


def forget_templates() -> None:
    """Drop every compiled template, so that the next render reads the
    templates again: for a long-lived process (``notegen watch``) after a
    template file changed. (Catalogues and legal wording are read again by
    themselves when their files change.)"""
    make_environment.cache_clear()
    _warm.clear()


on_files_changed(forget_templates)  # (a bounded child kept for later renders too)


def warm_templates(folders: TemplateFolders) -> None:
    """Compile, in this process, the built-in templates ``folders`` use (once
    per process): renders run in forked children, which would compile them
    anew each time. User templates are compiled in the bounded child: a
    template of megabytes must not take its time here."""
    if folders in _warm:
        return
    _warm.add(folders)
    environment = make_environment(folders)
    for path in sorted(BUILTIN_FOLDER.glob("*.j2")):
        for name in (f"{BUILTIN_PREFIX}{path.name}", path.name):
            if folders.find(name) == path:
                try:
                    environment.get_template(name)
                except (jinja2.TemplateError, TemplateError) as exc:  # pragma: no cover
                    logger.debug("cannot compile %s: %s", name, exc)


#: The template folders whose built-in templates this process has compiled.
_warm: set[TemplateFolders] = set()


def _render_template(folders: TemplateFolders, name: str, context: NoteContext,
                     catalogue: Catalogue, companion: Companion | None) -> str:
    environment = make_environment(folders)
    try:
        html = environment.get_template(name).render(note=context, doc=companion,
                                                      phrase=catalogue.phrase)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(shorten_quotes(exc.message or str(exc)),
                            template=exc.filename or exc.name, line=exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name!r} not found in "
                            f"{', '.join(map(str, folders.all))}") from None
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
        raise TemplateError(shorten_quotes(str(exc)) or type(exc).__name__,
                            template=template_file, line=line) from None
    # The language's typography, on every text of the note: the records' too.
    return typeset_html(html, catalogue.typography)


def _template_frame(tb: object) -> tuple[str | None, int | None]:
    """The innermost template file and line in a traceback Jinja rewrote."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(tb):  # type: ignore[arg-type]
        if frame.filename.endswith((".j2", ".html", ".css")):
            found = (frame.filename, frame.lineno)
    return found

