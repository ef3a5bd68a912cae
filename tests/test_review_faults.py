"""Issue 16, the single faults of the review of the worked case that sit in
catalogue strings and templates (review-worked-case.md, sections 1.2-1.6 and
the table of section 2), each checked by the rule behind it. The expected
texts are written from the review's corrections."""

from __future__ import annotations

import pytest

from notegen import Document, RenderOptions, load_case, prepare, render_html
from notegen.records.models import NoteType
from notegen.template_folders import builtin
from notegen.wording.catalogue import load_catalogue

from .conftest import CATALOGUE, ROOT, Edit

SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"

PROFILE = "../profiles/az-mfa.yaml"


def spaced(text: str) -> str:
    return " ".join(text.split())


def context(case, lang: str, note_type: NoteType | None = None):
    return prepare(case, RenderOptions(lang=lang, note_type=note_type)).context


def companion(case, lang: str, document: Document):
    return prepare(case, RenderOptions(lang=lang, document=document)).companion


# G3: "ki," opens a subordinate clause to the end; the main verb comes first.
@pytest.mark.parametrize(("note_type", "intro"), [
    (NoteType.note_verbale, "Nazirlik bunun ilk belə hadisə olmadığını qeyd etmək "
                            "məcburiyyətindədir və xüsusilə aşağıdakıları xatırladır:"),
    (NoteType.first_person_note, "Bunun ilk belə hadisə olmadığını qeyd etmək "
                                 "məcburiyyətindəyəm və xüsusilə aşağıdakıları xatırladıram:"),
])
def test_azerbaijani_chronology_intro(worked_case, note_type: NoteType, intro: str) -> None:
    assert spaced(context(worked_case, "az", note_type).chronology_intro) == intro


def test_azerbaijani_register_and_approximation(worked_case) -> None:
    note = context(worked_case, "az")
    # G6: the written register "-mamışdır", as everywhere else.
    assert note.subject.casualties == "Həlak olan və ya xəsarət alan olmamışdır."
    # G5: "radələrində" already says "about"; no "təxminən" beside it.
    assert "təxminən" not in note.subject.time_words
    assert spaced(note.subject.time_words).startswith("yerli vaxtla saat 01:00")
    assert note.subject.time_words.endswith("radələrində")


# G7: "saylı" marks the number; "№" before it marks it twice.
def test_azerbaijani_number_is_marked_once(worked_case) -> None:
    points = companion(worked_case, "az", Document.talking_points)
    assert spaced(points.handover) == ("Bütün bunları əks etdirən 14 noyabr 2025-ci il "
                                       "tarixli 12/345/2025 saylı notamızı Sizə təqdim "
                                       "edirik.")


# G9: French repeats "de" before each coordinated infinitive (elided before a vowel).
def test_french_repeats_de_before_each_infinitive(worked_case, edit_seed: Edit) -> None:
    release = companion(worked_case, "fr", Document.press_release)
    assert spaced(release.paragraphs[-1]) == (
        "Le Ministère demande à la partie russe de procéder à une enquête approfondie sur "
        "l'incident et de fournir des explications détaillées sur les circonstances de "
        "l'incident.")
    note = edit_seed("note.yaml", "    - kind: explanation\n",
                     "    - kind: explanation\n    - kind: other\n      text: {en: establish "
                     "the facts, ru: установить факты, az: faktların müəyyən edilməsini, "
                     "fr: établir les faits}\n")
    release = companion(load_case(note), "fr", Document.press_release)
    assert spaced(release.paragraphs[-1]).endswith(
        "de fournir des explications détaillées sur les circonstances de l'incident et "
        "d'établir les faits.")


