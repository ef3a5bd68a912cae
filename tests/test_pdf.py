from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from notegen import (
    Case,
    RecordError,
    RenderError,
    RenderOptions,
    load_case,
    render_pdf,
)
from notegen.records.case import load_case_data
from notegen.records.models import NoteType
from notegen.render.pdf import check_harfbuzz_subset, html_to_pdf

from .conftest import CATALOGUE, FIXTURES, ROOT, SEED, Edit, flat, pdf_text

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is not installed")


def test_worked_case_has_one_to_four_a4_pages(worked_pdf: bytes) -> None:
    # Five incidents and the full operative wording of every article cited
    # (issue 15) make four pages; a note longer than that is not one.
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        assert 1 <= len(pdf.pages) <= 4
        for page in pdf.pages:
            width, height = (float(v) for v in page.mediabox[2:])
            assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


@pytest.mark.parametrize("lang", ["en", "ru", "az"])
def test_no_name_is_hyphenated(worked_case: Case, worked_pdf: bytes, lang: str) -> None:
    # Running text is hyphenated (issue 16, T9), never a name of two
    # capitalised words ("Repub-lic of Azerbaijan", "Азербай-джанской
    # Республики"): no word split at a line's end (WeasyPrint ends the line
    # with U+2010) has a capitalised word beside it. A lone capitalised word
    # ("Посоль-ства") may be split.
    pdf = worked_pdf if lang == "en" else render_pdf(worked_case, options=RenderOptions(
        lang=lang))
    lines = [line.split() for line in pdf_text(pdf).splitlines()]
    split = [(line[-2] if len(line) > 1 else "", line[-1] + following[0],
              following[1] if len(following) > 1 else "")
             for line, following in itertools.pairwise(lines)
             if line and following and line[-1].endswith("\u2010")]
    assert split, "running text is hyphenated"

    def capital(word: str) -> bool:
        return word[:1].isupper()

    def name(before: str, word: str, after: str) -> bool:
        # Its neighbours in the same sentence.
        before = "" if before.endswith((".", "!", "?", ":")) else before
        after = "" if word.endswith((".", "!", "?", ":", ";")) else after
        return capital(word) and (capital(before) or capital(after))

    assert [words for words in split if name(*words)] == []


def test_text_lists_every_earlier_incident_in_date_order(worked_pdf: bytes) -> None:
    text = flat(pdf_text(worked_pdf))
    # (pdftotext -raw puts list numbers at the end of each page: not checked here.)
    markers = ["10 March 2022, Kharkiv", "2 January 2024, Kyiv",
               "8 and 18 August 2025, Odesa region", "28 August 2025, Kyiv"]
    positions = [text.find(marker) for marker in markers]
    assert all(p >= 0 for p in positions), (positions, text)
    assert positions == sorted(positions)


def test_text_has_the_parts_of_a_note_verbale(worked_pdf: bytes) -> None:
    text = flat(pdf_text(worked_pdf))
    for part in [
        "MINISTRY OF FOREIGN AFFAIRS OF THE REPUBLIC OF AZERBAIJAN",
        "No. 12/345/2025",
        "N O T E V E R B A L E",
        "The Ministry of Foreign Affairs of the Republic of Azerbaijan presents its compliments "
        "to the Embassy of the Russian Federation in the Republic of Azerbaijan and has the "
        "honour to lodge a strong protest",
        "on 14 November 2025 at about 01:00 local time,",
        "an Iskander-type missile",
        "the coordinates of all diplomatic representations",
        "conduct a thorough investigation into the incident",
        "provide a detailed explanation of the circumstances of the incident",
        "renew to the Embassy the assurances of its highest consideration.",
        "Baku, 14 November 2025",
        "The Embassy of the Russian Federation in the Republic of Azerbaijan Baku",
    ]:
        assert part in text, part
    # Courtesy opens the text and closes it, in that order.
    assert text.index("presents its compliments") < text.index("highest consideration")


def test_multi_page_notes_number_their_pages(worked_pdf: bytes) -> None:
    pages = pdf_text(worked_pdf).split("\f")
    count = len([page for page in pages if page.strip()])
    assert count >= 2
    for number in range(1, count + 1):
        assert re.search(rf"\b{number} ?/ ?{count}\b", pages[number - 1])


def test_a_one_page_note_has_no_page_number() -> None:
    # The minimal case without its legal basis (whose full wording takes the
    # closing to a second page) fits on one.
    record = json.loads((FIXTURES / "minimal.json").read_text(encoding="utf-8"))
    record["note"]["legal_bases"] = []
    pdf = render_pdf(load_case_data(json.dumps(record).encode(), "minimal.json"))
    text = pdf_text(pdf)
    assert text.count("\f") == 1
    assert not re.search(r"\b1 ?/ ?1\b", text)
    assert "Casualties: 2 injured." in text


