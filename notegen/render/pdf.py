"""From HTML to PDF: WeasyPrint behind one function.

WeasyPrint is imported on first use, so loading and validating records stays
fast. Rendering is strict where WeasyPrint is lenient: a resource it could not
load, or a character no font could draw, stops the render with a
:class:`~notegen.errors.RenderError` instead of leaving a gap in the note.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import gc
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import NotegenError, RenderError
from ..options import RenderOptions, settle
from ..records.case import Case, load_case
from ..records.dump import dump_case
from ..template_folders import SEEDS_FOLDER, TemplateFolders, builtin
from ..wording.prepare import Prepared
from .atomic import write_atomic
from .html import render_html, warm_templates
from .hyphenation import register_hyphenation
from .limits import (
    QUOTE_LIMIT,
    Stage,
    at_child_exit,
    inside,
    on_files_changed,
    run_bounded,
    shorten,
    shorten_quotes,
    stage,
)

logger = logging.getLogger(__name__)

#: How WeasyPrint (>= 67) says a character was drawn as an empty box.
_NOTDEF = ".notdef glyph"

#: The PDF variants notegen offers: WeasyPrint's PDF/A and PDF/UA ones (its
#: PDF/X variants write the clock into the file, so they are left out).
PDF_VARIANTS = ("pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/a-4u",
                "pdf/a-1a", "pdf/a-2a", "pdf/a-3a", "pdf/a-4e", "pdf/a-4f", "pdf/ua-1",
                "pdf/ua-2")

#: The name of the source records inside a PDF.
RECORD_NAME = "notegen-record.json"


def can_embed(variant: str | None) -> bool:
    """Whether a PDF of ``variant`` may carry the records as a JSON attachment
    (PDF/A-1 allows no attachment, PDF/A-2 and -4 only PDF/A ones)."""
    return variant is None or variant.startswith(("pdf/a-3", "pdf/a-4f", "pdf/ua"))


@dataclass(frozen=True)
class Embedded:
    """A file to attach to the PDF as an associated file."""

    name: str
    data: bytes
    description: str
    #: Its AFRelationship, e.g. "Source".
    relationship: str
    #: Its creation and modification date: fixed, so output is reproducible.
    date: dt.datetime


#: How many of WeasyPrint's complaints an error lists; the rest are counted.
_MESSAGE_LIMIT = 20


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR and not str(record.msg).startswith(_NOTDEF):
            return
        message = _quoted(record)
        if message.startswith(_NOTDEF):
            text = message.split(": ", 1)[-1]
            message = (f"no font of the template can draw {text}; remove the character or "
                       "give the template a font that has it")
        if message not in self.messages:
            self.messages.append(message)

    def error(self) -> RenderError | None:
        """The error the messages make, if any."""
        if not self.messages:
            return None
        shown = self.messages[:_MESSAGE_LIMIT]
        if len(self.messages) > len(shown):
            shown.append(f"and {len(self.messages) - len(shown)} more")
        return RenderError("the PDF would not match the note:\n" + "\n".join(
            f"  {message}" for message in shown))


def _quoted(record: logging.LogRecord) -> str:
    """The message of ``record`` (shortened by :class:`_Shorten`), capped."""
    _Shorten().filter(record)
    return shorten_quotes(record.getMessage(), 10 * QUOTE_LIMIT)


class _Shorten(logging.Filter):
    """Shortens each URL or text a WeasyPrint message quotes, before any
    handler sees it: a ``data:`` URL may be megabytes long."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                shorten_quotes(str(arg)) if isinstance(arg, (str, BaseException)) else arg
                for arg in record.args)
        elif isinstance(record.msg, str) and len(record.msg) > QUOTE_LIMIT:
            record.msg = shorten_quotes(record.msg, 10 * QUOTE_LIMIT)
        return True


class _TooManyPages(Exception):
    def __init__(self, pages: int) -> None:
        super().__init__(pages)
        self.pages = pages


