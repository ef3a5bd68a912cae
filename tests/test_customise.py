from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from notegen import (
    RecordError,
    RenderError,
    RenderOptions,
    TemplateError,
    load_case,
    render_html,
    render_pdf,
)
from notegen.cli import cli
from notegen.render.authoring import builtin_templates, check_folder, eject

from .conftest import ROOT, SEED, flat, pdf_text

EXAMPLE = ROOT / "examples" / "sre-templates"
SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"
NOTE = str(SEED / "note.yaml")


def folder_with(tmp_path: Path, files: dict[str, str], name: str = "mine") -> Path:
    folder = tmp_path / name
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


# What a user can do.

def test_list_names_every_built_in_template(runner: CliRunner) -> None:
    names = [template.name for template in builtin_templates()]
    assert names == ["base", "aide_memoire", "first_person_note", "note_verbale",
                     "press_release", "talking_points"]
    result = runner.invoke(cli, ["templates", "list"])
    assert result.exit_code == 0
    assert "note_verbale         Note verbale: third person" in result.stdout
    assert "az, en, fr, ru" in result.stdout


def test_eject_copies_a_template_with_its_style(tmp_path: Path, runner: CliRunner,
                                                worked_case) -> None:
    folder = tmp_path / "ministry"
    copied = eject("note_verbale", folder)
    assert sorted(p.relative_to(folder).as_posix() for p in copied) == [
        "note_verbale.html.j2", "static/note.css", "static/single-page.css"]
    # The copy renders the same note as the built-in template.
    assert render_html(worked_case, RenderOptions(template_dirs=(folder,))) == \
        render_html(worked_case)
    with pytest.raises(Exception, match="already exist"):
        eject("note_verbale", folder)
    again = runner.invoke(cli, ["templates", "eject", "note_verbale", str(folder), "--force"])
    assert again.exit_code == 0
    # A name is one of the built-in templates, never a path.
    assert runner.invoke(cli, ["templates", "eject", "../../etc/passwd",
                               str(folder)]).exit_code == 2


def test_user_folders_come_first_in_the_order_given(tmp_path: Path, worked_case) -> None:
    first = folder_with(tmp_path, {"note_verbale.html.j2": "FIRST"}, "first")
    second = folder_with(tmp_path, {"note_verbale.html.j2": "SECOND",
                                    "aide_memoire.html.j2": "SECOND AM"}, "second")
    options = RenderOptions(template_dirs=(first, second))
    assert render_html(worked_case, options) == "FIRST"
    from dataclasses import replace

    from notegen.records.models import NoteType

    assert render_html(worked_case, replace(options, note_type=NoteType.aide_memoire)) == \
        "SECOND AM"
    # What no user folder has comes from the built-in one.
    assert render_html(worked_case, replace(options, note_type=NoteType.first_person_note)
                       ).startswith("<!DOCTYPE html>")


def test_a_block_override_keeps_the_rest_with_super(tmp_path: Path, worked_case) -> None:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        '{% extends "builtin/note_verbale.html.j2" %}\n'
        '{% block closing %}<p class="extra">Copy to the Protocol Department</p>'
        '{{ super() }}{% endblock %}\n')})
    html = render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    # (A name of two words is marked not to be hyphenated, the space before it opening it.)
    assert ('<p class="extra">Copy to the<span class="unbroken"> Protocol Department</span></p>'
            '<p class="closing">') in html
    assert "presents its compliments" in html


def test_a_catalogue_in_a_user_folder_changes_only_what_it_says(tmp_path: Path,
                                                                worked_case) -> None:
    folder = folder_with(tmp_path, {"catalogues/en.yaml": (
        "phrases:\n  note_verbale.title: Note\n")})
    context = render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    assert "<h1>Note</h1>" in context
    assert "presents its compliments" in context  # the rest is the built-in wording


