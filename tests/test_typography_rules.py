"""The typography of issue 17, rule by rule and language by language: what a
number binds to, Azerbaijani ordinals, French hyphenation and names, list
markers, blocks, and French superior letters.

Expected texts are written from the rules. "_" stands for U+00A0.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import time

import pytest

from notegen import RenderOptions, load_case, render_html, render_pdf
from notegen.records.models import NoteType
from notegen.template_folders import builtin
from notegen.wording.catalogue import load_catalogue
from notegen.wording.typography import Typography

from .conftest import ROOT, flat

SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"


def typography(lang: str) -> Typography:
    found = load_catalogue(lang, builtin())
    assert found is not None
    return found.typography


def spaces(text: str) -> str:
    return text.replace("_", "\u00a0")


def pdf_lines(pdf: bytes) -> list[str]:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8").splitlines()


# -- 1. a number binds to its label, unit or month, never to any word ---------

@pytest.mark.parametrize(("lang", "typed", "set_"), [
    ("ru", "статья 59 Венской конвенции", "статья_59 Венской конвенции"),
    ("ru", "Пункт 1 статьи 22 Венской конвенции", "Пункт_1 статьи_22 Венской конвенции"),
    ("ru", "Норма 7 обычного права", "Норма_7 обычного права"),
    ("ru", "около 35 шагах от 14 ноября 2025 года", "около 35_шагах от 14_ноября_2025_года"),
    ("fr", "l'article 48 du Protocole", "l’article_48 du Protocole"),
    ("fr", "la règle 7 du droit", "la règle_7 du droit"),
    ("fr", "du 12 août 1949 vers 6 h 15", "du 12_août_1949 vers 6_h_15"),
    ("fr", "le 14 novembre 2025 vers 1 h", "le 14_novembre_2025 vers 1_h"),
    ("en", "8 and 18 August 2025, Odesa region", "8 and 18_August_2025, Odesa region"),
    ("en", "Article 22(1) of the Convention, Rule 7", "Article_22(1) of the Convention, Rule_7"),
    ("en", "about 50 metres from", "about 50_metres from"),
    ("az", "22-ci maddəsinin 1-ci bəndi", "22-ci_maddəsinin 1-ci_bəndi"),
    ("az", "28 avqust 2025-ci il, Kiyev", "28_avqust_2025-ci_il, Kiyev"),
    ("az", "təxminən 35 addım", "təxminən 35_addım"),
    # A day keeps its month in the month's cases too (Azerbaijani accusative, dative).
    ("az", "13 noyabrı 14 noyabra birləşdirən gecə", "13_noyabrı 14_noyabra birləşdirən gecə"),
])
def test_a_number_binds_to_its_label_unit_or_month(lang: str, typed: str, set_: str) -> None:
    assert typography(lang).text(typed, at_head=False) == spaces(set_)


def test_a_number_does_not_bind_forward_in_the_pdf(worked_case) -> None:
    text = flat("\n".join(pdf_lines(render_pdf(worked_case,
                                                options=RenderOptions(lang="ru")))))
    # A label ends no line without its number; a date never leaves its
    # month without its day (it may break before its year in Russian).
    lines = pdf_lines(render_pdf(worked_case, options=RenderOptions(lang="ru")))
    for line in lines:
        assert not re.search(r"(?:статья|статьи|Статья|Пункт|пункта|Норма)$", line), line
        assert not re.search(r"(?:^|\s)\d+$", line), line
    assert "статьи 22" in text


# -- 2. Azerbaijani ordinals never break at their hyphen ----------------------

def test_an_azerbaijani_ordinal_is_kept_whole(worked_case) -> None:
    html = render_html(worked_case, RenderOptions(lang="az"))
    assert spaces('<span class="unbroken whole">22-ci_maddənin</span>') in html
    for note_type in ("note_verbale", "first_person_note"):
        lines = pdf_lines(render_pdf(worked_case, options=RenderOptions(
            lang="az", note_type=NoteType(note_type))))
        for line in lines:
            assert not re.search(r"\d-$", line), line
            assert not re.match(r"^(?:ci|cı|cu|cü|də|da)\b", line), line


def test_a_number_with_its_suffix_does_not_wrap() -> None:
    style = (ROOT / "templates" / "static" / "note.css").read_text(encoding="utf-8")
    assert ".unbroken.whole { white-space: nowrap; }" in style
    azerbaijani = typography("az")
    assert azerbaijani.markup(azerbaijani.text("saat 06:15-də"), running=True) == spaces(
        '<span class="unbroken whole">saat_06:15-də</span>')


# -- 3. French hyphenation: three letters each side, names whole --------------

def test_french_hyphenation_leaves_three_letters_and_names_whole(worked_case) -> None:
    style = (ROOT / "templates" / "static" / "note.css").read_text(encoding="utf-8")
    assert ":lang(fr) main p, :lang(fr) main li {\n  hyphenate-limit-chars: 6 3 3;" in style
    for case in (worked_case, load_case(SECOND)):
        lines = pdf_lines(render_pdf(case, options=RenderOptions(lang="fr")))
        for line, after in itertools.pairwise(lines):
            if line.endswith("\u2010") and after.strip():
                fragment = re.findall(r"\w+\u2010$", line)[0]
                assert len(fragment) > 3, line  # two letters and the hyphen at least 3
                assert len(re.match(r"\w*", after).group()) >= 3, after
                assert not fragment[0].isupper(), line  # no name hyphenated
    html = render_html(load_case(SECOND), RenderOptions(lang="fr"))
    assert '<span class="unbroken whole">États-Unis</span>' in html
    # The space before the span opens it (typography.SPACE).
    assert typography("fr").markup("le missile Kinjal", running=True) == (
        'le missile<span class="unbroken"> Kinjal</span>')


# -- 4. list markers ------------------------------------------------------------

@pytest.mark.parametrize(("lang", "markers"), [
    ("fr", ["a) ", "b) ", "I. ", "II. "]),
    ("az", ["1) ", "2) ", "I. ", "II. "]),
    ("ru", ["а) ", "б) ", "I. ", "II. "]),
])
def test_list_markers_in_each_language(worked_case, lang: str, markers: list[str]) -> None:
    lines = pdf_lines(render_pdf(worked_case, options=RenderOptions(lang=lang)))
    for marker in markers:
        assert any(line.startswith(marker) for line in lines), marker
    assert not any(line.startswith(("i. ", "ii. ")) for line in lines)


# -- 5. blocks -------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "line", "set_"), [
    ("fr", "Ministre des Affaires étrangères de la République d’Azerbaïdjan",
     "Ministre_des_Affaires étrangères de_la_République_d’Azerbaïdjan"),
    ("ru", "Его Превосходительству господину Михаилу Евдокимову",
     "Его_Превосходительству господину Михаилу_Евдокимову"),
    ("az", "Azərbaycan Respublikasının Xarici İşlər Naziri",
     "Azərbaycan_Respublikasının Xarici_İşlər_Naziri"),
    ("en", "Ambassador Extraordinary and Plenipotentiary of the Russian Federation",
     "Ambassador Extraordinary and_Plenipotentiary of_the_Russian_Federation"),
    # The name that ends a title stays whole ("to the Republic / of Azerbaijan" split it).
    ("en", "Plenipotentiary of the Russian Federation to the Republic of Azerbaijan",
     "Plenipotentiary of_the_Russian Federation to_the_Republic_of_Azerbaijan"),
])
def test_a_title_breaks_only_between_its_parts(lang: str, line: str, set_: str) -> None:
    assert typography(lang).title(line) == spaces(set_)


def test_the_signature_block_breaks_between_title_parts(worked_case) -> None:
    lines = pdf_lines(render_pdf(worked_case, options=RenderOptions(
        lang="fr", note_type=NoteType.first_person_note)))
    assert "Ministre des Affaires étrangères" in lines
    assert "de la République d’Azerbaïdjan" in lines


def test_blocks_keep_their_distance_and_company() -> None:
    style = (ROOT / "templates" / "static" / "note.css").read_text(encoding="utf-8")
    assert "padding-top: 8mm;" in style
    assert ".closing { break-before: avoid; break-after: avoid; }" in style
    assert "ol.demands { break-inside: avoid; }" in style
    assert "table.heading th, table.heading td { vertical-align: top; }" in style


def test_the_closing_does_not_stand_alone_on_the_last_page(worked_case) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(lang="az"))
    pages = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                           check=True).stdout.decode("utf-8").split("\f")
    last = flat(next(page for page in reversed(pages) if page.strip()))
    assert "bu fürsətdən istifadə edərək" in last
    assert "tələb edir" in last  # the demands go with it


# -- 7. French superior letters ------------------------------------------------

def test_french_first_takes_superior_letters() -> None:
    french = typography("fr")
    assert french.markup(french.text("le 1er décembre", at_head=False), running=False) == (
        'le 1<sup class="superior">er</sup>\u00a0décembre')
    assert "<sup" not in typography("en").markup("the 1er", running=False)


def test_marking_a_paragraph_takes_time_linear_in_its_length() -> None:
    """A paragraph eight times longer takes about eight times as long to mark
    (a record may hold a long description). It took 87 times as long when
    each word copied the text before it to tell whether it opens a
    sentence; the bound is generous, for a busy machine."""
    english = typography("en")
    sentence = english.text("The Embassy of the Republic of Azerbaijan in Kyiv was damaged on "
                            "14 November 2025 by debris. ")

    def best(copies: int) -> float:
        text = sentence * copies
        times = []
        for _ in range(3):
            began = time.perf_counter()
            english.markup(text, running=True, ends_block=True)
            times.append(time.perf_counter() - began)
        return min(times)

    short, long = best(50), best(400)
    assert long / short < 20, (short, long)