class _CountPages(logging.Handler):
    """Stops a layout the moment it starts a page beyond the limit: WeasyPrint
    has no page limit, and says (to its progress logger) which page it lays
    out next."""

    def __init__(self, limit: int) -> None:
        super().__init__(logging.INFO)
        self.limit = limit

    def emit(self, record: logging.LogRecord) -> None:
        if (str(record.msg).startswith("Step 5 - Creating layout - Page")
                and isinstance(record.args, tuple) and record.args
                and isinstance(record.args[0], int) and record.args[0] > self.limit):
            raise _TooManyPages(record.args[0])


@contextlib.contextmanager
def _strict_weasyprint(counter: _CountPages | None = None) -> Iterator[_Collect]:
    collector = _Collect()
    weasy_logger = logging.getLogger("weasyprint")
    level = weasy_logger.level
    if not weasy_logger.isEnabledFor(logging.WARNING):  # what the collector needs
        weasy_logger.setLevel(logging.WARNING)
    weasy_logger.addHandler(collector)
    shortener = _Shorten()
    weasy_logger.addFilter(shortener)
    progress = logging.getLogger("weasyprint.progress")
    settings = progress.level, progress.propagate
    if counter is not None:
        progress.setLevel(logging.INFO)
        progress.propagate = False
        progress.addHandler(counter)
    try:
        yield collector
    finally:
        weasy_logger.removeHandler(collector)
        weasy_logger.removeFilter(shortener)
        weasy_logger.setLevel(level)
        if counter is not None:
            progress.removeHandler(counter)
            progress.setLevel(settings[0])
            progress.propagate = settings[1]


def isolate_fonts() -> None:
    """Make fontconfig see only the built-in fonts, so output does not depend
    on the fonts a machine has and a missing glyph cannot be borrowed.

    Must run before WeasyPrint is first imported; a ``FONTCONFIG_FILE`` set by
    the caller is respected.
    """
    if "FONTCONFIG_FILE" in os.environ:
        return
    if "weasyprint" in sys.modules:
        logger.warning("WeasyPrint was imported before notegen: system fonts may be used")
        return
    os.environ["FONTCONFIG_FILE"] = str(builtin().font("fonts.conf"))


@functools.cache
def check_harfbuzz_subset() -> bool:
    """Whether WeasyPrint found HarfBuzz's subsetter (``libharfbuzz-subset0``).

    Without it WeasyPrint falls back to fontTools: 3-5 times slower, and the
    output is no longer byte-identical from run to run. Logs a warning once.
    """
    from weasyprint.text import ffi

    if getattr(ffi, "harfbuzz_subset", None) is None:
        logger.warning("libharfbuzz-subset0 is not installed: rendering is 3-5x slower and "
                       "PDFs are not reproducible (apt-get install libharfbuzz-subset0)")
        return False
    return True


def load_weasyprint() -> Any:
    """WeasyPrint, imported with the fonts isolated (:func:`isolate_fonts`)
    and checked for HarfBuzz's subsetter. Rendering calls it; a program may
    call it earlier to have the import done before its first note."""
    isolate_fonts()
    if "weasyprint" not in sys.modules and inside():
        # A bounded child lives for one render: what the import loads (for
        # good, in a burst) is kept out of the garbage collector's sight,
        # as a command's process keeps what it loaded before the fork.
        collecting = gc.isenabled()
        gc.disable()
        try:
            _import_weasyprint()
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
    weasyprint = _import_weasyprint()
    check_harfbuzz_subset()
    return weasyprint


