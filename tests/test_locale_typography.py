"""Numbers, dates, times and typography by language (issue 16): each rule in
each built-in language, and for a language added from a folder.

The expected texts are written from the rules (CLDR, the languages'
typographic conventions), not copied from a render. "_" stands for U+00A0
(no-break space) and "~" for U+202F (narrow no-break space).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from notegen import RenderOptions, load_case, prepare, render_html, render_pdf
from notegen.options import Document
from notegen.records.models import NoteType
from notegen.render.authoring import check_folder
from notegen.template_folders import TemplateFolders, builtin
from notegen.wording.catalogue import Catalogue, load_catalogue

from .conftest import ROOT, Edit, flat

EXAMPLE = ROOT / "examples" / "sre-templates"
SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"


def spaces(text: str) -> str:
    return text.replace("_", "\u00a0").replace("~", "\u202f")


def catalogue(lang: str, folders: TemplateFolders | None = None) -> Catalogue:
    found = load_catalogue(lang, folders or builtin())
    assert found is not None
    return found


def text_of(html: str) -> str:
    """The text of ``html``'s body, tags removed, entities kept as typed."""
    body = html[html.index("<body"):]
    return re.sub(r"<[^>]+>", "", body).replace("&#39;", "'").replace("&#34;", '"')


# -- numbers and counts ------------------------------------------------------

@pytest.mark.parametrize(("lang", "written"), [
    ("en", "12,500"), ("ru", "12_500"), ("fr", "12~500"), ("az", "12.500")])
def test_a_number_is_grouped_as_the_locale_groups_it(lang: str, written: str) -> None:
    assert catalogue(lang).number(12500) == spaces(written)


@pytest.mark.parametrize(("lang", "count", "killed"), [
    ("fr", 1, "1_mort"), ("fr", 3, "3_morts"), ("fr", 12500, "12~500_morts"),
    ("ru", 1, "погиб 1_человек"), ("ru", 2, "погибли 2_человека"),
    ("ru", 5, "погибли 5_человек"), ("ru", 11, "погибли 11_человек"),
    ("ru", 21, "погиб 21_человек"), ("ru", 22, "погибли 22_человека"),
    ("az", 1, "1_nəfər"), ("az", 3, "3_nəfər"),
    ("en", 1, "1"), ("en", 12500, "12,500"),  # English words need no agreement
])
def test_a_count_agrees_with_its_number(lang: str, count: int, killed: str) -> None:
    assert catalogue(lang).count("killed", count) == spaces(killed)


@pytest.mark.parametrize(("lang", "sentence"), [
    ("en", "Casualties: 1 killed and 3 injured."),
    ("fr", "Bilan_: 1_mort et 3_blessés."),
    ("ru", "Погиб 1_человек, ранены 3_человека."),
    ("az", "Həlak olanların sayı: 1_nəfər, xəsarət alanların sayı: 3_nəfər."),
])
def test_casualties_agree_in_every_language(edit_seed: Edit, lang: str, sentence: str) -> None:
    note = edit_seed("note.yaml", "killed: 0\n      injured: 0", "killed: 1\n      injured: 3")
    context = prepare(load_case(note), RenderOptions(lang=lang)).context
    assert context.subject.casualties.replace("\u00a0", "_") == sentence.replace(
        "\u00a0", "_")


def test_a_catalogue_may_give_a_number_its_own_words(tmp_path: Path) -> None:
    (tmp_path / "catalogues").mkdir()
    (tmp_path / "catalogues" / "fr.yaml").write_text(
        'phrases:\n  count.killed.=1: "un mort"\n', encoding="utf-8")
    french = catalogue("fr", TemplateFolders.of([tmp_path]))
    assert french.count("killed", 1) == "un mort"
    assert french.count("killed", 2) == spaces("2_morts")


# -- dates and times ---------------------------------------------------------

@pytest.mark.parametrize(("lang", "across_months", "across_years"), [
    ("en", "30_July and 2_August 2025", "30_December 2024 and 2_January 2025"),
    ("ru", "30_июля и 2_августа 2025_года", "30_декабря 2024_года и 2_января 2025_года"),
    ("az", "30_iyul və 2_avqust 2025-ci_il", "30_dekabr 2024-cü_il və 2_yanvar 2025-ci_il"),
    ("fr", "30_juillet et 2_août 2025", "30_décembre 2024 et 2_janvier 2025"),
])
def test_a_series_shares_the_year_it_shares(lang: str, across_months: str,
                                            across_years: str) -> None:
    words = catalogue(lang)
    assert words.dates([dt.date(2025, 7, 30), dt.date(2025, 8, 2)]) == spaces(across_months)
    assert words.dates([dt.date(2024, 12, 30), dt.date(2025, 1, 2)]) == spaces(across_years)


@pytest.mark.parametrize(("lang", "first"), [
    ("en", "1_December 2025"), ("ru", "1_декабря 2025_года"),
    ("az", "1_dekabr 2025-ci_il"), ("fr", "1er_décembre 2025")])
