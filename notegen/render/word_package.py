"""What a Word template and a rendered DOCX share: the styles and numbering
the renderer places the note in, the check that keeps a hostile ``.docx``
from reaching outside, and the packaging that makes the same input give the
same bytes.

The names here are the contract with a ministry's Word template, as
:class:`~notegen.wording.context.NoteContext` is with its HTML one: the
template's body places the note's texts in paragraphs of these styles, and
the renderer finds them by name (``templates check`` says which are missing).
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TARGET_MODE
from docx.oxml.ns import qn
from lxml import etree  # type: ignore[import-untyped]

#: The paragraph styles the renderer needs, by name, each with what it holds.
PARAGRAPH_STYLES = {
    "Letterhead": "a line of the sender's letterhead (first-page header)",
    "Translation Mark": "the mark of a courtesy translation",
    "Reference": "the note's number",
    "Reference Line": "a first-person note's number and, at a right tab, place and date",
    "Note Title": "the heading: Note Verbale, Aide-Mémoire",
    "Salutation": "a first-person note's \"Excellency,\"",
    "Note Body": "a paragraph of running text",
    "Lead-in": "the sentence that introduces a list",
    "Chronology Item": "an earlier incident (numbered)",
    "Legal Instrument": "a treaty whose articles are cited (numbered)",
    "Legal Basis": "an article cited (a dash under its instrument)",
    "Demand": "a demand (lettered)",
    "Complimentary Close": "the closing formula",
    "Place and Date": "place and date at the end of the note",
    "Seal Space": "the space left for the seal and initials",
    "Signatory Name": "who signs a first-person note",
    "Signatory Title": "the signatory's office",
    "Enclosure": "a line listing an enclosure",
    "Addressee Name": "the first line of the addressee block (first-page footer)",
    "Addressee": "a further line of the addressee block",
    "Page Number": "the page number (footer)",
    "Marking": "the talking points' marking: For internal use",
    "Meeting Details": "a label and value of the talking points' heading",
    "Talking Point": "a point of the talking points (bulleted)",
    "End Mark": "the press release's closing ***",
}

#: The character styles the renderer needs.
CHARACTER_STYLES = {
    "Superior Letters": "superior letters the language sets raised (French 1er)",
    "Draft Blank": "the blank of a draft's number",
    "Dateline": "the press release's place and date",
}

#: Styles whose lines are titles and names: they break only between the
#: parts of a title (the language's ``title_links``), as the HTML's
#: address and signature blocks do.
TITLE_STYLES = frozenset({"Addressee Name", "Addressee", "Signatory Name", "Signatory Title"})

#: Styles numbered by Word: each must have numbering (``w:numPr``) in the
#: template. A list's numbering per language is the abstract numbering named
#: after the style and the language ("Demand ru"), if the template has one.
NUMBERED_STYLES = ("Chronology Item", "Legal Instrument", "Legal Basis", "Demand",
                   "Talking Point")

#: Field codes a template may use: page numbers and references inside the
#: document. Any other field (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE,
#: HYPERLINK, DATE …) may fetch, run or show what the records do not say.
ALLOWED_FIELDS = frozenset({"PAGE", "NUMPAGES", "SECTIONPAGES", "SECTION", "REF", "PAGEREF",
                            "STYLEREF", "NOTEREF", "SEQ"})

#: Relationship types a template may not use even inside the package: code,
#: embedded objects and documents, imported content, attached templates.
_REFUSED_TYPES = ("oleObject", "package", "activeX", "control", "vbaProject", "attachedTemplate",
                  "subDocument", "frame", "aFChunk", "externalLink", "oleObjectLink",
                  "vbaData", "wordVbaData", "keyMapCustomizations", "recipientData",
                  "mailMergeSource", "mailMergeHeaderSource", "dataSource")

#: Content types refused in a template (macros, ActiveX, embedded objects).
_REFUSED_CONTENT = re.compile(r"macroEnabled|vbaProject|activeX|oleObject|\.ole|"
                              r"package$|msword\.template", re.IGNORECASE)

#: How much a template may hold, uncompressed, in bytes (a letterhead is a
#: few hundred KiB; a zip bomb is refused before it is unpacked).
TEMPLATE_SIZE_LIMIT = 64 * 2**20

#: The media type of a DOCX.
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_FIELD_NAME = re.compile(r"\s*([A-Za-z]+)")


@dataclass(frozen=True)
class Refusal:
    """Something in a Word package notegen refuses, and where."""

    #: The part, e.g. ``word/_rels/document.xml.rels``.
    part: str
    message: str


def check_zip(data: bytes) -> Iterator[Refusal]:
    """What is wrong with ``data`` as a zip, before anything is unpacked:
    not a zip, too large once unpacked, or a part with a DTD (XML parts of a
    DOCX never have one; an entity is how a document reads a file)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield Refusal("", "it is not a Word document (.docx): not a zip file")
        return
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        if total > TEMPLATE_SIZE_LIMIT:
            yield Refusal("", f"it unpacks to {total} bytes, more than the "
                              f"{TEMPLATE_SIZE_LIMIT} a template may hold")
            return
        for info in archive.infolist():
            if info.filename.endswith((".xml", ".rels")):
                head = archive.read(info)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    yield Refusal(info.filename, "it declares a DTD or entities, which a "
                                                 "Word document never needs")