def _import_weasyprint() -> Any:
    """``import weasyprint``, its libraries opened by their sonames.

    WeasyPrint names each library it opens first as Windows spells it
    (``libgobject-2.0-0``); cffi looks such a name up with
    :func:`ctypes.util.find_library`, which on Linux runs ``ldconfig -p``,
    then ``gcc`` and ``ld``, for each name it cannot find: 22 lookups, a
    third of the import (``docs/weasyprint-import.md``). Each of WeasyPrint's
    lists also gives the Linux soname (``libgobject-2.0.so.0``), which the
    dynamic loader opens itself, by the same search path the lookup's answer
    would be opened by. So, on Linux, the lookup answers "not found" at once
    while WeasyPrint is imported, and cffi goes on to the soname; if any
    library does not open so (another soname, a library installed where
    only ``gcc`` looks), WeasyPrint is imported again as it imports itself.
    """
    if "weasyprint" in sys.modules or sys.platform != "linux":
        import weasyprint

        return weasyprint
    import ctypes.util

    lookup = ctypes.util.find_library
    ctypes.util.find_library = _not_looked_up
    try:
        # (WeasyPrint prints its advice when a library is missing: not now)
        with contextlib.redirect_stdout(None):
            import weasyprint
            from weasyprint.text import ffi
        missing = [name for attribute, name in _OPTIONAL_LIBRARIES.items()
                   if getattr(ffi, attribute, None) is None and lookup(name) is not None]
        if not missing:
            return weasyprint
        logger.debug("%s did not open by its soname: WeasyPrint imported again with "
                     "find_library", ", ".join(missing))
    except OSError as exc:
        logger.debug("WeasyPrint's libraries did not open by their sonames (%s): "
                     "imported again with find_library", exc)
    finally:
        ctypes.util.find_library = lookup
    for name in [name for name in sys.modules if name.partition(".")[0] == "weasyprint"]:
        del sys.modules[name]
    import weasyprint

    return weasyprint


#: The libraries WeasyPrint does without (attributes of ``weasyprint.text.ffi``),
#: each by the name :func:`ctypes.util.find_library` knows it by.
_OPTIONAL_LIBRARIES = {"harfbuzz_subset": "harfbuzz-subset", "harfbuzz_vector": "harfbuzz-vector"}


def _not_looked_up(name: str) -> None:
    """:func:`ctypes.util.find_library` while WeasyPrint is imported."""
    return None


def html_to_pdf(html: str | Sequence[str], *, folders: TemplateFolders | None = None,
                pdf_variant: str | None = None, attachments: Sequence[Embedded] = (),
                page_limit: int | None = None) -> bytes:
    """Lay out ``html`` and return the PDF bytes.

    ``html`` may be several documents (a note and its courtesy translation):
    each is laid out on its own, and their pages follow each other in one
    PDF with the first one's metadata. Relative URLs resolve against the
    first of the template ``folders`` (default: the built-in one); only
    files the folders have (and ``data:`` URLs) can be read. A document that
    fits on one page gets no page number (the template's
    ``static/single-page.css``). With a ``page_limit``, a layout that needs
    more pages (all documents together) is stopped before the PDF is made.

    Runs in this process, unbounded: :func:`render_pdf` bounds it.

    :raises RenderError: if a resource or a font is refused or missing, a
        character has no glyph in the fonts, or the pages are too many.
    """
    weasyprint = load_weasyprint()
    from .fetcher import TemplateAssetFetcher

    folders = folders or builtin()
    register_hyphenation(folders)
    fetcher = TemplateAssetFetcher(folders)
    fonts = _font_configuration(folders)
    options: dict[str, Any] = {"pdf_variant": pdf_variant} if pdf_variant else {}
    files = [weasyprint.Attachment(string=item.data, name=item.name,
                                   description=item.description,
                                   relationship=item.relationship, created=item.date,
                                   modified=item.date) for item in attachments]
    single = folders.find("static/single-page.css")
    documents = []
    pages = 0
    counter = _CountPages(page_limit) if page_limit is not None else None
    with _own_font_folder(fonts), _strict_weasyprint(counter) as collector:
        stage(Stage.layout)
        for text in [html] if isinstance(html, str) else html:
            source = weasyprint.HTML(string=text, base_url=f"{folders.first.as_uri()}/",
                                     url_fetcher=fetcher)
            if counter is not None and page_limit is not None:
                counter.limit = page_limit - pages
            document = _lay_out(source, page_limit, pages, font_config=fonts, **options)
            if len(document.pages) == 1 and single is not None:
                stylesheet = weasyprint.CSS(filename=str(single), url_fetcher=fetcher,
                                            font_config=fonts)
                document = source.render(stylesheets=[stylesheet], font_config=fonts,
                                         **options)
            pages += len(document.pages)
            _check_pages(pages, page_limit)
            documents.append(document)
        error = collector.error()
        if error is not None:  # no need to write a PDF that is refused
            raise error
        first = documents[0]
        if len(documents) > 1:
            first = first.copy([page for document in documents for page in document.pages])
        stage(Stage.pdf)
        pdf: bytes = first.write_pdf(attachments=files, **options)
    error = collector.error()
    if error is not None:
        raise error
    return pdf


