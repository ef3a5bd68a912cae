"""Issue 16, the rules of agreement and voice: persons have a gender that
salutations, titles and participles agree with; a reply names whose note it
answers, in the voice of its note type; every document keeps one voice and
tense; every form and gender the records lack is reported at once.

The expected texts are written from the rules (and the review of the worked
case), not copied from a render. Spaces are compared as spaces: which kind
of space a date or a number takes is typography's business, not these rules'.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notegen import Document, RecordError, RenderOptions, load_case, prepare
from notegen.records.models import NoteType
from notegen.template_folders import builtin
from notegen.wording.catalogue import load_catalogue

from .conftest import CATALOGUE, ROOT, Edit, line_of

PROFILE = "../profiles/az-mfa.yaml"
SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"
SALUTATION = ("      salutation:\n        en: Excellency\n        ru: господин Посол\n"
              "        az: cənab Səfir\n        fr: Monsieur l'Ambassadeur\n")
REPLY = "  in_reply_to: {reference: 45/2026, date: 2025-09-02%s}\n"


def spaced(text: str) -> str:
    """``text`` with every run of spaces (no-break ones too) one space."""
    return " ".join(text.split())


def prepared(note: Path, lang: str, note_type: NoteType | None = None,
             document: Document = Document.note):
    return prepare(load_case(note), RenderOptions(lang=lang, note_type=note_type,
                                                  document=document))


def problems_of(note: Path, lang: str, note_type: NoteType | None = None,
                document: Document = Document.note):
    with pytest.raises(RecordError) as info:
        prepared(note, lang, note_type, document)
    return info.value.problems


def reply_to(edit_seed: Edit, of_type: str = "") -> Path:
    return edit_seed("note.yaml", "  date: 2025-11-14\n  sender:", "  date: 2025-11-14\n"
                     + REPLY % (f", type: {of_type}" if of_type else "") + "  sender:")


# --- persons have a gender --------------------------------------------------

# The records give no salutation: the catalogue's, which agrees with her.
@pytest.mark.parametrize(("lang", "salutation", "closing"), [
    ("en", "Excellency,", "Accept, Excellency, the assurances of my highest consideration."),
    ("ru", "Уважаемая госпожа Посол!", "Прошу Вас, госпожа Посол, принять уверения в моём "
           "весьма высоком уважении."),
    ("az", "Hörmətli xanım Səfir,", "Fürsətdən istifadə edərək, Sizi, xanım Səfir, dərin "
           "ehtiramımdan bir daha əmin edirəm."),
    ("fr", "Madame l'Ambassadrice,", "Je vous prie d'agréer, Madame l'Ambassadrice, les "
           "assurances de ma très haute considération."),
])
def test_a_female_ambassador_is_greeted_as_one(edit_seed: Edit, lang: str, salutation: str,
                                               closing: str) -> None:
    edit_seed(f"{CATALOGUE}/parties.yaml", SALUTATION, "")
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "      gender: male", "      gender: female")
    courtesy = prepared(note, lang, NoteType.first_person_note).context.courtesy
    assert courtesy.salutation == salutation
    assert spaced(courtesy.closing) == closing


@pytest.mark.parametrize(("lang", "salutation"), [
    ("ru", "Уважаемый господин Посол!"), ("az", "Hörmətli cənab Səfir,"),
    ("fr", "Monsieur l'Ambassadeur,")])
def test_a_male_ambassador_without_a_salutation_on_record(edit_seed: Edit, lang: str,
                                                          salutation: str) -> None:
    note = edit_seed(f"{CATALOGUE}/parties.yaml", SALUTATION, "")
    assert prepared(note, lang, NoteType.first_person_note).context.courtesy.salutation \
        == salutation


def test_the_french_talking_points_agree_with_the_ambassador(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "      gender: male", "      gender: female")
    points = prepared(note, "fr", document=Document.talking_points).companion
    assert points.heading[0][0] == "Interlocutrice"
    assert points.opening.startswith("Nous vous avons convoquée aujourd'hui afin d'élever")
    male = prepare(load_case(ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"),
                   RenderOptions(lang="fr", document=Document.talking_points)).companion
    assert male.heading[0][0] == "Interlocuteur"
    assert male.opening.startswith("Nous vous avons convoqué aujourd'hui afin d'élever")


def test_a_gender_a_language_needs_is_asked_for_where_the_person_is(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "      gender: male\n", "")
    # English agrees with nothing: no gender needed.
    prepared(note, "en", NoteType.first_person_note)
    [problem] = problems_of(note, "ru", NoteType.first_person_note)
    assert "agrees with the gender of 'Михаилу Евдокимову': give it gender: female or male" \
        in problem.message
    assert problem.location.field == "parties[0].head"
    assert problem.location.line == line_of(note.parent / CATALOGUE / "parties.yaml", "    head:")


def test_a_sender_s_grammatical_gender_makes_the_russian_past_agree(edit_seed: Edit) -> None:
    lead = ("В ноте, переданной сегодня Посольству Российской Федерации в Азербайджанской "
            "Республике, Министерство иностранных дел Азербайджанской Республики {} "
            "необходимым заявить решительный протест")
    worked = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"
    release = prepared(worked, "ru", document=Document.press_release).companion
    assert spaced(release.paragraphs[0]).startswith(lead.format("сочло"))
    note = edit_seed(PROFILE, "gender: {ru: neuter,", "gender: {ru: feminine,")
    release = prepared(note, "ru", document=Document.press_release).companion
    assert spaced(release.paragraphs[0]).startswith(lead.format("сочла"))
    edit_seed(PROFILE, "  gender: {ru: feminine, fr: masculine}\n", "")
    [problem] = problems_of(note, "ru", document=Document.press_release)
    assert problem.message.endswith("agrees with the gender of 'Министерство иностранных дел "
                                    "Азербайджанской Республики': give it its grammatical "
                                    "gender: gender: {ru: masculine, feminine or neuter}")
    assert problem.location.field == "profile"


def test_a_choice_by_gender_is_a_rule_any_catalogue_can_use(tmp_path: Path) -> None:
    from notegen.wording.catalogue import Name

    english = load_catalogue("en", builtin())
    assert english is not None
    choosing = english.with_phrases({"seal.seal": "{who:masculine=his|feminine=her} "
                                                  "[({who}) ]seal[ of {office}]"})
    her = Name("Ms Alvarez", gender="feminine")
    assert choosing.phrase("seal.seal", who=her, office="") == "her (Ms Alvarez) seal"
    assert choosing.phrase("seal.seal", who=Name("Mr Ng", gender="masculine"),
                           office="the Minister") == "his (Mr Ng) seal of the Minister"


# --- a reply names whose note it answers -----------------------------------

@pytest.mark.parametrize(("lang", "note_type", "expected"), [
    ("en", NoteType.note_verbale, "The Ministry of Foreign Affairs of the Republic of "
     "Azerbaijan presents its compliments to the Embassy of the Russian Federation in the "
     "Republic of Azerbaijan and, with reference to the Embassy's Note No. 45/2026 of "
     "2 September 2025, has the honour to lodge a strong protest"),
    ("ru", NoteType.note_verbale, "свидетельствует своё уважение Посольству Российской "
     "Федерации в Азербайджанской Республике и, ссылаясь на ноту Посольства № 45/2026 от "
     "2 сентября 2025 года, имеет честь заявить решительный протест"),
    # The Ministry's own house opening, kept in a reply, and "saylı" without "№".
    ("az", NoteType.note_verbale, "Səfirliyinə öz dərin ehtiramını bildirir və Səfirliyin "
     "2 sentyabr 2025-ci il tarixli 45/2026 saylı notasına istinadən, Rusiya Federasiyasının"),
    ("fr", NoteType.note_verbale, "présente ses compliments à l'Ambassade de la Fédération de "
     "Russie en République d'Azerbaïdjan et, se référant à la note de l'Ambassade n° 45/2026 "
     "du 2 septembre 2025, a l'honneur d'élever"),
    # A first-person note answering the Embassy's note verbale.
    ("en", NoteType.first_person_note, "I have the honour to refer to the Embassy's Note "
     "No. 45/2026 of 2 September 2025 and to lodge a strong protest"),
    ("ru", NoteType.first_person_note, "Ссылаясь на ноту Посольства № 45/2026 от 2 сентября "
     "2025 года, имею честь заявить"),
    ("fr", NoteType.first_person_note, "Me référant à la note de l'Ambassade n° 45/2026 du "
     "2 septembre 2025, j'ai l'honneur d'élever"),
    ("en", NoteType.aide_memoire, "With reference to the Embassy's Note No. 45/2026 of "
     "2 September 2025, the Azerbaijani side wishes to lodge"),
])
def test_a_reply_names_the_embassy_s_note(edit_seed: Edit, lang: str, note_type: NoteType,
                                          expected: str) -> None:
    note = reply_to(edit_seed)
    opening = spaced(prepared(note, lang, note_type).context.courtesy.opening)
    assert expected.replace("N°", "n°") in opening.replace("N°", "n°")


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "I have the honour to refer to Your Excellency's Note No. 45/2026 of 2 September "
           "2025 and to lodge a strong protest"),
    ("ru", "Ссылаясь на Вашу ноту № 45/2026 от 2 сентября 2025 года, имею честь заявить"),
    ("az", "Zati-alinizin 2 sentyabr 2025-ci il tarixli 45/2026 saylı notasına istinadən, "
           "Rusiya Federasiyasının"),
    ("fr", "Me référant à la note de Votre Excellence n° 45/2026 du 2 septembre 2025, j'ai "
           "l'honneur d'élever"),
])
def test_a_first_person_reply_to_the_ambassador_s_own_note(edit_seed: Edit, lang: str,
                                                           expected: str) -> None:
    note = reply_to(edit_seed, "first_person_note")
    opening = spaced(prepared(note, lang, NoteType.first_person_note).context.courtesy.opening)
    assert opening.replace("N°", "n°").startswith(expected)


def test_a_note_that_is_no_reply_names_no_note(worked_case) -> None:
    for lang in ("en", "ru", "az", "fr"):
        for note_type in NoteType:
            context = prepare(worked_case, RenderOptions(lang=lang, note_type=note_type)).context
            assert context.courtesy.reply == ""
            assert "[" not in context.courtesy.opening
            assert ", ," not in context.courtesy.opening


def test_a_house_opening_without_the_reply_says_why_in_a_reply(edit_seed: Edit) -> None:
    edit_seed(PROFILE, "və [{reply}, ]{protest}", "və {protest}")
    note = reply_to(edit_seed)
    [problem] = problems_of(note, "az")
    assert problem.message.startswith("the note is a reply, but its opening formula does not "
                                      "name the note it answers: put [{reply}] in it")
    assert problem.location.field == "profile.formulae.az.note_verbale.opening"
    # Not a reply: the same house formula is right.
    edit_seed("note.yaml", REPLY % "", "")
    assert "öz dərin ehtiramını" in prepared(note, "az").context.courtesy.opening


def test_the_author_s_form_a_reply_needs_is_asked_for(edit_seed: Edit) -> None:
    edit_seed(f"{CATALOGUE}/parties.yaml", "        short_name.gen: Səfirliyin\n", "")
    note = reply_to(edit_seed)
    [problem] = problems_of(note, "az")
    assert "needs the 'gen' form of 'Səfirlik': add it as forms: {az: {short_name.gen: …}}" \
        in problem.message


# --- one voice and tense per document --------------------------------------

@pytest.mark.parametrize(("lang", "intro"), [
    ("en", "The Azerbaijani side requests the Russian side to:"),
    # French: each demand has its own "de" (demand.item), the intro none.
    ("fr", "La partie azerbaïdjanaise demande à la partie russe :"),
    ("ru", "Азербайджанская сторона призывает Российскую сторону:"),
    # Active: "Rusiya tərəfindən tələb olunur" would be "is demanded BY the Russian side".
    ("az", "Azərbaycan tərəfi Rusiya tərəfindən aşağıdakıları tələb edir:"),
])
def test_the_aide_memoire_demands_are_made_by_the_sender(worked_case, lang: str,
                                                         intro: str) -> None:
    context = prepare(worked_case, RenderOptions(lang=lang,
                                                 note_type=NoteType.aide_memoire)).context
    assert spaced(context.demands_intro) == intro


SINGULAR = {"en": {"i", "me", "my", "mine", "myself"},
            "fr": {"je", "j'", "me", "m'", "moi", "mon", "ma", "mes"},
            "ru": {"я", "меня", "мне", "мной", "мой", "моя", "моё", "мои", "моего", "моей"},
            "az": {"mən", "məni", "mənim", "mənə"}}
PLURAL = {"en": {"we", "us", "our", "ours"}, "fr": {"nous", "notre", "nos"},
          "ru": {"мы", "нас", "нам", "наш", "наша", "наше", "наши", "нашу"},
          "az": {"biz", "bizi", "bizim", "bizə"}}


@pytest.mark.parametrize("lang", ["en", "fr", "ru", "az"])
def test_the_talking_points_keep_to_one_person(lang: str) -> None:
    import re

    catalogue = load_catalogue(lang, builtin())
    assert catalogue is not None
    words = {word.lower() for key, text in catalogue.phrases.items()
             if key.startswith("talking_points.")
             for word in re.findall(r"\w+'?", text.replace("’", "'"))}
    assert not (words & SINGULAR[lang] and words & PLURAL[lang]), (
        words & SINGULAR[lang], words & PLURAL[lang])


@pytest.mark.parametrize(("lang", "label", "counterpart"), [
    # The title names the State of accreditation.
    ("en", "Counterpart", "His Excellency Mr Mikhail Yevdokimov, Ambassador Extraordinary and "
                          "Plenipotentiary of the Russian Federation to the Republic of "
                          "Azerbaijan"),
    ("ru", "Собеседник", "Чрезвычайный и Полномочный Посол Российской Федерации в "
                         "Азербайджанской Республике Михаил Евдокимов"),
    ("az", "Həmsöhbət", "Rusiya Federasiyasının Azərbaycan Respublikasındakı Fövqəladə və "
                        "Səlahiyyətli Səfiri Mixail Yevdokimov"),
    ("fr", "Interlocuteur", "Son Excellence Monsieur Mikhaïl Evdokimov, Ambassadeur "
                            "extraordinaire et plénipotentiaire de la Fédération de Russie "
                            "en République d'Azerbaïdjan"),
])
def test_the_counterpart_of_a_summons_is_the_ambassador(worked_case, lang: str, label: str,
                                                        counterpart: str) -> None:
    points = prepare(worked_case, RenderOptions(
        lang=lang, document=Document.talking_points)).companion
    assert points.heading[0] == (label, counterpart)


def test_talking_points_need_the_ambassador_on_record() -> None:
    with pytest.raises(RecordError) as info:
        prepare(load_case(SECOND), RenderOptions(document=Document.talking_points))
    [problem] = info.value.problems
    assert problem.message == ("the talking points name the ambassador received as the "
                               "counterpart: give the addressee a 'head'")
    assert problem.location.field == "parties[0]"


def test_the_english_talking_points_speak_as_we(worked_case) -> None:
    points = prepare(worked_case, RenderOptions(document=Document.talking_points)).companion
    assert points.opening.startswith("We have asked you to come today to lodge")
    assert points.demands_intro == "We expect the Russian side to:"
    assert spaced(points.handover) == ("We are handing you our note No. 12/345/2025 of "
                                       "14 November 2025, which sets out the position of "
                                       "the Azerbaijani side.")


# --- everything the records lack, at once ----------------------------------

def test_every_missing_form_is_reported_at_once(edit_seed: Edit) -> None:
    edit_seed(f"{CATALOGUE}/parties.yaml", "        short_name.gen: Посольства\n", "")
    edit_seed(f"{CATALOGUE}/parties.yaml", "        short_name.dat: Посольству\n", "")
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "      ru: {side.acc: Российскую сторону, ",
                     "      ru: {")
    found = problems_of(note, "ru")
    messages = sorted(problem.message.split(": add it as ")[1] for problem in found)
    assert messages == ["forms: {ru: {short_name.dat: …}}", "forms: {ru: {short_name.gen: …}}",
                        "forms: {ru: {side.acc: …}}"]


def test_a_missing_form_and_a_missing_gender_together(edit_seed: Edit) -> None:
    edit_seed(f"{CATALOGUE}/parties.yaml", "      ru: {side.acc: Российскую сторону, ",
              "      ru: {")
    note = edit_seed(f"{CATALOGUE}/parties.yaml", "      gender: male\n", "")
    found = problems_of(note, "ru", NoteType.first_person_note)
    assert len(found) == 2
    assert {problem.location.field for problem in found} == {"states[1].forms",
                                                             "parties[0].head"}


def test_a_plain_text_is_in_the_note_s_language(seed_copy: Path) -> None:
    note = seed_copy / "note.yaml"
    text = note.read_text(encoding="utf-8")
    start, end = text.index("  protest:\n"), text.index("  recalls:\n")
    note.write_text(text[:start] + "  protest: protest in the strongest terms\n" + text[end:],
                    encoding="utf-8")
    # In English, the note's language, the plain protest is right.
    assert prepared(note, "en").context.courtesy.opening.endswith(
        "has the honour to protest in the strongest terms.")
    # In French it would read "… et a l'honneur protest in the strongest terms".
    [problem] = problems_of(note, "fr")
    assert problem.message == ("this text is given once, so it is in 'en' (the note's "
                               "language), but the note is rendered in 'fr': give it per "
                               "language, {en: …, fr: …}")
    assert problem.location.field == "note.protest"
    assert problem.location.line == line_of(note, "  protest: protest in")
