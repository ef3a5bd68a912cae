"""The note as an editable Word document (issue 20): the same words in the
same order as the PDF's HTML, real numbering, styles, languages, properties,
the same bytes for the same input, the courtesy translation as an
enclosure, every face, and hostile Word templates refused."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pikepdf
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import html as lxml_html

import notegen
from notegen import Case, RenderOptions, TemplateError, render_docx, render_html
from notegen.cli import cli
from notegen.records.models import NoteType
from notegen.render.word_package import MEDIA_TYPE
from notegen.template_folders import BUILTIN_FOLDER
from notegen.wording.prepare import prepare

from .conftest import CATALOGUE, ROOT, SEED, Edit, pdf_text

LANGUAGES = ("en", "ru", "fr", "az")
NOTE_TYPES = tuple(NoteType)

#: The tag Word knows each language by: language and territory from the
#: catalogue's locale (or CLDR's likely one), with the script where the
#: language is written in more than one (Azerbaijani).
WORD_LANGUAGE = {"en": "en-GB", "ru": "ru-RU", "fr": "fr-FR", "az": "az-Latn-AZ"}

#: How each language numbers its lists (static/note.css says the same for
#: the PDF): the chronology 1. 2.; demands a. (English), а) (Russian), a)
#: (French), 1) (Azerbaijani); instruments i. (English), else I.
NUMBERING = {
    "en": {"Chronology Item": ("decimal", "%1."), "Demand": ("lowerLetter", "%1."),
           "Legal Instrument": ("lowerRoman", "%1.")},
    "ru": {"Chronology Item": ("decimal", "%1."), "Demand": ("russianLower", "%1)"),
           "Legal Instrument": ("upperRoman", "%1.")},
    "fr": {"Chronology Item": ("decimal", "%1."), "Demand": ("lowerLetter", "%1)"),
           "Legal Instrument": ("upperRoman", "%1.")},
    "az": {"Chronology Item": ("decimal", "%1."), "Demand": ("decimal", "%1)"),
           "Legal Instrument": ("upperRoman", "%1.")},
}

_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def opened(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def words(text: str) -> list[str]:
    """Words, whatever the spaces between them (no-break ones too), and the
    parts of a hyphenated word apart (a line may break after its hyphen)."""
    return [word for word in re.split(r"[\s\-\u2011]+", text) if word]


def html_parts(html: str) -> tuple[list[str], list[str], list[str]]:
    """The words of the HTML's letterhead, addressee block and the rest, in order."""
    tree = lxml_html.fromstring(html.encode("utf-8"))
    body = tree.find("body")
    letterhead = body.find(".//header[@class='letterhead']")
    address = body.find(".//address")
    head = [" ".join(p.text_content() for p in letterhead.iter("p"))]
    addressee = [" ".join(span.text_content() for span in address.findall("span"))] \
        if address is not None else []
    for element in (letterhead, address):
        if element is not None:
            element.getparent().remove(element)
    # Block elements end a word ("…;</li><li>…"): text is joined with spaces.
    texts = list(body.itertext())
    return words(" ".join(head)), words(" ".join(addressee)), words(" ".join(texts))


def docx_parts(document: Any) -> tuple[list[str], list[str], list[str]]:
    """The words of the first page's header and footer (without the page
    number) and of the body."""
    section = document.sections[0]
    header = " ".join(p.text for p in section.first_page_header.paragraphs)
    footer = " ".join(p.text for p in section.first_page_footer.paragraphs
                      if p.style.name != "Page Number")
    body = " ".join(p.text for p in document.paragraphs)
    return words(header), words(footer), words(body)


@pytest.fixture(scope="module")
def renders(worked_case: Case) -> dict[tuple[str, NoteType], tuple[bytes, str]]:
    """The worked case as DOCX and HTML in every language and note type."""
    out = {}
    for lang in LANGUAGES:
        for note_type in NOTE_TYPES:
            options = RenderOptions(lang=lang, note_type=note_type)
            out[lang, note_type] = (render_docx(worked_case, options=options),
                                    render_html(worked_case, options))
    return out


