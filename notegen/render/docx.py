"""From a note context to an editable Word document, for clearance in Word.

:func:`render_docx` fills the Word template ``note.docx`` (found in the
template folders like the HTML templates: a ministry's folder holding its
own letterhead ``note.docx`` overrides the built-in one) with the note's
context, prepared once as for the PDF: the same words in the same order.
The template's Jinja tags are docxtpl's, run in notegen's sandbox
(``StrictUndefined``, every value XML-escaped): a record text holding
``<w:t>`` or ``&`` comes out as that text.

What the renderer adds to what the template places:

- the language's typography on every text (spaces, apostrophes, no-break
  spaces; French superior letters in the ``Superior Letters`` style), as
  the HTML gets it;
- the language on every paragraph and run (``w:lang``), so Word checks
  Russian spelling as Russian;
- real Word numbering: each list (the paragraphs of a numbered style, see
  :data:`~.word_package.NUMBERED_STYLES`) gets its own numbering instance,
  restarting at 1, with the template's numbering for the language where it
  has one ("Demand ru");
- the courtesy translation as an enclosure: a new section (a new page,
  page numbers from 1) holding the translation rendered from the same
  template, with its own letterhead and addressee block;
- the PDF's metadata as core properties; dates from the note (or
  ``SOURCE_DATE_EPOCH``), never the clock; no revision ids; zip entries in
  a fixed order and dated alike: the same input gives the same bytes.

A hostile template is **refused**, never silently cleaned: a ``.docx`` whose
relationships point outside it (external images, links to ``http:`` or
``file:``, an attached template, OLE objects), that holds macros or a DTD,
or whose text has fields that fetch or run something (``INCLUDEPICTURE``,
``INCLUDETEXT``, ``LINK``, ``DDE``) stops the render with a
:class:`~notegen.errors.TemplateError` naming the template and the part.
Stripping would hand the clearance chain a letterhead that differs from the
one the ministry made, and hide the attack from whoever should hear of it.
The same check runs on every rendered document, since a template's Jinja
could write such a field. notegen never fetches anything a template names.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale, localedata
from babel.core import get_global
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docx.parts.hdrftr import FooterPart, HeaderPart
from docxtpl import DocxTemplate  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]

from ..errors import RecordError, RenderError, TemplateError
from ..options import Document, RenderOptions, settle
from ..records.case import Case
from ..records.models import NoteType
from ..template_folders import TemplateFolders
from ..wording.catalogue import Catalogue
from ..wording.prepare import Prepared, prepare
from ..wording.typography import Typography
from .atomic import write_atomic
from .html import make_environment
from .limits import Stage, inside, run_bounded, shorten_quotes, stage
from .word_package import (
    TEMPLATE_SIZE_LIMIT,
    TITLE_STYLES,
    Refusal,
    check_package,
    check_zip,
    repack,
)

logger = logging.getLogger(__name__)

#: The Word template's name in the template folders.
WORD_TEMPLATE = "note.docx"

_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
#: Attributes Word writes with random values: revision ids, paragraph ids.
_RANDOM_ATTRIBUTES = re.compile(r"\{http://schemas\.openxmlformats\.org/wordprocessingml/"
                                r"2006/main\}rsid\w*|\{" + re.escape(_W14) + r"\}(paraId|textId)")


def render_docx(case: Case, output: str | Path | None = None,
                options: RenderOptions | None = None, *,
                prepared: Prepared | None = None) -> bytes:
    """Render ``case`` to an editable Word document (DOCX); also write it to
    ``output`` if given (atomically: on any error no file, or the previous
    one, is left there).

    The document is the note (or the document ``options`` name), from the
    same prepared context as :func:`~notegen.render_pdf`, with its courtesy
    translation as an enclosure. ``prepared`` is the note already worded
    with these (settled) options, if the caller has it. With a ministry's
    template folders the render runs in a child process bounded in time
    and memory, as an HTML render does.

    :raises TemplateError: if the Word template is missing, refused or fails.
    :raises RecordError: for problems in the records.
    """
    options = settle(case, options)
    if options.template_dirs and not inside():
        data: bytes = run_bounded(_render_docx, (case, options, prepared),
                                  seconds=options.time_limit, memory_mb=options.memory_limit_mb,
                                  reads=options.folders)
    else:
        data = _render_docx(case, options, prepared)
    if output is not None:
        write_atomic(output, data)
        logger.info("wrote %s (%d bytes)", output, len(data))
    return data


def word_template(folders: TemplateFolders) -> Path:
    """The Word template the folders give (a ministry's before the built-in one).

    :raises TemplateError: if none has one.
    """
    found = folders.find(WORD_TEMPLATE)
    if found is None:
        raise TemplateError(f"no Word template {WORD_TEMPLATE} in "
                            f"{', '.join(map(str, folders.all))}")
    return found


def read_word_template(path: Path) -> bytes:
    """The bytes of the Word template at ``path``, checked as a zip (size,
    DTDs) and as a Word package (:func:`~.word_package.check_package`).

    :raises TemplateError: naming the template and the part, if refused.
    """
    try:
        if path.stat().st_size > TEMPLATE_SIZE_LIMIT:
            raise TemplateError(f"the Word template is larger than {TEMPLATE_SIZE_LIMIT} "
                                "bytes", template=str(path))
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read the Word template: {exc.strerror or exc}",
                            template=str(path)) from None
    _refuse(path, list(check_zip(data)))
    try:
        document = _SafeTemplate(io.BytesIO(data)).get_docx()
    except Exception as exc:  # python-docx raises what a broken zip or part makes
        raise TemplateError(f"cannot open the Word template: {shorten_quotes(str(exc))}",
                            template=str(path)) from None
    _refuse(path, list(check_package(document)))
    return data


def _refuse(path: Path, refusals: list[Refusal]) -> None:
    if refusals:
        first = refusals[0]
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        where = f"{first.part}: " if first.part else ""
        raise TemplateError(f"refused: {where}{first.message}{more}", template=str(path))


def _render_docx(case: Case, options: RenderOptions, prepared: Prepared | None) -> bytes:
    """The DOCX of ``case`` with settled ``options``: what :func:`render_docx`
    runs, in a bounded child for a ministry's folders."""
    stage(Stage.template)
    path = word_template(options.folders)
    source = read_word_template(path)
    prepared = prepared or prepare(case, options)
    document = _fill(source, path, prepared, options.document, options.folders)
    if options.translation and options.document is Document.note:
        translated = replace(options, lang=options.translation, translation=None,
                             translation_of=options.lang)
        other = _fill(source, path, prepare(case, translated), Document.note, options.folders)
        _append_section(document, other, path)
    _refuse(path, list(check_package(document)))
    date = _date(prepared)
    _properties(document, prepared, date)
    _normalise(document)
    buffer = io.BytesIO()
    document.save(buffer)
    stamp = max(date, dt.datetime(1980, 1, 1, tzinfo=dt.UTC))
    return repack(buffer.getvalue(), (stamp.year, stamp.month, stamp.day, stamp.hour,
                                      stamp.minute, stamp.second))


class _SafeTemplate(DocxTemplate):  # type: ignore[misc]
    """docxtpl's template, parsing what its Jinja made strictly: docxtpl
    parses the body leniently (``recover=True``), which would repair XML a
    template broke, and resolve what a DTD declares."""

    def fix_tables(self, xml: str) -> Any:
        if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
            raise _BrokenXml("the document declares a DTD or entities")
        try:
            parse_xml(xml.encode("utf-8"))  # python-docx's parser: no entities, no network
        except etree.XMLSyntaxError as exc:
            raise _BrokenXml(f"the template's tags made XML that is not well-formed "
                             f"({exc.msg})") from None
        return super().fix_tables(xml)

    def map_tree(self, tree: Any) -> None:
        # python-docx's elements again (docxtpl's parser makes plain ones).
        super().map_tree(parse_xml(etree.tostring(tree)))


class _BrokenXml(Exception):
    pass


@functools.lru_cache(maxsize=8)
def word_environment(folders: TemplateFolders) -> jinja2.Environment:
    """The sandboxed Jinja environment Word templates run in: the HTML
    templates' (``StrictUndefined``, autoescaping, the same filters), with
    no loader: a Word template includes and imports nothing."""
    return make_environment(folders).overlay(loader=jinja2.DictLoader({}))


def _fill(source: bytes, path: Path, prepared: Prepared, document: Document,
          folders: TemplateFolders) -> Any:
    """The Word template filled with one document's context, its text
    typeset, its language set and its lists numbered."""
    template = _SafeTemplate(io.BytesIO(source))
    context = {"note": prepared.context, "doc": prepared.companion,
               "phrase": prepared.catalogue.phrase, "document": document.value}
    try:
        template.render(context, jinja_env=word_environment(folders), autoescape=True)
    except _BrokenXml as exc:
        raise TemplateError(f"{_part_name(template)}: {exc}", template=str(path)) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{_part_name(template)}: a Word template includes and imports "
                            f"no other template ({shorten_quotes(str(exc.name))})",
                            template=str(path)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_part_name(template)}, paragraph {max(1, (exc.lineno or 2) - 1)}"
                            f": {shorten_quotes(exc.message or str(exc))}",
                            template=str(path)) from None
    except TemplateError as exc:  # a phrase the template asked for
        raise TemplateError(f"{_part_name(template)}: {exc.message}", template=str(path),
                            problems=exc.problems) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
            RecursionError, etree.XMLSyntaxError) as exc:
        # Undefined names, sandbox refusals, what an expression can raise,
        # and XML a template's tags broke in a header or footer.
        raise TemplateError(f"{_part_name(template)}: "
                            f"{shorten_quotes(str(exc)) or type(exc).__name__}",
                            template=str(path)) from None
    filled = template.docx
    catalogue = prepared.catalogue
    language = word_language(catalogue)
    _language_styles(filled, catalogue.lang)
    for story in _stories(filled):
        _typeset(filled, story, catalogue.typography)
        _set_language(story, language)
    _number_lists(filled, catalogue.lang)
    return filled


