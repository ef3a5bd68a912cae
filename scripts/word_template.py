"""Write the built-in Word template, templates/note.docx.

    .venv/bin/python scripts/word_template.py

The template is built with python-docx's element API (no XML text), and
written deterministically: tests/test_docx.py checks that the committed file
is what this script writes. It is neutral, like the built-in HTML template:
A4, the margins of static/note.css, Times New Roman (what Word has
everywhere), the sender's letterhead from the records in the first-page
header, the addressee block in the first-page footer, page numbers in every
footer.

Its body holds docxtpl's Jinja tags: ``{%p … %}`` paragraphs are dropped
once their tag has run, so a loop repeats the paragraphs between them. It
renders the note (``doc`` is none), the talking points and the press release
(``doc`` is their context, ``document`` says which); the names of the styles
and numbering are notegen.render.word_package's.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

import docx
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notegen.render.word_package import repack  # noqa: E402

TARGET = ROOT / "templates" / "note.docx"

#: The date the template's own properties and zip entries carry.
STAMP = (2025, 1, 1, 0, 0, 0)

FONT = "Times New Roman"
#: The text width: A4 less the left and right margins (30 and 20 mm).
TEXT_WIDTH = Mm(160)


def element(tag: str, **attributes: str) -> Any:
    node = OxmlElement(tag)
    for name, value in attributes.items():
        node.set(qn(f"w:{name}"), value)
    return node


def build() -> Any:
    document = docx.Document()
    _clean_package(document)
    _styles(document)
    _numbering(document)
    _page(document)
    _body(document)
    _settings(document)
    properties = document.core_properties
    properties.title = "Note"
    properties.author = ""
    properties.subject = ""
    properties.keywords = ""
    properties.comments = ""
    properties.category = ""
    properties.last_modified_by = ""
    properties.revision = 1
    date = dt.datetime(*STAMP, tzinfo=dt.UTC)
    properties.created = date
    properties.modified = date
    return document


def _clean_package(document: Any) -> None:
    """Drop what python-docx's default document carries and a neutral
    template does not: a thumbnail, custom XML, the 2010 styles copy, web
    settings, Office's theme (the styles name their fonts)."""
    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rel_id)
    for rel_id, rel in list(document.part.rels.items()):
        if rel.reltype in (RT.CUSTOM_XML, RT.WEB_SETTINGS, RT.THEME) or \
                rel.reltype.endswith("/stylesWithEffects"):
            document.part.drop_rel(rel_id)


def _settings(document: Any) -> None:
    settings = document.settings.element
    for tag in ("w:rsids", "w:proofState", "w14:docId", "w:attachedTemplate"):
        for node in settings.findall(qn(tag)):
            settings.remove(node)