@pytest.mark.parametrize("note_type", NOTE_TYPES, ids=lambda t: t.value)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_docx_has_the_pdfs_words_in_order(renders, lang: str, note_type: NoteType) -> None:
    # The PDF is laid out from this HTML: the Word document says the same,
    # word for word, the letterhead in the first page's header and the
    # addressee block in its footer (where the PDF has it, at the foot of
    # page 1).
    data, html = renders[lang, note_type]
    letterhead, addressee, body = html_parts(html)
    header, footer, text = docx_parts(opened(data))
    assert header == letterhead
    assert footer == addressee
    assert text == body
    if note_type is not NoteType.aide_memoire:
        assert addressee, "a note verbale and a first-person note have an addressee block"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lists_are_numbered_by_word_in_each_languages_way(worked_case: Case, renders,
                                                          lang: str) -> None:
    data, _ = renders[lang, NoteType.note_verbale]
    document = opened(data)
    numbering = document.part.numbering_part.element
    nums = {num.get(qn("w:numId")): num for num in numbering.findall(qn("w:num"))}
    abstracts = {a.get(qn("w:abstractNumId")): a for a in numbering.findall(qn("w:abstractNum"))}
    context = prepare(worked_case, RenderOptions(lang=lang)).context
    expected_counts = {"Chronology Item": len(context.chronology),
                       "Demand": len(context.demands),
                       "Legal Instrument": len(context.legal_bases),
                       "Legal Basis": sum(len(i.citations) for i in context.legal_bases)}
    for style, count in expected_counts.items():
        # (a style's variant for the language counts as the style: "Chronology Item ru")
        paragraphs = [p for p in document.paragraphs if p.style.name in (style,
                                                                          f"{style} {lang}")]
        assert len(paragraphs) == count > 0, style
        ids = set()
        for paragraph in paragraphs:
            numbered = paragraph._p.pPr.numPr
            assert numbered is not None, f"{style}: no w:numPr, so not Word's numbering"
            ids.add(numbered.numId.val)
            # Typed numbers would duplicate Word's: the text starts with the words.
            assert not re.match(r"\s*(\d+|[a-zа-я]|[ivx]+)[.)]\s", paragraph.text), \
                paragraph.text
        assert len(ids) == 1, f"{style}: one list, one numbering"
        num = nums[str(ids.pop())]
        assert num.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}").get(
            qn("w:val")) == "1"
        if style in NUMBERING[lang]:
            abstract = abstracts[num.find(qn("w:abstractNumId")).get(qn("w:val"))]
            level = abstract.find(qn("w:lvl"))
            assert (level.find(qn("w:numFmt")).get(qn("w:val")),
                    level.find(qn("w:lvlText")).get(qn("w:val"))) == NUMBERING[lang][style]


def test_each_list_restarts_and_the_articles_hang_under_their_instrument(renders) -> None:
    data, _ = renders["en", NoteType.note_verbale]
    document = opened(data)
    levels = {p.style.name: p._p.pPr.numPr.ilvl.val for p in document.paragraphs
              if p.style.name in ("Legal Instrument", "Legal Basis")}
    assert levels == {"Legal Instrument": 0, "Legal Basis": 1}
    lists = {p.style.name: p._p.pPr.numPr.numId.val for p in document.paragraphs
             if p._p.pPr is not None and p._p.pPr.numPr is not None}
    assert len(set(lists.values())) == 3  # chronology, legal bases, demands


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_run_says_its_language(renders, lang: str) -> None:
    data, _ = renders[lang, NoteType.first_person_note]
    document = opened(data)
    section = document.sections[0]
    stories = [document.element.body, section.first_page_header._element,
               section.first_page_footer._element, section.footer._element]
    runs = [run for story in stories for run in story.iter(qn("w:r"))]
    assert runs
    for run in runs:
        assert run.find(f"{qn('w:rPr')}/{qn('w:lang')}").get(qn("w:val")) == \
            WORD_LANGUAGE[lang]
    for paragraph in document.element.body.iter(qn("w:p")):
        mark = paragraph.find(f"{qn('w:pPr')}/{qn('w:rPr')}/{qn('w:lang')}")
        assert mark is not None
        assert mark.get(qn("w:val")) == WORD_LANGUAGE[lang]
    assert document.core_properties.language == WORD_LANGUAGE[lang]