def test_metadata_comes_from_the_note(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]) == "Note Verbale No. 12/345/2025"
        assert str(info["/Author"]) == ("The Ministry of Foreign Affairs of the Republic of "
                                        "Azerbaijan")
        assert str(info["/CreationDate"]).startswith("D:20251114")
        assert str(pdf.Root.Lang) == "en"


def test_all_fonts_are_embedded_and_ours(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        fonts = {}
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                fonts[str(font.BaseFont)] = "/FontFile2" in descendant.FontDescriptor
    assert fonts
    assert all(fonts.values())
    assert all(name.split("+")[1].startswith("Notegen-Serif") for name in fonts)


def test_same_input_gives_the_same_bytes(worked_case, worked_pdf: bytes) -> None:
    assert render_pdf(worked_case) == worked_pdf


def test_written_atomically_and_nothing_on_failure(edit_seed: Edit, tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    target.write_bytes(b"previous")
    # A character the fonts lack, in the records: found while wording, at its text.
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "an air strike seriously",
                     "\U0001F600 an air strike")
    with pytest.raises(RecordError, match="fonts cannot draw '\U0001F600'"):
        render_pdf(load_case(note), target)
    assert target.read_bytes() == b"previous"
    # A page break that fails the render (here: the layout's page limit).
    with pytest.raises(RenderError, match="pages"):
        render_pdf(load_case(SEED / "note.yaml"), target, RenderOptions(page_limit=1))
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name != "seeds"] == ["note.pdf"]


def test_a_character_no_font_has_stops_the_layout() -> None:
    """In the template's own text (records are checked before): never an empty box."""
    with pytest.raises(RenderError, match="no font of the template can draw"):
        html_to_pdf(_html("<p>\U0001F600</p>"))


def _html(body: str) -> str:
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<style>html{font-family:serif}</style></head>"
            f"<body><p>Text</p>{body}</body></html>")


def test_local_files_outside_the_template_folders_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    (tmp_path / "link.css").symlink_to(secret)
    for body in [f"<img src='{secret.as_uri()}'>",
                 f"<link rel='stylesheet' href='{secret.as_uri()}'>",
                 "<img src='static/../../../../../../../etc/passwd'>"]:
        with pytest.raises(RenderError, match="outside the template folders"):
            html_to_pdf(_html(body))


