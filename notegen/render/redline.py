"""A redline between two drafts of a note: what changed in its text, word
by word, and which facts of its records changed.

:func:`redline` renders both drafts with the same options to HTML, reads
the note's text from it as paragraphs (:func:`note_paragraphs`: the
block elements in order, with lxml's HTML parser), matches the paragraphs
and then the words within each matched pair (:mod:`difflib`), and compares
the records (:func:`~notegen.records.changes.compare_cases`). The
:class:`Redline` it returns is written as HTML (:func:`redline_html`), PDF
(:func:`redline_pdf`), a Word document whose changes are tracked changes
(:func:`redline_docx`) or JSON (:func:`redline_json`).

Tracked changes carry an author and a date: the date is the newer draft's
note date, or ``SOURCE_DATE_EPOCH`` if set; never the clock. Every output
is the same bytes for the same drafts.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

from ..errors import NotegenError, RenderError
from ..options import RenderOptions, settle
from ..records.case import Case
from ..records.changes import Change, compare_cases
from ..version import __version__
from .html import render_html
from .limits import run_bounded

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent
#: Our own template (not a ministry's): autoescaped, outside the sandbox.
_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE), autoescape=True,
                            undefined=jinja2.StrictUndefined, trim_blocks=True,
                            lstrip_blocks=True, auto_reload=False)

#: The elements whose own text is a paragraph of the note (text inside a
#: nested one of them is that one's paragraph).
_BLOCKS = frozenset({
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "div", "dt", "dd",
    "blockquote", "pre", "caption", "figcaption", "address", "header", "footer", "main",
    "section", "article", "aside", "nav", "body", "table", "tr", "ul", "ol", "dl",
    "figure", "form", "fieldset", "legend", "summary", "details"})
#: Elements whose text is not part of the note's text.
_SKIPPED = frozenset({"script", "style", "template", "head", "title", "meta", "link",
                      "noscript", "svg", "math", "object", "iframe"})
#: What counts as a word, a run of spaces or one sign, for the word diff.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
#: Runs of spaces as HTML source has them (no-break spaces are kept).
_SPACES = re.compile(r"[ \t\r\n\f]+")
#: Characters that typography adds but a reader does not see.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
#: How many old × new paragraphs a run of replaced paragraphs may have for
#: them to be paired by likeness (beyond it: all removed, all inserted).
_PAIRING_LIMIT = 4000
#: How many words (and spaces and signs) a changed paragraph may have for
#: its words to be compared; a longer one is shown removed and inserted whole
#: (comparing words takes time that grows faster than their number).
_WORD_LIMIT = 20_000
#: How alike two paragraphs must be (difflib's ratio, by words) to be one
#: paragraph changed rather than one removed and another inserted.
_ALIKE = 0.5


@dataclass(frozen=True)
class Paragraph:
    """One block of a note's text."""

    #: ``heading``, ``item`` (of a list) or ``paragraph``.
    kind: str
    text: str
    #: How deep a list item is nested in other lists (0: in none).
    level: int = 0


@dataclass(frozen=True)
class Span:
    """A stretch of a paragraph's text: kept (``equal``), ``insert`` or ``delete``."""

    op: str
    text: str


@dataclass(frozen=True)
class ParagraphChange:
    """A paragraph of the redline: ``equal``, ``insert`` (a new paragraph),
    ``delete`` (a paragraph removed) or ``change`` (words changed in it)."""

    op: str
    kind: str
    spans: tuple[Span, ...]
    #: Its position in the older and the newer text (``None``: not there).
    old_index: int | None
    new_index: int | None
    #: How deep a list item is nested in other lists (0: in none).
    level: int = 0

    @property
    def old_text(self) -> str:
        return "".join(span.text for span in self.spans if span.op != "insert")

    @property
    def new_text(self) -> str:
        return "".join(span.text for span in self.spans if span.op != "delete")