def test_paragraphs_have_styles_named_for_what_they_are(worked_case: Case, renders) -> None:
    data, _ = renders["en", NoteType.note_verbale]
    document = opened(data)
    context = prepare(worked_case).context
    styled = {p.style.name: p.text for p in document.paragraphs if p.text}
    assert styled["Complimentary Close"].startswith("The Ministry avails itself")
    # (typeset as the HTML is: "14 November 2025" kept on one line)
    assert words(styled["Place and Date"]) == words(context.date_line)
    assert words(styled["Reference"]) == words(context.reference)
    assert styled["Note Title"] == context.title
    body = [p for p in document.paragraphs if p.style.name == "Note Body"]
    assert body[0].text.startswith("The Ministry of Foreign Affairs of the Republic of "
                                   "Azerbaijan presents its compliments")
    assert "Seal Space" in [p.style.name for p in document.paragraphs]
    first_person = opened(renders["en", NoteType.first_person_note][0])
    names = [p.style.name for p in first_person.paragraphs if p.text]
    assert names[:2] == ["Reference Line", "Salutation"]
    assert names[-2:] == ["Signatory Name", "Signatory Title"]
    line = first_person.paragraphs[0]
    assert line.text.count("\t") == 1
    assert words(line.text) == words(f"{context.reference} {context.date_line}")


def test_core_properties_are_the_pdfs_metadata(worked_pdf: bytes, renders) -> None:
    data, _ = renders["en", NoteType.note_verbale]
    properties = opened(data).core_properties
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        info = {str(key): str(value) for key, value in pdf.docinfo.items()}
    assert properties.title == info["/Title"] == "Note Verbale No. 12/345/2025"
    assert properties.author == info["/Author"]
    assert properties.subject == info["/Subject"]
    assert properties.keywords == info["/Keywords"]
    # Dated with the note, as the PDF is (D:20251114), never with the clock.
    assert properties.created == properties.modified == dt.datetime(2025, 11, 14,
                                                                    tzinfo=dt.UTC)
    assert properties.revision == 1
    assert properties.last_modified_by == ""


def test_the_same_input_gives_the_same_bytes(worked_case: Case) -> None:
    options = RenderOptions(translation="ru")
    first = render_docx(worked_case, options=options)
    assert render_docx(worked_case, options=options) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        assert names[:2] == ["[Content_Types].xml", "_rels/.rels"]
        assert names[2:] == sorted(names[2:])
        assert {info.date_time for info in archive.infolist()} == {(2025, 11, 14, 0, 0, 0)}
        for name in names:
            if name.endswith((".xml", ".rels")):
                text = archive.read(name)
                # No revision or paragraph ids, nothing of the machine or of
                # python-docx's own template.
                for found in (b"w:rsid", b"w14:paraId", b"docId", b"python-docx", b"Microsoft"):
                    assert found not in text, (name, found)
    assert "word/theme/theme1.xml" not in names


