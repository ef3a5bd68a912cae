from __future__ import annotations

from pathlib import Path

import pytest

from notegen import RecordError, load_case
from notegen.errors import Problem

from .conftest import FIXTURES, SEED, Edit, line_of


def only_problem(path: Path) -> Problem:
    with pytest.raises(RecordError) as info:
        load_case(path)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def test_the_worked_case_loads_across_its_files(worked_case) -> None:
    assert [p.name for p in worked_case.source_paths] == [
        "note.yaml", "az-mfa.yaml", "parties.yaml", "incidents.yaml"]
    assert worked_case.note.subject == "kyiv-2025-11-14"
    assert set(worked_case.note.earlier) <= set(worked_case.incidents)


def test_a_case_may_be_one_json_file() -> None:
    case = load_case(FIXTURES / "minimal.json")
    assert case.note.subject == "entry-2025"
    location = case.locate("entry-2025", "account")
    assert (location.line, location.field) == (line_of(FIXTURES / "minimal.json", '"account"'),
                                               "incidents[0].account")


def test_yaml_syntax_error_has_line_and_column() -> None:
    problem = only_problem(FIXTURES / "broken-syntax.yaml")
    assert problem.message.startswith("invalid YAML")
    assert problem.location.file == FIXTURES / "broken-syntax.yaml"
    assert (problem.location.line, problem.location.column) == (5, 12)


def test_json_syntax_error_has_line_and_column() -> None:
    problem = only_problem(FIXTURES / "broken-syntax.json")
    assert problem.message == "invalid JSON: Expecting property name enclosed in double quotes"
    assert (problem.location.line, problem.location.column) == (4, 26)


def test_missing_file() -> None:
    problem = only_problem(FIXTURES / "nowhere.yaml")
    assert problem.message == "file not found"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    assert "expected a mapping of sections" in only_problem(path).message


def test_every_schema_error_is_reported_at_once_with_its_line(edit_seed: Edit) -> None:
    edit_seed("incidents.yaml", "date: 2024-01-02", "date: 2024-13-02")
    edit_seed("parties.yaml", "kind: embassy", "kind: embasy")
    note = edit_seed("note.yaml", "  protest:\n", "  protset:\n")
    with pytest.raises(RecordError) as info:
        load_case(note)
    found = {(p.location.file.name, p.location.line, p.location.field): p.message
             for p in info.value.problems if p.location.file}
    folder = note.parent
    assert found == {
        ("incidents.yaml", line_of(folder / "incidents.yaml", "2024-13-02"), "incidents[1].date"):
            "input should be a valid date or datetime, month value is outside expected range "
            "of 1-12",
        ("parties.yaml", line_of(folder / "parties.yaml", "embasy"), "parties[0].kind"):
            "input should be 'ministry', 'embassy', 'consulate', 'permanent_mission' or 'other'",
        ("note.yaml", line_of(note, "protset"), "note.protset"):
            "unknown field (check its spelling)",
        ("note.yaml", line_of(note, "note:"), "note.protest"): "this field is required",
    }
    # The summary a user reads names file, line and field on each line.
    assert f"incidents.yaml:{line_of(folder / 'incidents.yaml', '2024-13-02')}:5: " \
           "incidents[1].date: input should be" in str(info.value)