@dataclass(frozen=True)
class Redline:
    """What changed between two drafts of a note."""

    #: How the drafts were given (a file, ``register:REF``).
    old_label: str
    new_label: str
    #: The language both were rendered in.
    lang: str
    facts: tuple[Change, ...]
    paragraphs: tuple[ParagraphChange, ...]
    #: The date of the changes: the newer note's date, or SOURCE_DATE_EPOCH.
    date: dt.datetime
    #: The newer draft's title: its first heading (e.g. "Note Verbale").
    title: str

    @property
    def changed(self) -> bool:
        """Whether the drafts differ, in their text or in their facts."""
        return bool(self.facts) or any(p.op != "equal" for p in self.paragraphs)

    @property
    def text_changes(self) -> tuple[ParagraphChange, ...]:
        return tuple(p for p in self.paragraphs if p.op != "equal")


# -- the text of a note -------------------------------------------------------


def note_paragraphs(html: str) -> tuple[Paragraph, ...]:
    """The text of the note in ``html`` as paragraphs, in order: the own text
    of each block element (``p``, ``li``, ``h1``-``h6``, ``td``, ``div`` …),
    spaces collapsed; each line of an ``address`` a paragraph of its own.
    Blocks without text are left out."""
    from lxml import html as lxml_html  # type: ignore[import-untyped]

    try:
        root = lxml_html.document_fromstring(html)
    except Exception as exc:  # lxml raises ParserError for an empty document
        raise RenderError(f"the rendered note cannot be read as HTML: {exc}") from None
    body = root.find("body")
    found: list[tuple[str, int, list[str]]] = []

    def visit(element: Any, pieces: list[str] | None, line: bool, lists: int) -> None:
        tag = element.tag if isinstance(element.tag, str) else None
        if tag is None or tag.lower() in _SKIPPED:
            return
        tag = tag.lower()
        if tag == "br":
            if pieces is not None:
                pieces.append(" ")
            return
        if tag in _BLOCKS or line:
            pieces = []
            found.append((_kind(tag), max(lists - 1, 0) if tag == "li" else 0, pieces))
        if element.text and pieces is not None:
            pieces.append(element.text)
        for child in element:
            visit(child, pieces, tag == "address", lists + (tag in ("ul", "ol", "dl")))
            if child.tail and pieces is not None:
                pieces.append(child.tail)

    visit(body if body is not None else root, None, False, 0)
    paragraphs = []
    for kind, level, pieces in found:
        text = _SPACES.sub(" ", "".join(pieces).translate(_INVISIBLE)).strip()
        if text:
            paragraphs.append(Paragraph(kind, text, level))
    return tuple(paragraphs)


def _kind(tag: str) -> str:
    if re.fullmatch(r"h[1-6]", tag):
        return "heading"
    return "item" if tag in ("li", "dd", "dt") else "paragraph"


# -- comparing texts ----------------------------------------------------------