def test_source_date_epoch_changes_only_the_dates(worked_case: Case,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    plain = render_docx(worked_case)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    dated = render_docx(worked_case)
    assert dated != plain
    with zipfile.ZipFile(io.BytesIO(plain)) as before, \
            zipfile.ZipFile(io.BytesIO(dated)) as after:
        assert before.namelist() == after.namelist()
        changed = [name for name in before.namelist() if before.read(name) != after.read(name)]
        assert changed == ["docProps/core.xml"]
        assert {info.date_time for info in after.infolist()} == {(2026, 1, 1, 0, 0, 0)}
    properties = opened(dated).core_properties
    assert properties.created == properties.modified == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(notegen.RenderError, match="SOURCE_DATE_EPOCH"):
        render_docx(worked_case)


def test_the_courtesy_translation_is_an_enclosure_in_a_section_of_its_own(
        worked_case: Case) -> None:
    document = opened(render_docx(worked_case, options=RenderOptions(translation="ru")))
    assert len(document.sections) == 2
    note, translation = document.sections
    texts = [" ".join(words(p.text)) for p in document.paragraphs]
    enclosure = texts.index("Enclosure: courtesy translation into Russian")
    mark = texts.index("Неофициальный перевод. Язык оригинала: английский.")
    assert texts.index("Baku, 14 November 2025") < enclosure < mark
    # A section break (a new page) between them, the translation's pages
    # numbered from 1, its own letterhead and addressee block in Russian.
    breaks = [i for i, p in enumerate(document.paragraphs)
              if p._p.pPr is not None and p._p.pPr.sectPr is not None]
    assert len(breaks) == 1
    assert enclosure < breaks[0] < mark
    assert translation.start_type == docx.enum.section.WD_SECTION.NEW_PAGE
    assert translation._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    assert "МИНИСТЕРСТВО" in translation.first_page_header.paragraphs[0].text.upper()
    assert note.first_page_header.paragraphs[0].text == "Ministry of Foreign Affairs"
    assert any("Посольству" in p.text for p in translation.first_page_footer.paragraphs)
    # Its lists are lists of their own, numbered from 1 in Russian's way.
    chronology = {p._p.pPr.numPr.numId.val for p in document.paragraphs
                  if p.style.name.startswith("Chronology Item")}
    assert len(chronology) == 2
    demands = [p for p in document.paragraphs if p.style.name == "Demand"]
    russian = demands[-1]._p.find(f"{qn('w:pPr')}/{qn('w:rPr')}/{qn('w:lang')}")
    assert russian.get(qn("w:val")) == "ru-RU"


def test_a_record_text_with_xml_in_it_stays_text(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "an air strike seriously damaged",
                     "an air strike <w:t>seriously</w:t> &amp; & damaged")
    case = notegen.load_case(note)
    data = render_docx(case)
    document = opened(data)
    assert any("an air strike <w:t>seriously</w:t> &amp; & damaged" in p.text
               for p in document.paragraphs)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert "&lt;w:t&gt;seriously&lt;/w:t&gt; &amp;amp; &amp; damaged" in xml


def test_the_companions_render_on_the_same_template(worked_case: Case) -> None:
    for document_kind, style in (("talking_points", "Talking Point"),
                                 ("press_release", "End Mark")):
        options = RenderOptions(document=document_kind)
        document = opened(render_docx(worked_case, options=options))
        _, _, body = html_parts(render_html(worked_case, options))
        assert words(" ".join(p.text for p in document.paragraphs)) == body
        assert style in {p.style.name for p in document.paragraphs}


def test_the_committed_template_is_what_the_script_writes() -> None:
    spec = importlib.util.spec_from_file_location("word_template",
                                                  ROOT / "scripts" / "word_template.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.bytes_of(script.build()) == (BUILTIN_FOLDER / "note.docx").read_bytes(), \
        "run .venv/bin/python scripts/word_template.py"


# Hostile Word templates


def _template(folder: Path, change: Callable[[Any], None]) -> Path:
    """A copy of the built-in Word template in ``folder``, changed."""
    document = docx.Document(str(BUILTIN_FOLDER / "note.docx"))
    change(document)
    folder.mkdir(parents=True, exist_ok=True)
    document.save(str(folder / "note.docx"))
    return folder


def _paragraph(text: str) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        document.paragraphs[0].insert_paragraph_before(text)
    return change


def _field_simple(document: Any, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    document.paragraphs[0]._p.append(field)


def _field_in_footer(document: Any, *code: str) -> None:
    paragraph = document.sections[0].footer.paragraphs[0]._p
    begin = OxmlElement("w:r")
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), "begin")
    begin.append(char)
    paragraph.append(begin)
    for piece in code:  # Word splits a field's code across runs as it likes
        run = OxmlElement("w:r")
        text = OxmlElement("w:instrText")
        text.text = piece
        run.append(text)
        paragraph.append(run)
    end = OxmlElement("w:r")
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), "end")
    end.append(char)
    paragraph.append(end)


def _ole_object(document: Any) -> None:
    part = Part(PackURI("/word/embeddings/oleObject1.bin"),
                "application/vnd.openxmlformats-officedocument.oleObject", b"\0" * 16,
                document.part.package)
    document.part.relate_to(part, RT.OLE_OBJECT)


