from __future__ import annotations

import os
from pathlib import Path

import pytest

from notegen import RecordError, load_case
from notegen.errors import Problem
from notegen.records import reading

from .conftest import CATALOGUE, EARLIER_LIST, EARLIER_RULE, FIXTURES, SEED, Edit, line_of


def only_problem(path: Path) -> Problem:
    with pytest.raises(RecordError) as info:
        load_case(path)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def test_the_worked_case_loads_across_its_files(worked_case) -> None:
    assert [p.name for p in worked_case.source_paths] == [
        "note.yaml", "incidents.yaml", "parties.yaml", "situation.yaml", "az-mfa.yaml"]
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
    edit_seed(f"{CATALOGUE}/incidents.yaml", "date: 2024-01-02", "date: 2024-13-02")
    edit_seed(f"{CATALOGUE}/parties.yaml", "kind: embassy", "kind: embasy")
    note = edit_seed("note.yaml", "  protest:\n", "  protset:\n")
    with pytest.raises(RecordError) as info:
        load_case(note)
    found = {(p.location.file.name, p.location.line, p.location.field): p.message
             for p in info.value.problems if p.location.file}
    catalogue = note.parent / CATALOGUE
    assert found == {
        ("incidents.yaml", line_of(catalogue / "incidents.yaml", "2024-13-02"),
         "incidents[1].date"):
            "input should be a valid date or datetime, month value is outside expected range "
            "of 1-12",
        ("parties.yaml", line_of(catalogue / "parties.yaml", "embasy"), "parties[0].kind"):
            "input should be 'ministry', 'embassy', 'consulate', 'permanent_mission' or 'other'",
        ("note.yaml", line_of(note, "protset"), "note.protset"):
            "unknown field (check its spelling)",
        ("note.yaml", line_of(note, "note:"), "note.protest"): "this field is required",
    }
    # The summary a user reads names file, line and field on each line.
    assert f"incidents.yaml:{line_of(catalogue / 'incidents.yaml', '2024-13-02')}:5: " \
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
        pytest.param(f"{CATALOGUE}/incidents.yaml", "facility: az-honorary-consulate-kharkiv",
                     "facility: kharkiv", "incidents[0].impacts[0].facility",
                     "unknown id 'kharkiv': none of the facilities has it",
                     id="unknown-facility"),
        pytest.param("note.yaml", "    - kyiv-2025-08-28\n", "    - kyiv-2025-11-14\n",
                     "note.earlier[2]", "the subject incident cannot also be an earlier one",
                     id="subject-in-earlier"),
        pytest.param(f"{CATALOGUE}/incidents.yaml", "date: 2025-08-28", "date: 2025-11-20",
                     "note.earlier[2]",
                     "'kyiv-2025-08-28' (2025-11-20) is not earlier than the subject incident "
                     "(2025-11-14)", id="earlier-not-earlier"),
        pytest.param("note.yaml", "  date: 2025-11-14\n  sender", "  date: 2025-11-13\n  sender",
                     "incidents[0].date",
                     "the subject incident is dated 2025-11-14, after the note's date 2025-11-13",
                     id="incident-after-note"),
        pytest.param("note.yaml", "  - ../profiles/az-mfa.yaml", "  - ../profiles/az-mfa.yml",
                     "include[0]",
                     "included file", id="missing-include"),
    ],
)
def test_cross_record_rules(edit_seed: Edit, file: str, old: str, new: str, field: str,
                            message: str) -> None:
    edit_seed("note.yaml", EARLIER_RULE, EARLIER_LIST)  # the checks of a list, item by item
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
    edit_seed("note.yaml", EARLIER_RULE, EARLIER_LIST)  # a rule would leave it out
    edit_seed("note.yaml", "    date: 2025-11-14", "    date: 2025-08-30")
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "also_on: [2025-08-18]",
                     "also_on: [2025-09-18]")
    with pytest.raises(RecordError) as info:
        load_case(note)
    messages = [str(p) for p in info.value.problems]
    assert any("'odesa-2025-08' (2025-09-18) is not earlier than the subject" in m
               for m in messages), messages


