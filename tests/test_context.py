from __future__ import annotations

import pytest

from notegen import RecordError, RenderOptions, load_case
from notegen.templating import prepare

from .conftest import Edit, line_of


def test_chronology_is_sorted_by_date_and_numbered(worked_case) -> None:
    context, _ = prepare(worked_case)
    assert [(i.number, i.date.iso) for i in context.chronology] == [
        (1, "2022-03-10"), (2, "2024-01-02"), (3, "2025-08-08"), (4, "2025-08-28")]
    # The note lists them out of order; the context does not.
    assert worked_case.note.earlier[2] == "kyiv-2025-08-28"


def test_dates_are_written_in_words(worked_case) -> None:
    context, _ = prepare(worked_case)
    assert context.date.words == "14 November 2025"
    assert str(context.date) == "14 November 2025"
    assert context.chronology[0].date.words == "10 March 2022"
    assert context.chronology[2].dates_words == "8 August 2025 and 18 August 2025"
    assert context.subject.time_words == "at about 01:00 local time"


def test_courtesy_formulae_name_sender_and_addressee(worked_case) -> None:
    context, _ = prepare(worked_case)
    assert context.courtesy.opening == (
        "The Ministry of Foreign Affairs of the Republic of Azerbaijan presents its compliments "
        "to the Embassy of the Russian Federation in the Republic of Azerbaijan and has the "
        "honour to")
    assert context.courtesy.closing == (
        "The Ministry avails itself of this opportunity to renew to the Embassy the assurances "
        "of its highest consideration.")


def test_demands_damage_and_casualties(worked_case) -> None:
    context, _ = prepare(worked_case)
    assert context.demands == ("conduct a proper investigation into the incident",
                               "provide a detailed explanation of its circumstances")
    assert context.subject.damage_sentence.startswith(
        "As a result, a section of the perimeter wall was destroyed and the administrative")
    assert context.subject.casualties == "There were no casualties."
    assert context.chronology[0].casualties == ""  # not reported: nothing said


def test_place_and_metadata(worked_case) -> None:
    context, _ = prepare(worked_case)
    assert context.place == "Baku"
    assert context.reference == "No. 12/345/2025"
    assert not context.draft
    assert context.meta.title == "Note Verbale No. 12/345/2025"
    assert context.meta.author == "The Ministry of Foreign Affairs of the Republic of Azerbaijan"
    assert context.meta.created == "2025-11-14"


def test_a_draft_has_a_blank_reference(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "  reference: No. 12/345/2025\n", "")
    context, _ = prepare(load_case(note))
    assert context.draft
    assert context.reference == "No. ________"


def test_casualty_counts(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "killed: 0\n      injured: 0", "killed: 1\n      injured: 3")
    context, _ = prepare(load_case(note))
    assert context.subject.casualties == "Casualties: 1 killed and 3 injured."


def test_text_missing_in_the_note_language_is_located(edit_seed: Edit) -> None:
    note = edit_seed("incidents.yaml", "place: Kharkiv\n", "place: {ru: Харьков}\n")
    with pytest.raises(RecordError) as info:
        prepare(load_case(note))
    [problem] = info.value.problems
    assert problem.message == "no en text (given: ru)"
    assert problem.location.field == "incidents[0].place"
    assert problem.location.line == line_of(note.parent / "incidents.yaml", "place: {ru:")


def test_text_is_picked_in_the_note_language(edit_seed: Edit) -> None:
    note = edit_seed("incidents.yaml", "place: Kharkiv\n", "place: {ru: Харьков, en: Kharkiv}\n")
    context, _ = prepare(load_case(note))
    assert context.chronology[0].place == "Kharkiv"


def test_a_language_without_catalogue_is_located(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "language: en", "language: xx")
    with pytest.raises(RecordError) as info:
        prepare(load_case(note))
    [problem] = info.value.problems
    assert problem.message.startswith("no phrase catalogue for language 'xx'; available: en")
    assert problem.location.field == "note.language"


def test_the_language_can_be_chosen_per_render(worked_case) -> None:
    with pytest.raises(RecordError, match="no phrase catalogue for language 'zz'"):
        prepare(worked_case, RenderOptions(lang="zz"))