def compare_paragraphs(old: Sequence[Paragraph], new: Sequence[Paragraph]
                       ) -> tuple[ParagraphChange, ...]:
    """The redline of two texts: paragraphs matched first (the same text,
    or, in a run of replaced ones, the most alike pairs), then the words
    within each matched pair; paragraphs without a match removed or
    inserted whole."""
    matcher = difflib.SequenceMatcher(None, [p.text for p in old], [p.text for p in new],
                                      autojunk=False)
    changes: list[ParagraphChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes.extend(ParagraphChange("equal", new[j].kind, (Span("equal", new[j].text),),
                                           i, j, new[j].level)
                       for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            changes.extend(_replaced(old, new, i1, i2, j1, j2))
    return tuple(changes)


def _replaced(old: Sequence[Paragraph], new: Sequence[Paragraph], i1: int, i2: int, j1: int,
              j2: int) -> Iterator[ParagraphChange]:
    """The paragraphs old[i1:i2] replaced by new[j1:j2]: the most alike pair
    is one paragraph changed, and the runs before and after it are paired
    the same way (as :class:`difflib.Differ` pairs lines)."""
    best: tuple[float, int, int] | None = None
    if (i2 - i1) * (j2 - j1) <= _PAIRING_LIMIT:
        words = {j: _words(new[j].text) for j in range(j1, j2)}
        for i in range(i1, i2):
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(_words(old[i].text))
            for j in range(j1, j2):
                matcher.set_seq1(words[j])
                if matcher.real_quick_ratio() < _ALIKE or matcher.quick_ratio() < _ALIKE:
                    continue
                ratio = matcher.ratio()
                if ratio >= _ALIKE and (best is None or ratio > best[0]):
                    best = (ratio, i, j)
    if best is None:
        for i in range(i1, i2):
            yield _whole("delete", old[i], i)
        for j in range(j1, j2):
            yield _whole("insert", new[j], j)
        return
    _, i, j = best
    yield from _replaced(old, new, i1, i, j1, j)
    if max(len(_words(old[i].text)), len(_words(new[j].text))) > _WORD_LIMIT:
        yield _whole("delete", old[i], i)
        yield _whole("insert", new[j], j)
    else:
        yield ParagraphChange("change", new[j].kind, word_diff(old[i].text, new[j].text), i,
                              j, new[j].level)
    yield from _replaced(old, new, i + 1, i2, j + 1, j2)


def _whole(op: str, paragraph: Paragraph, index: int) -> ParagraphChange:
    """``paragraph`` deleted or inserted whole."""
    return ParagraphChange(op, paragraph.kind, (Span(op, paragraph.text),),
                           index if op == "delete" else None,
                           index if op == "insert" else None, paragraph.level)


def _words(text: str) -> list[str]:
    return _TOKENS.findall(text)


def word_diff(old: str, new: str) -> tuple[Span, ...]:
    """``old`` changed into ``new``, word by word: the kept, deleted and
    inserted stretches in reading order (a deletion before the insertion
    that replaces it). Spaces alone between two changes belong to them."""
    a, b = _words(old), _words(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    spans: list[Span] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.append(Span("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            spans.append(Span("delete", "".join(a[i1:i2])))
        if j2 > j1:
            spans.append(Span("insert", "".join(b[j1:j2])))
    # A space kept between two changes: deleted and inserted with them.
    for index in range(1, len(spans) - 1):
        span = spans[index]
        if span.op == "equal" and not span.text.strip() and spans[index - 1].op != "equal" \
                and spans[index + 1].op != "equal":
            spans[index] = Span("both", span.text)
    return tuple(_merged(spans))


def _merged(spans: list[Span]) -> Iterator[Span]:
    """Runs of changes as one deletion then one insertion; kept text as is."""
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> Iterator[Span]:
        if deleted:
            yield Span("delete", "".join(deleted))
        if inserted:
            yield Span("insert", "".join(inserted))
        deleted.clear()
        inserted.clear()

    for span in spans:
        if span.op == "equal":
            yield from flush()
            yield span
            continue
        if span.op in ("delete", "both"):
            deleted.append(span.text)
        if span.op in ("insert", "both"):
            inserted.append(span.text)
    yield from flush()


# -- the redline of two cases -------------------------------------------------


def redline(old: Case, new: Case, options: RenderOptions | None = None, *,
            old_label: str = "old", new_label: str = "new") -> Redline:
    """Compare two drafts: render both with ``options`` (the note itself,
    without a courtesy translation) and compare their text and their
    records. Without a language in ``options`` both drafts must be written
    in the same one.

    :raises NotegenError: if the drafts are in different languages and no
        language is given, or either does not render.
    """
    options = replace(options or RenderOptions(), translation=None, translation_of=None)
    if options.lang is None and old.note.language != new.note.language:
        raise NotegenError(
            f"the drafts are written in different languages ({old_label}: "
            f"{old.note.language}, {new_label}: {new.note.language}): a redline compares one "
            f"text; give a language (--lang) to render both in it")
    old_options, new_options = settle(old, options), settle(new, options)
    old_options = replace(old_options, translation=None)
    new_options = replace(new_options, translation=None)
    old_text = note_paragraphs(render_html(old, old_options))
    new_text = note_paragraphs(render_html(new, new_options))
    lang = new_options.lang or new.note.language
    title = next((p.text for p in new_text if p.kind == "heading"), "Note")
    return Redline(old_label, new_label, lang, compare_cases(old, new, lang),
                   compare_paragraphs(old_text, new_text), changes_date(new), title)


def changes_date(newer: Case) -> dt.datetime:
    """When the changes were made, as a redline says: ``SOURCE_DATE_EPOCH``
    if set (a reproducible build's time), else the newer note's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise NotegenError(f"SOURCE_DATE_EPOCH is not a number of seconds since 1970: "
                               f"{epoch[:40]!r}") from None
    return dt.datetime.combine(newer.note.date, dt.time(), dt.UTC)


# -- outputs ------------------------------------------------------------------


def redline_html(result: Redline, *, for_print: bool = False) -> str:
    """The redline as an HTML page: a legend, the changed facts, then the
    text with ``<ins>`` and ``<del>``."""
    return _PAGES.get_template("redline.html.j2").render(
        redline=result, for_print=for_print, generator=f"notegen {__version__}")


def redline_pdf(result: Redline, options: RenderOptions | None = None) -> bytes:
    """The redline as a plain PDF (laid out like the HTML, with notegen's
    fonts and fetcher), in a child bounded as a render is by ``options``:
    in time, memory and pages (three times a note's: the older text, the
    newer, and the facts).

    :raises RenderError: if it cannot be laid out within the bounds.
    """
    options = options or RenderOptions()
    html = redline_html(result, for_print=True)
    pdf: bytes = run_bounded(_lay_out, (html, 3 * options.page_limit),
                             seconds=options.time_limit, memory_mb=options.memory_limit_mb,
                             reads=options.folders)
    return pdf


def _lay_out(html: str, page_limit: int) -> bytes:
    """The redline's PDF: built-in fonts and fetcher, at most ``page_limit`` pages."""
    from .pdf import html_to_pdf

    return html_to_pdf(html, page_limit=page_limit)


def redline_json(result: Redline) -> bytes:
    """The redline as data: the changed facts and the changed paragraphs."""
    data = {
        "old": result.old_label, "new": result.new_label, "lang": result.lang,
        "changed": result.changed, "date": result.date.isoformat().replace("+00:00", "Z"),
        "facts": [fact.as_dict() for fact in result.facts],
        "paragraphs": [
            {"op": change.op, "kind": change.kind, "level": change.level,
             "old_index": change.old_index,
             "new_index": change.new_index,
             "spans": [{"op": span.op, "text": span.text} for span in change.spans]}
            for change in result.text_changes],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


#: The Word style of each kind of paragraph (all in python-docx's default template).
_STYLES = {"heading": "Heading 1", "item": "List Paragraph", "paragraph": "Normal"}
#: The settings that precede ``w:trackRevisions`` in the schema's order (ECMA-376
#: CT_Settings): it goes after the last of them a document has.
_BEFORE_TRACK_REVISIONS = frozenset({
    "writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
    "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
    "printFractionalCharacterWidth", "printFormsData", "embedTrueTypeFonts",
    "embedSystemFonts", "saveSubsetFonts", "saveFormsData", "mirrorMargins",
    "alignBordersAndEdges", "bordersDoNotSurroundHeader", "bordersDoNotSurroundFooter",
    "gutterAtTop", "hideSpellingErrors", "hideGrammaticalErrors", "activeWritingStyle",
    "proofState", "formsDesign", "attachedTemplate", "linkStyles", "stylePaneFormatFilter",
    "stylePaneSortMethod", "documentType", "mailMerge", "revisionView"})
#: How far each level of a nested list is indented, in centimetres.
_INDENT_CM = 1.0
#: The fixed time of every member of the DOCX archive (the earliest a ZIP can say).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def redline_docx(result: Redline, *, author: str = "notegen") -> bytes:
    """The newer draft as a Word document in which every change from the
    older one is a tracked change (``w:ins``, ``w:del``), by ``author`` on
    the redline's date, for the clearance chain to accept or reject; change
    tracking stays on for their own edits. Paragraphs inserted or removed
    whole have their paragraph mark tracked too. The same redline gives the
    same bytes."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document = docx.Document()
    when = result.date.strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = iter(range(1, 1 << 30))

    def mark(tag: str) -> Any:
        element = OxmlElement(tag)
        element.set(qn("w:id"), str(next(ids)))
        element.set(qn("w:author"), author)
        element.set(qn("w:date"), when)
        return element

    def run(text: str, deleted: bool) -> Any:
        element = OxmlElement("w:r")
        properties = OxmlElement("w:rPr")
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), result.lang)
        properties.append(language)
        element.append(properties)
        content = OxmlElement("w:delText" if deleted else "w:t")
        content.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        content.text = text
        element.append(content)
        return element

    for change in result.paragraphs:
        paragraph = document.add_paragraph(style=_STYLES.get(change.kind, "Normal"))
        if change.level:
            paragraph.paragraph_format.left_indent = Cm(_INDENT_CM * (change.level + 1))
        p = paragraph._p
        if change.op in ("insert", "delete"):
            # The paragraph mark itself is inserted or deleted.
            marks = p.get_or_add_pPr()
            properties = OxmlElement("w:rPr")
            properties.append(mark("w:ins" if change.op == "insert" else "w:del"))
            marks.append(properties)
        for span in change.spans:
            if span.op == "equal":
                p.append(run(span.text, False))
                continue
            wrapper = mark("w:ins" if span.op == "insert" else "w:del")
            wrapper.append(run(span.text, span.op == "delete"))
            p.append(wrapper)
    _track_revisions(document.settings.element)
    properties = document.core_properties
    properties.title = f"Redline: {result.title}"[:255]
    properties.subject = f"{result.old_label} → {result.new_label}"[:255]
    properties.author = author
    properties.last_modified_by = author
    properties.comments = "\n".join(fact.sentence for fact in result.facts)[:10000]
    properties.keywords = "redline"
    properties.language = result.lang
    properties.created = properties.modified = result.date.replace(tzinfo=None)
    properties.last_printed = result.date.replace(tzinfo=None)
    properties.revision = 1
    properties.category = ""
    properties.identifier = ""
    properties.version = ""
    properties.content_status = ""
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _track_revisions(settings: Any) -> None:
    """Turn change tracking on in the document's ``w:settings``, in the
    place the schema gives ``w:trackRevisions``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for stale in settings.findall(qn("w:proofState")):  # "clean": Word would not check
        settings.remove(stale)
    preceding = {qn(f"w:{name}") for name in _BEFORE_TRACK_REVISIONS}
    position = 0
    for index, child in enumerate(settings):
        if child.tag in preceding:
            position = index + 1
    settings.insert(position, OxmlElement("w:trackRevisions"))


def _fixed_zip(data: bytes) -> bytes:
    """The ZIP archive ``data`` again with a fixed time on every member, so
    the same document is the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            member = zipfile.ZipInfo(item.filename, _ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(item.filename))
    return out.getvalue()


#: The formats :func:`redline_bytes` writes a redline in.
FORMATS = ("html", "pdf", "docx", "json")


def redline_bytes(result: Redline, fmt: str, options: RenderOptions | None = None,
                  *, author: str = "notegen") -> bytes:
    """The redline in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "html":
        return redline_html(result).encode("utf-8")
    if fmt == "pdf":
        return redline_pdf(result, options)
    if fmt == "docx":
        return redline_docx(result, author=author)
    if fmt == "json":
        return redline_json(result)
    raise ValueError(f"no redline format {fmt!r}; one of {', '.join(FORMATS)}")
