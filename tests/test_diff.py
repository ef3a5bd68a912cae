"""``notegen diff``: the redline between two drafts of a note, from case
files, PDFs notegen rendered, or the register; as HTML, PDF, a Word
document with tracked changes, or JSON; and the facts that changed.

The two drafts differ as a clearance round makes them: the newer one
recalls one more earlier incident, and one word of the subject incident's
account is another ("serious" became "grave")."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from lxml import etree
from lxml import html as lxml_html

import notegen
from notegen.cli import cli
from notegen.records.changes import compare_cases
from notegen.render.redline import (
    Paragraph,
    note_paragraphs,
    redline_docx,
    redline_html,
    redline_json,
    word_diff,
)

from .conftest import CATALOGUE, EARLIER_LIST, EARLIER_RULE, SEED, flat, pdf_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: The incident the newer draft adds to the chronology (text given once: English).
ADDED_INCIDENT = """incidents:
  - id: kyiv-2023-06-01
    date: 2023-06-01
    place: Kyiv
    country: ua
    attributed_to: ru
    conflict: ru-ua
    impacts:
      - facility: az-embassy-kyiv
        effect: damaged
    means:
      - kind: drone
    account: >-
      debris of a drone shot down over the city damaged the roof of the Embassy
"""
#: What the chronology says of it, by the rule of an entry (date as the
#: English catalogue writes it, its parts held together by no-break spaces
#: as English typography does; place, a colon, the account, a full stop).
ADDED_ENTRY = ("1\u00a0June\u00a02023, Kyiv: debris of a drone shot down over the city damaged "
               "the roof of the Embassy.")
#: The same as text drawn on a page (every space a space).
ADDED_DRAWN = " ".join(ADDED_ENTRY.split())
OLD_WORDS = "causing serious damage to the Embassy premises"
NEW_WORDS = "causing grave damage to the Embassy premises"


@dataclass(frozen=True)
class Drafts:
    old: Path
    new: Path


def _copy(tmp_path: Path, name: str) -> Path:
    """A writable copy of the worked case (profiles and catalogue beside it),
    its earlier incidents listed by hand (the drafts below edit a list); its
    note file."""
    note = Path(shutil.copytree(SEED.parent, tmp_path / name / "seeds")) / SEED.name / \
        "note.yaml"
    _edit(note, EARLIER_RULE, EARLIER_LIST)
    return note


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def drafts(tmp_path: Path) -> Drafts:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _edit(new, "incidents:\n", ADDED_INCIDENT)
    _edit(new, "    - kyiv-2024-01-02\n", "    - kyiv-2024-01-02\n    - kyiv-2023-06-01\n")
    _edit(new, "Ukraine, causing serious damage", "Ukraine, causing grave damage")
    return Drafts(old, new)


def _marked(result: notegen.Redline) -> tuple[list[str], list[str]]:
    """The inserted and the deleted stretches of text, in order."""
    spans = [span for change in result.paragraphs for span in change.spans]
    return ([span.text for span in spans if span.op == "insert"],
            [span.text for span in spans if span.op == "delete"])


# -- the redline shows exactly what changed --------------------------------------


def test_the_redline_marks_the_added_incident_and_the_changed_word(drafts: Drafts) -> None:
    result = notegen.diff_notes(drafts.old, drafts.new)
    assert result.changed
    inserted, deleted = _marked(result)
    assert inserted == ["grave", ADDED_ENTRY]
    assert deleted == ["serious"]
    changes = result.text_changes
    assert [change.op for change in changes] == ["change", "insert"]
    word, item = changes
    assert OLD_WORDS in word.old_text
    assert NEW_WORDS in word.new_text
    assert item.kind == "item"
    assert item.old_index is None
    # Every other paragraph is the same on both sides.
    equal = [change for change in result.paragraphs if change.op == "equal"]
    assert len(equal) == len(result.paragraphs) - 2 > 20


def test_the_facts_name_the_added_incident_and_the_changed_account(drafts: Drafts) -> None:
    result = notegen.diff_notes(drafts.old, drafts.new)
    by_path = {fact.path: fact for fact in result.facts}
    assert set(by_path) == {"note.earlier[2]", "incidents[kyiv-2025-11-14].account"}
    added = by_path["note.earlier[2]"]
    assert added.kind == "added"
    assert added.new == "kyiv-2023-06-01"
    assert "added to the chronology" in added.sentence
    assert "kyiv-2023-06-01 (2023-06-01, Kyiv)" in added.sentence
    account = by_path["incidents[kyiv-2025-11-14].account"]
    assert account.sentence == "The subject incident's account changed (in en)."
    assert account.old is not None
    assert "serious damage" in account.old
    assert account.new is not None
    assert "grave damage" in account.new
    assert account.where is not None
    assert account.where.startswith(f"{drafts.new}:")


def test_identical_drafts_have_no_changes(drafts: Drafts, runner: CliRunner) -> None:
    result = notegen.diff_notes(drafts.old, drafts.old)
    assert not result.changed
    assert result.facts == ()
    assert result.text_changes == ()
    assert _marked(result) == ([], [])
    outcome = runner.invoke(cli, ["diff", str(drafts.old), str(drafts.old), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert data["changed"] is False
    assert data["facts"] == []
    assert data["paragraphs"] == []
    assert "the drafts are the same" in outcome.stderr


def test_the_html_marks_the_changes_with_ins_and_del(drafts: Drafts) -> None:
    page = lxml_html.document_fromstring(redline_html(notegen.diff_notes(drafts.old,
                                                                         drafts.new)))
    text = page.find_class("text")[0]
    assert [ins.text_content() for ins in text.iter("ins")] == ["grave", ADDED_ENTRY]
    assert [d.text_content() for d in text.iter("del")] == ["serious"]
    legend = page.find_class("legend")[0]
    assert [ins.text for ins in legend.iter("ins")] == ["inserted"]
    assert [d.text for d in legend.iter("del")] == ["deleted"]
    facts = [item.text_content() for item in page.find_class("facts")[0].iter("li")]
    assert len(facts) == 2
    assert "An incident was added to the chronology: kyiv-2023-06-01" in facts[1]
    # The facts come before the text.
    assert page.find_class("facts")[0].sourceline < text.sourceline


def test_record_text_is_escaped_in_the_html(drafts: Drafts) -> None:
    _edit(drafts.new, "causing grave damage", "causing <script>alert(1)</script> damage")
    page = redline_html(notegen.diff_notes(drafts.old, drafts.new))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_json_lists_the_facts_and_the_changed_paragraphs(drafts: Drafts) -> None:
    data = json.loads(redline_json(notegen.diff_notes(drafts.old, drafts.new)))
    assert data["changed"] is True
    assert data["lang"] == "en"
    assert data["date"] == "2025-11-14T00:00:00Z"
    assert [fact["path"] for fact in data["facts"]] == [
        "incidents[kyiv-2025-11-14].account", "note.earlier[2]"]
    assert [paragraph["op"] for paragraph in data["paragraphs"]] == ["change", "insert"]
    changed = [span for span in data["paragraphs"][0]["spans"] if span["op"] != "equal"]
    assert changed == [{"op": "delete", "text": "serious"}, {"op": "insert", "text": "grave"}]


# -- the text of a note, and words ------------------------------------------------


def test_paragraphs_are_the_blocks_in_order() -> None:
    html = """<!DOCTYPE html><html><head><title>Not text</title><style>p{}</style></head>
    <body><address><span>The Embassy</span> <span>Baku</span></address>
    <h1>Note  Verbale</h1><p>One <b>bold</b>
       word.</p><script>var x = "no";</script>
    <ol><li><span>Convention</span><ul><li>Article 1;</li><li>Article 2.</li></ul></li></ol>
    <div class="seal"></div><div>Loose <em>text</em></div></body></html>"""
    assert note_paragraphs(html) == (
        Paragraph("paragraph", "The Embassy"), Paragraph("paragraph", "Baku"),
        Paragraph("heading", "Note Verbale"), Paragraph("paragraph", "One bold word."),
        Paragraph("item", "Convention"), Paragraph("item", "Article 1;", 1),
        Paragraph("item", "Article 2.", 1), Paragraph("paragraph", "Loose text"))


def test_deeply_nested_blocks_are_read_without_failing() -> None:
    # A ministry's template may nest blocks without end; the HTML parser stops
    # at its depth limit, and the text read is what it kept.
    html = "<html><body>" + "<div>deep " * 50_000 + "</div>" * 50_000 + "</body></html>"
    paragraphs = note_paragraphs(html)
    assert 0 < len(paragraphs) < 1000
    assert {paragraph.text for paragraph in paragraphs} == {"deep"}


def test_word_diff_keeps_words_and_marks_the_changed_ones() -> None:
    spans = word_diff("the premises were seriously damaged", "the premises were damaged")
    assert [(s.op, s.text) for s in spans] == [
        ("equal", "the premises were "), ("delete", "seriously "), ("equal", "damaged")]
    spans = word_diff("a b c d", "a x y d")
    assert [(s.op, s.text) for s in spans] == [
        ("equal", "a "), ("delete", "b c"), ("insert", "x y"), ("equal", " d")]


# -- drafts from PDFs and from the register ---------------------------------------


def test_drafts_can_be_pdfs_notegen_rendered(drafts: Drafts, tmp_path: Path) -> None:
    old_pdf, new_pdf = tmp_path / "old.pdf", tmp_path / "new.pdf"
    notegen.render_pdf(notegen.load_case(drafts.old), old_pdf)
    notegen.render_pdf(notegen.load_case(drafts.new), new_pdf)
    from_pdfs = notegen.diff_notes(old_pdf, new_pdf)
    assert _marked(from_pdfs) == (["grave", ADDED_ENTRY], ["serious"])
    assert {fact.path for fact in from_pdfs.facts} == {
        "note.earlier[2]", "incidents[kyiv-2025-11-14].account"}
    assert from_pdfs.old_label == str(old_pdf)
    # A PDF against a case file: the same redline.
    mixed = notegen.diff_notes(old_pdf, drafts.new)
    assert mixed.paragraphs == from_pdfs.paragraphs
    # The records embedded leave the incidents' sources out (the profile does
    # not embed them): that is no change of the note.
    assert [fact.path for fact in mixed.facts] == [fact.path for fact in from_pdfs.facts]


def test_drafts_can_be_issued_notes_of_the_register(drafts: Drafts, tmp_path: Path,
                                                     runner: CliRunner) -> None:
    for note in (drafts.old, drafts.new):
        _edit(note, "  reference: 12/345/2025\n", "")
    database = tmp_path / "register.sqlite"
    with notegen.open_register(database) as register:
        first, _ = register.issue(notegen.load_case(drafts.old), issued_by="desk")
    assert first.reference == "12/1/2025"
    # The next draft, numbered by hand, against the issued note.
    _edit(drafts.new, "\n  date: 2025-11-14\n", "\n  reference: 12/2/2025\n  date: 2025-11-14\n")
    result = notegen.diff_notes("register:12/1/2025", drafts.new, register=database)
    assert _marked(result) == (["2", "grave", ADDED_ENTRY], ["1", "serious"])
    assert {fact.path: fact.sentence for fact in result.facts}["note.reference"] == \
        "The note's reference changed from 12/1/2025 to 12/2/2025."
    assert result.old_label == "register:12/1/2025"
    # Issued the next day, the newer one recalls the first (the register's
    # history of its incidents; a note of the same day on the same subject is
    # the note itself, never recalled): a change of its text and of its records.
    with notegen.open_register(database) as register:
        _edit(drafts.new, "  reference: 12/2/2025\n  date: 2025-11-14\n", "  date: 2025-11-15\n")
        second, _ = register.issue(notegen.load_case(drafts.new), issued_by="desk",
                                   recall=True)
    assert second.reference == "12/2/2025"
    both = notegen.diff_notes("register:12/1/2025", "register:12/2/2025", register=database)
    inserted, deleted = _marked(both)
    assert inserted[:3] == ["2", "grave", ADDED_ENTRY]
    assert len(inserted) == 5
    assert "12/1/2025" in inserted[3]
    assert (inserted[4], deleted) == ("15", ["1", "serious", "14"])
    recalled = [fact for fact in both.facts if fact.path.startswith("note.recalled_notes")]
    assert [(fact.kind, fact.new) for fact in recalled] == [("added", "No. 12/1/2025 of "
                                                              "2025-11-14")]
    # On the command line: register:REF, or a bare REF with --register.
    outcome = runner.invoke(cli, ["diff", "register:12/1/2025", "12/2/2025", "--register",
                                  str(database), "--format", "json"])
    assert outcome.exit_code == 3, outcome.output
    data = json.loads(outcome.stdout)
    assert (data["old"], data["new"]) == ("register:12/1/2025", "12/2/2025")
    assert "note.recalled_notes[0]" in [fact["path"] for fact in data["facts"]]


# -- the tracked-changes Word document --------------------------------------------


def _tracked(docx: bytes) -> tuple[list[etree._Element], list[etree._Element]]:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        body = etree.fromstring(archive.read("word/document.xml"))
    return body.findall(f".//{W}ins"), body.findall(f".//{W}del")


def test_the_docx_has_the_changes_as_tracked_changes(drafts: Drafts) -> None:
    docx = redline_docx(notegen.diff_notes(drafts.old, drafts.new), author="Legal Adviser")
    insertions, deletions = _tracked(docx)
    inserted = ["".join(insertion.itertext()) for insertion in insertions]
    deleted = ["".join(t.text or "" for t in deletion.iter(f"{W}delText"))
               for deletion in deletions]
    # The inserted paragraph's mark is an insertion too (an empty w:ins in its w:rPr).
    assert inserted == ["grave", "", ADDED_ENTRY]
    assert deleted == ["serious"]
    assert not any(deletion.findall(f".//{W}t") for deletion in deletions)
    for mark in insertions + deletions:
        assert mark.get(f"{W}author") == "Legal Adviser"
        assert mark.get(f"{W}date") == "2025-11-14T00:00:00Z"
    ids = [mark.get(f"{W}id") for mark in insertions + deletions]
    assert len(set(ids)) == len(ids)
    # Accepted, the changes give the newer text; rejected, the older one.
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        body = etree.fromstring(archive.read("word/document.xml"))
    accepted = " ".join("".join(t.text or "" for t in paragraph.iter(f"{W}t"))
                        for paragraph in body.iter(f"{W}p"))
    rejected = " ".join(
        "".join(t.text or "" for t in paragraph.iter(f"{W}t", f"{W}delText")
                if not any(a.tag == f"{W}ins" for a in t.iterancestors()))
        for paragraph in body.iter(f"{W}p"))
    assert NEW_WORDS in accepted
    assert ADDED_ENTRY in accepted
    assert OLD_WORDS not in accepted
    assert OLD_WORDS in rejected
    assert ADDED_ENTRY not in rejected
    assert NEW_WORDS not in rejected
    # python-docx reads it: its styles and properties.
    import docx as python_docx

    document = python_docx.Document(io.BytesIO(docx))
    assert [p.style.name for p in document.paragraphs if p.style is not None].count(
        "Heading 1") == 1
    assert document.core_properties.author == "Legal Adviser"
    assert document.core_properties.created == dt.datetime(2025, 11, 14, tzinfo=dt.UTC)
    assert document.core_properties.title == "Redline: Note Verbale"
    assert document.settings.element.find(f"{W}trackRevisions") is not None


def test_the_docx_is_the_same_bytes_each_time(drafts: Drafts,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = notegen.diff_notes(drafts.old, drafts.new)
    first = redline_docx(result)
    assert redline_docx(notegen.diff_notes(drafts.old, drafts.new)) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {member.date_time for member in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    later = notegen.diff_notes(drafts.old, drafts.new)
    insertions, _ = _tracked(redline_docx(later))
    assert {mark.get(f"{W}date") for mark in insertions} == {"2026-01-01T00:00:00Z"}


@pytest.mark.slow
def test_libreoffice_opens_the_docx_and_shows_the_changes(drafts: Drafts,
                                                          tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install "
                    "libreoffice-writer-nogui")
    source = tmp_path / "redline.docx"
    source.write_bytes(redline_docx(notegen.diff_notes(drafts.old, drafts.new)))
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "out"), str(source)],
        capture_output=True, timeout=180, check=False)
    converted = tmp_path / "out" / "redline.pdf"
    said = done.stderr.decode(errors="replace")
    assert done.returncode == 0, said
    assert converted.exists(), said
    text = flat(pdf_text(converted.read_bytes()))
    # Changes shown, as LibreOffice does by default: the deleted word struck
    # through beside the inserted one, and the inserted chronology entry.
    assert "causing seriousgrave damage" in text or "causing serious grave damage" in text
    assert ADDED_DRAWN in text


# -- the command ------------------------------------------------------------------


def test_the_command_writes_each_format_atomically(drafts: Drafts, runner: CliRunner,
                                                   tmp_path: Path) -> None:
    for fmt, magic in (("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-"), ("docx", b"PK"),
                       ("json", b"{")):
        target = tmp_path / f"redline.{fmt}"
        outcome = runner.invoke(cli, ["diff", str(drafts.old), str(drafts.new), "-o",
                                      str(target), "--format", fmt])
        assert outcome.exit_code == 3, outcome.output
        assert target.read_bytes().startswith(magic)
        assert "2 facts and 2 paragraphs changed" in outcome.stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == [
        "redline.docx", "redline.html", "redline.json", "redline.pdf"]
    pdf = flat(pdf_text((tmp_path / "redline.pdf").read_bytes()))
    assert "An incident was added to the chronology: kyiv-2023-06-01" in pdf
    assert "causing seriousgrave damage" in pdf or "causing serious grave damage" in pdf


def test_the_command_writes_html_to_standard_output(drafts: Drafts,
                                                   runner: CliRunner) -> None:
    outcome = runner.invoke(cli, ["diff", str(drafts.old), str(drafts.new)])
    assert outcome.exit_code == 3, outcome.output
    assert outcome.stdout.startswith("<!DOCTYPE html>")
    assert "<del>serious</del><ins>grave</ins>" in outcome.stdout


def test_usage_errors_exit_2(drafts: Drafts, runner: CliRunner, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    for arguments in (["diff", str(drafts.old)], ["diff", missing, str(drafts.new)],
                      ["diff", str(drafts.old), str(drafts.new), "--format", "odt"],
                      ["diff", str(drafts.old), str(drafts.new), "--lang", "xx"]):
        outcome = runner.invoke(cli, arguments)
        assert outcome.exit_code == 2, (arguments, outcome.output)
        assert "Traceback" not in outcome.output


# -- hostile and mistaken input ---------------------------------------------------


def test_a_pdf_notegen_did_not_render_is_refused(drafts: Drafts, runner: CliRunner,
                                                 tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(foreign)
    with pytest.raises(notegen.NotegenError, match="a PDF without the records notegen embeds"):
        notegen.diff_notes(foreign, drafts.new)
    outcome = runner.invoke(cli, ["diff", str(foreign), str(drafts.new), "-o",
                                  str(tmp_path / "out.html")])
    assert outcome.exit_code == 1
    assert f"Error: {foreign} is a PDF without the records notegen embeds" in outcome.stderr
    assert not (tmp_path / "out.html").exists()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really a PDF\n")
    with pytest.raises(notegen.NotegenError, match=r"broken\.pdf: not a readable PDF"):
        notegen.diff_notes(broken, drafts.new)


def test_a_missing_register_entry_is_refused(drafts: Drafts, runner: CliRunner,
                                             tmp_path: Path) -> None:
    database = tmp_path / "register.sqlite"
    # Reading a draft never creates a register.
    with pytest.raises(notegen.RegisterError, match=r"no register at .*register\.sqlite"):
        notegen.diff_notes("register:99/9/2099", drafts.new, register=database)
    assert not database.exists()
    notegen.open_register(database).close()
    with pytest.raises(notegen.RegisterError, match="no issued note '99/9/2099'"):
        notegen.diff_notes("register:99/9/2099", drafts.new, register=database)
    outcome = runner.invoke(cli, ["diff", "register:99/9/2099", str(drafts.new),
                                  "--register", str(database)])
    assert outcome.exit_code == 1
    assert "no issued note '99/9/2099'" in outcome.stderr
    assert "Traceback" not in outcome.output
    with pytest.raises(notegen.NotegenError, match="no register was given"):
        notegen.diff_notes("register:12/1/2025", drafts.new)


def test_drafts_in_different_languages_need_a_language(drafts: Drafts, runner: CliRunner,
                                                       tmp_path: Path) -> None:
    russian = _copy(tmp_path, "russian")
    _edit(russian, "  language: en\n", "  language: ru\n")
    _edit(russian, "Ukraine, causing serious damage", "Ukraine, causing grave damage")
    with pytest.raises(notegen.NotegenError, match=r"different languages \(.*: en, .*: ru\)"):
        notegen.diff_notes(drafts.old, russian)
    outcome = runner.invoke(cli, ["diff", str(drafts.old), str(russian)])
    assert outcome.exit_code == 1
    assert "give a language (--lang)" in outcome.stderr
    # Rendered both in English, the change of language is a fact.
    result = notegen.diff_notes(drafts.old, russian, notegen.RenderOptions(lang="en"))
    language = next(fact for fact in result.facts if fact.path == "note.language")
    assert language.sentence == "The language changed from en to ru."
    assert _marked(result) == (["grave"], ["serious"])
    outcome = runner.invoke(cli, ["diff", str(drafts.old), str(russian), "--lang", "en",
                                  "--format", "json"])
    assert outcome.exit_code == 3, outcome.output


# -- the facts, one rule at a time ------------------------------------------------


def test_facts_of_demands_legal_bases_parties_type_and_the_subject(tmp_path: Path) -> None:
    old_path, new_path = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _edit(new_path, "    - kind: explanation\n",
          "    - kind: compensation\n    - kind: other\n      text: ensure the staff's safety\n")
    _edit(new_path, "  type: note_verbale\n", "  type: aide_memoire\n")
    _edit(new_path, "  addressee: ru-embassy-baku\n", "  addressee: az-embassy-kyiv-party\n")
    parties = new_path.parent / CATALOGUE / "parties.yaml"
    _edit(parties, "parties:\n", """parties:
  - id: az-embassy-kyiv-party
    kind: embassy
    state: az
    name: the Embassy of the Republic of Azerbaijan in Ukraine
    short_name: the Embassy