def _lay_out(source: Any, page_limit: int | None, before: int, **options: Any) -> Any:
    """``source`` laid out, stopped past ``page_limit`` pages (``before``
    pages of other documents count too)."""
    try:
        return source.render(**options)
    except _TooManyPages as exc:
        _check_pages(before + exc.pages, page_limit)
        raise  # pragma: no cover (only raised beyond the limit)


def _check_pages(pages: int, page_limit: int | None) -> None:
    if page_limit is not None and pages > page_limit:
        raise RenderError(
            f"the note needs more than {page_limit} pages, the page limit (a note has a few: "
            "are the records or the template producing far too much?); to allow more, set "
            "page_limit (notegen.toml) or NOTEGEN_PAGE_LIMIT")


@contextlib.contextmanager
def _own_font_folder(fonts: Any) -> Iterator[None]:
    """In a bounded child, let WeasyPrint store the ``@font-face`` fonts it
    loads in a folder of the child's own, removed when the child ends.

    WeasyPrint keeps each font in a file named after its rule and takes an
    existing file for a font already loaded. Were a child to write into the
    parent's folder, the next child would find the file and skip loading
    the font, which it never had. The fonts the parent loaded (by
    :func:`warm_up`) are linked in, so a child does not load them again. A
    child kept for later renders (:func:`~notegen.render.limits.keep_spares`)
    keeps its folder with the fonts it loaded: they are its own.
    """
    if not inside():
        yield
        return
    shared = fonts._folder
    private = _child_font_folders.get(id(fonts), (None, None))[1]
    if private is None:
        private = Path(tempfile.mkdtemp(prefix="notegen-fonts-"))
        if shared is not None and shared.is_dir():
            for entry in shared.iterdir():
                (private / entry.name).symlink_to(entry)
        _child_font_folders[id(fonts)] = (fonts, private)
        at_child_exit(functools.partial(shutil.rmtree, private, ignore_errors=True))
    fonts._folder = private
    try:
        yield
    finally:
        fonts._folder = shared


#: In a bounded child, its own font folder for each font configuration (kept
#: with it, so that its id stays its own).
_child_font_folders: dict[int, tuple[Any, Path]] = {}


@functools.lru_cache(maxsize=8)
def _font_configuration(folders: TemplateFolders) -> Any:
    """WeasyPrint's font configuration for templates in ``folders``,
    made once per process like their Jinja environment.

    WeasyPrint keeps about 0.2 MiB of every configuration it makes for good,
    so a fresh one per render grows a service or batch worker by that much a
    note; one per folder list stays flat. The ``@font-face`` fonts it loads
    are kept with it, keyed by their URL: like the templates, they are read
    once per process. Renders that share it must take turns, not run in
    threads side by side.

    A font an ``@font-face`` rule names that cannot be loaded (refused,
    missing or corrupt) stops the render with a
    :class:`~notegen.errors.RenderError` naming it: WeasyPrint would only
    log a warning and let another font stand in.
    """
    return _strict_fonts()()


on_files_changed(_font_configuration.cache_clear)  # (a bounded child kept for later renders)

# Dropped before the interpreter takes its modules apart, which WeasyPrint's
# clean-up of a configuration needs whole (else "Exception ignored" at exit).
atexit.register(_font_configuration.cache_clear)