def test_attachments_cannot_carry_files_out(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (f"<link rel='attachment' href='{secret.as_uri()}'>"
            f"<a rel='attachment' href='{secret.as_uri()}'>x</a>")
    # Refused, as any other file outside the template folders: the render stops.
    with pytest.raises(RenderError, match="outside the template folders") as info:
        html_to_pdf(_html(body))
    assert "TOP-SECRET-CONTENT" not in str(info.value)


def test_the_network_is_never_reached(loopback: tuple[str, list[str]]) -> None:
    url, requests = loopback
    body = (f"<img src='{url}/image.png'><link rel='stylesheet' href='{url}/a.css'>"
            f"<style>@import url('{url}/b.css');</style>")
    with pytest.raises(RenderError, match="not a template file"):
        html_to_pdf(_html(body))
    assert requests == []


def test_data_urls_and_template_assets_are_allowed() -> None:
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42"
             "mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
    pdf = html_to_pdf(_html(f"<img src='{pixel}'><link rel='stylesheet' "
                            "href='static/single-page.css'>"))
    assert pdf.startswith(b"%PDF-")


def test_the_setup_installed_harfbuzz_subset() -> None:
    # Without libharfbuzz-subset0 rendering is 3-5x slower and not reproducible.
    assert check_harfbuzz_subset()


def test_separate_processes_give_the_same_bytes(tmp_path: Path, worked_case: Case,
                                                worked_pdf: bytes) -> None:
    for name in ("a.pdf", "b.pdf"):
        subprocess.run([sys.executable, "-m", "notegen", "render", str(SEED / "note.yaml"),
                        "-o", str(tmp_path / name)], check=True, capture_output=True)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes() == worked_pdf
    # A process keeps its fonts loaded from one render to the next; that
    # changes nothing in the output either.
    assert render_pdf(worked_case) == worked_pdf


DATES = {"en": "Baku, 14 November 2025", "ru": "Баку, 14 ноября 2025 года",
         "az": "Bakı, 14 noyabr 2025-ci il", "fr": "Bakou, le 14 novembre 2025"}
# A series shares its month and year (issue 16, T11).
CHRONOLOGY = {
    "en": ["10 March 2022, Kharkiv", "2 January 2024, Kyiv",
           "8 and 18 August 2025, Odesa region", "28 August 2025, Kyiv"],
    "ru": ["10 марта 2022 года, Харьков", "2 января 2024 года, Киев",
           "8 и 18 августа 2025 года, Одесская область",
           "28 августа 2025 года, Киев"],
    "az": ["10 mart 2022-ci il, Xarkov", "2 yanvar 2024-cü il, Kiyev",
           "8 və 18 avqust 2025-ci il, Odessa vilayəti",
           "28 avqust 2025-ci il, Kiyev"],
    "fr": ["10 mars 2022, Kharkiv", "2 janvier 2024, Kyiv",
           "8 et 18 août 2025, région d’Odessa", "28 août 2025, Kyiv"],
}
ARTICLES = {
    # The worked case: an international armed conflict, Azerbaijan's premises in
    # Ukraine attacked by Russia. Ukraine's duties as receiving State reach Russia
    # only as a general principle or by analogy; AP I binds Russia as a party; the
    # residence is part of the mission's premises (Art. 1(i), 22), not Art. 30(1).
    "en": ["Vienna Convention on Diplomatic Relations of 1961",
           "Article 1(i): the \"premises of the mission\" are",
           "Article 22(1), as an expression of a general principle: the premises of the "
           "mission shall be inviolable", "Article 59, applied by analogy",
           "Article 52(1), binding on the Russian Federation as a party: civilian objects "
           "shall not be the object of attack"],
    "ru": ["Венская конвенция о дипломатических сношениях 1961 года",
           "Пункт 1 статьи 22 (как выражение общего принципа): помещения представительства "
           "неприкосновенны", "Статья 59 (по аналогии)"],
    "az": ["1961-ci il Diplomatik əlaqələr haqqında Vyana Konvensiyası",
           "22-ci maddənin 1-ci bəndi (ümumi prinsipin ifadəsi kimi): nümayəndəliyin "
           "binaları toxunulmazdır", "59-cu maddə (analogiya üzrə)"],
    "fr": ["Convention de Vienne sur les relations diplomatiques de 1961",
           "Le paragraphe 1 de l’article 22 (en tant qu’expression d’un principe général) : "
           "les locaux de la mission sont inviolables", "L’article 59 (par analogie)"],
}
#: What the worked case must not cite: Art. 30(1) (an agent's private
#: residence) and Art. 45 (relations are not broken off).
NOT_CITED = {"en": ["Article 30(1)", "Article 45"], "ru": ["статьи 30", "статьи 45"],
             "az": ["30-cu maddə", "45-ci maddə"], "fr": ["l’article 30", "l’article 45"]}
TITLES = {
    "en": {"note_verbale": "NOTEVERBALE", "aide_memoire": "AIDE-MÉMOIRE"},
    "ru": {"note_verbale": "ВЕРБАЛЬНАЯНОТА", "aide_memoire": "ПАМЯТНАЯЗАПИСКА"},
    "az": {"note_verbale": "VERBALNOTA", "aide_memoire": "YADDAŞQEYDİ"},
    "fr": {"note_verbale": "NOTEVERBALE", "aide_memoire": "AIDE-MÉMOIRE"},
}
# The opening, the closing (or the last paragraph), then other parts.
FORMULAE = {
    ("en", "note_verbale"): [
        "presents its compliments to the Embassy of the Russian Federation in "
        "the Republic of Azerbaijan and has the honour to lodge",
        "renew to the Embassy the assurances of its highest consideration"],
    ("en", "first_person_note"): [
        "Excellency, I have the honour to lodge",
        "Accept, Excellency, the assurances of my highest consideration", "Jeyhun Bayramov",
        "His Excellency Mr Mikhail Yevdokimov"],
    ("en", "aide_memoire"): ["The Azerbaijani side wishes to lodge",
                             "The Azerbaijani side considers that attacks"],
    ("ru", "note_verbale"): [
        "свидетельствует своё уважение Посольству Российской Федерации в "
        "Азербайджанской Республике и имеет честь заявить",
        "возобновить Посольству уверения в своём весьма высоком уважении"],
    ("ru", "first_person_note"): [
        "Уважаемый господин Посол! Имею честь заявить",
        "Прошу Вас, господин Посол, принять уверения в моём весьма высоком уважении",
        "Джейхун Байрамов", "Его Превосходительству господину Михаилу Евдокимову"],
    ("ru", "aide_memoire"): ["Азербайджанская сторона считает необходимым заявить",
                             "Азербайджанская сторона считает, что нападения"],
    ("az", "note_verbale"): [
        "Səfirliyinə öz dərin ehtiramını bildirir",
        "Səfirliyi öz dərin ehtiramından bir daha əmin edir"],
    ("az", "first_person_note"): [
        "Hörmətli cənab Səfir,",
        "Sizi, cənab Səfir, dərin ehtiramımdan bir daha əmin edirəm", "Ceyhun Bayramov",
        "bildirməkdən şərəf duyuram"],
    ("az", "aide_memoire"): ["Azərbaycan tərəfi Rusiya Federasiyasının",
                             "Azərbaycan tərəfi hesab edir ki,"],
    ("fr", "note_verbale"): [
        "présente ses compliments à l’Ambassade de la Fédération de Russie en "
        "République d’Azerbaïdjan et a l’honneur d’élever",
        "renouveler à l’Ambassade les assurances de sa très haute considération"],
    ("fr", "first_person_note"): [
        "Monsieur l’Ambassadeur, J’ai l’honneur d’élever",
        "Je vous prie d’agréer, Monsieur l’Ambassadeur, les assurances de ma très haute "
        "considération", "Djeyhoun Bayramov"],
    ("fr", "aide_memoire"): ["La partie azerbaïdjanaise élève une vive protestation",
                             "La partie azerbaïdjanaise estime que les attaques"],
}


@pytest.mark.parametrize(("lang", "note_type"), list(FORMULAE))
def test_worked_case_in_every_type_and_language(worked_case, lang: str,
                                                note_type: str) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(lang=lang,
                                                        note_type=NoteType(note_type)))
    text = flat(pdf_text(pdf))
    for part in [*FORMULAE[lang, note_type], DATES[lang], *ARTICLES[lang]]:
        assert part in text, part
    for part in NOT_CITED[lang]:
        assert part.casefold() not in text.casefold(), part
    positions = [text.find(marker) for marker in CHRONOLOGY[lang]]
    assert -1 not in positions, CHRONOLOGY[lang]
    assert positions == sorted(positions)
    # The opening comes first, the chronology in the middle, the closing last.
    opening, closing = FORMULAE[lang, note_type][:2]
    assert text.index(opening) < positions[0] < text.index(closing)
    title = TITLES[lang].get(note_type)
    if title:  # letter-spaced capitals come out of the PDF one letter at a time
        assert title in text.replace(" ", "")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.Root.Lang) == lang
    ambassador = {"en": "Embassy of the Russian Federation in the Republic of Azerbaijan Baku",
                  "ru": "Посольству Российской Федерации в Азербайджанской Республике г. Баку",
                  "az": "Səfirliyinə Bakı şəhəri", "fr": "Ambassade de la Fédération de "
                  "Russie en République d’Azerbaïdjan Bakou"}[lang]
    # Only the note verbale has the Embassy's block; an aide-mémoire has none.
    assert (ambassador in text) is (note_type == "note_verbale")