def test_unquoted_time_is_not_read_as_a_number(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", 'time: "01:00"', "time: 1:00")
    problem = only_problem(note)
    assert problem.location.field == "incidents[0].time"
    assert problem.location.line == line_of(note, "time: 1:00")
    assert 'write the time as "HH:MM" in quotes' in problem.message


@pytest.mark.parametrize(
    ("file", "old", "new", "field", "message"),
    [
        pytest.param("note.yaml", "sender: az-mfa", "sender: az-mfa-x", "note.sender",
                     "unknown id 'az-mfa-x': none of the parties has it", id="unknown-id"),
        pytest.param("note.yaml", "addressee: ru-embassy-baku", "addressee: ru",
                     "note.addressee",
                     "'ru' is one of the states, but this field refers to one of the parties",
                     id="wrong-kind"),
        pytest.param("incidents.yaml", "facility: az-honorary-consulate-kharkiv",
                     "facility: kharkiv", "incidents[0].impacts[0].facility",
                     "unknown id 'kharkiv': none of the facilities has it",
                     id="unknown-facility"),
        pytest.param("note.yaml", "    - kyiv-2025-08-28\n", "    - kyiv-2025-11-14\n",
                     "note.earlier[2]", "the subject incident cannot also be an earlier one",
                     id="subject-in-earlier"),
        pytest.param("incidents.yaml", "date: 2025-08-28", "date: 2025-11-20",
                     "note.earlier[2]",
                     "'kyiv-2025-08-28' (2025-11-20) is not earlier than the subject incident "
                     "(2025-11-14)", id="earlier-not-earlier"),
        pytest.param("note.yaml", "  date: 2025-11-14\n  sender", "  date: 2025-11-13\n  sender",
                     "incidents[0].date",
                     "the subject incident is dated 2025-11-14, after the note's date 2025-11-13",
                     id="incident-after-note"),
        pytest.param("note.yaml", "  - incidents.yaml", "  - incidents.yml", "include[2]",
                     "included file", id="missing-include"),
    ],
)
def test_cross_record_rules(edit_seed: Edit, file: str, old: str, new: str, field: str,
                            message: str) -> None:
    note = edit_seed(file, old, new)
    with pytest.raises(RecordError) as info:
        load_case(note)
    problems = [p for p in info.value.problems if p.location.field == field]
    assert problems, info.value.problems
    assert message in problems[0].message
    assert problems[0].location.line is not None
    assert problems[0].location.file is not None


def test_an_earlier_incident_dated_after_the_note(edit_seed: Edit) -> None:
    # Subject and note are moved back so only the earlier incident is late.
    edit_seed("note.yaml", "    date: 2025-11-14", "    date: 2025-08-30")
    note = edit_seed("incidents.yaml", "also_on: [2025-08-18]", "also_on: [2025-09-18]")
    with pytest.raises(RecordError) as info:
        load_case(note)
    messages = [str(p) for p in info.value.problems]
    assert any("'odesa-2025-08' (2025-09-18) is not earlier than the subject" in m
               for m in messages), messages


def test_duplicate_ids_name_both_places(edit_seed: Edit) -> None:
    note = edit_seed("incidents.yaml", "id: kyiv-2024-01-02", "id: kharkiv-2022-03-10")
    with pytest.raises(RecordError) as info:
        load_case(note)
    duplicate = info.value.problems[0]
    incidents = note.parent / "incidents.yaml"
    assert duplicate.location.field == "incidents[1].id"
    first_line = line_of(incidents, "id: kharkiv-2022-03-10")
    assert duplicate.message == (f"duplicate id 'kharkiv-2022-03-10'; it is already used at "
                                 f"{incidents}:{first_line}")


def test_an_empty_chronology_is_an_error_unless_allowed(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml",
                     "  earlier:\n    - kharkiv-2022-03-10\n    - kyiv-2024-01-02\n"
                     "    - kyiv-2025-08-28\n    - odesa-2025-08\n", "")
    problem = only_problem(note)
    assert problem.location.field == "note.subject"
    assert problem.message.startswith("the note recalls no earlier incidents")
    edit_seed("note.yaml", "  subject:", "  chronology_required: false\n  subject:")
    assert load_case(note).note.earlier == []


def test_a_case_needs_exactly_one_note(edit_seed: Edit, seed_copy: Path) -> None:
    problem = only_problem(seed_copy / "incidents.yaml")
    assert problem.message == "the case has no note: add a 'note' section"
    text = (seed_copy / "note.yaml").read_text()
    note_part = text[text.index("note:\n"):]
    (seed_copy / "parties.yaml").write_text(
        (seed_copy / "parties.yaml").read_text() + "\n" + note_part)
    problem = only_problem(seed_copy / "note.yaml")
    assert problem.message == "a case has exactly one note; this is a second one"
    assert problem.location.file == seed_copy / "parties.yaml"


def test_the_seed_is_where_the_tests_think() -> None:
    assert (SEED / "note.yaml").is_file()