def _part_name(template: DocxTemplate) -> str:
    part = getattr(template, "current_rendering_part", None)
    return str(part.partname).lstrip("/") if part is not None else "the template"


def word_language(catalogue: Catalogue) -> str:
    """The language tag Word knows the catalogue's language by: language and
    territory ("ru-RU", "en-GB"), with the script where the language is
    written in several ("az-Latn-AZ"), from the catalogue's locale and
    CLDR's likely subtags."""
    locale: Locale = catalogue.locale
    likely = str(get_global("likely_subtags").get(locale.language, "")).split("_")
    script = locale.script or (likely[1] if len(likely) > 2 else None)
    territory = locale.territory or (likely[-1] if len(likely) > 1 else None)
    parts = [locale.language]
    if script and localedata.exists(f"{locale.language}_{script}"):
        parts.append(script)
    if territory:
        parts.append(territory)
    return "-".join(parts)


def _stories(document: Any) -> list[Any]:
    """The body and every header and footer of ``document``, as elements."""
    stories = [document.element.body]
    for rel in document.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
            stories.append(rel.target_part.element)
    return stories


def _style_names(document: Any) -> dict[str, str]:
    return {style.style_id: style.name for style in document.styles}


def _language_styles(document: Any, lang: str) -> None:
    """Paragraphs of a style the template has a variant of for ``lang``
    ("Chronology Item ru") take the variant."""
    names = _style_names(document)
    variants = {name: style_id for style_id, name in names.items()}
    for style in document.element.body.iter(qn("w:pStyle")):
        variant = variants.get(f"{names.get(style.get(qn('w:val')), '')} {lang}")
        if variant is not None:
            style.set(qn("w:val"), variant)