def test_duplicate_ids_name_both_places(edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "id: kyiv-2024-01-02", "id: kharkiv-2022-03-10")
    with pytest.raises(RecordError) as info:
        load_case(note)
    duplicate = info.value.problems[0]
    incidents = note.parent / CATALOGUE / "incidents.yaml"
    assert duplicate.location.field == "incidents[1].id"
    first_line = line_of(incidents, "id: kharkiv-2022-03-10")
    assert duplicate.message == (f"duplicate id 'kharkiv-2022-03-10'; it is already used at "
                                 f"{incidents}:{first_line}")


def test_an_empty_chronology_is_an_error_unless_allowed(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", EARLIER_RULE, "")
    problem = only_problem(note)
    assert problem.location.field == "note.subject"
    assert problem.message.startswith("the note recalls no earlier incidents")
    edit_seed("note.yaml", "  subject:", "  chronology_required: false\n  subject:")
    assert load_case(note).note.earlier == []


def test_a_case_needs_exactly_one_note(edit_seed: Edit, seed_copy: Path) -> None:
    problem = only_problem(seed_copy / CATALOGUE / "incidents.yaml")
    assert problem.message == "the case has no note: add a 'note' section"
    text = (seed_copy / "note.yaml").read_text()
    note_part = text[text.index("note:\n"):]
    profile = seed_copy / "../profiles/az-mfa.yaml"  # a file the case includes
    profile.write_text(profile.read_text() + "\n" + note_part)
    problem = only_problem(seed_copy / "note.yaml")
    assert problem.message == "a case has exactly one note; this is a second one"
    assert problem.location.file == profile


def test_the_seed_is_where_the_tests_think() -> None:
    assert (SEED / "note.yaml").is_file()


# -- The confined reader (issue 14, item 5): regular files only, bounded. --

def include(seed_copy: Path, name: str) -> Path:
    """The seed's note, with ``name`` as its first include; returns the note."""
    note = seed_copy / "note.yaml"
    note.write_text(note.read_text().replace("include:\n", f"include:\n  - {name}\n", 1))
    return note


def include_problem(seed_copy: Path, name: str, **options: object) -> Problem:
    note = include(seed_copy, name)
    with pytest.raises(RecordError) as info:
        load_case(note, **options)  # type: ignore[arg-type]
    [problem] = [p for p in info.value.problems if p.location.field == "include[0]"]
    assert problem.location.file == note
    assert problem.location.line == line_of(note, f"- {name}")
    return problem


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_reading_it(seed_copy: Path, device: str) -> None:
    problem = include_problem(seed_copy, device)
    assert problem.message == f"included file {device} is not a regular file (a folder, " \
                              "device, pipe or socket); notegen reads data only from ordinary files"
    with pytest.raises(RecordError, match="is not a regular file"):
        load_case(device)


def test_a_named_pipe_is_refused_without_blocking(seed_copy: Path) -> None:
    import os
    import threading

    pipe = seed_copy / "pipe.yaml"
    os.mkfifo(pipe)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_case(include(seed_copy, "pipe.yaml"))
        except BaseException as exc:  # judged below
            outcome.append(exc)
        else:
            outcome.append(None)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # release the blocked reader before failing
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a named pipe blocked")
    [error] = outcome
    assert isinstance(error, RecordError)
    assert "included file pipe.yaml is not a regular file" in str(error)


def test_a_folder_and_a_socket_are_refused(seed_copy: Path, tmp_path: Path) -> None:
    import socket

    assert "is not a regular file" in include_problem(seed_copy, "../profiles").message
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "s.yaml"))
        problem = include_problem(seed_copy, str(tmp_path / "s.yaml"))
    assert "is not a regular file" in problem.message