def test_a_new_language_from_a_folder_alone() -> None:
    case = load_case(SECOND)
    options = RenderOptions(template_dirs=(EXAMPLE,), lang="es")
    pdf = render_pdf(case, options=options)
    text = flat(pdf_text(pdf))
    assert ("La Secretaría de Relaciones Exteriores de los Estados Unidos Mexicanos saluda "
            "atentamente a la Embajada de la República del Ecuador") in text
    assert "Ciudad de México, 6 de abril de 2024" in text
    assert "El párrafo 2 del artículo 22: el Estado receptor tiene la obligación" in text
    assert "Sírvase" not in text  # a note verbale's closing, not a first-person one's
    assert "aprovecha la oportunidad para reiterar a la Embajada" in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.Root.Lang) == "es"
        # The emblem from the ministry's folder is in the PDF.
        assert any("/XObject" in page.Resources for page in document.pages)
    # Without the folder there is no Spanish.
    with pytest.raises(RecordError, match="no phrase catalogue for language 'es'"):
        render_html(case, RenderOptions(lang="es"))


def test_a_ministry_style_sheet_uses_built_in_fonts_and_own_images(tmp_path: Path,
                                                                    worked_case) -> None:
    shutil.copytree(EXAMPLE / "static", tmp_path / "mine" / "static")
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        '{% extends "builtin/note_verbale.html.j2" %}'
        '{% block letterhead %}<img src="static/emblem.svg">{{ super() }}{% endblock %}')})
    pdf = render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,)))
    with pikepdf.open(io.BytesIO(pdf)) as document:
        fonts = {str(font.get("/BaseFont")).split("+")[-1]
                 for page in document.pages for font in page.Resources.Font.values()}
        assert fonts <= {"Notegen-Serif", "Notegen-Serif-Bold", "Notegen-Serif-Italic",
                         "NotoSerif", "NotoSerif-Bold", "NotoSerif-Italic"}, fonts


def test_check_passes_the_example_and_the_built_in_folder(runner: CliRunner) -> None:
    report = check_folder(EXAMPLE)
    assert report.problems == ()
    assert report.renders > 20
    result = runner.invoke(cli, ["templates", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout


def test_check_reports_broken_templates_and_catalogues(tmp_path: Path,
                                                       runner: CliRunner) -> None:
    folder = folder_with(tmp_path, {
        "note_verbale.html.j2": ('{% extends "builtin/note_verbale.html.j2" %}\n'
                                 "{% block letterhed %}x{% endblock %}\n"),
        "aide_memoire.html.j2": ('{% extends "builtin/aide_memoire.html.j2" %}\n'
                                 "{% block title %}\n<h1>{{ note.titel }}</h1>\n"
                                 "{% endblock %}\n"),
        "first_person_note.html.j2": "{% if note %}\n{{ note.title }\n",
        "catalogues/en.yaml": "phrases:\n  note_verbale.titel: Note\n",
        "catalogues/es.yaml": "language: Spanish\nlocale: es\nphrases:\n  reference: Núm.\n",
    })
    report = check_folder(folder)
    found = {(p.location.file.name if p.location.file else None, p.location.line):
             p.message for p in report.problems}
    assert found[("note_verbale.html.j2", 2)].startswith(
        "block 'letterhed' is not a block of builtin/note_verbale.html.j2")
    assert ("first_person_note.html.j2", 2) in found  # the unclosed {{ … }
    assert found[("en.yaml", 2)] == ("'note_verbale.titel' is not a phrase notegen uses "
                                     "(check its spelling)")
    assert found[("es.yaml", 3)].startswith("a new language needs every phrase; missing: ")
    result = runner.invoke(cli, ["templates", "check", str(folder)])
    assert result.exit_code == 1
    assert f"{folder / 'note_verbale.html.j2'}:2: block 'letterhed'" in result.stderr
    # Once the files are well-formed, renders find undefined names, with their line.
    for name in ("note_verbale.html.j2", "first_person_note.html.j2", "catalogues/en.yaml",
                 "catalogues/es.yaml"):
        (folder / name).unlink()
    [problem] = check_folder(folder).problems
    assert problem.location.file == folder / "aide_memoire.html.j2"
    assert problem.location.line == 3
    assert "'titel'" in problem.message


def test_check_reports_a_missing_phrase_with_its_line(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        '{% extends "builtin/note_verbale.html.j2" %}\n{% block title %}\n'
        '<h1>{{ phrase("no.such.phrase") }}</h1>{% endblock %}\n')})
    problems = check_folder(folder).problems
    assert problems
    assert all("no phrase 'no.such.phrase'" in p.message for p in problems)
    assert problems[0].location.file == folder / "note_verbale.html.j2"
    assert problems[0].location.line == 3


