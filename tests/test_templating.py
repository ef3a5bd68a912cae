from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from notegen import RenderOptions, TemplateError, load_case, render_html
from notegen.records.models import NoteType
from notegen.template_folders import BUILTIN_FOLDER, builtin

from .conftest import CATALOGUE, ROOT, Edit

GOLDEN = Path(__file__).resolve().parent / "golden"


GOLDEN_CASES = [
    pytest.param("az-kyiv-2025", lang, note_type, id=f"az-kyiv-2025.{lang}.{note_type}")
    for lang in ("en", "ru", "az", "fr")
    for note_type in ("note_verbale", "first_person_note", "aide_memoire")
] + [pytest.param("mx-quito-2024", lang, "note_verbale", id=f"mx-quito-2024.{lang}")
     for lang in ("en", "fr")]


@pytest.mark.parametrize(("case", "lang", "note_type"), GOLDEN_CASES)
def test_seeds_match_golden_html(case: str, lang: str, note_type: str) -> None:
    """The HTML of each seed, type and language, byte for byte. After an
    intended change, regenerate with NOTEGEN_UPDATE_GOLDEN=1 and review the diff."""
    html = render_html(load_case(ROOT / "seeds" / case / "note.yaml"),
                       RenderOptions(lang=lang, note_type=NoteType(note_type)))
    # The inlined style sheet is a source file, the same in every note.
    html = re.sub(r"<style>.*</style>", "<style>(static/note.css)</style>", html,
                  flags=re.DOTALL)
    golden = GOLDEN / f"{case}.{lang}.{note_type}.html"
    if os.environ.get("NOTEGEN_UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


def test_html_carries_language_and_metadata(worked_case) -> None:
    html = render_html(worked_case)
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta name="dcterms.created" content="2025-11-14">' in html
    assert "<title>Note Verbale No. 12/345/2025</title>" in html


def test_record_text_is_escaped_never_markup(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "an air strike seriously damaged",
                     "<script>alert(1)</script><img src='file:///etc/passwd'> an air strike")
    html = render_html(load_case(note))
    assert "<script>" not in html
    assert "<img" not in html
    # Escaped (the apostrophe after a word is typeset as one: "passwd’").
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=&#39;file:///etc/passwd’&gt;" \
        in html


def _user_folder(tmp_path: Path, source: str) -> RenderOptions:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note_verbale.html.j2").write_text(source, encoding="utf-8")
    return RenderOptions(template_dirs=(folder,))


def test_user_folder_overrides_a_block_and_keeps_the_rest(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, '{% extends "builtin/note_verbale.html.j2" %}\n'
                           '{% block title %}<h1>NOTA</h1>{{ super() }}{% endblock %}\n')
    html = render_html(worked_case, options)
    assert "<h1>NOTA</h1><h1>Note Verbale</h1>" in html
    assert "presents its compliments" in html


def test_undefined_variable_is_a_located_error(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, "line one\n{{ note.no_such_field }}\n")
    with pytest.raises(TemplateError) as info:
        render_html(worked_case, options)
    assert info.value.line == 2
    assert info.value.template is not None
    assert info.value.template.endswith("note_verbale.html.j2")
    assert "no_such_field" in str(info.value)


def test_syntax_error_is_a_located_error(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, "ok\n{% if %}\n")
    with pytest.raises(TemplateError) as info:
        render_html(worked_case, options)
    assert info.value.line == 2


def test_an_error_in_a_template_expression_is_located(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, "a\nb\n{{ 1 // 0 }}\n")
    with pytest.raises(TemplateError) as info:
        render_html(worked_case, options)
    assert info.value.line == 3
    assert "division" in str(info.value)


def test_templates_run_in_the_sandbox(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, "{{ note.__class__.__mro__ }}")
    with pytest.raises(TemplateError, match="unsafe"):
        render_html(worked_case, options)


def test_a_missing_phrase_names_the_catalogue(worked_case, tmp_path: Path) -> None:
    options = _user_folder(tmp_path, '{{ phrase("no.such.phrase") }}')
    with pytest.raises(TemplateError,
                       match=re.escape("the English catalogue has no phrase 'no.such.phrase'")):
        render_html(worked_case, options)


def test_catalogue_placeholders_reach_no_attributes(worked_case, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    (folder / "catalogues").mkdir(parents=True)
    catalogue = (BUILTIN_FOLDER / "catalogues" / "en.yaml").read_text(encoding="utf-8")
    (folder / "catalogues" / "en.yaml").write_text(catalogue.replace(
        "  seal.seal_and_initials: Seal and initials",
        "  seal.seal_and_initials: '{sender.__class__}'"), encoding="utf-8")
    html = render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    assert "{sender.__class__}" in html


def test_an_edited_catalogue_is_read_again(worked_case, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    (folder / "catalogues").mkdir(parents=True)
    path = folder / "catalogues" / "en.yaml"
    original = (BUILTIN_FOLDER / "catalogues" / "en.yaml").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    options = RenderOptions(template_dirs=(folder,))
    assert "NOTE VERBALE" not in render_html(worked_case, options)
    path.write_text(original.replace("note_verbale.title: Note Verbale",
                                     "note_verbale.title: NOTE VERBALE"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "<h1>NOTE VERBALE</h1>" in render_html(worked_case, options)


def test_every_block_is_documented_for_template_authors() -> None:
    from jinja2 import nodes

    from notegen.render.html import make_environment

    environment = make_environment(builtin())
    source = (BUILTIN_FOLDER / "base.html.j2").read_text(encoding="utf-8")
    blocks = [block.name for block in environment.parse(source).find_all(nodes.Block)]
    page = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `(\w+)` \| [^|]+ \| (?:`note|—)", page, flags=re.MULTILINE)
    assert documented == blocks