def test_a_courtesy_translation_follows_the_note(worked_case) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(translation="ru"))
    text = flat(pdf_text(pdf))
    enclosure = text.index("Enclosure: courtesy translation into Russian")
    mark = text.index("Неофициальный перевод. Язык оригинала: английский.")
    assert enclosure < mark < text.index("свидетельствует своё уважение")
    assert text.index("Baku, 14 November 2025") < enclosure
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.Root.Lang) == "en"
        assert len(document.pages) > len(pikepdf.open(io.BytesIO(render_pdf(worked_case))).pages)


def test_the_second_case_renders_in_the_four_languages() -> None:
    case = load_case(ROOT / "seeds" / "mx-quito-2024" / "note.yaml")
    for lang, parts in {
        "en": ["No. SRE/________/2024", "Article 22(2): the receiving State is under a special "
               "duty", "Article 29", "Mexico City, 6 April 2024"],
        "ru": ["№ SRE/________/2024", "Пункт 2 статьи 22: на государство пребывания",
               "Статья 29", "Мехико, 6 апреля 2024 года"],
        "az": ["№ SRE/________/2024", "22-ci maddənin 2-ci bəndi: qəbul edən dövlət",
               "29-cu maddə", "Mexiko, 6 aprel 2024-cü il"],
        "fr": ["N° SRE/________/2024", "Le paragraphe 2 de l’article 22 : l’État accréditaire",
               "L’article 29", "Mexico, le 6 avril 2024"],
    }.items():
        text = flat(pdf_text(render_pdf(case, options=RenderOptions(lang=lang))))
        for part in parts:
            assert part in text, (lang, part)