class _Watch(logging.Handler):
    """What WeasyPrint says while it loads one ``@font-face`` font."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: list[str] = []
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith("Font-face") and record.levelno >= logging.WARNING:
            self.failed = True
        elif message.startswith("Failed to"):
            self.reasons.append(_quoted(record))


@functools.cache
def _strict_fonts() -> type:
    from weasyprint.text.fonts import FontConfiguration

    class StrictFonts(FontConfiguration):  # type: ignore[misc]
        """A font configuration that refuses to go on without a font."""

        def __init__(self) -> None:
            super().__init__()
            #: The rules whose font failed, with the error: WeasyPrint
            #: would take the file it stored of a corrupt font for loaded.
            self.refused: dict[str, str] = {}

        def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
            key = str(rule_descriptors)
            if key not in self.refused:
                watch = _Watch()
                weasy_logger = logging.getLogger("weasyprint")
                settings = weasy_logger.level, weasy_logger.propagate
                weasy_logger.setLevel(logging.DEBUG)
                weasy_logger.propagate = False  # reported by the error below instead
                weasy_logger.addHandler(watch)
                try:
                    super().add_font_face(rule_descriptors, url_fetcher)
                finally:
                    weasy_logger.removeHandler(watch)
                    weasy_logger.setLevel(settings[0])
                    weasy_logger.propagate = settings[1]
                if not watch.failed:
                    return None
                self.refused[key] = _font_refused(rule_descriptors, watch.reasons)
            raise RenderError(self.refused[key])

    return StrictFonts


def _font_refused(rule_descriptors: Any, reasons: list[str]) -> str:
    family = shorten(str(rule_descriptors.get("font_family", "?")))
    sources = [shorten(str(url)) for _, url in rule_descriptors.get("src", ()) if url]
    detail = "; ".join(reason.replace("Failed to load font at", "cannot load")
                       for reason in dict.fromkeys(reasons))
    if not detail:
        detail = f"none of {', '.join(sources) or 'its sources'} could be loaded"
    return (f"the font {family!r} of an @font-face rule cannot be used ({detail}): "
            "the render stops rather than let another font stand in; give the rule a "
            "font file of the template folders that is a valid TrueType, OpenType or "
            "WOFF font")


def rendered_records(case: Case, options: RenderOptions) -> bytes:
    """The records of ``case`` as rendered with settled ``options``: the note
    carries the type, language and translation it was rendered in, so they
    render to the same PDF again."""
    return dump_case(case, case.note.model_copy(update={
        "type": options.note_type, "language": options.lang,
        "translation": options.translation}))


def render_pdf(case: Case, target: str | Path | None = None,
               options: RenderOptions | None = None, *,
               prepared: Prepared | None = None) -> bytes:
    """Render ``case`` to PDF (PDF/A-3b unless ``options`` say otherwise);
    also write it to ``target`` if given.

    The records the note was made from are embedded as an associated file
    (``notegen-record.json``, AFRelationship Source) with the note's own
    type, language and translation, so :func:`~notegen.verify.extract_record`
    gives back records that render to the same bytes. With a courtesy
    translation, its pages follow the note's. ``prepared`` is the note
    already worded with these (settled) options, if the caller has it.

    The file is written atomically: on any error no file, or the previous one,
    is left at ``target``.

    :raises NotegenError: for record, template and render errors.
    """
    options = settle(case, options)
    _before_render(options.folders, options)
    pdf: bytes = run_bounded(_render_pdf, (case, options, prepared),
                             seconds=options.time_limit, memory_mb=options.memory_limit_mb,
                             reads=options.folders)
    if target is not None:
        write_atomic(target, pdf)
        logger.info("wrote %s (%d bytes)", target, len(pdf))
    return pdf


def _render_pdf(case: Case, options: RenderOptions, prepared: Prepared | None) -> bytes:
    """The PDF of ``case`` with settled ``options``: what :func:`render_pdf`
    runs in its bounded child."""
    documents = [render_html(case, options, prepared=prepared)]
    if options.translation:
        documents.append(render_html(case, replace(
            options, lang=options.translation, translation=None,
            translation_of=options.lang)))
    attachments = []
    if options.embed_record and can_embed(options.pdf_variant):
        date = dt.datetime.combine(case.note.date, dt.time(), dt.UTC)
        attachments.append(Embedded(RECORD_NAME, rendered_records(case, options),
                                    "The records this note was made from (notegen)",
                                    "Source", date))
    elif options.embed_record:
        logger.warning("%s allows no JSON attachment: the records are not embedded",
                       options.pdf_variant)
    return html_to_pdf(documents, folders=options.folders, pdf_variant=options.pdf_variant,
                       attachments=attachments, page_limit=options.page_limit)


#: The document :func:`warm_up` lays out for user folders: their style
#: sheet, inlined as the templates inline it, and text in each of its faces,
#: so its fonts are loaded.
_WARM_UP = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><style>{}</style>"
            "</head><body><p>Warm up: <b>bold</b> <i>italic</i> <b><i>both</i></b>.</p>"
            "</body></html>")

#: The largest style sheet :func:`warm_up` reads, in bytes.
_WARM_UP_CSS_LIMIT = 1_000_000

#: The worked case :func:`warm_up` renders: built-in records, built-in templates.
_WARM_UP_CASE = SEEDS_FOLDER / "az-kyiv-2025" / "note.yaml"

#: The template folders and the languages this process is warm for (the
#: language ``None``: what every render needs), and how many renders it has
#: bounded.
_warm: set[TemplateFolders] = set()
_languages: set[str | None] = set()
_renders = 0


def warm_up(folders: TemplateFolders | None = None,
            options: RenderOptions | None = None) -> None:
    """Load in this process what renders need, so that the bounded children
    they run in start with it instead of loading it anew each time (and
    losing it at exit): WeasyPrint and what it sets up on first use, the
    built-in templates, phrases and fonts (by rendering the built-in worked
    case here), and the fonts of the style sheet of ``folders``.

    :func:`render_pdf` calls it from a process's second render on (a
    command that renders one note has nothing to gain); a service or a
    worker may call it before its first. User folders' style sheet is first
    laid out in a bounded child (within the bounds of ``options``), and
    here only if it stays within them there. The worked case is also
    rendered in the language and translation of ``options`` (their phrases
    and hyphenation), once for each.
    """
    if inside():
        return
    options = options or RenderOptions()
    for lang in dict.fromkeys([None, options.lang, options.translation]):
        if lang not in _languages:
            _languages.add(lang)
            load_weasyprint()
            try:
                _languages.add(rehearse(lang))  # (None renders in the case's language)
            except NotegenError as exc:  # the worked case has no such language
                logger.debug("no warm-up with %s in %s: %s", _WARM_UP_CASE, lang, exc)
    if folders is None or folders in _warm:
        return
    _warm.add(folders)
    warm_templates(folders)
    stylesheet = folders.find("static/note.css")
    if not folders.user or stylesheet is None:
        return
    try:
        if stylesheet.stat().st_size > _WARM_UP_CSS_LIMIT:
            return
        css = stylesheet.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    html = _WARM_UP.format(css.replace("</", "<\\/"))
    try:
        run_bounded(_warm_document, (html, folders), seconds=options.time_limit,
                    memory_mb=options.memory_limit_mb, start=Stage.layout, reads=folders)
        _warm_document(html, folders)
    except NotegenError as exc:
        logger.debug("no warm-up for %s: %s", folders, exc)


def rehearse(lang: str | None = None) -> str | None:
    """Render the worked case here in ``lang`` (its own if ``None``) and
    throw the PDF away; the language it rendered in. What :func:`warm_up`
    does, and what a spare bounded child does before it waits for work
    (:func:`~notegen.render.limits.keep_spares`), so the memory a render
    writes to is copied before anyone waits for a render.

    :raises NotegenError: if the worked case has no such language.
    """
    case = load_case(_WARM_UP_CASE)
    settled = settle(case, RenderOptions(lang=lang))
    _render_pdf(case, settled, None)
    return settled.lang


def is_warm() -> bool:
    """Whether this process has warmed up (:func:`warm_up`): what it forks
    starts warm."""
    return None in _languages


def _warm_document(html: str, folders: TemplateFolders) -> None:
    html_to_pdf(html, folders=folders, page_limit=1)


def _before_render(folders: TemplateFolders, options: RenderOptions) -> None:
    """Warm this process up from its second render on (:func:`warm_up`)."""
    global _renders
    _renders += 1
    if _renders > 1:
        warm_up(folders, options)
