from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from notegen import RecordError, RenderOptions, load_case, prepare
from notegen.records.models import NoteType
from notegen.template_folders import builtin
from notegen.wording.catalogue import NBSP, load_catalogue

from .conftest import CATALOGUE, EARLIER_LIST, EARLIER_RULE, ROOT, Edit, line_of

SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"


def context(case, lang: str | None = None, note_type: NoteType | None = None):
    return prepare(case, RenderOptions(lang=lang, note_type=note_type)).context


def test_chronology_is_sorted_by_date_and_numbered(worked_case, edit_seed: Edit) -> None:
    expected = [(1, "2022-03-10"), (2, "2024-01-02"), (3, "2025-08-08"), (4, "2025-08-28")]
    assert [(i.number, i.date.iso) for i in context(worked_case).chronology] == expected
    # A list written out of order (the worked case's before its rule); the context is not.
    listed = load_case(edit_seed("note.yaml", EARLIER_RULE, EARLIER_LIST))
    assert listed.note.earlier[2] == "kyiv-2025-08-28"
    assert [(i.number, i.date.iso) for i in context(listed).chronology] == expected


# "_" stands for the no-break space that holds the day to its month and the
# year to its word; a line may break between month and year only. A series
# shares its month and year (T11).
@pytest.mark.parametrize(("lang", "words", "series"), [
    ("en", "14_November 2025", "8 and 18_August 2025"),
    ("ru", "14_ноября 2025_года", "8 и 18_августа 2025_года"),
    ("az", "14_noyabr 2025-ci_il", "8 və 18_avqust 2025-ci_il"),
    ("fr", "14_novembre 2025", "8 et 18_août 2025"),
])
def test_dates_are_written_as_each_language_writes_them(worked_case, lang: str, words: str,
                                                         series: str) -> None:
    note = context(worked_case, lang)
    assert note.date.words == words.replace("_", NBSP)
    assert str(note.date) == note.date.words
    assert note.chronology[2].dates_words == series.replace("_", NBSP)


@pytest.mark.parametrize(("year", "suffix"), [
    (2022, "2022-ci"), (2023, "2023-cü"), (2024, "2024-cü"), (2025, "2025-ci"),
    (2026, "2026-cı"), (2029, "2029-cu"), (2030, "2030-cu"), (2040, "2040-cı"),
    (2100, "2100-cü"), (1961, "1961-ci")])
def test_azerbaijani_year_suffix_follows_vowel_harmony(year: int, suffix: str) -> None:
    catalogue = load_catalogue("az", builtin())
    assert catalogue is not None
    assert catalogue.date(dt.date(year, 1, 2)) == f"2{NBSP}yanvar {suffix}{NBSP}il"


def test_time_is_worded_and_separated(worked_case) -> None:
    assert context(worked_case).subject.time_words == "at about 01:00 local time"
    assert context(worked_case, "ru").subject.time_words == "около 01:00 по местному времени"


@pytest.mark.parametrize(("lang", "opening", "closing"), [
    ("en", "The Ministry of Foreign Affairs of the Republic of Azerbaijan presents its "
           "compliments to the Embassy of the Russian Federation in the Republic of Azerbaijan "
           "and has the honour to lodge a strong protest against",
     "The Ministry avails itself of this opportunity to renew to the Embassy the assurances "
     "of its highest consideration."),
    ("ru", "Министерство иностранных дел Азербайджанской Республики свидетельствует своё "
           "уважение Посольству Российской Федерации в Азербайджанской Республике и имеет "
           "честь заявить решительный протест",
     "Министерство пользуется случаем, чтобы возобновить Посольству уверения в своём весьма "
     "высоком уважении."),
    # The Azerbaijani opening is the Ministry's house formula, from its profile.
    ("az", "Azərbaycan Respublikasının Xarici İşlər Nazirliyi Rusiya Federasiyasının "
           "Azərbaycan Respublikasındakı Səfirliyinə öz dərin ehtiramını bildirir və Rusiya",
     "Nazirlik bu fürsətdən istifadə edərək Səfirliyi öz dərin ehtiramından bir daha əmin "
     "edir."),
    ("fr", "Le Ministère des Affaires étrangères de la République d'Azerbaïdjan présente ses "
           "compliments à l'Ambassade de la Fédération de Russie en République "
           "d'Azerbaïdjan et a l'honneur d'élever une vive protestation",
     "Le Ministère saisit cette occasion pour renouveler à l'Ambassade les assurances de sa "
     "très haute considération."),
])
def test_note_verbale_formulae_in_each_language(worked_case, lang: str, opening: str,
                                                closing: str) -> None:
    note = context(worked_case, lang)
    assert note.courtesy.opening.startswith(opening)
    assert note.courtesy.opening.endswith(".")
    assert note.courtesy.closing == closing
    assert note.courtesy.salutation == ""