def test_the_first_of_the_month(lang: str, first: str) -> None:
    assert catalogue(lang).date(dt.date(2025, 12, 1)) == spaces(first)
    assert catalogue(lang).dates([dt.date(2025, 12, 1), dt.date(2025, 12, 3)]).startswith(
        first.split("_")[0] + " ")


@pytest.mark.parametrize(("lang", "line"), [
    ("en", "Baku, 14_November 2025"), ("ru", "Баку, 14_ноября 2025_года"),
    ("az", "Bakı, 14_noyabr 2025-ci_il"), ("fr", "Bakou, le 14_novembre 2025")])
def test_the_date_line_as_each_language_writes_it(worked_case, lang: str, line: str) -> None:
    context = prepare(worked_case, RenderOptions(lang=lang)).context
    assert context.date_line == spaces(line)
    # Typeset, the date stays whole in every language: its month binds to
    # its year (issue 17); the place is not bound to it.
    typeset = re.sub(r"(?<=[^\W\d_]) (?=\d{4})", "\u00a0", spaces(line))
    assert f'<p class="place-date">{typeset}</p>' in re.sub(
        r"</?span[^>]*>", "", render_html(worked_case, RenderOptions(lang=lang)))


@pytest.mark.parametrize(("lang", "time", "approximate", "words"), [
    ("fr", "01:00", True, "vers 1_h (heure locale)"),
    ("fr", "06:15", False, "à 6_h_15 (heure locale)"),
    ("fr", "23:45", False, "à 23_h_45 (heure locale)"),
    ("fr", "10:05", False, "à 10_h_05 (heure locale)"),
    ("en", "06:15", False, "at 06:15 local time"),
    ("ru", "06:15", False, "в 06:15 по местному времени"),
    # The locative follows the number as spoken: "on beş", "otuz", "on", "bir".
    ("az", "06:15", False, "yerli vaxtla saat 06:15-də"),
    ("az", "06:30", False, "yerli vaxtla saat 06:30-da"),
    ("az", "10:00", False, "yerli vaxtla saat 10:00-da"),
    ("az", "01:00", False, "yerli vaxtla saat 01:00-də"),
    ("az", "06:40", False, "yerli vaxtla saat 06:40-da"),
    ("az", "06:20", False, "yerli vaxtla saat 06:20-də"),
])
def test_times_as_each_language_writes_them(edit_seed: Edit, lang: str, time: str,
                                            approximate: bool, words: str) -> None:
    note = edit_seed("note.yaml", 'time: "01:00"', f'time: "{time}"')
    if not approximate:
        note = edit_seed("note.yaml", "time_approximate: true", "time_approximate: false")
    context = prepare(load_case(note), RenderOptions(lang=lang)).context
    assert context.subject.time_words == spaces(words)


def test_an_azerbaijani_series_takes_the_plural_of_its_phrase(worked_case) -> None:
    prepared = prepare(worked_case, RenderOptions(lang="az",
                                                  document=Document.press_release))
    release = prepared.companion
    assert release is not None
    text = " ".join(release.paragraphs).replace("\u00a0", " ")
    assert "8 və 18 avqust 2025-ci il tarixlərində (Odessa vilayəti)" in text
    assert "28 avqust 2025-ci il tarixində (Kiyev)" in text


# -- typography --------------------------------------------------------------

def test_french_typography_applies_to_record_text_too(worked_case) -> None:
    text = text_of(render_html(worked_case, RenderOptions(lang="fr")))
    # A narrow no-break space before ";" in an account typed with a plain one.
    assert spaces("d’environ 3_mètres de diamètre~; la munition") in text
    assert spaces("les faits suivants_:") in text
    assert "l’Ambassade" in text
    assert "l'Ambassade" not in text
    assert spaces("L’article premier_: tout fait") in text
    assert spaces("de l’article premier_:") in text  # "l'alinéa i) de l'article 1"
    assert spaces("N°_12/345/2025") in text  # at the head of its line


def test_french_n_is_lower_case_inside_a_sentence(worked_case) -> None:
    html = render_html(worked_case, RenderOptions(lang="fr",
                                                  document=Document.talking_points))
    assert spaces("notre note n°_12/345/2025") in text_of(html)


def test_french_guillemets_and_marks_get_their_spaces() -> None:
    french = catalogue("fr").typography
    assert french.text("le missile «Kinjal» ; quoi?", at_head=False) == spaces(
        "le missile «~Kinjal~»~; quoi~?")