# Safety.

def test_sandbox_refuses_python_internals(tmp_path: Path, worked_case) -> None:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        "ok\n{{ note.__class__.__mro__[1].__subclasses__() }}\n")})
    with pytest.raises(TemplateError) as info:
        render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    assert info.value.line == 2
    assert "unsafe" in str(info.value) or "__class__" in str(info.value)


def test_a_template_that_never_ends_is_stopped(tmp_path: Path, worked_case) -> None:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}")})
    with pytest.raises(TemplateError, match="stopped after 1 s"):
        render_html(worked_case, RenderOptions(template_dirs=(folder,), time_limit=1))


def test_a_template_that_builds_huge_strings_is_stopped(tmp_path: Path, worked_case) -> None:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        '{% set x = "x" * 50000000 %}{% set y = x ~ x ~ x ~ x ~ x %}{{ (y ~ y)|length }}')})
    with pytest.raises(TemplateError, match="needed more than 128 MiB"):
        render_html(worked_case, RenderOptions(template_dirs=(folder,), memory_limit_mb=128))


def _attack(tmp_path: Path, worked_case, body: str) -> bytes:
    folder = folder_with(tmp_path, {"note_verbale.html.j2": (
        '{% extends "builtin/note_verbale.html.j2" %}'
        "{% block footer %}" + body + "{% endblock %}")})
    return render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,)))


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


@pytest.mark.parametrize("make_body", [
    lambda secret: f"<img src='{secret.as_uri()}'>",
    lambda secret: "<img src='file:///etc/passwd'>",
    lambda secret: "<img src='static/../../../../../../../../etc/passwd'>",
    lambda secret: f"<link rel='stylesheet' href='{secret.as_uri()}'>",
])
def test_a_user_template_cannot_read_files(tmp_path: Path, worked_case, secret: Path,
                                           make_body) -> None:
    with pytest.raises(RenderError, match="outside the template folders"):
        _attack(tmp_path, worked_case, make_body(secret))


def test_a_symlink_in_a_user_folder_cannot_point_out(tmp_path: Path, worked_case,
                                                     secret: Path) -> None:
    static = tmp_path / "mine" / "static"
    static.mkdir(parents=True)
    (static / "logo.png").symlink_to(secret)
    with pytest.raises(RenderError, match="outside the template folders"):
        _attack(tmp_path, worked_case, "<img src='static/logo.png'>")


def test_attachments_from_a_user_template_carry_nothing_out(tmp_path: Path, worked_case,
                                                            secret: Path) -> None:
    body = (f"<link rel='attachment' href='{secret.as_uri()}'>"
            f"<a rel='attachment' href='{secret.as_uri()}'>x</a>")
    with pytest.raises(RenderError, match="outside the template folders"):
        _attack(tmp_path, worked_case, body)


def test_a_user_template_cannot_reach_the_network(tmp_path: Path, worked_case,
                                                  loopback: tuple[str, list[str]]) -> None:
    url, requests = loopback
    for body in (f"<img src='{url}/x.png'>", f"<style>@import url('{url}/a.css');</style>",
                 f"<link rel='attachment' href='{url}/leak'>"):
        with pytest.raises(RenderError, match="not a template file"):
            _attack(tmp_path, worked_case, body)
    assert requests == []


def test_a_language_code_is_never_a_path(worked_case) -> None:
    with pytest.raises(RecordError, match="no phrase catalogue for language"):
        render_html(worked_case, RenderOptions(lang="../../../etc/passwd"))
