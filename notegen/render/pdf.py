"""From HTML to PDF: WeasyPrint behind one function.

WeasyPrint is imported on first use, so loading and validating records stays
fast. Rendering is strict where WeasyPrint is lenient: a resource it could not
load, or a character no font could draw, stops the render with a
:class:`~notegen.errors.RenderError` instead of leaving a gap in the note.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import RenderError
from ..options import RenderOptions, settle
from ..records.case import Case
from ..records.dump import dump_case
from ..template_folders import TemplateFolders, builtin
from ..wording.prepare import Prepared
from .atomic import write_atomic
from .html import render_html

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


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(_NOTDEF):
            text = message.split(": ", 1)[-1]
            self.messages.append(f"no font of the template can draw {text}; remove the "
                                 "character or give the template a font that has it")
        elif record.levelno >= logging.ERROR:
            self.messages.append(message)


@contextlib.contextmanager
def _strict_weasyprint() -> Iterator[_Collect]:
    collector = _Collect()
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(collector)
    try:
        yield collector
    finally:
        weasy_logger.removeHandler(collector)


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
    import weasyprint

    check_harfbuzz_subset()
    return weasyprint


def html_to_pdf(html: str | Sequence[str], *, folders: TemplateFolders | None = None,
                pdf_variant: str | None = None, attachments: Sequence[Embedded] = ()) -> bytes:
    """Lay out ``html`` and return the PDF bytes.

    ``html`` may be several documents (a note and its courtesy translation):
    each is laid out on its own, and their pages follow each other in one
    PDF with the first one's metadata. Relative URLs resolve against the
    first of the template ``folders`` (default: the built-in one); only
    files the folders have (and ``data:`` URLs) can be read. A document that
    fits on one page gets no page number (the template's
    ``static/single-page.css``).

    :raises RenderError: if a resource is refused or missing, or a character
        has no glyph in the fonts.
    """
    weasyprint = load_weasyprint()
    from .fetcher import TemplateAssetFetcher

    folders = folders or builtin()
    fetcher = TemplateAssetFetcher(folders)
    fonts = _font_configuration(folders)
    options: dict[str, Any] = {"pdf_variant": pdf_variant} if pdf_variant else {}
    files = [weasyprint.Attachment(string=item.data, name=item.name,
                                   description=item.description,
                                   relationship=item.relationship, created=item.date,
                                   modified=item.date) for item in attachments]
    single = folders.find("static/single-page.css")
    documents = []
    with _strict_weasyprint() as collector:
        for text in [html] if isinstance(html, str) else html:
            source = weasyprint.HTML(string=text, base_url=f"{folders.first.as_uri()}/",
                                     url_fetcher=fetcher)
            document = source.render(font_config=fonts, **options)
            if len(document.pages) == 1 and single is not None:
                stylesheet = weasyprint.CSS(filename=str(single), url_fetcher=fetcher,
                                            font_config=fonts)
                document = source.render(stylesheets=[stylesheet], font_config=fonts,
                                         **options)
            documents.append(document)
        first = documents[0]
        if len(documents) > 1:
            first = first.copy([page for document in documents for page in document.pages])
        pdf: bytes = first.write_pdf(attachments=files, **options)
    if collector.messages:
        raise RenderError("the PDF would not match the note:\n" + "\n".join(
            f"  {message}" for message in dict.fromkeys(collector.messages)))
    return pdf


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
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


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
    pdf = html_to_pdf(documents, folders=options.folders, pdf_variant=options.pdf_variant,
                      attachments=attachments)
    if target is not None:
        write_atomic(target, pdf)
        logger.info("wrote %s (%d bytes)", target, len(pdf))
    return pdf