def _typeset(document: Any, story: Any, typography: Typography) -> None:
    """The language's typography on every text of ``story``, paragraph by
    paragraph, as the HTML gets it; titles and names in the address and
    signature blocks break only between their parts."""
    names = _style_names(document)
    superior = getattr(typography, "_superior", None)
    superior_style = next((style_id for style_id, name in names.items()
                           if name == "Superior Letters"), None)
    for paragraph in story.iter(qn("w:p")):
        style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        if style is not None and not style.get(qn("w:val")):
            style.getparent().remove(style)
            style = None
        title = style is not None and names.get(style.get(qn("w:val")), "") in TITLE_STYLES
        at_head = True
        for run in paragraph.iter(qn("w:r")):
            for empty in run.findall(f"{qn('w:rPr')}/{qn('w:rStyle')}"):
                if not empty.get(qn("w:val")):
                    empty.getparent().remove(empty)
            for text in run.findall(qn("w:t")):
                if not text.text:
                    continue
                typeset = typography.text(text.text, at_head)
                if title:
                    typeset = typography.title(typeset)
                text.text = typeset
                if typeset.strip():
                    at_head = False
            if superior is not None:
                _raise_superior(run, superior, superior_style)


def _raise_superior(run: Any, pattern: re.Pattern[str], style_id: str | None) -> None:
    """Split ``run`` so that what ``pattern`` matches in its text is set as
    superior letters (the ``Superior Letters`` style, or raised where the
    template lacks it)."""
    texts = run.findall(qn("w:t"))
    if len(texts) != 1 or not texts[0].text or not pattern.search(texts[0].text):
        return
    whole = texts[0].text
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in pattern.finditer(whole):
        pieces.append((whole[position:match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    pieces.append((whole[position:], False))
    parent = run.getparent()
    index = parent.index(run)
    for text, raised in (piece for piece in pieces if piece[0]):
        new = copy.deepcopy(run)
        node = new.find(qn("w:t"))
        node.text = text
        node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        if raised:
            properties = new.get_or_add_rPr()
            if style_id is not None:
                properties.get_or_add_rStyle().val = style_id
            else:
                properties.get_or_add_vertAlign().val = "superscript"
        index += 1
        parent.insert(index, new)
    parent.remove(run)


_RUN_LANG_AFTER = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
_PARAGRAPH_RPR_AFTER = ("w:sectPr", "w:pPrChange")


def _set_language(story: Any, language: str) -> None:
    """``w:lang`` on every run and paragraph mark of ``story``."""
    for run in story.iter(qn("w:r")):
        _lang(run.get_or_add_rPr(), language)
    for paragraph in story.iter(qn("w:p")):
        properties = paragraph.get_or_add_pPr()
        mark = properties.find(qn("w:rPr"))
        if mark is None:
            mark = etree.SubElement(properties, qn("w:rPr"))
            properties.remove(mark)
            properties.insert_element_before(mark, *_PARAGRAPH_RPR_AFTER)
        _lang(mark, language)


def _lang(properties: Any, language: str) -> None:
    lang = properties.find(qn("w:lang"))
    if lang is None:
        lang = etree.SubElement(properties, qn("w:lang"))
        properties.remove(lang)
        if hasattr(properties, "insert_element_before"):
            properties.insert_element_before(lang, *_RUN_LANG_AFTER)
        else:
            properties.append(lang)
    lang.set(qn("w:val"), language)


def _numbering_of_styles(document: Any) -> dict[str, tuple[int, int]]:
    """Each paragraph style's numbering (numId, ilvl), its own or inherited."""
    found: dict[str, tuple[int, int]] = {}
    for style in document.styles:
        chain, current = [], style
        while current is not None and current not in chain:
            chain.append(current)
            current = getattr(current, "base_style", None)
        for link in chain:
            numbered = link.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if numbered is None:
                continue
            num = numbered.find(qn("w:numId"))
            level = numbered.find(qn("w:ilvl"))
            if num is not None:
                found[style.style_id] = (int(num.get(qn("w:val"))),
                                         int(level.get(qn("w:val"))) if level is not None else 0)
                break
    return found


def _number_lists(document: Any, lang: str) -> None:
    """Give each list of ``document``'s body its own numbering instance,
    restarting at 1 (with the template's numbering for ``lang`` where it
    names one "<name> <lang>"), set on its paragraphs (``w:numPr``).

    A list is a run of numbered paragraphs; any other paragraph ends it. A
    talking point's sub-list does not end the points around it."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return
    abstract_names = {}
    for abstract in numbering.findall(qn("w:abstractNum")):
        name = abstract.find(qn("w:name"))
        if name is not None:
            abstract_names[name.get(qn("w:val"))] = abstract.get(qn("w:abstractNumId"))
    abstract_of = {num.get(qn("w:numId")): num.find(qn("w:abstractNumId")).get(qn("w:val"))
                   for num in numbering.findall(qn("w:num"))}
    names_of = {abstract_id: name for name, abstract_id in abstract_names.items()}
    by_style = _numbering_of_styles(document)
    next_id = max((int(n) for n in abstract_of), default=0) + 1
    current: dict[str, int] = {}
    for paragraph in document.element.body.iter(qn("w:p")):
        properties = paragraph.pPr
        own = properties.find(qn("w:numPr")) if properties is not None else None
        style = properties.find(qn("w:pStyle")) if properties is not None else None
        number: tuple[int, int] | None = None
        if own is not None and own.find(qn("w:numId")) is not None:
            level = own.find(qn("w:ilvl"))
            number = (int(own.find(qn("w:numId")).get(qn("w:val"))),
                      int(level.get(qn("w:val"))) if level is not None else 0)
        elif style is not None:
            number = by_style.get(style.get(qn("w:val")))
        if number is None or number[0] == 0 or str(number[0]) not in abstract_of:
            current.clear()
            continue
        abstract = abstract_of[str(number[0])]
        name = names_of.get(abstract)
        if name is not None and f"{name} {lang}" in abstract_names:
            abstract = abstract_names[f"{name} {lang}"]
        if abstract not in current:
            num = etree.SubElement(numbering, qn("w:num"))
            num.set(qn("w:numId"), str(next_id))
            etree.SubElement(num, qn("w:abstractNumId")).set(qn("w:val"), abstract)
            for level in range(9):
                override = etree.SubElement(num, qn("w:lvlOverride"))
                override.set(qn("w:ilvl"), str(level))
                etree.SubElement(override, qn("w:startOverride")).set(qn("w:val"), "1")
            current[abstract] = next_id
            next_id += 1
        numbered = paragraph.get_or_add_pPr().get_or_add_numPr()
        numbered.get_or_add_ilvl().val = number[1]
        numbered.get_or_add_numId().val = current[abstract]


def _append_section(document: Any, other: Any, path: Path) -> None:
    """Append ``other`` (the courtesy translation) to ``document`` as a new
    section: a new page, page numbers from 1, its own headers and footers."""
    body = document.element.body
    last = body.find(qn("w:sectPr"))
    assert last is not None  # python-docx gives every body one
    ending = etree.SubElement(body, qn("w:p"))
    body.remove(ending)
    last.addprevious(ending)
    ending.get_or_add_pPr().append(copy.deepcopy(last))
    numbers = _carry_numbering(document, other)
    other_body = other.element.body
    for child in list(other_body):
        if child.tag == qn("w:sectPr"):
            continue
        _carry_relationships(child, other.part, document.part, path)
        for num in child.iter(qn("w:numId")):
            value = num.get(qn("w:val"))
            if value in numbers:
                num.set(qn("w:val"), numbers[value])
        last.addprevious(child)
    section = copy.deepcopy(other_body.find(qn("w:sectPr")))
    for reference in [*section.findall(qn("w:headerReference")),
                      *section.findall(qn("w:footerReference"))]:
        rel_id = reference.get(f"{{{_R}}}id")
        part = other.part.rels[rel_id].target_part
        header = reference.tag == qn("w:headerReference")
        kind = HeaderPart if header else FooterPart
        copied = kind.new(document.part.package)
        copied._element = copy.deepcopy(part.element)
        _carry_relationships(copied._element, part, copied, path)
        reference.set(f"{{{_R}}}id", document.part.relate_to(
            copied, RT.HEADER if header else RT.FOOTER))
    numbering = section.find(qn("w:pgNumType"))
    if numbering is None:
        numbering = etree.SubElement(section, qn("w:pgNumType"))
        section.remove(numbering)
        section.insert_element_before(
            numbering, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
            "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings",
            "w:sectPrChange")
    numbering.set(qn("w:start"), "1")
    body.replace(last, section)


def _carry_numbering(document: Any, other: Any) -> dict[str, str]:
    """Copy the numbering instances of ``other`` into ``document``'s, under
    new ids; return the ids' mapping (the abstract numberings are the same
    template's)."""
    target = document.part.numbering_part.element
    used = [int(num.get(qn("w:numId"))) for num in target.findall(qn("w:num"))]
    next_id = max(used, default=0) + 1
    mapping = {}
    for num in other.part.numbering_part.element.findall(qn("w:num")):
        copied = copy.deepcopy(num)
        mapping[num.get(qn("w:numId"))] = str(next_id)
        copied.set(qn("w:numId"), str(next_id))
        target.append(copied)
        next_id += 1
    return mapping


def _carry_relationships(element: Any, source: Any, target: Any, path: Path) -> None:
    """Point the relationships ``element`` uses (images) at parts of
    ``target``'s package, adding the images it lacks."""
    package = target.package
    for node in element.iter():
        for attribute, value in list(node.attrib.items()):
            if not attribute.startswith(f"{{{_R}}}"):
                continue
            rel = source.rels.get(value)
            if rel is None:
                continue
            if rel.reltype != RT.IMAGE or rel.is_external:
                raise TemplateError(f"refused: the translation's {rel.reltype.rsplit('/', 1)[-1]}"
                                    " relationship cannot be carried into the note; a template "
                                    "may hold text and images", template=str(path))
            image = package.get_or_add_image_part(io.BytesIO(rel.target_part.blob))
            node.set(attribute, target.relate_to(image, RT.IMAGE))


def _date(prepared: Prepared) -> dt.datetime:
    """The date the document carries: ``SOURCE_DATE_EPOCH`` where set (a
    reproducible build's), else the note's date at midnight UTC.

    :raises RenderError: if ``SOURCE_DATE_EPOCH`` is not a whole number.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip():
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise RenderError(f"SOURCE_DATE_EPOCH is {epoch!r}, not a number of seconds "
                              "since 1970") from None
    created = dt.date.fromisoformat(prepared.context.meta.created)
    return dt.datetime.combine(created, dt.time(), dt.UTC)


def _properties(document: Any, prepared: Prepared, date: dt.datetime) -> None:
    """The core properties from the note's metadata (as the PDF has them),
    and the application that made it."""
    meta = prepared.context.meta
    properties = document.core_properties
    properties.title = meta.title
    properties.author = meta.author
    properties.subject = meta.subject
    properties.keywords = ", ".join(meta.keywords)
    properties.language = word_language(prepared.catalogue)
    properties.comments = ""
    properties.category = ""
    properties.content_status = ""
    properties.identifier = ""
    properties.last_modified_by = ""
    properties.revision = 1
    stamp = date.replace(tzinfo=None)
    properties.created = stamp
    properties.modified = stamp
    _application(document, meta.generator)


_EXTENDED = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


def _application(document: Any, generator: str) -> None:
    """The extended properties (``docProps/app.xml``): the application that
    made the document, and nothing of the template's (its company, manager,
    counts and editing time)."""
    package = document.part.package
    for rel in package.rels.values():
        if rel.reltype == RT.EXTENDED_PROPERTIES and not rel.is_external:
            root = etree.Element(f"{{{_EXTENDED}}}Properties", nsmap={None: _EXTENDED})
            etree.SubElement(root, f"{{{_EXTENDED}}}Application").text = generator
            etree.SubElement(root, f"{{{_EXTENDED}}}DocSecurity").text = "0"
            rel.target_part._blob = etree.tostring(root, xml_declaration=True,
                                                   encoding="UTF-8", standalone=True)


def _normalise(document: Any) -> None:
    """Drop what Word and docxtpl leave that differs from run to run or says
    nothing of the note: revision ids, paragraph ids (repeated by the
    template's loops, so no longer unique), the document id and proofing
    state in the settings."""
    package = document.part.package
    for part in package.iter_parts():
        element = getattr(part, "_element", None)
        if element is None:
            continue
        for node in element.iter():
            for attribute in [a for a in node.attrib if _RANDOM_ATTRIBUTES.fullmatch(a)]:
                del node.attrib[attribute]
        for node in list(element.iter(qn("w:rsid"))):  # a style's revision id
            node.getparent().remove(node)
    settings = document.settings.element
    for tag in (qn("w:rsids"), qn("w:proofState"), f"{{{_W14}}}docId",
                "{http://schemas.microsoft.com/office/word/2012/wordml}docId"):
        for node in settings.findall(tag):
            settings.remove(node)


def check_word_template(path: Path, folders: TemplateFolders,
                        cases: Sequence[Case] = ()) -> list[str]:
    """What is wrong with the Word template at ``path`` before a note is
    rendered with it: refused content, Jinja tags that do not compile in the
    sandbox, and styles and numbering the renderer needs that it lacks;
    then, if none, what fails when each of ``cases`` is rendered with it as
    each note type and companion (in the case's language; what a case
    itself lacks is the case's affair, not the template's). Each problem a
    sentence naming the part."""
    from .word_package import CHARACTER_STYLES, NUMBERED_STYLES, PARAGRAPH_STYLES

    try:
        data = read_word_template(path)
    except TemplateError as exc:
        return [exc.message]
    template = _SafeTemplate(io.BytesIO(data))
    document = template.get_docx()
    problems = []
    environment = word_environment(folders)
    parts = [("word/document.xml", template.get_xml())]
    for rel in document.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
            parts.append((str(rel.target_part.partname).lstrip("/"),
                          template.get_part_xml(rel.target_part)))
    for name, xml in parts:
        source = template.patch_xml(xml)
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", source)
        try:
            environment.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{name}, paragraph {max(1, (exc.lineno or 2) - 1)}: "
                            f"{exc.message or exc}")
    styles = {(style.name, style.type) for style in document.styles}
    from docx.enum.style import WD_STYLE_TYPE

    for wanted, kind in [*((name, WD_STYLE_TYPE.PARAGRAPH) for name in PARAGRAPH_STYLES),
                         *((name, WD_STYLE_TYPE.CHARACTER) for name in CHARACTER_STYLES)]:
        if (wanted, kind) not in styles:
            problems.append(f"word/styles.xml: no {kind.name.lower()} style {wanted!r} "
                            f"({(PARAGRAPH_STYLES | CHARACTER_STYLES)[wanted]})")
    numbered = _numbering_of_styles(document)
    ids = {style.name: style.style_id for style in document.styles}
    for name in NUMBERED_STYLES:
        if name in ids and ids[name] not in numbered:
            problems.append(f"word/styles.xml: the style {name!r} is not numbered: give it "
                            "a list (Word: Modify Style, Format, Numbering)")
    if problems:
        return problems
    for case in cases:
        for variant in (*NoteType, Document.talking_points, Document.press_release):
            options = RenderOptions(template_dirs=folders.user, note_type=(
                variant if isinstance(variant, NoteType) else None), document=(
                variant if isinstance(variant, Document) else Document.note))
            try:
                render_docx(case, options=options)
            except TemplateError as exc:
                problems.append(f"{exc.message.removeprefix('refused: ')} (rendering a "
                                f"{variant.value.replace('_', ' ')})")
            except RecordError as exc:
                logger.info("not rendered as %s: %s", variant.value, exc)
    return list(dict.fromkeys(problems))

