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

from .conftest import Edit

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
    assert any(spaced(p).startswith("Министерство напоминает в этой связи о следующих нормах "
                                    "международного права: ") for p in release.paragraphs)


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