# T6: an address block carries no article.
def test_french_address_block_without_article(worked_case) -> None:
    assert context(worked_case, "fr").addressee_block[0] == (
        "Ambassade de la Fédération de Russie en République d'Azerbaïdjan")
    french = load_catalogue("fr", builtin())
    assert french is not None
    assert french.bare("le Ministère des Affaires étrangères") == "Ministère des Affaires " \
        "étrangères"
    assert french.bare("la Mission permanente") == "Mission permanente"
    assert french.bare("Ambassade de France") == "Ambassade de France"
    assert french.bare("Lettonie") == "Lettonie"  # no article: "L" is a letter of the name


# T13: one sentence per incident, since an entry may hold its own ";".
@pytest.mark.parametrize(("lang", "start", "next_entry"), [
    ("en", "The Ministry recalls that this is not the first such incident. On 10 March 2022 "
           "(Kharkiv), an air strike", ". On 2 January 2024 (Kyiv), "),
    ("ru", "Министерство напоминает, что этот инцидент не первый. 10 марта 2022 года "
           "(Харьков) авиаудар", ". 2 января 2024 года (Киев) "),
    ("az", "Nazirlik xatırladır ki, bu, ilk belə hadisə deyil. 10 mart 2022-ci il tarixində "
           "(Xarkov) hava zərbəsi", ". 2 yanvar 2024-cü il tarixində (Kiyev) "),
    ("fr", "Le Ministère rappelle que cet incident n'est pas le premier. Le 10 mars 2022 "
           "(Kharkiv), une frappe aérienne", ". Le 2 janvier 2024 (Kyiv), "),
])
def test_press_release_tells_each_incident_in_its_sentence(worked_case, lang: str, start: str,
                                                           next_entry: str) -> None:
    release = companion(worked_case, lang, Document.press_release)
    [chronology] = [p for p in release.paragraphs if spaced(p).startswith(start)]
    assert next_entry in spaced(chronology)
    assert spaced(chronology).count(next_entry[2:6]) >= 1
    assert chronology.endswith(".")


def test_russian_press_release_recalls_the_following_rules(worked_case) -> None:
    release = companion(worked_case, "ru", Document.press_release)
    # The articles follow in the nominative, as the intro leads to them.
    assert any(spaced(p).startswith("Министерство напоминает, что в данном случае применимы "
                                    "следующие нормы международного права: подпункт")
               for p in release.paragraphs)


# F7: an aide-mémoire has no reference number unless the ministry numbers them.
def test_aide_memoire_unnumbered_by_default(worked_case, edit_seed: Edit) -> None:
    note = context(worked_case, "en", NoteType.aide_memoire)
    assert (note.reference, note.number) == ("", "")
    assert note.meta.title == "Aide-Mémoire"
    html = render_html(worked_case, RenderOptions(note_type=NoteType.aide_memoire))
    assert "12/345/2025" not in html
    assert 'class="reference' not in html
    # The notes keep theirs.
    assert context(worked_case, "en").reference == "No. 12/345/2025"
    numbered = edit_seed(PROFILE, "  seal: seal_and_initials",
                         "  seal: seal_and_initials\n  aide_memoire_reference: true")
    note = context(load_case(numbered), "ru", NoteType.aide_memoire)
    assert spaced(note.reference) == "№ 12/345/2025"
    assert note.number == "12/345/2025"


# -- the second review (native speakers) -------------------------------------

# 1: "tələb etmək" takes its object; without it "Rusiya tərəfindən" reads as the agent.
@pytest.mark.parametrize(("note_type", "intro"), [
    (NoteType.note_verbale, "Nazirlik Rusiya tərəfindən aşağıdakıları tələb edir:"),
    (NoteType.first_person_note, "Rusiya tərəfindən aşağıdakıları tələb edirəm:"),
])
def test_azerbaijani_demands_have_an_object(worked_case, note_type: NoteType,
                                            intro: str) -> None:
    assert spaced(context(worked_case, "az", note_type).demands_intro) == intro
    points = companion(worked_case, "az", Document.talking_points)
    assert spaced(points.demands_intro) == "Rusiya tərəfindən aşağıdakıları tələb edirik:"