def test_a_symlink_loop_is_a_located_error(seed_copy: Path) -> None:
    (seed_copy / "loop.yaml").symlink_to("loop.yaml")
    problem = include_problem(seed_copy, "loop.yaml")
    assert problem.message == "included file loop.yaml is a symbolic link that leads back " \
                              "to itself (a symlink loop)"
    with pytest.raises(RecordError, match="symlink loop"):
        load_case(seed_copy / "loop.yaml")


def test_a_file_over_the_size_cap_is_refused_from_its_size(seed_copy: Path) -> None:
    from notegen.records.reading import MAX_FILE_BYTES

    huge = seed_copy / "huge.yaml"
    with huge.open("wb") as out:  # sparse: its size says enough
        out.truncate(MAX_FILE_BYTES + 1)
    problem = include_problem(seed_copy, "huge.yaml")
    assert problem.message == "included file huge.yaml is 2.0 MB, larger than the 2 MB " \
                              "notegen reads"
    with pytest.raises(RecordError, match="larger than the 2 MB"):
        load_case(huge)


def test_a_case_is_capped_in_all(seed_copy: Path) -> None:
    from notegen.records.case import MAX_CASE_BYTES
    from notegen.records.reading import MAX_FILE_BYTES

    part = "#" + "x" * 1000 + "\n"
    names = []
    for number in range(MAX_CASE_BYTES // (MAX_FILE_BYTES - 4096) + 1):
        names.append(f"filler{number}.yaml")
        (seed_copy / names[-1]).write_text(
            "states: []\n" + part * ((MAX_FILE_BYTES - 4096) // len(part)))
    for name in reversed(names):
        note = include(seed_copy, name)
    with pytest.raises(RecordError) as info:
        load_case(note)
    problem = info.value.problems[0]
    assert problem.message == f"included file {names[-1]} would take the case past the " \
                              "8 MB a case may read in all"
    assert problem.location.field == f"include[{len(names) - 1}]"


def test_includes_outside_the_root_are_refused_alike_whether_they_exist_or_not(
        seed_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("states: [{id: secret-marker, name: x}]\n")
    (seed_copy / "link.yaml").symlink_to(outside / "secret.yaml")
    root = seed_copy.parent
    said = {}
    for name in [str(outside / "secret.yaml"), str(outside / "missing.yaml"), str(outside),
                 "../../outside/secret.yaml", "../../outside", "/dev/zero", "link.yaml"]:
        note = include(seed_copy, name)
        with pytest.raises(RecordError) as info:
            load_case(note, root=root)
        [problem] = [p for p in info.value.problems if p.location.field == "include[0]"]
        said[name] = problem.message.replace(name, "NAME")
        assert "secret-marker" not in str(info.value)
        assert str(outside) not in problem.message.replace(name, "")
        assert str(root) not in problem.message
        (seed_copy / "note.yaml").write_text(
            (seed_copy / "note.yaml").read_text().replace(f"  - {name}\n", "", 1))
    assert set(said.values()) == {"included file NAME lies outside the folder cases may read"}
    # Inside the root, the seed's own includes (../profiles/…) still load.
    assert load_case(seed_copy / "note.yaml", root=root).note.sender == "az-mfa"


def test_a_case_without_includes_refuses_them_all(seed_copy: Path) -> None:
    for name in ["/etc/passwd", "/dev/zero", "../profiles/az-mfa.yaml", "nowhere.yaml"]:
        note = include(seed_copy, name)
        with pytest.raises(RecordError) as info:
            load_case(note, includes=False)
        [problem] = info.value.problems
        assert problem.message.startswith("this case cannot include files")
        assert problem.location.field == "include"


# -- The YAML and JSON readers (issue 14, items 5 and 9). --

def problem_in(tmp_path: Path, name: str, content: str | bytes) -> Problem:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    problem = only_problem(path)
    assert problem.location.file == path
    return problem


def test_an_alias_bomb_is_refused_quickly_at_the_alias(tmp_path: Path) -> None:
    import time

    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    start = time.monotonic()
    problem = problem_in(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert time.monotonic() - start < 2
    assert problem.message == "invalid YAML: the aliases in this file stand for more than " \
                              "100,000 values; write the values out"
    assert problem.location.line == 5
    assert lines[4][problem.location.column - 1:].startswith("*a3")


def test_a_recursive_alias_is_a_located_error(tmp_path: Path) -> None:
    problem = problem_in(tmp_path, "loop.yaml", "note:\n  earlier: &a [x, *a]\n")
    assert problem.message == "invalid YAML: the alias *a stands for a value it is part of " \
                              "(a recursive alias)"
    assert (problem.location.line, problem.location.column) == (2, 19)


def test_anchors_and_merges_that_stay_small_still_load(seed_copy: Path) -> None:
    note = seed_copy / "note.yaml"
    text = note.read_text().replace("  sender: az-mfa\n", "  sender: &who az-mfa\n", 1)
    note.write_text(text + "states:\n  - &base {id: zz, name: Zed}\n  - {<<: *base, id: zy}\n")
    case = load_case(note)
    assert case.states["zy"].name == "Zed"


@pytest.mark.parametrize(("name", "content", "line", "column", "message"), [
    ("twice.yaml", "note:\n  date: 2025-01-01\n  date: 2025-01-02\n", 3, 3,
     "invalid YAML: the key 'date' is given twice in this mapping (first on line 2)"),
    ("twice.json", '{"note": {"date": "2025-01-01",\n  "date": "2025-01-02"}}', 2, 3,
     "invalid JSON: the key 'date' is given twice in this object (first on line 1)"),
    ("sections.yaml", "incidents: []\nnote: {}\nincidents: []\n", 3, 1,
     "invalid YAML: the key 'incidents' is given twice in this mapping (first on line 1)"),
])
def test_a_key_given_twice_is_an_error_naming_it(tmp_path: Path, name: str, content: str,
                                                 line: int, column: int, message: str) -> None:
    problem = problem_in(tmp_path, name, content)
    assert problem.message == message
    assert (problem.location.line, problem.location.column) == (line, column)


@pytest.mark.parametrize(("name", "content", "line", "message"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000, 1,
     "invalid JSON: lists and objects nest more than 64 deep here"),
    ("deep-objects.json", '{"a":' * 100_000 + "1" + "}" * 100_000, 1,
     "invalid JSON: lists and objects nest more than 64 deep here"),
    ("deep.yaml", "".join("  " * depth + "a:\n" for depth in range(100)), 64,
     "invalid YAML: lists and mappings nest more than 64 deep here"),
    ("surrogate.json", '{"note": {"protest":\n "\\ud800"}}', 2,
     "the text has U+D800, a lone surrogate (half of a UTF-16 pair) and no character: "
     "write the character itself"),
    ("long.yaml", "note:\n  count: " + "9" * 5000 + "\n", 2,
     "invalid YAML: a number may have at most 100 digits"),
    ("long.json", '{"note":\n {"count": ' + "9" * 5000 + "}}", 2,
     "invalid JSON: a number may have at most 100 digits"),
    ("nul.json", '{"note":\n "\x00"}', 2,
     "the file has U+0000 NULL, a control character that has no place in a text file"),
    ("escape.yaml", "note:\n  protest: \x1b[2J\n", 2,
     "the file has U+001B ESCAPE, a control character that has no place in a text file"),
    ("tag.yaml", "note:\n  date: !!timestamp 2025-13-45\n", 2,
     "invalid YAML: the value cannot be read as timestamp: month must be in 1..12"),
    ("bool.yaml", "note:\n  chronology_required: !!bool perhaps\n", 2,
     "invalid YAML: the value cannot be read as bool: 'perhaps'"),
])
def test_hostile_syntax_is_a_located_error(tmp_path: Path, name: str, content: str, line: int,
                                           message: str) -> None:
    problem = problem_in(tmp_path, name, content)
    assert problem.message == message
    assert problem.location.line == line
    assert problem.location.column is not None


def test_undecodable_bytes_are_located_by_line_and_column(tmp_path: Path) -> None:
    problem = problem_in(tmp_path, "latin1.yaml", "note:\n  place: Besançon\n".encode("latin-1"))
    assert problem.message == "the file is not UTF-8 text: byte 0xe7 cannot be read"
    assert (problem.location.line, problem.location.column) == (2, 15)
    problem = problem_in(tmp_path, "utf16.yaml", "note: {}\n".encode("utf-16"))
    assert problem.message.endswith("(it looks like UTF-16: save it as UTF-8)")


def test_json_with_a_byte_order_mark_is_read_like_yaml_with_one(tmp_path: Path) -> None:
    case = load_case(FIXTURES / "minimal.json")
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "minimal.json").read_bytes())
    assert load_case(tmp_path / "bom.json").note == case.note
    (tmp_path / "typo.json").write_bytes(b'\xef\xbb\xbf{"note":\n {"dat": 1}}')
    with pytest.raises(RecordError) as info:
        load_case(tmp_path / "typo.json")
    assert [(p.location.line, p.location.column) for p in info.value.problems
            if p.location.field == "note.dat"] == [(2, 3)]


@pytest.mark.parametrize("content", ["", "\n\n", "# nothing\n", "~\n", "- a list\n", "a scalar\n",
                                     "[1, 2]\n", "'quoted'\n"])
def test_a_file_that_is_not_a_mapping_is_a_located_error(tmp_path: Path, content: str) -> None:
    problem = problem_in(tmp_path, "odd.yaml", content)
    assert problem.message.startswith("expected a mapping of sections")


def test_a_file_with_too_many_values_is_refused_where_it_passes_the_limit(
        tmp_path: Path) -> None:
    problem = problem_in(tmp_path, "values.yaml", "incidents: [" + "1," * 250_000 + "1]\n")
    assert problem.message.startswith("invalid YAML: the file holds more than 200,000 values")
    assert problem.location.line == 1


# -- files parsed lately are kept (reading._Parsed) ----------------------------------


def test_a_file_read_again_unchanged_is_not_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "states.yaml"
    path.write_text("states:\n  - id: az\n    name: Azerbaijan\n")
    first, again = reading.read_file(path), reading.read_file(path)
    assert again is first
    assert reading.parse_source(tmp_path / "other.yaml", path.read_bytes()) is not first


def test_an_edit_is_seen_even_with_the_same_size_and_time(tmp_path: Path) -> None:
    # A file's size and time cannot tell two quick saves apart; its bytes can.
    path = tmp_path / "states.yaml"
    path.write_text("states:\n  - id: az\n")
    before = os.stat(path)
    assert reading.read_file(path).data == {"states": [{"id": "az"}]}
    path.write_text("states:\n  - id: ru\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert reading.read_file(path).data == {"states": [{"id": "ru"}]}


def test_a_kept_yaml_file_is_still_located_by_line(tmp_path: Path) -> None:
    path = tmp_path / "states.yaml"
    path.write_text("# a comment\nstates:\n  - id: az\n    name: Azerbaijan\n")
    reading.read_file(path)
    kept = reading.read_file(path)
    assert kept.node is None  # let go when kept: composed again when asked
    where = kept.locate(("states", 0, "name"))
    assert (where.line, where.column, where.field) == (4, 5, "states[0].name")


def test_a_file_with_a_problem_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("states: [\n")
    for _ in range(2):
        with pytest.raises(RecordError, match="invalid YAML"):
            reading.read_file(path)
    assert all(key[0] != path for key in reading._parsed._files)


def test_the_kept_files_keep_to_their_bound(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    kept = reading._Parsed(limit=100)
    monkeypatch.setattr(reading, "_parsed", kept)
    files = []
    for index in range(4):
        path = tmp_path / f"f{index}.yaml"
        path.write_text(f"note: {'x' * 30}{index}\n")  # 39 bytes each
        files.append(reading.read_file(path))
    assert kept.size <= 100
    assert len(kept._files) == 2
    assert reading.read_file(tmp_path / "f3.yaml") is files[3]  # the newest stay
    assert reading.read_file(tmp_path / "f0.yaml") is not files[0]