def test_first_person_note_is_signed_and_addressed_to_a_person(worked_case) -> None:
    note = context(worked_case, note_type=NoteType.first_person_note)
    assert note.voice == "first"
    assert note.courtesy.salutation == "Excellency,"
    assert note.courtesy.opening.startswith("I have the honour to lodge a strong protest")
    assert note.courtesy.closing == ("Accept, Excellency, the assurances of my highest "
                                     "consideration.")
    assert note.signatory is not None
    assert (note.signatory.name, note.signatory.title) == (
        "Jeyhun Bayramov", "Minister of Foreign Affairs of the Republic of Azerbaijan")
    assert note.addressee_block[:2] == (
        "His Excellency Mr Mikhail Yevdokimov",
        "Ambassador Extraordinary and Plenipotentiary of the Russian Federation to the "
        "Republic of Azerbaijan")
    assert note.seal == ""
    ru = context(worked_case, "ru", NoteType.first_person_note)
    assert ru.courtesy.salutation == "Уважаемый господин Посол!"
    assert ru.courtesy.closing == ("Прошу Вас, господин Посол, принять уверения в моём весьма "
                                   "высоком уважении.")


def test_aide_memoire_is_impersonal_without_courtesy_or_addressee(worked_case) -> None:
    note = context(worked_case, note_type=NoteType.aide_memoire)
    assert note.voice == "impersonal"
    assert note.title == "Aide-Mémoire"
    assert note.courtesy.opening.startswith("The Azerbaijani side wishes to lodge a strong")
    assert note.courtesy.closing == ""
    assert note.addressee_block == ()
    assert note.signatory is None
    assert note.seal == ""
    assert note.recalls[0].startswith("It should further be recalled that as early as "
                                      "April 2022")


def test_note_verbale_addressee_block_uses_the_dative_in_russian(worked_case) -> None:
    assert context(worked_case, "ru").addressee_block == (
        "Посольству Российской Федерации в Азербайджанской Республике", "г. Баку")
    assert context(worked_case).addressee_block == (
        "The Embassy of the Russian Federation in the Republic of Azerbaijan", "Baku")


# A reply names whose note it answers (the Embassy's); more in test_agreement.py.
@pytest.mark.parametrize(("note_type", "lang", "expected"), [
    (NoteType.note_verbale, "en", "presents its compliments to the Embassy of the Russian "
     "Federation in the Republic of Azerbaijan and, with reference to the Embassy's Note "
     "No. 138 of 2 September 2025, has the honour to lodge"),
    (NoteType.first_person_note, "en", "I have the honour to refer to the Embassy's Note "
     "No. 138 of 2 September 2025 and to lodge"),
    (NoteType.aide_memoire, "en", "With reference to the Embassy's Note No. 138 of "
     "2 September 2025, the Azerbaijani side wishes to lodge"),
    (NoteType.note_verbale, "ru", "и, ссылаясь на ноту Посольства № 138 от 2 сентября 2025 "
     "года, имеет честь"),
    (NoteType.note_verbale, "az", "bildirir və Səfirliyin 2 sentyabr 2025-ci il tarixli 138 "
     "saylı notasına istinadən, Rusiya"),
    (NoteType.note_verbale, "fr", "et, se référant à la note de l'Ambassade n° 138 du "
     "2 septembre 2025, a l'honneur d'élever"),
])
def test_a_reply_refers_to_the_note_it_answers(edit_seed: Edit, note_type: NoteType, lang: str,
                                               expected: str) -> None:
    note = edit_seed("note.yaml", "  date: 2025-11-14\n  sender:",
                     "  date: 2025-11-14\n  in_reply_to: {reference: '138', date: 2025-09-02}\n"
                     "  sender:")
    opening = " ".join(context(load_case(note), lang, note_type).courtesy.opening.split())
    assert expected.replace("n°", "N°") in opening.replace("n°", "N°")


def test_reference_follows_the_profile_pattern(worked_case, edit_seed: Edit) -> None:
    assert context(worked_case).reference == "No. 12/345/2025"
    assert context(worked_case, "ru").reference == "№ 12/345/2025"
    note = edit_seed("note.yaml", "  reference: 12/345/2025\n", "")
    draft = context(load_case(note))
    assert draft.draft
    assert draft.reference == "No. 12/________/2025"
    assert draft.meta.title == "Note Verbale"


@pytest.mark.parametrize(("reference", "message"), [
    ("345/2025", "the reference '345/2025' does not follow the sender's pattern "
                 "'12/{number}/{year}'"),
    ("12/345/2024", "the reference carries the year 2024, but the note is dated 2025-11-14"),
])
def test_a_reference_against_the_pattern_is_located(edit_seed: Edit, reference: str,
                                                    message: str) -> None:
    note = edit_seed("note.yaml", "reference: 12/345/2025", f"reference: {reference}")
    with pytest.raises(RecordError) as info:
        load_case(note)
    [problem] = info.value.problems
    assert problem.message == message
    assert problem.location.line == line_of(note, f"reference: {reference}")