def check_package(document: Any) -> Iterator[Refusal]:
    """What a Word document (python-docx's) holds that notegen refuses:
    relationships that point outside the package (external images, links,
    templates, objects), macro and object parts, and fields that fetch or
    run something. Checked on a template and again on each rendered
    document, since a template's Jinja could write such a field."""
    package = document.part.package
    for part in package.iter_parts():
        name = str(part.partname).lstrip("/")
        if _REFUSED_CONTENT.search(part.content_type):
            yield Refusal(name, f"it holds a part of type {part.content_type}")
        for rel in part.rels.values():
            kind = rel.reltype.rsplit("/", 1)[-1]
            if rel.is_external or getattr(rel, "_target_mode", None) == \
                    RELATIONSHIP_TARGET_MODE.EXTERNAL:
                yield Refusal(_rels_name(name), f"relationship {rel.rId} ({kind}) points "
                              f"outside the document, to {_short(str(rel.target_ref))}")
            elif kind in _REFUSED_TYPES:
                yield Refusal(_rels_name(name), f"relationship {rel.rId} is a {kind}, "
                                                "which a note template may not hold")
        element = getattr(part, "_element", None)
        if element is not None:
            yield from _check_fields(name, element)
    for rel in package.rels.values():
        if rel.is_external:
            yield Refusal("_rels/.rels", f"relationship {rel.rId} points outside the "
                                         f"document, to {_short(str(rel.target_ref))}")


def _check_fields(name: str, element: Any) -> Iterator[Refusal]:
    instructions = [str(node.get(qn("w:instr")) or "")
                    for node in element.iter(qn("w:fldSimple"))]
    # A complex field's code may be split across runs: join each field's.
    code: list[str] | None = None
    for node in element.iter(qn("w:fldChar"), qn("w:instrText")):
        if node.tag == qn("w:instrText"):
            if code is not None:
                code.append(node.text or "")
            continue
        kind = node.get(qn("w:fldCharType"))
        if kind == "begin":
            if code is not None:
                instructions.append("".join(code))
            code = []
        elif kind in ("separate", "end") and code is not None:
            instructions.append("".join(code))
            code = None
    if code is not None:
        instructions.append("".join(code))
    for instruction in instructions:
        match = _FIELD_NAME.match(instruction)
        field = match.group(1).upper() if match else instruction.strip()
        if field and field not in ALLOWED_FIELDS:
            yield Refusal(name, f"it has a {field} field ({_short(instruction.strip())}); a "
                                f"template may use only {', '.join(sorted(ALLOWED_FIELDS))}")
    for node in element.iter(qn("w:attachedTemplate"), qn("w:altChunk"), qn("w:object")):
        yield Refusal(name, f"it has a {etree.QName(node).localname} element")


def _rels_name(partname: str) -> str:
    folder, _, file = partname.rpartition("/")
    return f"{folder}/_rels/{file}.rels".lstrip("/")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


#: The first entries of a DOCX, in this order; the others follow sorted.
_FIRST = ("[Content_Types].xml", "_rels/.rels")


def repack(data: bytes, stamp: tuple[int, int, int, int, int, int]) -> bytes:
    """``data`` (a DOCX as python-docx saves it) with its entries in a fixed
    order, each dated ``stamp`` and compressed alike: python-docx dates them
    with the clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        names = source.namelist()
        order = [name for name in _FIRST if name in names] + sorted(
            name for name in names if name not in _FIRST)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for name in order:
                entry = zipfile.ZipInfo(name, date_time=stamp)
                entry.create_system = 3
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(entry, source.read(name), compresslevel=6)
    return out.getvalue()


def eject_word_template(folder: Path) -> Path:
    """Copy the built-in Word template into ``folder`` (over any file there)."""
    from ..template_folders import BUILTIN_FOLDER

    target = folder / "note.docx"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BUILTIN_FOLDER / "note.docx", target)
    return target
