from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import Document, RecordError, RenderOptions, prepare, render_html
from notegen.cli import cli
from notegen.render.demarche import render_demarche

from .conftest import SEED, flat, pdf_text

NOTE = str(SEED / "note.yaml")
TRANSLATION = {"en": "ru", "ru": "en", "az": "en"}


def text_of(path: Path) -> str:
    return flat(pdf_text(path.read_bytes()))


@pytest.fixture(scope="module", params=["en", "ru", "az"])
def demarche(request, worked_case, tmp_path_factory) -> tuple[str, dict[str, Path]]:
    lang = request.param
    folder = tmp_path_factory.mktemp(f"set-{lang}")
    files = render_demarche(worked_case, folder, RenderOptions(
        lang=lang, translation=TRANSLATION[lang]))
    return lang, files


def test_the_set_has_four_documents(demarche) -> None:
    lang, files = demarche
    assert sorted(files) == ["note", "press_release", "talking_points", "translation"]
    assert files["translation"].name == f"translation-{TRANSLATION[lang]}.pdf"
    for path in files.values():
        assert path.read_bytes().startswith(b"%PDF-")


def test_every_document_tells_the_same_facts(demarche, worked_case) -> None:
    lang, files = demarche
    texts = {key: text_of(path) for key, path in files.items()}
    # The figures of the incidents (dates, distances, depths, times) are the
    # same in every document, whatever its language.
    figures: set[str] = set()
    for incident in worked_case.incidents.values():
        if incident.id not in (worked_case.note.subject, *worked_case.note.earlier):
            continue
        account = incident.account if isinstance(incident.account, str) else \
            incident.account["en"]
        figures |= set(re.findall(r"\d+", account))
        figures |= {str(incident.date.day), str(incident.date.year)}
        if incident.time:
            figures.add(incident.time)
    assert {"35", "3", "8", "50", "01:00", "2022", "2024"} <= figures
    for key, text in texts.items():
        missing = {figure for figure in figures if figure not in text}
        assert not missing, (key, missing)
    # In the documents of the note's language, the dates in words, the
    # chronology and the demands are the very strings of the note's context.
    context = prepare(worked_case, RenderOptions(lang=lang)).context
    for key in ("note", "talking_points", "press_release"):
        text = texts[key]
        for incident in (context.subject, *context.chronology):
            assert flat(incident.dates_words) in text, (key, incident.dates_words)
            # (a page break may fall inside a long account: its opening words)
            assert " ".join(incident.account.split()[:4]) in text, (key, incident.id)
        for demand in context.demands:
            assert demand in text, (key, demand)
    # The translation tells them in its own language.
    translated = prepare(worked_case, RenderOptions(lang=TRANSLATION[lang])).context
    for incident in translated.chronology:
        assert flat(incident.dates_words) in texts["translation"]


def test_each_document_speaks_in_its_own_voice(demarche) -> None:
    lang, files = demarche
    texts = {key: text_of(path) for key, path in files.items()}
    voices = {
        "en": ("We have asked you to come today to lodge", "The Ministry recalls that this is "
               "not the first such incident", "Неофициальный перевод. Язык оригинала: "
               "английский."),
        "ru": ("Мы пригласили Вас сегодня, чтобы заявить", "Министерство напоминает, что этот "
               "инцидент не первый", "Courtesy translation. Original language: Russian"),
        "az": ("Sizi bu gün", "Nazirlik xatırladır ki, bu, ilk belə hadisə deyil",
               "Courtesy translation. Original language: Azerbaijani"),
    }[lang]
    assert voices[0] in texts["talking_points"]
    assert voices[1] in texts["press_release"]
    assert voices[2] in texts["translation"]
    # The talking points hand over the note by its number; the note lists the
    # courtesy translation as its enclosure.
    assert "12/345/2025" in texts["talking_points"]
    assert {"en": "Enclosure: courtesy translation into Russian",
            "ru": "Приложение: неофициальный перевод на английский язык",
            "az": "Əlavə: ingilis dilinə qeyri-rəsmi tərcümə"}[lang] in texts["note"]


def test_companions_can_be_overridden_like_any_template(worked_case, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "press_release.html.j2").write_text(
        '{% extends "builtin/press_release.html.j2" %}'
        '{% block title %}<h1>FOR IMMEDIATE RELEASE</h1>{{ super() }}{% endblock %}')
    html = render_html(worked_case, RenderOptions(template_dirs=(folder,),
                                                  document=Document.press_release))
    assert "<h1>FOR IMMEDIATE RELEASE</h1><h1>Press release</h1>" in html


def test_a_set_needs_a_translation_language(worked_case, tmp_path: Path,
                                            runner: CliRunner) -> None:
    with pytest.raises(RecordError, match="a démarche set has a courtesy translation"):
        render_demarche(worked_case, tmp_path / "set")
    assert not (tmp_path / "set").exists()
    result = runner.invoke(cli, ["render", NOTE, "--set", "demarche", "-o",
                                 str(tmp_path / "set")])
    assert result.exit_code == 1
    assert "note.language: a démarche set has a courtesy translation" in result.stderr


def test_the_set_in_html(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["render", NOTE, "--set", "demarche", "--translation", "fr",
                                 "--format", "html", "-o", str(tmp_path / "set")])
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in (tmp_path / "set").iterdir())
    assert names == ["note.html", "press-release.html", "talking-points.html",
                     "translation-fr.html"]
    assert '<html lang="fr">' in (tmp_path / "set" / "translation-fr.html").read_text()