# Styles: name -> (based on, paragraph settings, run settings).
def _styles(document: Any) -> None:
    styles = document.styles
    keep = {"Normal", "Default Paragraph Font", "Normal Table", "No List", "Header", "Footer"}
    root = styles.element
    for style in list(root.findall(qn("w:style"))):
        name = style.find(qn("w:name"))
        if name is None or name.get(qn("w:val")) not in {n.lower() for n in keep} | keep:
            root.remove(style)
    for style in root.findall(qn("w:style")):
        # Revision ids, and links to the character styles dropped above.
        for node in [*style.findall(qn("w:rsid")), *style.findall(qn("w:link"))]:
            style.remove(node)
    latent = root.find(qn("w:latentStyles"))
    if latent is not None:
        root.remove(latent)
    defaults = root.find(qn("w:docDefaults"))
    if defaults is not None:
        root.remove(defaults)
    defaults = element("w:docDefaults")
    run = element("w:rPrDefault")
    run_properties = element("w:rPr")
    run_properties.append(element("w:rFonts", ascii=FONT, hAnsi=FONT, cs=FONT,
                                  eastAsia=FONT))
    run_properties.append(element("w:sz", val="23"))
    run_properties.append(element("w:szCs", val="23"))
    run_properties.append(element("w:lang", val="en-GB", eastAsia="en-GB", bidi="ar-SA"))
    run.append(run_properties)
    paragraph = element("w:pPrDefault")
    paragraph_properties = element("w:pPr")
    paragraph_properties.append(element("w:spacing", after="0", line="360", lineRule="auto"))
    paragraph.append(paragraph_properties)
    defaults.append(run)
    defaults.append(paragraph)
    root.insert(0, defaults)

    def paragraph_style(name: str, *, base: str = "Normal", align: Any = None,
                        indent: Any = None, first: Any = None, before: Any = None,
                        after: Any = None, size: float | None = None, bold: bool = False,
                        italic: bool = False, caps: bool = False, keep: bool = False,
                        line: float | None = None, color: str | None = None,
                        right: Any = None) -> Any:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.quick_style = True
        formatting = style.paragraph_format
        if align is not None:
            formatting.alignment = align
        if indent is not None:
            formatting.left_indent = indent
        if right is not None:
            formatting.right_indent = right
        if first is not None:
            formatting.first_line_indent = first
        if before is not None:
            formatting.space_before = before
        if after is not None:
            formatting.space_after = after
        if line is not None:
            formatting.line_spacing = line
        formatting.widow_control = True
        if keep:
            formatting.keep_with_next = True
        font = style.font
        if size is not None:
            font.size = Pt(size)
        font.bold = bold or None
        font.italic = italic or None
        font.all_caps = caps or None
        if color is not None:
            font.color.rgb = RGBColor.from_string(color)
        return style

    justify, centre = WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.CENTER
    right, left = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
    letterhead = paragraph_style("Letterhead", align=centre, size=11, bold=True, caps=True,
                                 line=1.35)
    _letter_spacing(letterhead, 13)
    _border_below(letterhead)
    paragraph_style("Translation Mark", align=right, italic=True, size=9.5, after=Mm(4))
    paragraph_style("Reference", after=Mm(6))
    reference_line = paragraph_style("Reference Line", after=Mm(6))
    reference_line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH,
                                                           WD_TAB_ALIGNMENT.RIGHT)
    title = paragraph_style("Note Title", align=centre, caps=True, after=Mm(6), keep=True)
    _letter_spacing(title, 46)
    # (no indent said outright: LibreOffice gives its own "Salutation" one)
    paragraph_style("Salutation", after=Mm(4), keep=True, indent=Mm(0), first=Mm(0))
    paragraph_style("Note Body", align=justify, first=Mm(12), after=Mm(3))
    paragraph_style("Lead-in", base="Note Body", after=Mm(2), keep=True)
    paragraph_style("Chronology Item", align=justify, indent=Mm(20), first=Mm(-7),
                    after=Mm(1.5))
    # Russian words are long and its institutions' names are kept whole:
    # justified, the chronology's narrow items leave wide gaps (static/note.css
    # sets them ragged-right too). A style "<name> <lang>" is the renderer's
    # choice for paragraphs of <name> in that language.
    paragraph_style("Chronology Item ru", base="Chronology Item", align=left)
    paragraph_style("Legal Instrument", align=left, indent=Mm(20), first=Mm(-7),
                    after=Mm(0.5), italic=True, keep=True)
    paragraph_style("Legal Basis", align=left, indent=Mm(26), first=Mm(-5), after=Mm(0.5))
    paragraph_style("Demand", align=justify, indent=Mm(20), first=Mm(-7), after=Mm(1.5),
                    keep=True)
    paragraph_style("Complimentary Close", base="Note Body", keep=True)
    paragraph_style("Place and Date", align=right, before=Mm(8))
    paragraph_style("Seal Space", align=right, before=Mm(30), size=8, color="777777",
                    right=Mm(8))
    paragraph_style("Signatory Name", align=centre, indent=TEXT_WIDTH // 2, before=Mm(14),
                    bold=True, keep=True)
    paragraph_style("Signatory Title", align=centre, indent=TEXT_WIDTH // 2)
    paragraph_style("Enclosure", size=10, before=Mm(4))
    paragraph_style("Addressee Name", size=10.5, bold=True, line=1.35, base="Footer",
                    before=Mm(8))
    paragraph_style("Addressee", size=10.5, line=1.35, base="Footer")
    paragraph_style("Page Number", align=right, size=9, color="444444", base="Footer",
                    before=Mm(3))
    marking = paragraph_style("Marking", align=right, size=9.5, caps=True, after=Mm(4))
    _letter_spacing(marking, 15)
    details = paragraph_style("Meeting Details", size=10.5, indent=Mm(40), first=Mm(-40))
    details.paragraph_format.tab_stops.add_tab_stop(Mm(40))
    paragraph_style("Talking Point", align=justify, indent=Mm(6), first=Mm(-6), after=Mm(3))
    paragraph_style("End Mark", align=centre, before=Mm(6))

    superior = styles.add_style("Superior Letters", WD_STYLE_TYPE.CHARACTER)
    superior.font.superscript = True
    blank = styles.add_style("Draft Blank", WD_STYLE_TYPE.CHARACTER)
    blank.font.color.rgb = RGBColor.from_string("555555")
    dateline = styles.add_style("Dateline", WD_STYLE_TYPE.CHARACTER)
    dateline.font.bold = True


def _letter_spacing(style: Any, twentieths: int) -> None:
    properties = style.element.get_or_add_rPr()
    properties.append(element("w:spacing", val=str(twentieths)))


def _border_below(style: Any) -> None:
    properties = style.element.get_or_add_pPr()
    borders = element("w:pBdr")
    borders.append(element("w:bottom", val="single", sz="5", space="6", color="000000"))
    properties.insert_element_before(
        borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
        "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
        "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
        "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
        "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
        "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# Numbering: (name, [(format, text, indent, hanging, style), ...]).
_NUMBERING = [
    ("Chronology Item", [("decimal", "%1.", Mm(20), Mm(7), "Chronology Item")]),
    ("Legal Basis", [("lowerRoman", "%1.", Mm(20), Mm(7), "Legal Instrument"),
                     ("bullet", "\u2013", Mm(26), Mm(5), "Legal Basis")]),
    ("Demand", [("lowerLetter", "%1.", Mm(20), Mm(7), "Demand")]),
    ("Talking Point", [("bullet", "\u2022", Mm(6), Mm(6), "Talking Point")]),
    # Each language numbers in its own way (static/note.css says the same):
    # Russian letters its demands "а) б)" and numbers instruments "I. II.";
    # French letters "a) b)", Azerbaijani numbers "1) 2)".
    ("Demand ru", [("russianLower", "%1)", Mm(20), Mm(7), None)]),
    ("Demand fr", [("lowerLetter", "%1)", Mm(20), Mm(7), None)]),
    ("Demand az", [("decimal", "%1)", Mm(20), Mm(7), None)]),
    *[(f"Legal Basis {lang}", [("upperRoman", "%1.", Mm(20), Mm(7), None),
                               ("bullet", "\u2013", Mm(26), Mm(5), None)])
      for lang in ("ru", "fr", "az")],
]

#: Styles numbered by default (with the first abstract numbering of their name).
_STYLE_NUMBERING = {"Chronology Item": ("Chronology Item", 0),
                    "Legal Instrument": ("Legal Basis", 0),
                    "Legal Basis": ("Legal Basis", 1),
                    "Demand": ("Demand", 0),
                    "Talking Point": ("Talking Point", 0)}


def _numbering(document: Any) -> None:
    numbering = document.part.numbering_part.element
    for child in list(numbering):
        numbering.remove(child)
    ids: dict[str, int] = {}
    for index, (name, levels) in enumerate(_NUMBERING):
        abstract = element("w:abstractNum", abstractNumId=str(index))
        abstract.append(element("w:nsid", val=f"{0x4E470000 + index:08X}"))
        abstract.append(element("w:multiLevelType",
                                val="hybridMultilevel" if len(levels) > 1 else "singleLevel"))
        abstract.append(element("w:name", val=name))
        for level, (fmt, text, indent, hanging, style) in enumerate(levels):
            lvl = element("w:lvl", ilvl=str(level))
            lvl.append(element("w:start", val="1"))
            lvl.append(element("w:numFmt", val=fmt))
            if style is not None:
                lvl.append(element("w:pStyle", val=document.styles[style].style_id))
            lvl.append(element("w:lvlText", val=text))
            lvl.append(element("w:lvlJc", val="left"))
            properties = element("w:pPr")
            tabs = element("w:tabs")
            tabs.append(element("w:tab", val="num", pos=str(indent.twips)))
            properties.append(tabs)
            properties.append(element("w:ind", left=str(indent.twips),
                                      hanging=str(hanging.twips)))
            lvl.append(properties)
            abstract.append(lvl)
        numbering.append(abstract)
        ids[name] = index
    for number, name in enumerate(dict.fromkeys(n for n, _ in _STYLE_NUMBERING.values()),
                                  start=1):
        num = element("w:num", numId=str(number))
        num.append(element("w:abstractNumId", val=str(ids[name])))
        numbering.append(num)
        ids[name] = number
    for style_name, (name, level) in _STYLE_NUMBERING.items():
        properties = document.styles[style_name].element.get_or_add_pPr()
        numbered = properties.get_or_add_numPr()
        numbered.get_or_add_ilvl().val = level
        numbered.get_or_add_numId().val = ids[name]


def _page(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(22), Mm(28)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    section.header_distance, section.footer_distance = Mm(12), Mm(10)
    section.start_type = WD_SECTION.NEW_PAGE
    section.different_first_page_header_footer = True
    header = section.first_page_header
    _tagged(header, [
        ("{%p for line in note.sender.letterhead or [note.sender.name|sentence] %}", None),
        ("{{ line }}", "Letterhead"),
        ("{%p endfor %}", None),
    ])
    section.header.paragraphs[0].style = document.styles["Header"]
    first_footer = section.first_page_footer
    _tagged(first_footer, [
        ("{%p if doc is none %}", None),
        ("{%p for line in note.addressee_block %}", None),
        ("{%p if loop.first %}", None),
        ("{{ line }}", "Addressee Name"),
        ("{%p else %}", None),
        ("{{ line }}", "Addressee"),
        ("{%p endif %}", None),
        ("{%p endfor %}", None),
        ("{%p endif %}", None),
    ])
    _page_number(first_footer.add_paragraph(style="Page Number"))
    footer = section.footer
    footer.paragraphs[0].style = document.styles["Page Number"]
    _page_number(footer.paragraphs[0])


def _page_number(paragraph: Any) -> None:
    field = element("w:fldSimple", instr=" PAGE ")
    run = element("w:r")
    text = element("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _tagged(container: Any, lines: list[tuple[str, str | None]]) -> None:
    """Fill a header or footer with ``lines`` (text and style)."""
    first = container.paragraphs[0]
    for index, (text, style) in enumerate(lines):
        if index == 0:
            first.text = text
            first.style = style
        else:
            container.add_paragraph(text, style=style)


#: The body: (text, style); a style of None for docxtpl's tag paragraphs. A
#: list entry is a paragraph of several runs: (text, character style).
_NOTE = [
    ("{%p if note.translation_mark %}", None),
    ("{{ note.translation_mark }}", "Translation Mark"),
    ("{%p endif %}", None),
    ("{%p if doc is none %}", None),
    # The number, and a first-person note's place and date beside it.
    ("{%p if note.type == 'first_person_note' %}", None),
    ([("{{ note.reference }}", "{% if note.draft %}Draft Blank{% endif %}"),
      ("\t{{ note.date_line }}", None)], "Reference Line"),
    ("{%p elif note.reference %}", None),
    ([("{{ note.reference }}", "{% if note.draft %}Draft Blank{% endif %}")], "Reference"),
    ("{%p endif %}", None),
    ("{%p if note.type != 'first_person_note' %}", None),
    ("{{ note.title }}", "Note Title"),
    ("{%p endif %}", None),
    ("{%p if note.courtesy.salutation %}", None),
    ("{{ note.courtesy.salutation }}", "Salutation"),
    ("{%p endif %}", None),
    ("{{ note.courtesy.opening }}", "Note Body"),
    ("{{ note.narrative }}", "Note Body"),
    ("{%p if note.chronology %}", None),
    ("{{ note.chronology_intro }}", "Lead-in"),
    ("{%p for incident in note.chronology %}", None),
    ("{{ incident.entry }}", "Chronology Item"),
    ("{%p endfor %}", None),
    ("{%p endif %}", None),
    # The sender's earlier notes about these incidents (from the register).
    ("{%p if note.earlier_notes is defined and note.earlier_notes.text %}", None),
    ("{{ note.earlier_notes.text }}", "Note Body"),
    ("{%p endif %}", None),
    ("{%p for text in note.recalls + note.position %}", None),
    ("{{ text }}", "Note Body"),
    ("{%p endfor %}", None),
    ("{%p if note.legal_bases %}", None),
    ("{{ note.legal_intro }}", "Lead-in"),
    ("{%p for instrument in note.legal_bases %}", None),
    ("{%p set last_instrument = loop.last %}", None),
    ("{{ instrument.title }}", "Legal Instrument"),
    ("{%p for basis in instrument.citations %}", None),
    ("{{ basis.item }}{{ phrase('list.last' if last_instrument and loop.last "
     "else 'list.more') }}", "Legal Basis"),
    ("{%p endfor %}", None),
    ("{%p endfor %}", None),
    ("{%p endif %}", None),
    ("{{ note.demands_intro }}", "Lead-in"),
    ("{%p for demand in note.demands %}", None),
    ("{{ demand }}{{ phrase('list.last' if loop.last else 'list.more') }}", "Demand"),
    ("{%p endfor %}", None),
    ("{%p if note.courtesy.closing %}", None),
    ("{{ note.courtesy.closing }}", "Complimentary Close"),
    ("{%p endif %}", None),
    # Signed, or dated with the space for the seal and initials.
    ("{%p if note.signatory %}", None),
    ("{{ note.signatory.name }}", "Signatory Name"),
    ("{{ note.signatory.title }}", "Signatory Title"),
    ("{%p else %}", None),
    ("{{ note.date_line }}", "Place and Date"),
    ("{%p if note.seal %}", None),
    ("{% if note.draft %}{{ note.seal }}{% endif %}", "Seal Space"),
    ("{%p endif %}", None),
    ("{%p endif %}", None),
    ("{%p for line in note.enclosures %}", None),
    ("{{ line }}", "Enclosure"),
    ("{%p endfor %}", None),
    # The talking points for the summons: not handed over.
    ("{%p elif document == 'talking_points' %}", None),
    ("{{ doc.marking }}", "Marking"),
    ("{{ doc.title }}", "Note Title"),
    ("{%p for label, value in doc.heading %}", None),
    ("{{ label }}\t{{ value }}", "Meeting Details"),
    ("{%p endfor %}", None),
    ("{{ doc.opening }}", "Talking Point"),
    ("{{ doc.narrative }}", "Talking Point"),
    ("{%p if doc.chronology %}", None),
    ("{{ doc.chronology_intro }}", "Talking Point"),
    ("{%p for entry in doc.chronology %}", None),
    ("{{ entry }}", "Chronology Item"),
    ("{%p endfor %}", None),
    ("{%p endif %}", None),
    ("{%p for point in doc.recalls + doc.position %}", None),
    ("{{ point }}", "Talking Point"),
    ("{%p endfor %}", None),
    ("{{ doc.demands_intro }}", "Talking Point"),
    ("{%p for demand in doc.demands %}", None),
    ("{{ demand }}{{ phrase('list.last' if loop.last else 'list.more') }}", "Demand"),
    ("{%p endfor %}", None),
    ("{%p if doc.legal %}", None),
    ("{{ doc.legal_intro }}", "Talking Point"),
    ("{%p for cite in doc.legal %}", None),
    ("{{ cite }}", "Legal Basis"),
    ("{%p endfor %}", None),
    ("{%p endif %}", None),
    ("{{ doc.handover }}", "Talking Point"),
    # The press release: dated and placed at its head.
    ("{%p else %}", None),
    ("{{ doc.title }}", "Note Title"),
    ("{%p for paragraph in doc.paragraphs %}", None),
    ("{%p if loop.first %}", None),
    ([("{{ doc.dateline }}.", "Dateline"), (" {{ paragraph }}", None)], "Note Body"),
    ("{%p else %}", None),
    ("{{ paragraph }}", "Note Body"),
    ("{%p endif %}", None),
    ("{%p if note.earlier_notes is defined and note.earlier_notes.press_release and "
     "loop.index == (3 if note.chronology else 2) %}", None),
    ("{{ note.earlier_notes.press_release }}", "Note Body"),
    ("{%p endif %}", None),
    ("{%p endfor %}", None),
    ("***", "End Mark"),
    ("{%p endif %}", None),
]


def _body(document: Any) -> None:
    body = document.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    for content, style in _NOTE:
        if isinstance(content, str):
            document.add_paragraph(content, style=style)
            continue
        paragraph = document.add_paragraph(style=style)
        for text, character in content:
            run = paragraph.add_run(text)
            if character is not None and not character.startswith("{%"):
                run.style = document.styles[character]
            elif character is not None:
                # A style chosen by the template: Jinja in the style's id.
                properties = run._r.get_or_add_rPr()
                style_id = document.styles["Draft Blank"].style_id
                properties.insert(0, element("w:rStyle", val=character.replace(
                    "Draft Blank", style_id)))


def bytes_of(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return repack(buffer.getvalue(), STAMP)


def main() -> None:
    TARGET.write_bytes(bytes_of(build()))
    print(f"wrote {TARGET.relative_to(ROOT)}")  # noqa: T201


if __name__ == "__main__":
    main()