# 2, 3: the damage is what the incident did; date and time set off by commas.
def test_french_narrative_commas_and_damage(worked_case) -> None:
    note = context(worked_case, "fr")
    assert spaced(note.narrative).startswith(
        "Le Ministère informe l'Ambassade que, le 14 novembre 2025, vers 1 h (heure locale), "
        "au cours d'une attaque")
    assert "De ce fait, une partie du mur d'enceinte" in spaced(note.narrative)
    assert "En conséquence" not in note.narrative
    assert spaced(note.recalls[0]).startswith(
        "Le Ministère rappelle en outre que, dès avril 2022, la partie")


# 4: each French demand has its own "de", the intro none; in the press release too.
def test_french_demands_each_have_their_de(worked_case) -> None:
    note = context(worked_case, "fr")
    assert spaced(note.demands_intro) == "Le Ministère demande à la partie russe :"
    assert note.demands == ("de procéder à une enquête approfondie sur l'incident",
                            "de fournir des explications détaillées sur les circonstances de "
                            "l'incident")
    assert note.demand_clauses[0] == "procéder à une enquête approfondie sur l'incident"
    assert context(worked_case, "en").demands[0] == ("conduct a thorough investigation into "
                                                     "the incident")
    points = companion(worked_case, "fr", Document.talking_points)
    assert spaced(points.demands_intro) == "Nous demandons à la partie russe :"
    assert points.demands == note.demands


# 5: a series takes "Les"; the place in parentheses does not follow the time's.
def test_french_press_release_series_and_place(worked_case, edit_seed: Edit) -> None:
    release = companion(worked_case, "fr", Document.press_release)
    text = spaced(" ".join(release.paragraphs))
    assert "Les 8 et 18 août 2025 (région d'Odessa), des attaques" in text
    assert "Le 8 et" not in text
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "    date: 2024-01-02\n",
                     "    date: 2024-01-02\n    time: \"07:00\"\n")
    release = companion(load_case(note), "fr", Document.press_release)
    text = spaced(" ".join(release.paragraphs))
    assert "Le 2 janvier 2024 (Kyiv), à 7 h (heure locale), un missile" in text
    assert ") (" not in text


# 6: the aide-mémoire's sender speaks in its own voice.
def test_aide_memoire_voice(worked_case) -> None:
    fr = context(worked_case, "fr", NoteType.aide_memoire)
    assert spaced(fr.courtesy.opening).startswith(
        "La partie azerbaïdjanaise élève une vive protestation contre")
    assert spaced(fr.chronology_intro) == ("Cet incident n'est pas le premier. Il convient de "
                                           "rappeler en particulier les faits suivants :")
    assert spaced(fr.legal_intro) == ("La partie azerbaïdjanaise appelle l'attention de la "
                                      "partie russe sur les règles suivantes du droit "
                                      "international :")
    assert spaced(fr.position[1]).startswith("La partie azerbaïdjanaise relève par ailleurs")
    ru = context(worked_case, "ru", NoteType.aide_memoire)
    assert spaced(ru.chronology_intro) == ("Данный инцидент не является первым. "
                                           "Азербайджанская сторона напоминает, в частности, "
                                           "о следующем:")
    assert ru.recalls[0].startswith("Следует также напомнить, что")
    assert spaced(ru.legal_intro).startswith("Азербайджанская сторона обращает внимание на")