""")
    _edit(new_path, "  demands:\n", "  legal_bases:\n    - article: vcdr.22.1\n  demands:\n")
    _edit(new_path, "    time: \"01:00\"\n", "    time: \"02:30\"\n")
    _edit(new_path, "    date: 2025-11-14\n    time", "    date: 2025-11-13\n    time")
    changes = compare_cases(notegen.load_case(old_path), notegen.load_case(new_path))
    sentences = {change.path: change.sentence for change in changes}
    assert sentences == {
        "note.type": "The note type changed from note verbale to aide memoire.",
        "note.addressee": "The addressee changed from the Embassy of the Russian Federation "
                          "in the Republic of Azerbaijan (ru-embassy-baku) to the Embassy of "
                          "the Republic of Azerbaijan in Ukraine (az-embassy-kyiv-party).",
        "incidents[kyiv-2025-11-14].date": "The subject incident's date changed from "
                                           "2025-11-14 to 2025-11-13.",
        "incidents[kyiv-2025-11-14].time": "The subject incident's time changed from 01:00 "
                                           "to 02:30.",
        "note.demands[1]": "The demand no. 2 changed from “explanation” to “compensation”.",
        "note.demands[2]": "A demand was added: “other: ensure the staff's safety”.",
        "note.legal_bases": "The legal bases are now given in the records (vcdr.22.1); they "
                            "were derived from the facts.",
    }
    # And back: what was added is removed.
    back = {change.path: change for change in compare_cases(notegen.load_case(new_path),
                                                            notegen.load_case(old_path))}
    assert back["note.demands[2]"].kind == "removed"
    assert back["note.demands[2]"].sentence == ("A demand was removed: “other: ensure the "
                                                "staff's safety”.")


def test_facts_of_legal_bases_given_on_both_sides(tmp_path: Path) -> None:
    old_path, new_path = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _edit(old_path, "  demands:\n", "  legal_bases:\n    - article: vcdr.22.1\n"
                                    "    - article: vccr.59\n  demands:\n")
    _edit(new_path, "  demands:\n", "  legal_bases:\n    - article: vcdr.22.1\n"
                                    "      framing: by_analogy\n"
                                    "    - article: ihl.7\n  demands:\n")
    _edit(new_path, "    - odesa-2025-08\n", "")
    changes = compare_cases(notegen.load_case(old_path), notegen.load_case(new_path))
    assert [(change.path, change.kind) for change in changes] == [
        ("note.earlier[3]", "removed"),
        ("note.legal_bases[0]", "changed"), ("note.legal_bases[1]", "added"),
        ("note.legal_bases[1]", "removed")]
    assert changes[0].sentence == ("An incident was removed from the chronology: "
                                   "odesa-2025-08 (2025-08-08, Odesa region).")
    assert changes[2].sentence == "A legal basis was added: ihl.7 (direct)."
    assert changes[3].sentence == "A legal basis was removed: vccr.59."
