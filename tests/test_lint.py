from __future__ import annotations

import pytest

from notegen import RecordError, RenderOptions, load_case, prepare
from notegen.records.models import NoteType

from .conftest import CATALOGUE, Edit, line_of

PROFILE = "../profiles/az-mfa.yaml"


def problems(note, lang: str | None = None, note_type: NoteType | None = None):
    with pytest.raises(RecordError) as info:
        prepare(load_case(note), RenderOptions(lang=lang, note_type=note_type))
    return info.value.problems


def test_first_person_words_in_a_note_verbale_are_located(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "      lodge a strong protest against",
                     "      lodge our strong protest, as we must, against")
    [problem] = problems(note)
    assert problem.message == ("'our', 'we' speaks in the first person, but a note verbale is "
                               "written in the third person: name the sender instead "
                               "(\"the Ministry\")")
    assert problem.location.field == "note.protest.en"
    assert problem.location.line == line_of(note, "lodge our strong protest") - 1  # en: >-
    # The same words are right in a first-person note.
    prepared = prepare(load_case(note), RenderOptions(note_type=NoteType.first_person_note))
    assert "lodge our strong protest, as we must, against" in prepared.context.courtesy.opening
    assert not prepared.warnings


def test_first_person_words_in_russian_and_in_an_incident(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "авиаудар нанёс", "наш авиаудар нанёс")
    [problem] = problems(note, "ru", NoteType.aide_memoire)
    assert problem.message.startswith("'наш' speaks in the first person, but an aide-mémoire "
                                      "is written impersonally")
    assert problem.location.field == "incidents[0].account.ru"


def test_protocol_one_and_the_us_are_not_pronouns(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "      lodge a strong protest against",
                     "      lodge, under Protocol I and as the US did, a strong protest against")
    prepared = prepare(load_case(note))
    assert "under Protocol I and as the US did" in prepared.context.courtesy.opening


def test_an_empty_closing_formula_needs_the_profile_to_disable_it(edit_seed: Edit) -> None:
    note = edit_seed(PROFILE, "  formulae:\n    az:", "  formulae:\n    en:\n"
                     "      note_verbale.closing: ''\n    az:")
    [problem] = problems(note)
    assert problem.message.startswith("the closing formula is empty; if the ministry omits it")
    assert problem.location.field == "profile.formulae.en.note_verbale.closing"
    edit_seed(PROFILE, "  seal: seal_and_initials", "  seal: seal_and_initials\n"
              "  courtesy: {closing: false}")
    context = prepare(load_case(note)).context
    assert context.courtesy.closing == ""


def test_a_house_opening_that_writes_out_a_different_name(edit_seed: Edit) -> None:
    note = edit_seed(PROFILE, "  formulae:\n    az:", "  formulae:\n    en:\n"
                     "      note_verbale.opening: The Ministry of Foreign Affairs of Azerbaijan "
                     "presents its compliments to {addressee} and has the honour to "
                     "{protest}.\n    az:")
    [problem] = problems(note)
    assert problem.message.startswith(
        "the opening formula does not name the sender as 'the Ministry of Foreign Affairs of "
        "the Republic of Azerbaijan', as the letterhead and addressee block do")
    assert problem.location.field == "profile.formulae.en.note_verbale.opening"


def test_a_house_formula_with_an_unknown_key(edit_seed: Edit) -> None:
    note = edit_seed(PROFILE, "      note_verbale.opening:", "      note_verbale.openin:")
    [problem] = problems(note, "az")
    assert problem.message.startswith("'note_verbale.openin' is not a phrase of the "
                                      "Azerbaijani catalogue")
    assert problem.location.line == line_of(note.parent.parent / "profiles" / "az-mfa.yaml",
                                            "note_verbale.openin:")


def test_a_letterhead_naming_another_ministry(edit_seed: Edit) -> None:
    note = edit_seed(PROFILE, "    - en: of the Republic of Azerbaijan",
                     "    - en: of Georgia")
    [problem] = problems(note)
    assert problem.message.startswith("the letterhead reads 'Ministry of Foreign Affairs / of "
                                      "Georgia', which lacks 'republic', 'azerbaijan'")
    assert problem.location.field == "profile.letterhead"


def test_a_character_the_fonts_cannot_draw_is_found_before_rendering(
        edit_seed: Edit, runner) -> None:
    """Not at render time, without a place: at validation, at the text."""
    from notegen.cli import cli

    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "an air strike seriously damaged",
                     "an air strike (空袭 ☃) seriously damaged")
    result = runner.invoke(cli, ["validate", str(note)])
    assert result.exit_code == 1
    incidents = note.parent / CATALOGUE / "incidents.yaml"
    line = line_of(incidents, "空袭") - 1  # en: >-
    assert (f"{incidents}:{line}:7: incidents[0].account.en: the templates' fonts cannot "
            "draw '空' (U+7A7A CJK UNIFIED IDEOGRAPH-7A7A), '袭' (U+88AD CJK UNIFIED "
            "IDEOGRAPH-88AD), '☃' (U+2603 SNOWMAN)") in result.stderr, result.stderr
    # Only the note's language counts: the Russian note does not print the English text.
    assert runner.invoke(cli, ["validate", str(note), "--lang", "ru"]).exit_code == 0


def test_a_unit_is_no_pronoun_but_an_elision_is(edit_seed: Edit) -> None:
    """French "m'" and "j'" are pronouns only with their apostrophe: "200 m" is metres."""
    note = edit_seed("note.yaml", "      une vive protestation contre l'attaque",
                     "      une vive protestation contre la frappe tombée à 200 m "
                     "et à 3 km de l'enceinte, et contre l'attaque")
    context = prepare(load_case(note), RenderOptions(lang="fr")).context
    assert "tombée à 200 m et à 3 km de l'enceinte" in " ".join(context.courtesy.opening.split())
    for elided in ("j'estime", "m'apparaît", "j’estime"):
        edit_seed("note.yaml", "contre la frappe", f"contre la frappe ({elided})")
        [problem] = problems(note, "fr")
        assert problem.message.startswith(f"'{elided[:2].replace('’', chr(39))}' speaks in "
                                          "the first person, but a note verbale")
        assert problem.location.field == "note.protest.fr"
        edit_seed("note.yaml", f"contre la frappe ({elided})", "contre la frappe")


def test_an_english_contraction_still_speaks_in_the_first_person(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "      lodge a strong protest against",
                     "      lodge, as we'll always do, a strong protest against")
    [problem] = problems(note)
    assert problem.message.startswith("'we' speaks in the first person")