# 7: attention is drawn to the addressee's.
@pytest.mark.parametrize(("lang", "note_type", "intro"), [
    ("ru", NoteType.first_person_note, "Обращаю Ваше внимание на следующие нормы"),
    ("ru", NoteType.note_verbale, "Министерство обращает внимание Посольства на следующие"),
    ("fr", NoteType.note_verbale, "Le Ministère appelle l'attention de l'Ambassade sur les"),
    ("en", NoteType.note_verbale, "The Ministry draws the attention of the Embassy to the"),
    ("en", NoteType.first_person_note, "I would draw your attention to the following"),
    ("az", NoteType.note_verbale, "Nazirlik Səfirliyin diqqətini beynəlxalq hüququn"),
    ("az", NoteType.first_person_note, "Diqqətinizi beynəlxalq hüququn aşağıdakı"),
])
def test_attention_is_drawn_to_the_addressee_s(worked_case, lang: str, note_type: NoteType,
                                               intro: str) -> None:
    assert spaced(context(worked_case, lang, note_type).legal_intro).startswith(intro)


# 8: no repeated formula.
def test_no_repeated_formula(worked_case) -> None:
    assert spaced(context(worked_case, "fr").position[1]).startswith(
        "Le Ministère relève par ailleurs que")
    for lang, more in (("ru", "Отмечаем также, что"), ("fr", "Nous considérons en outre que"),
                       ("az", "Qeyd edirik ki,")):
        points = companion(worked_case, lang, Document.talking_points)
        assert spaced(points.position[1]).startswith(more), lang
    points = companion(worked_case, "ru", Document.talking_points)
    assert spaced(points.handover).endswith("в которой изложена позиция Азербайджанской "
                                            "стороны.")
    release = companion(worked_case, "fr", Document.press_release)
    assert "le Ministère des Affaires étrangères de la République d'Azerbaïdjan a élevé une " \
        "vive protestation" in spaced(release.paragraphs[0])


# 9: an unofficial translation, not a "courtesy" one, in Azerbaijani.
def test_azerbaijani_translation_is_unofficial() -> None:
    az = load_catalogue("az", builtin())
    assert az is not None
    assert az.phrase("enclosure.translation", language="fransız") == (
        "Əlavə: fransız dilinə qeyri-rəsmi tərcümə")


# 10-15: the records' own words.
def test_seed_wording(worked_case) -> None:
    assert "in the night of 13 to 14 November 2025" in spaced(context(worked_case, "en").protest)
    assert "dans la nuit du 13 au 14 novembre 2025" in spaced(context(worked_case, "fr").protest)
    az = context(worked_case, "az")
    assert "13 noyabrı 14 noyabra birləşdirən gecə" in spaced(az.protest)
    assert "kombinə olunmuş hücum" in spaced(az.narrative)
    assert "Azərbaycan Respublikasının Dövlət Neft Şirkətinin (SOCAR)" in spaced(
        az.chronology[2].entry)
    ru = context(worked_case, "ru")
    assert "В результате был выведен из строя служебный автомобиль Почётного консульства." \
        in spaced(ru.chronology[0].entry)
    assert "по нефтебазе Государственной нефтяной компании Азербайджанской Республики " \
        "(SOCAR)" in spaced(ru.chronology[2].entry)
    assert "консульский отдел Посольства" in spaced(ru.narrative)
    fr = context(worked_case, "fr")
    assert "est tombé sans exploser à environ 35 pas" in spaced(fr.chronology[1].entry)
    assert "d'autres constructions" in spaced(fr.narrative)
    block = context(worked_case, "ru", NoteType.first_person_note).addressee_block
    assert block[1] == ("Чрезвычайному и Полномочному Послу Российской Федерации в "
                        "Азербайджанской Республике")


def test_quito_assault_is_no_damage() -> None:
    case = load_case(SECOND)
    ru = context(case, "ru")
    assert "В результате" not in ru.narrative
    assert "при этом был подвергнут насилию член дипломатического персонала Посольства, " \
        "пытавшийся воспрепятствовать вторжению" in spaced(ru.narrative)
    assert "представителей властей государства пребывания" in spaced(ru.position[0])
    az = context(case, "az")
    assert "hakimiyyət orqanlarının nümayəndələrinin" in spaced(az.position[0])
    assert "zorla saxlayıb aparmışlar" in spaced(az.narrative)