def test_demands_damage_and_casualties(worked_case) -> None:
    note = context(worked_case)
    assert note.demands == ("conduct a thorough investigation into the incident",
                            "provide a detailed explanation of the circumstances of the "
                            "incident")
    assert note.demands_intro == "The Ministry requests the Russian side to:"
    assert note.subject.damage_sentence.startswith(
        "As a result, a section of the perimeter wall was destroyed and the administrative")
    assert note.subject.casualties == "There were no casualties."
    assert note.chronology[0].casualties == ""  # not reported: nothing said


def test_place_and_metadata(worked_case) -> None:
    note = context(worked_case)
    assert note.place == "Baku"
    assert context(worked_case, "az").place == "Bakı"
    assert not note.draft
    assert note.meta.title == "Note Verbale No. 12/345/2025"
    assert note.meta.author == "The Ministry of Foreign Affairs of the Republic of Azerbaijan"
    assert note.meta.created == "2025-11-14"


def test_casualty_counts(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "killed: 0\n      injured: 0", "killed: 1\n      injured: 3")
    assert context(load_case(note)).subject.casualties == "Casualties: 1 killed and 3 injured."


def test_text_missing_in_the_note_language_is_located(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "place: {en: Kharkiv, ", "place: {")
    with pytest.raises(RecordError) as info:
        prepare(load_case(note))
    [problem] = info.value.problems
    assert problem.message == "no en text (given: az, fr, ru)"
    assert problem.location.field == "incidents[0].place"
    assert problem.location.line == line_of(note.parent / CATALOGUE / "incidents.yaml",
                                            "place: {ru: Х")


def test_a_missing_grammatical_form_is_located(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "        short_name.gen: Посольства\n", "")
    with pytest.raises(RecordError) as info:
        prepare(load_case(note), RenderOptions(lang="ru"))
    [problem] = info.value.problems
    assert "needs the 'gen' form of 'Посольство': add it as forms: {ru: {short_name.gen: …}}" \
        in problem.message
    assert problem.location.field == "parties[0].forms"
    assert problem.location.file is not None
    assert problem.location.file.name == "parties.yaml"


def test_a_language_without_catalogue_is_located(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "language: en", "language: xx")
    with pytest.raises(RecordError) as info:
        prepare(load_case(note))
    [problem] = info.value.problems
    assert problem.message == "no phrase catalogue for language 'xx'; available: az, en, fr, ru"
    assert problem.location.field == "note.language"


def test_the_language_can_be_chosen_per_render(worked_case) -> None:
    with pytest.raises(RecordError, match="no phrase catalogue for language 'zz'"):
        prepare(worked_case, RenderOptions(lang="zz"))


def test_a_first_person_note_needs_a_signatory_and_a_person_to_address(
        edit_seed: Edit, tmp_path: Path) -> None:
    case = load_case(SECOND)  # the Ecuadorian Embassy has no head on record
    with pytest.raises(RecordError) as info:
        prepare(case, RenderOptions(note_type=NoteType.first_person_note))
    [problem] = info.value.problems
    assert problem.message == ("a first-person note is addressed to a person: give the "
                               "addressee a 'head'")
    assert problem.location.field == "parties[0]"


def test_french_elides_que_before_a_vowel(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "        , dès avril 2022, la partie",
                     "        en avril 2022, la partie")
    assert context(load_case(note), "fr").recalls[0].startswith(
        "Le Ministère rappelle en outre qu'en avril 2022")


def test_the_second_case_renders_in_every_language_without_code() -> None:
    case = load_case(SECOND)
    expected = {"en": "The Secretariat of Foreign Affairs of the United Mexican States presents",
                "ru": "Министерство иностранных дел Мексиканских Соединённых Штатов "
                      "свидетельствует своё уважение Посольству Республики Эквадор",
                "az": "Meksika Birləşmiş Ştatlarının Xarici İşlər Nazirliyi Ekvador "
                      "Respublikasının Meksika Birləşmiş Ştatlarındakı Səfirliyinə öz hörmətini",
                "fr": "Le Secrétariat des Relations extérieures des États-Unis du Mexique "
                      "présente ses compliments à l'Ambassade de la République de l'Équateur"}
    for lang, opening in expected.items():
        note = context(case, lang)
        assert note.courtesy.opening.startswith(opening)
        assert note.draft
        assert note.chronology == ()
        assert note.chronology_intro == ""
    assert context(case).reference == "No. SRE/________/2024"


def test_the_template_authors_page_documents_the_whole_context() -> None:
    """docs/templates.md lists every field of the context with its comment;
    after changing notegen/wording/context.py, run scripts/template_docs.py."""
    import runpy

    docs = runpy.run_path(str(ROOT / "scripts" / "template_docs.py"))
    assert docs["DOC"].read_text(encoding="utf-8") == docs["document"](), \
        "docs/templates.md is out of date: run scripts/template_docs.py"
    text = docs["DOC"].read_text(encoding="utf-8")
    import dataclasses

    import notegen.wording.context as module

    for name in docs["ORDER"]:
        for field in dataclasses.fields(getattr(module, name)):
            assert f"| `{field.name}` |" in text, (name, field.name)