@pytest.mark.parametrize(("lang", "typed", "set_"), [
    # A number and its unit, a day and its month, a year and its word (T10).
    ("ru", "в ночь на 14 ноября 2025 года примерно в 50 метрах",
     "в_ночь на 14_ноября_2025_года примерно в_50_метрах"),
    ("ru", "ноту № 45/2026", "ноту №_45/2026"),
    ("az", "14 noyabr 2025-ci il gecə, təxminən 50 metr", "14_noyabr_2025-ci_il gecə, "
     "təxminən 50_metr"),
    ("en", "about 50 metres from Note No. 45", "about 50_metres from Note No._45"),
    ("fr", "à environ 50 mètres, le 14 novembre 2025", "à environ 50_mètres, le 14_novembre_"
     "2025"),
    # "8 и 18": the conjunction binds forward, the number does not bind it.
    ("ru", "8 и 18 августа", "8 и_18_августа"),
    ("ru", "12 500 человек", "12_500_человек"),
])
def test_record_text_is_kept_together_where_it_must(lang: str, typed: str, set_: str) -> None:
    assert catalogue(lang).typography.text(typed, at_head=False) == spaces(set_)


def test_typography_leaves_tags_attributes_and_metadata_alone(worked_case) -> None:
    html = render_html(worked_case, RenderOptions(lang="fr"))
    head = html[:html.index("<body")]
    assert "’" not in head
    assert "\u202f" not in head
    assert 'data-article="vcdr.1.i"' in html


def test_names_and_dates_in_running_text_are_not_hyphenated(worked_case) -> None:
    html = render_html(worked_case, RenderOptions(lang="ru"))
    main = html[html.index("<main>"):]
    assert '<span class="unbroken"> Азербайджанской Республики</span>' in main
    # A date stays whole: running text is ragged right, so a whole date
    # leaves no river, and "14 ноября / 2025 года" would split it.
    assert spaces('14_ноября_2025_года') in re.sub(r"</?span[^>]*>", "", main)
    assert "ноя\u00ad" not in main
    assert '<span class="unbroken"> Российской Федерации</span>' in main
    french = render_html(worked_case, RenderOptions(lang="fr"))
    assert '<span class="unbroken"> Fédération de Russie</span>' in french
    assert '<span class="unbroken">' not in html[:html.index("<main>")]


# -- list markers and hyphenation in the PDF ---------------------------------

@pytest.mark.parametrize(("lang", "first", "second"), [
    ("ru", "а) провести тщательное", "б) представить подробные"),
    ("az", "1) hadisə ilə bağlı", "2) hadisənin şəraiti"),
    ("en", "a. conduct a thorough", "b. provide a detailed"),
])
def test_demands_are_lettered_in_the_language_s_own_way(worked_case, lang: str, first: str,
                                                        second: str) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(lang=lang))
    # In reading order (-raw writes list markers after their page's text).
    text = flat(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                               check=True).stdout.decode("utf-8"))
    assert first in text
    assert second in text


def test_azerbaijani_hyphenates_by_its_own_patterns() -> None:
    import pyphen

    from notegen.render.hyphenation import register_hyphenation

    assert "az" in register_hyphenation(builtin())
    words = pyphen.Pyphen(lang="az", left=2, right=2)
    assert words.inserted("respublikasının") == "res-pub-li-ka-sı-nın"
    assert words.inserted("zədələnmişdir") == "zə-də-lən-miş-dir"
    assert words.inserted("struktur") == "struk-tur"


# -- a language from a folder ------------------------------------------------

def test_a_language_from_a_folder_gets_dates_numbers_and_lists_from_cldr() -> None:
    spanish = catalogue("es", TemplateFolders.of([EXAMPLE]))
    assert spanish.dates([dt.date(2025, 8, 8), dt.date(2025, 8, 18)]) == spaces(
        "8 y 18_de_agosto de_2025")
    assert spanish.number(12500) == "12.500"
    assert spanish.join(["a", "b", "c"]) == "a, b y c"
    context = prepare(load_case(SECOND), RenderOptions(template_dirs=(EXAMPLE,),
                                                       lang="es")).context
    assert context.date_line == spaces("Ciudad de México, 6_de_abril de_2024")


def test_templates_check_renders_every_language_the_folder_adds() -> None:
    report = check_folder(EXAMPLE)
    assert report.problems == ()
    # The worked case has no Spanish; the second case renders in it as a note
    # verbale, an aide-mémoire and a press release (it names no head of the
    # Embassy, whom a first-person note and the talking points address).
    assert dict(report.languages)["es"] >= 3


def test_templates_check_says_when_an_added_language_was_not_rendered(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    (folder / "catalogues").mkdir(parents=True)
    source = (EXAMPLE / "catalogues" / "es.yaml").read_text(encoding="utf-8")
    (folder / "catalogues" / "pt.yaml").write_text(source, encoding="utf-8")
    report = check_folder(folder, [ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"])
    assert [p.message for p in report.problems] == [
        "no case has text in 'pt', so no note was rendered in it: give a case written in "
        "'pt' (templates check FOLDER CASE)"]
    assert report.problems[0].location.file == folder / "catalogues" / "pt.yaml"
    assert NoteType  # the check renders every note type, as the report counts