HOSTILE: dict[str, tuple[Callable[[Any, str], None], str, str]] = {
    "external image": (lambda d, url: d.part.relate_to(f"{url}/logo.png", RT.IMAGE,
                                                       is_external=True),
                       "word/_rels/document.xml.rels", "points outside"),
    "link to a file": (lambda d, url: d.part.relate_to("file:///etc/passwd", RT.HYPERLINK,
                                                       is_external=True),
                       "word/_rels/document.xml.rels", "file:///etc/passwd"),
    "attached template": (lambda d, url: d.part._settings_part.relate_to(
        f"{url}/evil.dotm", f"{RT.IMAGE.rsplit('/', 1)[0]}/attachedTemplate",
        is_external=True),
        "word/_rels/settings.xml.rels", "attachedTemplate"),
    "OLE object": (lambda d, url: _ole_object(d), "oleObject", "oleObject"),
    "INCLUDEPICTURE": (lambda d, url: _field_simple(d, f' INCLUDEPICTURE "{url}/x.png" \\d '),
                       "word/document.xml", "INCLUDEPICTURE"),
    "INCLUDETEXT in a footer": (lambda d, url: _field_in_footer(
        d, " INCLUDE", 'TEXT "file:///etc/passwd" '), "word/footer", "INCLUDETEXT"),
    "sandbox escape": (lambda d, url: _paragraph("{{ ''.__class__.__mro__[1].__subclasses__() "
                                                 "}}")(d), "word/document.xml", "unsafe"),
    "a function's globals": (lambda d, url: _paragraph("{{ phrase.__globals__ }}")(d),
                             "word/document.xml", "unsafe"),
    "a field written by Jinja": (lambda d, url: _paragraph(
        "{% autoescape false %}{{ '<w:fldSimple w:instr=\"INCLUDETEXT x\"/>' }}"
        "{% endautoescape %}")(d), "word/document.xml", "INCLUDETEXT"),
    "an include": (lambda d, url: _paragraph("{% include 'catalogues/en.yaml' %}")(d),
                   "word/document.xml", "includes and imports no other template"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_word_template_is_refused_and_fetches_nothing(
        worked_case: Case, tmp_path: Path, loopback: tuple[str, list[str]], kind: str) -> None:
    url, requests = loopback
    change, part, message = HOSTILE[kind]
    folder = _template(tmp_path / "ministry", lambda document: change(document, url))
    options = RenderOptions(template_dirs=(folder,))
    with pytest.raises(TemplateError) as caught:
        render_docx(worked_case, tmp_path / "out.docx", options)
    error = str(caught.value)
    assert str(folder / "note.docx") in error
    assert part in error
    assert message in error
    assert not (tmp_path / "out.docx").exists()
    assert requests == []


def test_a_template_with_a_dtd_is_refused_before_it_is_parsed(worked_case: Case,
                                                              tmp_path: Path) -> None:
    folder = tmp_path / "ministry"
    folder.mkdir()
    with zipfile.ZipFile(BUILTIN_FOLDER / "note.docx") as source, \
            zipfile.ZipFile(folder / "note.docx", "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "word/document.xml":  # the hostile input: an external entity
                data = data.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY e SYSTEM '
                                           b'"file:///etc/passwd">]>', 1)
            target.writestr(name, data)
    with pytest.raises(TemplateError, match=r"word/document\.xml: it declares a DTD"):
        render_docx(worked_case, options=RenderOptions(template_dirs=(folder,)))


def test_a_ministrys_letterhead_overrides_the_builtin_one(worked_case: Case,
                                                          tmp_path: Path) -> None:
    def letterhead(document: Any) -> None:
        header = document.sections[0].first_page_header
        for paragraph in header.paragraphs[1:]:
            paragraph._p.getparent().remove(paragraph._p)
        header.paragraphs[0].text = "REPUBLIC OF AZERBAIJAN · MINISTRY OF FOREIGN AFFAIRS"
        document.sections[0].left_margin = docx.shared.Mm(25)

    folder = _template(tmp_path / "ministry", letterhead)
    document = opened(render_docx(worked_case, options=RenderOptions(
        template_dirs=(folder,))))
    assert [p.text for p in document.sections[0].first_page_header.paragraphs] == [
        "REPUBLIC OF AZERBAIJAN · MINISTRY OF FOREIGN AFFAIRS"]
    assert abs(document.sections[0].left_margin - docx.shared.Mm(25)) < docx.shared.Mm(0.1)
    assert "Complimentary Close" in {p.style.name for p in document.paragraphs}


# Faces


def test_render_writes_a_docx_next_to_the_case(runner, seed_copy: Path) -> None:
    note = seed_copy / "note.yaml"
    result = runner.invoke(cli, ["render", str(note), "--format", "docx"])
    assert result.exit_code == 0, result.output
    written = seed_copy / f"{seed_copy.name}.docx"
    assert opened(written.read_bytes()).core_properties.title == "Note Verbale No. 12/345/2025"
    signed = runner.invoke(cli, ["render", str(note), "--format", "docx", "--sign",
                                 str(note)])
    assert signed.exit_code == 2
    assert "--sign applies to PDF output only" in signed.stderr


def test_the_demarche_set_and_a_batch_as_docx(runner, seed_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    result = runner.invoke(cli, ["render", str(seed_copy / "note.yaml"), "--set", "demarche",
                                 "--format", "docx", "--translation", "ru", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == [
        "note.docx", "press-release.docx", "talking-points.docx", "translation-ru.docx"]
    translation = opened((folder / "translation-ru.docx").read_bytes())
    assert translation.paragraphs[0].text == "Неофициальный перевод. Язык оригинала: английский."
    assert len(opened((folder / "note.docx").read_bytes()).sections) == 2
    batch = runner.invoke(cli, ["batch", str(seed_copy.parent), "-o", str(tmp_path / "out"),
                                "--format", "docx", "-j", "1"])
    assert batch.exit_code == 0, batch.output
    assert sorted(p.relative_to(tmp_path / "out").as_posix()
                  for p in (tmp_path / "out").rglob("*.docx")) == [
        "az-kyiv-2025/note.docx", "mx-quito-2024/note.docx"]


def test_templates_eject_and_check_cover_the_word_template(runner, tmp_path: Path) -> None:
    folder = tmp_path / "ministry"
    ejected = runner.invoke(cli, ["templates", "eject", "note_verbale", str(folder)])
    assert ejected.exit_code == 0, ejected.output
    assert (folder / "note.docx").read_bytes() == (BUILTIN_FOLDER / "note.docx").read_bytes()
    again = runner.invoke(cli, ["templates", "eject", "note_verbale", str(folder)])
    assert again.exit_code == 1
    assert "already exist" in again.stderr
    checked = runner.invoke(cli, ["templates", "check", str(folder), str(SEED / "note.yaml")])
    assert checked.exit_code == 0, checked.output

    def broken(document: Any) -> None:
        styles = document.styles.element
        styles.remove(document.styles["Demand"].element)
        document.paragraphs[0].insert_paragraph_before("{{ note.title | }}")

    _template(folder, broken)
    checked = runner.invoke(cli, ["templates", "check", str(folder), str(SEED / "note.yaml")])
    assert checked.exit_code == 1
    assert "no paragraph style 'Demand'" in checked.stderr
    assert re.search(r"word/document\.xml, paragraph 1: expected token 'name'",
                     checked.stderr), checked.stderr

    _template(folder, _paragraph("{{ note.no_such_field }}"))
    checked = runner.invoke(cli, ["templates", "check", str(folder), str(SEED / "note.yaml")])
    assert checked.exit_code == 1
    assert "no_such_field" in checked.stderr
    assert "rendering a note verbale" in checked.stderr

    _template(folder, lambda d: d.part.relate_to("http://127.0.0.1:9/x.png", RT.IMAGE,
                                                 is_external=True))
    checked = runner.invoke(cli, ["templates", "check", str(folder)])
    assert checked.exit_code == 1
    assert "points outside the document" in checked.stderr


def test_the_service_renders_docx(tmp_path: Path, worked_pdf: bytes) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from notegen.config import Settings
    from notegen.service.app import create_app
    from notegen.service.tokens import add_token, new_token

    tokens = tmp_path / "tokens.json"
    secret, token = new_token("desk-1", ["drafter"])
    add_token(tokens, token)
    client = TestClient(create_app(Settings(tokens=tokens, register=str(tmp_path / "r.db"),
                                            access_log=tmp_path / "log")))
    headers = {"Authorization": f"Bearer {secret}"}
    case = notegen.extract_record(worked_pdf)
    answer = client.post("/render", params={"format": "docx", "translation": "ru"},
                         content=case, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert len(opened(answer.content).sections) == 2
    signed = client.post("/render", params={"format": "docx", "sign": "true"}, content=case,
                         headers=headers)
    assert signed.status_code == 422
    zipped = client.post("/render", params={"format": "docx", "set": "demarche",
                                            "translation": "ru"}, content=case, headers=headers)
    assert zipped.status_code == 200, zipped.text
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert sorted(archive.namelist()) == ["note.docx", "press-release.docx",
                                              "talking-points.docx", "translation-ru.docx"]
    described = client.get("/openapi.json").json()["paths"]["/render"]["post"]
    assert MEDIA_TYPE in json.dumps(described["responses"]["200"])


# LibreOffice


def _soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        pytest.skip("LibreOffice (soffice, Debian's libreoffice-writer-nogui) is not "
                    "installed: scripts/setup.sh installs it")
    return found


@pytest.mark.slow
def test_libreoffice_converts_the_docx_and_its_text_is_the_notes(worked_case: Case,
                                                                  tmp_path: Path) -> None:
    soffice = _soffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    data = render_docx(worked_case, options=RenderOptions(translation="ru"))
    source = tmp_path / "note.docx"
    source.write_bytes(data)
    # A private profile: parallel runs would otherwise share (and lock) one.
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180, check=False)
    converted = tmp_path / "note.pdf"
    assert result.returncode == 0, result.stdout + result.stderr
    assert converted.is_file(), result.stdout + result.stderr
    assert "Error" not in result.stderr, result.stderr
    text = pdf_text(converted.read_bytes())
    printed = words(text.casefold())  # (the letterhead and title are set in capitals)
    document = opened(data)
    expected = words(" ".join([*(p.text for p in document.sections[0].first_page_header
                                 .paragraphs),
                               # (the title is letter-spaced: pdftotext reads
                               # "N O T E  V E R B A L E")
                               *(p.text for p in document.paragraphs
                                 if p.style.name != "Note Title")]).casefold())
    # Every word of the note and its translation, in order (page numbers,
    # footers and list numbers fall between them).
    position = 0
    for word in expected:
        try:
            position = printed.index(word, position) + 1
        except ValueError:
            pytest.fail(f"{word!r} (word {position}) is not in LibreOffice's PDF in order")
    with pikepdf.open(converted) as pdf:
        assert len(pdf.pages) >= 4
        assert str(pdf.docinfo["/Title"]) == "Note Verbale No. 12/345/2025"


def test_a_languages_variant_of_a_style_is_taken(renders) -> None:
    # Russian chronology items are set ragged-right, as in the PDF: the
    # template's "Chronology Item ru" (based on "Chronology Item") is taken
    # for them, and English keeps the plain style.
    russian = opened(renders["ru", NoteType.note_verbale][0])
    items = [p for p in russian.paragraphs if p.style.name.startswith("Chronology Item")]
    assert {p.style.name for p in items} == {"Chronology Item ru"}
    assert items[0].style.base_style.name == "Chronology Item"
    assert items[0].style.paragraph_format.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.LEFT
    english = opened(renders["en", NoteType.note_verbale][0])
    assert {p.style.name for p in english.paragraphs
            if p.style.name.startswith("Chronology Item")} == {"Chronology Item"}


def test_french_superior_letters_are_set_raised(edit_seed: Edit) -> None:
    # French writes "1er" with superior letters (its catalogue's rule); the
    # HTML has <sup>, the Word document the "Superior Letters" style on "er".
    note = edit_seed(f"{CATALOGUE}/incidents.yaml",
                     "a gravement endommagé le bâtiment administratif",
                     "a gravement endommagé le 1er étage du bâtiment administratif")
    document = opened(render_docx(notegen.load_case(note), options=RenderOptions(lang="fr")))
    item = next(p for p in document.paragraphs if "1er étage" in p.text)
    raised = [run for run in item.runs if run.style.name == "Superior Letters"]
    assert [run.text for run in raised] == ["er"]
    assert raised[0].style.font.superscript
    runs = [run.text for run in item.runs]
    assert runs[runs.index("er") - 1].endswith("le 1")


def test_a_template_that_unpacks_to_too_much_is_refused_unpacked(worked_case: Case,
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "ministry"
    folder.mkdir()
    shutil.copyfile(BUILTIN_FOLDER / "note.docx", folder / "note.docx")
    with zipfile.ZipFile(folder / "note.docx", "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("word/media/padding.bin", "w") as padding:
        for _ in range(65):
            padding.write(bytes(2**20))
    assert (folder / "note.docx").stat().st_size < 2**20
    with pytest.raises(TemplateError, match=r"it unpacks to \d+ bytes, more than the"):
        render_docx(worked_case, options=RenderOptions(template_dirs=(folder,)))
