"""The desk's live preview: a draft rendered warm, in any language and note
type, with its problems and warnings located by form field
(notegen.desk.preview)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from notegen import NoteType
from notegen.desk.preview import DraftPreview, FieldProblem
from notegen.desk.workspace import Edit, Workspace
from notegen.template_folders import TemplateFolders

from .conftest import EARLIER_LIST, EARLIER_RULE, SEED

NOTE = "az-kyiv-2025/note.yaml"
INCIDENTS = "az-mfa-catalogue/incidents.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED.parent, tmp_path / "seeds"))


@pytest.fixture
def preview(root: Path) -> DraftPreview:
    return DraftPreview(Workspace(root))


def test_the_worked_case_renders_with_nothing_to_say(preview: DraftPreview) -> None:
    result = preview.render(NOTE, [], lang=None, note_type=None)
    assert result.problems == []
    assert result.warnings == []
    assert result.html is not None
    assert '<html lang="en">' in result.html
    assert "lodge a strong protest" in result.html
    assert (result.lang, result.note_type) == ("en", NoteType.note_verbale)
    assert result.elapsed_ms > 0


def test_the_html_reaches_for_nothing_outside(preview: DraftPreview) -> None:
    """No script, no linked style sheet, no absolute URL: only the fonts, by
    relative URLs the desk serves from the template folders."""
    html = preview.render(NOTE, [], lang=None, note_type=None).html
    assert html is not None
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    urls = re.findall(r"""url\(\s*["']?([^"')]+)""", html)
    assert urls
    assert all(url.startswith("static/") for url in urls)


def test_unsaved_edits_show_and_nothing_is_written(preview: DraftPreview,
                                                   root: Path) -> None:
    before = {p: p.read_bytes() for p in root.rglob("*.yaml")}
    result = preview.render(NOTE, [
        Edit(NOTE, "note.protest.en", "lodge a protest against the unprecedented strike"),
        Edit(INCIDENTS, "incidents[1].account.en",
             "a missile came down in the garden of the Embassy"),
    ], lang=None, note_type=None)
    assert result.problems == []
    assert result.html is not None
    # The words as read: the typography puts spans between some of them.
    words = re.sub(r"<[^>]+>", "", result.html)
    assert "lodge a protest against the unprecedented strike" in words
    assert "a missile came down in the garden of the Embassy" in words
    assert {p: p.read_bytes() for p in root.rglob("*.yaml")} == before


def test_an_impossible_date_is_located_at_its_field(preview: DraftPreview) -> None:
    result = preview.render(NOTE, [Edit(NOTE, "incidents[0].date", "2025-11-31")],
                            lang=None, note_type=None)
    assert result.html is None
    [problem] = result.problems
    assert (problem.file, problem.line, problem.field, problem.key) == (
        NOTE, 15, "incidents[0].date", "az-kyiv-2025/note.yaml::incidents[0].date")
    assert "day value is outside expected range" in problem.message


def test_a_problem_in_an_included_file_names_that_file(preview: DraftPreview,
                                                      root: Path) -> None:
    note = root / NOTE  # its earlier incidents listed by hand, as the check is of a list
    note.write_text(note.read_text(encoding="utf-8").replace(EARLIER_RULE, EARLIER_LIST),
                    encoding="utf-8")
    result = preview.render(NOTE, [Edit(INCIDENTS, "incidents[3].date", "2026-01-01")],
                            lang=None, note_type=None)
    assert result.html is None
    keys = [p.key for p in result.problems]
    # Dated after the subject: the note's earlier list says so, where it names it.
    assert keys == ["az-kyiv-2025/note.yaml::note.earlier[2]"]
    assert "is not earlier than the subject incident" in result.problems[0].message


def test_languages_and_note_types_from_the_menu(preview: DraftPreview) -> None:
    russian = preview.render(NOTE, [], lang="ru", note_type=None)
    assert russian.html is not None
    assert '<html lang="ru">' in russian.html
    assert "заявить решительный протест" in russian.html
    memo = preview.render(NOTE, [], lang="fr", note_type=NoteType.aide_memoire)
    assert (memo.lang, memo.note_type) == ("fr", NoteType.aide_memoire)
    assert memo.html is not None
    assert re.search(r'<body class="aide_memoire', memo.html)
    by_value = preview.render(NOTE, [], lang=None, note_type="aide_memoire")
    assert by_value.note_type is NoteType.aide_memoire


def test_a_choice_that_is_none_is_a_problem_not_a_crash(preview: DraftPreview) -> None:
    wrong_type = preview.render(NOTE, [], lang=None, note_type="telegram")
    assert wrong_type.html is None
    assert "'telegram' is not a note type" in wrong_type.problems[0].message
    wrong_lang = preview.render(NOTE, [], lang="xx", note_type=None)
    assert wrong_lang.html is None
    [problem] = wrong_lang.problems
    assert "no phrase catalogue for language 'xx'" in problem.message
    assert problem.key is None  # chosen in the menu: no field of the records


def test_the_checks_of_form_are_located_too(preview: DraftPreview) -> None:
    result = preview.render(NOTE, [Edit(NOTE, "note.protest.en",
                                        "lodge our strong protest against the attack")],
                            lang=None, note_type=None)
    assert result.html is None
    [problem] = result.problems
    assert problem.key == "az-kyiv-2025/note.yaml::note.protest.en"
    assert "'our' speaks in the first person" in problem.message


def test_legal_warnings_come_with_the_note(preview: DraftPreview,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """A residence hit, and VCDR Art. 1(i) not cited: the same warning
    ``validate`` gives, at note.legal_bases."""
    result = preview.render(NOTE, [Edit(NOTE, "note.legal_bases", [
        {"article": "vcdr.22.1", "framing": "general_principle"}])], lang=None, note_type=None)
    assert result.html is not None
    assert result.problems == []
    [warning] = result.warnings
    assert warning.key == "az-kyiv-2025/note.yaml::note.legal_bases"
    assert "does not cite vcdr.1.i" in warning.message
    # Shown on the page, not logged as a warning on every keystroke.
    assert [r.levelname for r in caplog.records if r.name.startswith("notegen")
            and r.levelno >= logging.WARNING] == []


def test_a_refused_path_or_edit_is_a_problem_not_a_crash(preview: DraftPreview) -> None:
    for rel, edits in (("../outside.yaml", []), ("missing/note.yaml", []),
                       (NOTE, [Edit(NOTE, "incidents[7].date", "2025-01-01")]),
                       (NOTE, [Edit("/etc/passwd.yaml", "a", "b")]),
                       (NOTE, [Edit(NOTE, "not a field[", "b")])):
        result = preview.render(rel, edits, lang=None, note_type=None)
        assert result.html is None
        assert result.problems
        assert all("/etc" not in p.message or p.file is None for p in result.problems)


def test_a_broken_include_names_the_file_in_the_workspace(preview: DraftPreview,
                                                          root: Path) -> None:
    (root / INCIDENTS).write_text("incidents: [\n", encoding="utf-8")
    result = preview.render(NOTE, [], lang=None, note_type=None)
    assert result.html is None
    assert [p.file for p in result.problems] == [INCIDENTS]


def test_the_courtesy_translation_when_asked(preview: DraftPreview) -> None:
    result = preview.render(NOTE, [Edit(NOTE, "note.translation", "ru")], lang=None,
                            note_type=None, translation=True)
    assert result.problems == []
    assert result.html is not None
    assert result.translation_html is not None
    assert '<html lang="ru">' in result.translation_html
    plain = preview.render(NOTE, [Edit(NOTE, "note.translation", "ru")], lang=None,
                           note_type=None)
    assert plain.translation_html is None


def test_field_problems_as_json(preview: DraftPreview) -> None:
    problem = FieldProblem("m", NOTE, 3, "note.date", f"{NOTE}::note.date")
    assert problem.as_dict() == {"message": "m", "file": NOTE, "line": 3,
                                 "field": "note.date", "key": f"{NOTE}::note.date"}


@pytest.mark.slow
def test_a_broken_template_is_reported_without_its_path(root: Path, tmp_path: Path) -> None:
    """A ministry's template runs in a bounded child process; its error
    comes back as a problem that names the template, not the server's folders."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note_verbale.html.j2").write_text(
        '{% extends "builtin/note_verbale.html.j2" %}{% block letterhead %}'
        "{{ note.no_such_thing }}{% endblock %}", encoding="utf-8")
    preview = DraftPreview(Workspace(root, TemplateFolders.of([folder])))
    result = preview.render(NOTE, [], lang=None, note_type=None)
    assert result.html is None
    [problem] = result.problems
    assert "no_such_thing" in problem.message
    assert problem.file is None
    assert problem.key is None
    assert str(tmp_path) not in problem.message
