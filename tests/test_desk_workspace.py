"""The desk's workspace: confined paths, round-trip saving that changes only
the touched values, conflicts that lose nothing, scaffolds, copies, drafts
and the chronology (notegen.desk.workspace)."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import multiprocessing
import os
import pickle
import re
import shutil
import stat
import threading
from pathlib import Path

import pytest

import notegen
from notegen.desk.preview import DraftPreview
from notegen.desk.workspace import (
    DELETE,
    DeskError,
    Edit,
    EditConflict,
    Workspace,
    apply_edits,
    draft_edits,
    format_field,
    parse_field,
)
from notegen.records.reading import MAX_FILE_BYTES, parse_source
from notegen.render.scaffold import CaseSpec

from .conftest import EARLIER_LIST, EARLIER_RULE, SEED

NOTE = "az-kyiv-2025/note.yaml"
INCIDENTS = "az-mfa-catalogue/incidents.yaml"
PARTIES = "az-mfa-catalogue/parties.yaml"
PROFILE = "profiles/az-mfa.yaml"
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A writable copy of seeds/ (the worked case, its catalogue and the
    profiles), the worked case's earlier incidents listed by hand (the edits
    below change a list; :func:`catalogue_root` keeps its rule)."""
    root = Path(shutil.copytree(SEED.parent, tmp_path / "seeds"))
    note = root / NOTE
    text = note.read_text(encoding="utf-8")
    assert EARLIER_RULE in text
    note.write_text(text.replace(EARLIER_RULE, EARLIER_LIST), encoding="utf-8")
    return root


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ws(root: Path, clock: Clock) -> Workspace:
    return Workspace(root, clock=clock)


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines only ``before`` has and the lines only ``after`` has."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def save(ws: Workspace, *edits: Edit, user: str = "alice") -> list[notegen.Case | object]:
    versions = {edit.file: ws.open(edit.file).version for edit in edits}
    return list(ws.save_fields(edits, versions, user=user))


# ---------------------------------------------------------------------------- field paths


@pytest.mark.parametrize(("text", "parts"), [
    ("incidents[0].date", ("incidents", 0, "date")),
    ("note.earlier", ("note", "earlier")),
    ("incidents[12].account.ru", ("incidents", 12, "account", "ru")),
    ("note.demands[0].kind", ("note", "demands", 0, "kind")),
    ("include[1]", ("include", 1)),
    ("note", ("note",)),
])
def test_field_paths_parse_as_problems_write_them(text: str, parts: tuple[object, ...]) -> None:
    assert parse_field(text) == parts
    assert format_field(parse_field(text)) == text


@pytest.mark.parametrize("text", ["", ".note", "note..date", "[0]", "note[x]", "note[0",
                                  "note]", "note.", "incidents[0]date", "a[-1]"])
def test_a_field_path_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(DeskError, match="not a field path"):
        parse_field(text)


def test_problems_name_fields_the_parser_reads(root: Path) -> None:
    """The field a located problem names is one the desk can edit."""
    (root / "az-kyiv-2025" / "note.yaml").write_text(
        (root / NOTE).read_text(encoding="utf-8").replace("date: 2025-11-14\n    time:",
                                                           "date: 2025-13-14\n    time:", 1),
        encoding="utf-8")
    with pytest.raises(notegen.RecordError) as caught:
        notegen.load_case(root / NOTE)
    fields = [p.location.field for p in caught.value.problems]
    assert "incidents[0].date" in fields
    assert parse_field("incidents[0].date") == ("incidents", 0, "date")


# ---------------------------------------------------------------------------- confinement


@pytest.mark.parametrize(("rel", "why"), [
    ("/etc/passwd.yaml", "absolute"),
    ("../outside.yaml", r"\.\."),
    ("az-kyiv-2025/../../outside.yaml", r"\.\."),
    (".notegen-desk/journal.yaml", "hidden"),
    ("az-kyiv-2025/.secret.yaml", "hidden"),
    ("az-kyiv-2025/note.txt", "not a record file"),
    ("az-kyiv-2025/note", "not a record file"),
    ("az-kyiv-2025\\note.yaml", "character"),
    ("az-kyiv-2025/note\x00.yaml", "character"),
    ("", "inside the workspace"),
])
def test_paths_outside_or_not_records_are_refused(ws: Workspace, rel: str, why: str) -> None:
    with pytest.raises(DeskError, match=why):
        ws.resolve(rel)
    with pytest.raises(DeskError):
        ws.open(rel)


def test_a_symlink_leading_outside_is_refused_alike(ws: Workspace, root: Path,
                                                     tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("note: {subject: x}\n", encoding="utf-8")
    (root / "link.yaml").symlink_to(secret)
    (root / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (root / "outside").symlink_to(tmp_path)
    for rel in ("link.yaml", "gone.yaml", "outside/secret.yaml"):
        with pytest.raises(DeskError, match="lies outside the workspace"):
            ws.open(rel)
        with pytest.raises(DeskError, match="lies outside the workspace"):
            ws.save_source(rel, "a: 1\n", "0" * 64, user="mallory")
    assert secret.read_text(encoding="utf-8") == "note: {subject: x}\n"
    assert [c.rel for c in ws.cases()] == [NOTE, "mx-quito-2024/note.yaml"]


def test_a_symlink_inside_the_workspace_is_followed(ws: Workspace, root: Path) -> None:
    (root / "alias.yaml").symlink_to(root / PROFILE)
    assert ws.open("alias.yaml").text == (root / PROFILE).read_text(encoding="utf-8")


def test_devices_pipes_and_large_files_are_not_read(ws: Workspace, root: Path) -> None:
    os.mkfifo(root / "pipe.yaml")  # opening it for reading would block
    (root / "big.yaml").write_bytes(b"a: " + b"x" * MAX_FILE_BYTES + b"\n")
    (root / "folder.yaml").mkdir()
    with pytest.raises(DeskError, match="not a regular file"):
        ws.open("pipe.yaml")
    with pytest.raises(DeskError, match="larger than"):
        ws.open("big.yaml")
    with pytest.raises(DeskError, match="not a regular file"):
        ws.open("folder.yaml")
    try:
        os.mknod(root / "zero.yaml", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    except PermissionError:
        pass  # not root: the FIFO stands for every special file
    else:
        with pytest.raises(DeskError, match="not a regular file"):
            ws.open("zero.yaml")
    listed = [case.rel for case in ws.cases()]  # the listing skips them too
    assert listed == [NOTE, "mx-quito-2024/note.yaml"]


def test_a_save_may_not_make_a_file_too_large(ws: Workspace) -> None:
    opened = ws.open(PROFILE)
    with pytest.raises(DeskError, match="larger than"):
        ws.save_source(PROFILE, "a: " + "x" * MAX_FILE_BYTES + "\n", opened.version,
                       user="alice")
    assert ws.open(PROFILE).version == opened.version


def test_create_and_duplicate_stay_inside(ws: Workspace, root: Path, tmp_path: Path) -> None:
    spec = CaseSpec(sender_state="az", addressee_state="ru", date=dt.date(2025, 1, 1),
                    place="Kyiv")
    for folder in ("../escape", "/tmp/escape", ".hidden"):
        with pytest.raises(DeskError):
            ws.create(folder, spec, user="alice")
        with pytest.raises(DeskError):
            ws.duplicate(NOTE, folder, user="alice")
    outside = tmp_path / "profile.yaml"
    shutil.copy(root / PROFILE, outside)
    with pytest.raises(DeskError, match="outside the workspace"):
        ws.create("new-case", CaseSpec(sender_state="az", addressee_state="ru",
                                       date=dt.date(2025, 1, 1), place="Kyiv",
                                       profile=outside), user="alice")
    assert not (tmp_path / "escape").exists()
    assert not (root.parent / "escape").exists()
    assert not (root / "new-case").exists()


# ---------------------------------------------------------------------------- round trip


def test_only_the_touched_lines_change(ws: Workspace, root: Path) -> None:
    note_before = (root / NOTE).read_text(encoding="utf-8")
    incidents_before = (root / INCIDENTS).read_text(encoding="utf-8")
    new_account = ("an air strike damaged the administrative building of the Honorary "
                   "Consulate of the Republic of Azerbaijan in Kharkiv")
    save(ws, Edit(NOTE, "incidents[0].date", "2025-11-13"),
         Edit(INCIDENTS, "incidents[0].account.en", new_account))
    note_after = (root / NOTE).read_text(encoding="utf-8")
    incidents_after = (root / INCIDENTS).read_text(encoding="utf-8")
    assert changed_lines(note_before, note_after) == (["    date: 2025-11-14"],
                                                       ["    date: 2025-11-13"])
    removed, added = changed_lines(incidents_before, incidents_after)
    assert removed == ["        an air strike seriously damaged the administrative building "
                       "of the Honorary",
                       "        Consulate of the Republic of Azerbaijan in Kharkiv"]
    # The new text folds in the block's own style, its lines no wider than
    # the block's widest (75 characters).
    assert added == ["        an air strike damaged the administrative building of the "
                     "Honorary Consulate",
                     "        of the Republic of Azerbaijan in Kharkiv"]
    assert note_after.startswith("# yaml-language-server: $schema=../../notegen/records/")
    data = parse_source(Path("incidents.yaml"), incidents_after.encode()).data
    assert data["incidents"][0]["account"]["en"] == new_account
    assert notegen.load_case(root / NOTE).incidents["kyiv-2025-11-14"].date == \
        dt.date(2025, 11, 13)


def test_a_text_in_a_folded_block_folds_again(ws: Workspace, root: Path) -> None:
    text = " ".join(["the missile struck the perimeter wall"] * 8)
    save(ws, Edit(NOTE, "note.protest.en", text))
    written = (root / NOTE).read_text(encoding="utf-8")
    start = written.index("  protest:\n    en: >-\n") + len("  protest:\n    en: >-\n")
    block = written[start:written.index("    ru: >-", start)].splitlines()
    assert len(block) >= 3
    assert all(line.startswith("      ") and not line.startswith("       ") for line in block)
    assert all(len(line) <= 100 for line in block)
    assert " ".join(line.strip() for line in block) == text
    assert notegen.load_case(root / NOTE).note.protest["en"] == text  # type: ignore[index]


def test_a_text_with_line_breaks_becomes_a_literal_block(ws: Workspace, root: Path) -> None:
    save(ws, Edit(NOTE, "note.protest.en", "first line\nsecond line"))
    written = (root / NOTE).read_text(encoding="utf-8")
    assert "    en: |-\n      first line\n      second line\n" in written
    protest = notegen.load_case(root / NOTE).note.protest
    assert protest["en"] == "first line\nsecond line"  # type: ignore[index]


def test_types_follow_the_schema(ws: Workspace, root: Path) -> None:
    before = (root / NOTE).read_text(encoding="utf-8")
    save(ws, Edit(NOTE, "incidents[0].casualties.killed", "2"),
         Edit(NOTE, "incidents[0].time_approximate", "false"),
         Edit(NOTE, "incidents[0].means[0].name", "2025"),
         Edit(NOTE, "note.date", "2025-11-15"),
         Edit(NOTE, "incidents[0].time", "02:30"))
    after = (root / NOTE).read_text(encoding="utf-8")
    removed, added = changed_lines(before, after)
    # An integer and a boolean as such, a reference of digits as a text, a date
    # as a plain date, a time quoted as it was.
    assert added == ['    time: "02:30"', "    time_approximate: false",
                     "        name: '2025'", "      killed: 2", "  date: 2025-11-15"]
    assert len(removed) == 5
    case = notegen.load_case(root / NOTE)
    assert case.incidents["kyiv-2025-11-14"].casualties.killed == 2  # type: ignore[union-attr]
    assert case.incidents["kyiv-2025-11-14"].means[0].name == "2025"
    assert case.note.date == dt.date(2025, 11, 15)


def test_an_impossible_date_is_kept_for_the_checks(ws: Workspace, root: Path) -> None:
    save(ws, Edit(NOTE, "incidents[0].date", "2025-02-30"))
    assert "    date: 2025-02-30\n" in (root / NOTE).read_text(encoding="utf-8")
    with pytest.raises(notegen.RecordError) as caught:
        notegen.load_case(root / NOTE)
    assert [p.location.field for p in caught.value.problems] == ["incidents[0].date"]


def test_the_earlier_list_keeps_its_style(ws: Workspace, root: Path) -> None:
    before = (root / NOTE).read_text(encoding="utf-8")
    save(ws, Edit(NOTE, "note.earlier", ["kyiv-2024-01-02", "odesa-2025-08",
                                         "kharkiv-2022-03-10"]))
    after = (root / NOTE).read_text(encoding="utf-8")
    old = ("  earlier:\n    - kharkiv-2022-03-10\n    - kyiv-2024-01-02\n"
           "    - kyiv-2025-08-28\n    - odesa-2025-08\n")
    new = "  earlier:\n    - kyiv-2024-01-02\n    - odesa-2025-08\n    - kharkiv-2022-03-10\n"
    assert old in before
    assert after == before.replace(old, new)
    assert notegen.load_case(root / NOTE).note.earlier == [
        "kyiv-2024-01-02", "odesa-2025-08", "kharkiv-2022-03-10"]


def test_a_flow_list_stays_a_flow_list(ws: Workspace, root: Path) -> None:
    path = root / NOTE
    text = path.read_text(encoding="utf-8")
    block = ("  earlier:\n    - kharkiv-2022-03-10\n    - kyiv-2024-01-02\n"
             "    - kyiv-2025-08-28\n    - odesa-2025-08\n")
    path.write_text(text.replace(block, "  earlier: [kharkiv-2022-03-10, kyiv-2024-01-02]  "
                                        "# the first two\n"), encoding="utf-8")
    save(ws, Edit(NOTE, "note.earlier", ["kharkiv-2022-03-10", "kyiv-2024-01-02",
                                         "odesa-2025-08"]))
    assert re.search(r"\n  earlier: \[kharkiv-2022-03-10, kyiv-2024-01-02, odesa-2025-08\] +"
                     r"# the first two\n", path.read_text(encoding="utf-8"))


def test_a_new_language_text_takes_its_siblings_style(ws: Workspace, root: Path) -> None:
    before = (root / NOTE).read_text(encoding="utf-8")
    save(ws, Edit(NOTE, "incidents[0].account.de", "eine Rakete traf die Botschaft"),
         Edit(NOTE, "incidents[0].place.de", "Kiew"))
    after = (root / NOTE).read_text(encoding="utf-8")
    removed, added = changed_lines(before, after)
    assert removed == ["    place: {en: Kyiv, ru: Киев, az: Kiyev, fr: Kyiv}"]
    assert added == ["    place: {en: Kyiv, ru: Киев, az: Kiyev, fr: Kyiv, de: Kiew}",
                     "      de: >-", "        eine Rakete traf die Botschaft"]
    index = after.index("      de: >-")
    assert after.rindex("      fr: >-", 0, index) > after.rindex("account:", 0, index)


def test_a_text_absent_until_now_is_added(ws: Workspace, root: Path) -> None:
    path = root / INCIDENTS
    text = path.read_text(encoding="utf-8")
    fr = ("      fr: >-\n        une frappe aérienne a gravement endommagé le bâtiment "
          "administratif du Consulat\n        honoraire de la République d'Azerbaïdjan à "
          "Kharkiv\n")
    assert fr in text
    path.write_text(text.replace(fr, ""), encoding="utf-8")
    save(ws, Edit(INCIDENTS, "incidents[0].account.fr",
                  "une frappe aérienne a gravement endommagé le bâtiment administratif du "
                  "Consulat honoraire de la République d'Azerbaïdjan à Kharkiv"))
    data = parse_source(path, path.read_bytes()).data
    assert data["incidents"][0]["account"]["fr"].startswith("une frappe aérienne")
    assert data["incidents"][0]["account"]["fr"].endswith("à Kharkiv")
    removed, added = changed_lines(text.replace(fr, ""), path.read_text(encoding="utf-8"))
    assert removed == []
    assert added[0] == "      fr: >-"
    assert all(line.startswith("        ") for line in added[1:])


def test_deleting_removes_the_field_only(ws: Workspace, root: Path) -> None:
    before = (root / NOTE).read_text(encoding="utf-8")
    save(ws, Edit(NOTE, "incidents[0].time_approximate", DELETE),
         Edit(NOTE, "note.earlier[3]", DELETE),
         Edit(NOTE, "note.signatory", DELETE))  # absent: nothing to do
    removed, added = changed_lines(before, (root / NOTE).read_text(encoding="utf-8"))
    assert removed == ["    time_approximate: true", "    - odesa-2025-08"]
    assert added == []


def test_a_mapping_given_whole_keeps_its_comments(ws: Workspace, root: Path) -> None:
    before = (root / PROFILE).read_text(encoding="utf-8")
    save(ws, Edit(PROFILE, "profile.head", {
        "gender": "male", "name": {"en": "Jeyhun Bayramov", "ru": "Джейхун Байрамов",
                                   "az": "Ceyhun Bayramov", "fr": "Djeyhoun Bayramov"},
        "title": {"en": "Minister of Foreign Affairs",
                  "ru": "Министр иностранных дел Азербайджанской Республики",
                  "az": "Azərbaycan Respublikasının Xarici İşlər Naziri",
                  "fr": "Ministre des Affaires étrangères de la République d'Azerbaïdjan"}}))
    removed, added = changed_lines(before, (root / PROFILE).read_text(encoding="utf-8"))
    assert removed == ["      en: Minister of Foreign Affairs of the Republic of Azerbaijan"]
    assert added == ["      en: Minister of Foreign Affairs"]


def test_keys_with_dots_are_found(ws: Workspace, root: Path) -> None:
    """House formulae are keyed by phrase keys that hold dots."""
    before = (root / PROFILE).read_text(encoding="utf-8")
    save(ws, Edit(PROFILE, "profile.formulae.az.note_verbale.opening",
                  "{sender} {addressee.dat} öz ehtiramını bildirir və [{reply}, ]{protest} "
                  "bildirməkdən şərəf duyur."),
         Edit(PROFILE, "profile.formulae.ru.note_verbale.closing", "Министерство …"))
    after = (root / PROFILE).read_text(encoding="utf-8")
    data = parse_source(Path("p.yaml"), after.encode()).data
    formulae = data["profile"]["formulae"]
    assert formulae["ru"] == {"note_verbale.closing": "Министерство …"}
    assert formulae["az"]["note_verbale.opening"].startswith("{sender} {addressee.dat} öz eh")
    removed, _ = changed_lines(before, after)
    assert removed == ["        {sender} {addressee.dat} öz dərin ehtiramını bildirir və "
                       "[{reply}, ]{protest}"]


def test_a_wrapped_flow_mapping_nobody_touched_stays_wrapped(ws: Workspace,
                                                            root: Path) -> None:
    """ruamel.yaml would write the ambassador's name on one line; the
    author's wrapping is kept because no edit touched it."""
    before = (root / PARTIES).read_text(encoding="utf-8")
    wrapped = ("      name: {en: Mikhail Yevdokimov, ru: Михаилу Евдокимову, az: Mixail "
               "Yevdokimov,\n             fr: Mikhaïl Evdokimov}\n")
    assert wrapped in before
    save(ws, Edit(PARTIES, "parties[0].head.gender", "female"))
    after = (root / PARTIES).read_text(encoding="utf-8")
    assert wrapped in after
    assert changed_lines(before, after) == (["      gender: male"], ["      gender: female"])


def test_json_files_are_edited_in_place(ws: Workspace, root: Path) -> None:
    case = notegen.load_case(root / "mx-quito-2024" / "note.yaml")
    del case  # the seed loads; now the same data as JSON
    data = parse_source(root / "mx-quito-2024/note.yaml",
                        (root / "mx-quito-2024/note.yaml").read_bytes()).data
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (root / "mx-quito-2024" / "note.json").write_text(text, encoding="utf-8")
    save(ws, Edit("mx-quito-2024/note.json", "note.date", "2024-04-07"))
    after = (root / "mx-quito-2024" / "note.json").read_text(encoding="utf-8")
    removed, added = changed_lines(text, after)
    assert removed == [f'    "date": "{data["note"]["date"]}",']
    assert added == ['    "date": "2024-04-07",']


def test_an_edit_that_cannot_apply_is_refused(ws: Workspace, root: Path) -> None:
    before = (root / NOTE).read_bytes()
    for field, why in (("incidents[5].date", "the list has 1 items"),
                       ("incidents[0].date.day", "is not a mapping"),
                       ("note.earlier.first", "is not a mapping")):
        with pytest.raises(DeskError, match=why):
            save(ws, Edit(NOTE, field, "x"))
    assert (root / NOTE).read_bytes() == before


def test_a_broken_file_opens_for_the_source_view(ws: Workspace, root: Path) -> None:
    (root / "broken.yaml").write_text("note: [unclosed\n", encoding="utf-8")
    opened = ws.open("broken.yaml")
    assert opened.data is None
    assert opened.text == "note: [unclosed\n"
    assert opened.problems
    assert opened.problems[0].location.file == Path("broken.yaml")
    with pytest.raises(DeskError, match="mend it in the source view"):
        ws.save_fields([Edit("broken.yaml", "note", "x")], {"broken.yaml": opened.version},
                       user="alice")
    with pytest.raises(DeskError, match="not valid YAML") as caught:
        ws.save_source("broken.yaml", "note: {still: broken\n", opened.version, user="alice")
    assert caught.value.problems[0].location.line is not None
    assert (root / "broken.yaml").read_text(encoding="utf-8") == "note: [unclosed\n"
    fixed = ws.save_source("broken.yaml", "note: [mended]\n", opened.version, user="alice")
    assert fixed.data == {"note": ["mended"]}
    assert fixed.modified_by == "alice"


# ---------------------------------------------------------------------------- conflicts


def test_a_stale_version_is_refused_naming_who_and_when(ws: Workspace, root: Path,
                                                        clock: Clock) -> None:
    opened = ws.open(NOTE)
    ws.save_fields([Edit(NOTE, "note.date", "2025-11-15")], {NOTE: opened.version},
                   user="alice")
    saved = (root / NOTE).read_bytes()
    clock.now = T0 + dt.timedelta(hours=1)
    with pytest.raises(EditConflict) as caught:
        ws.save_fields([Edit(NOTE, "note.date", "2025-11-16")], {NOTE: opened.version},
                       user="bob")
    message = str(caught.value)
    assert "by alice" in message
    assert "2026-01-02 03:04:05 UTC" in message
    assert caught.value.current.version != opened.version
    assert caught.value.current.modified_by == "alice"
    assert caught.value.current.text == saved.decode("utf-8")
    assert (root / NOTE).read_bytes() == saved


def test_a_change_outside_the_desk_is_a_conflict_too(ws: Workspace, root: Path) -> None:
    opened = ws.open(NOTE)
    (root / NOTE).write_text(opened.text + "# edited by hand\n", encoding="utf-8")
    os.utime(root / NOTE, (T0.timestamp() + 60, T0.timestamp() + 60))
    with pytest.raises(EditConflict, match="changed outside the desk at 2026-01-02 03:05:05"):
        ws.save_source(NOTE, opened.text, opened.version, user="bob")
    assert (root / NOTE).read_text(encoding="utf-8").endswith("# edited by hand\n")


def test_nothing_is_written_when_any_file_conflicts(ws: Workspace, root: Path) -> None:
    note, incidents = ws.open(NOTE), ws.open(INCIDENTS)
    ws.save_fields([Edit(INCIDENTS, "incidents[0].time", "03:00")],
                   {INCIDENTS: incidents.version}, user="alice")
    before = {rel: (root / rel).read_bytes() for rel in (NOTE, INCIDENTS)}
    with pytest.raises(EditConflict) as caught:
        ws.save_fields([Edit(NOTE, "note.date", "2025-11-16"),
                        Edit(INCIDENTS, "incidents[0].time", "04:00")],
                       {NOTE: note.version, INCIDENTS: incidents.version}, user="bob")
    assert [c.rel for c in caught.value.conflicts] == [INCIDENTS]
    assert {rel: (root / rel).read_bytes() for rel in (NOTE, INCIDENTS)} == before


def test_a_save_must_name_every_version(ws: Workspace) -> None:
    with pytest.raises(DeskError, match="no version given"):
        ws.save_fields([Edit(NOTE, "note.date", "2025-11-16")], {}, user="bob")


def _race(root: str, version: str, user: str, barrier: object) -> str:
    """Save one edit with ``version`` once every racer is ready."""
    workspace = Workspace(Path(root))
    barrier.wait()  # type: ignore[attr-defined]
    try:
        workspace.save_fields([Edit(NOTE, "note.reference", f"12/{user}/2025")],
                              {NOTE: version}, user=user)
    except EditConflict:
        return "conflict"
    return "saved"


def _racer(root: str, version: str, user: str, barrier: object, results: object) -> None:
    results.put(_race(root, version, user, barrier))  # type: ignore[attr-defined]


def test_of_two_threads_saving_the_same_version_one_wins(root: Path) -> None:
    version = Workspace(root).open(NOTE).version
    barrier = threading.Barrier(4)
    results: list[str] = []
    threads = [threading.Thread(target=lambda u=user: results.append(
        _race(str(root), version, u, barrier))) for user in ("a1", "a2", "a3", "a4")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["conflict", "conflict", "conflict", "saved"]
    winner = Workspace(root).open(NOTE)
    assert winner.modified_by is not None
    assert f"reference: 12/{winner.modified_by}/2025" in winner.text


@pytest.mark.slow
def test_of_two_processes_saving_the_same_version_one_wins(root: Path) -> None:
    version = Workspace(root).open(NOTE).version
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(2), context.Queue()
    racers = [context.Process(target=_racer, args=(str(root), version, user, barrier, queue))
              for user in ("p1", "p2")]
    for racer in racers:
        racer.start()
    results = sorted(queue.get(timeout=120) for _ in racers)
    for racer in racers:
        racer.join(60)
    assert results == ["conflict", "saved"]
    journal = (root / ".notegen-desk" / "journal.jsonl").read_text(encoding="utf-8")
    assert len(journal.splitlines()) == 1


def test_writes_are_atomic_and_keep_the_mode(ws: Workspace, root: Path) -> None:
    os.chmod(root / NOTE, 0o640)
    save(ws, Edit(NOTE, "note.date", "2025-11-15"))
    assert stat.S_IMODE(os.stat(root / NOTE).st_mode) == 0o640
    assert not [p for p in (root / "az-kyiv-2025").iterdir() if p.name.startswith(".")]


def test_a_symlinked_file_inside_is_written_through(ws: Workspace, root: Path) -> None:
    (root / "alias.yaml").symlink_to(root / PROFILE)
    opened = ws.open("alias.yaml")
    ws.save_fields([Edit("alias.yaml", "profile.seal", "seal")], {"alias.yaml": opened.version},
                   user="alice")
    assert (root / "alias.yaml").is_symlink()
    assert "  seal: seal\n" in (root / PROFILE).read_text(encoding="utf-8")


def test_the_journal_says_who_saved_what(ws: Workspace, root: Path, clock: Clock) -> None:
    opened = ws.open(NOTE)
    assert opened.modified_by is None
    saved = ws.save_fields([Edit(NOTE, "note.date", "2025-11-15")], {NOTE: opened.version},
                           user="alice")[0]
    assert (saved.modified_by, saved.modified_at) == ("alice", T0)
    entry = json.loads((root / ".notegen-desk" / "journal.jsonl").read_text(encoding="utf-8"))
    assert entry == {"at": T0.isoformat(), "user": "alice", "file": NOTE,
                     "old": opened.version, "new": saved.version}
    assert ws.open(NOTE).modified_by == "alice"
    (root / NOTE).write_text(saved.text + "\n", encoding="utf-8")
    assert ws.open(NOTE).modified_by is None  # changed outside since


def test_errors_survive_pickling(ws: Workspace) -> None:
    opened = ws.open(NOTE)
    ws.save_source(NOTE, opened.text + "# x\n", opened.version, user="alice")
    with pytest.raises(EditConflict) as caught:
        ws.save_source(NOTE, opened.text, opened.version, user="bob")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is EditConflict
    assert str(copy) == str(caught.value)
    assert copy.current == caught.value.current
    refused = pickle.loads(pickle.dumps(DeskError("no", [notegen.Problem("why")])))
    assert refused.problems == (notegen.Problem("why"),)
    assert refused.message == "no"


# ---------------------------------------------------------------------------- listing


def test_cases_lists_every_note(ws: Workspace) -> None:
    cases = {case.rel: case for case in ws.cases()}
    assert list(cases) == [NOTE, "mx-quito-2024/note.yaml"]
    kyiv = cases[NOTE]
    assert (kyiv.subject, kyiv.subject_date, kyiv.sender, kyiv.addressee, kyiv.note_type) == (
        "kyiv-2025-11-14", dt.date(2025, 11, 14), "az-mfa", "ru-embassy-baku", "note_verbale")
    assert kyiv.languages[0] == "en"
    assert set(kyiv.languages) == {"en", "ru", "az", "fr"}


def test_case_files_follow_the_includes(ws: Workspace) -> None:
    # The records the case names its catalogue for are the catalogue's, not
    # the case's files: only the profile is included.
    assert [f.rel for f in ws.case_files(NOTE)] == [NOTE, PROFILE]


def test_incidents_lists_every_incident(ws: Workspace) -> None:
    incidents = {i.id: i for i in ws.incidents()}
    assert set(incidents) == {"kyiv-2025-11-14", "kharkiv-2022-03-10", "kyiv-2024-01-02",
                              "odesa-2025-08", "kyiv-2025-08-28", "quito-2024-04-05"}
    kharkiv = incidents["kharkiv-2022-03-10"]
    assert (kharkiv.date, kharkiv.country, kharkiv.attributed_to, kharkiv.file,
            kharkiv.facilities) == (dt.date(2022, 3, 10), "ua", "ru", INCIDENTS,
                                    ("az-honorary-consulate-kharkiv",))
    assert kharkiv.place["ru"] == "Харьков"


def test_the_chronology_marks_what_the_rule_expects(ws: Workspace, root: Path) -> None:
    """Expected: before the subject, attributed to the subject's responsible
    State, and hitting premises the sender's State owns."""
    other = root / "az-kyiv-2025" / "more.yaml"
    other.write_text(
        "incidents:\n"
        "  - {id: lviv-2023, date: 2023-05-05, place: Lviv, country: ua, attributed_to: ua,\n"
        "     impacts: [{facility: az-embassy-kyiv, effect: damaged}], account: x}\n"
        "  - {id: kyiv-2023, date: 2023-06-06, place: Kyiv, country: ua, attributed_to: ru,\n"
        "     impacts: [{facility: elsewhere, effect: damaged}], account: x}\n"
        "  - {id: kyiv-2026, date: 2026-01-01, place: Kyiv, country: ua, attributed_to: ru,\n"
        "     impacts: [{facility: az-embassy-kyiv, effect: damaged}], account: x}\n",
        encoding="utf-8")
    items = ws.chronology(NOTE)
    listed = [(i.incident.id, i.ticked, i.expected) for i in items]
    assert listed == [
        ("kharkiv-2022-03-10", True, True),
        ("lviv-2023", False, False),
        ("kyiv-2023", False, False),
        ("kyiv-2024-01-02", True, True),
        ("quito-2024-04-05", False, False),
        ("odesa-2025-08", True, True),
        ("kyiv-2025-08-28", True, True),
    ]
    reasons = {i.incident.id: i.reason for i in items}
    assert reasons["lviv-2023"] == "attributed to ua, not to ru (the addressee's State)"
    assert reasons["kyiv-2023"] == "it struck no premises of az (the sender's State)"
    assert reasons["kharkiv-2022-03-10"] == ("the checks expect it: attributed to ru, it "
                                             "struck premises of az before the subject "
                                             "incident")
    in_case = {i.incident.id: i.in_case for i in items}
    assert in_case["kharkiv-2022-03-10"]
    assert not in_case["lviv-2023"]


def test_an_earlier_incident_ticked_after_the_subject_is_still_listed(ws: Workspace) -> None:
    save(ws, Edit(NOTE, "incidents[0].date", "2024-06-01"))
    items = {i.incident.id: i for i in ws.chronology(NOTE)}
    assert items["kyiv-2025-08-28"].ticked
    assert not items["kyiv-2025-08-28"].expected
    # The checks refuse an earlier incident after the subject: the case does
    # not load until the officer unticks it.
    assert items["kyiv-2025-08-28"].reason.startswith("the case does not load yet")


# ---------------------------------------------------------------------------- drafts


def test_a_draft_applies_edits_in_memory_only(ws: Workspace, root: Path) -> None:
    before = {p: p.read_bytes() for p in root.rglob("*.yaml")}
    case = ws.draft([Edit(INCIDENTS, "incidents[1].date", "2024-01-03"),
                     Edit(NOTE, "note.earlier", ["kyiv-2024-01-02"])], NOTE)
    assert case.incidents["kyiv-2024-01-02"].date == dt.date(2024, 1, 3)
    assert case.note.earlier == ["kyiv-2024-01-02"]
    assert {p: p.read_bytes() for p in root.rglob("*.yaml")} == before
    assert not (root / ".notegen-desk" / "journal.jsonl").exists()


def test_a_drafts_problems_are_located_in_the_real_files(ws: Workspace, root: Path) -> None:
    with pytest.raises(notegen.RecordError) as caught:
        ws.draft([Edit(INCIDENTS, "incidents[1].date", "2024-13-03")], NOTE)
    (problem,) = caught.value.problems
    assert problem.location.file is not None
    assert problem.location.file.resolve() == root / INCIDENTS
    # Line 42 of the file on disk: "    date: 2024-01-02".
    assert (problem.location.line, problem.location.field) == (42, "incidents[1].date")


def test_a_draft_reads_nothing_outside(ws: Workspace, root: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("incidents: []\n", encoding="utf-8")
    with pytest.raises(notegen.RecordError, match="outside the folder"):
        ws.draft([Edit(NOTE, "include[1]", str(tmp_path / "outside.yaml"))], NOTE)


# ---------------------------------------------------------------------------- create, copy


def test_create_scaffolds_a_case_that_loads(ws: Workspace, root: Path) -> None:
    spec = CaseSpec(sender_state="az", addressee_state="ru", date=dt.date(2025, 12, 1),
                    place="Kyiv", profile=Path(PROFILE))
    rel = ws.create("az-kyiv-2025-12", spec, user="alice")
    assert rel == "az-kyiv-2025-12/note.yaml"
    text = (root / rel).read_text(encoding="utf-8")
    assert '\n  - "../profiles/az-mfa.yaml"\n' in text
    case = notegen.load_case(root / rel)
    assert case.note.sender == "az-mfa"
    assert case.note.date == dt.date(2025, 12, 1)
    assert rel in [c.rel for c in ws.cases()]
    assert ws.open(rel).modified_by == "alice"
    with pytest.raises(DeskError, match="already exists"):
        ws.create("az-kyiv-2025-12", spec, user="alice")


def test_create_writes_a_profile_when_none_is_named(ws: Workspace, root: Path) -> None:
    rel = ws.create("fresh", CaseSpec(sender_state="xx", addressee_state="yy",
                                      date=dt.date(2025, 12, 1), place="Somewhere"),
                    user="alice")
    assert sorted(p.name for p in (root / "fresh").iterdir()) == ["note.yaml", "profile.yaml"]
    assert notegen.load_case(root / rel).note.sender == "xx-mfa"


def test_duplicate_copies_and_rewrites_only_includes_that_leave(ws: Workspace,
                                                                 root: Path) -> None:
    rel = ws.duplicate(NOTE, "2026/az-kyiv-copy", user="alice")
    assert rel == "2026/az-kyiv-copy/note.yaml"
    copy, origin = root / "2026" / "az-kyiv-copy", root / "az-kyiv-2025"
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in origin.iterdir())
    more = origin / "more.yaml"  # a record file of the case's folder is copied as it is
    more.write_text("incidents: []\n", encoding="utf-8")
    ws.duplicate(NOTE, "2026/az-kyiv-more", user="alice")
    assert (root / "2026" / "az-kyiv-more" / "more.yaml").read_bytes() == more.read_bytes()
    more.unlink()
    before = (origin / "note.yaml").read_text(encoding="utf-8")
    after = (copy / "note.yaml").read_text(encoding="utf-8")
    # The catalogue and the profile, outside the case's folder, are still found.
    assert changed_lines(before, after) == (
        ["catalogue: ../az-mfa-catalogue", "  - ../profiles/az-mfa.yaml"],
        ["catalogue: ../../az-mfa-catalogue", "  - ../../profiles/az-mfa.yaml"])
    assert notegen.load_case(root / rel).note.subject == "kyiv-2025-11-14"
    with pytest.raises(DeskError, match="already exists"):
        ws.duplicate(NOTE, "2026/az-kyiv-copy", user="alice")


def test_duplicate_at_the_same_depth_copies_byte_for_byte(ws: Workspace, root: Path) -> None:
    rel = ws.duplicate(NOTE, "az-kyiv-copy", user="alice")
    for path in (root / "az-kyiv-2025").iterdir():
        assert (root / "az-kyiv-copy" / path.name).read_bytes() == path.read_bytes()
    assert notegen.load_case(root / rel).note.subject == "kyiv-2025-11-14"
    assert ws.open(rel).modified_by == "alice"


def test_duplicate_refuses_what_is_no_case(ws: Workspace) -> None:
    with pytest.raises(DeskError, match="not a case"):
        ws.duplicate(INCIDENTS, "copy", user="alice")


def test_editing_the_same_version_again_keeps_every_comment(root: Path) -> None:
    """The loaded documents are kept between edits (a preview edits on every
    keystroke); each edit starts from the file as written, comments and all."""
    raw = (root / PROFILE).read_bytes()
    edits = [Edit(PROFILE, "profile.seal", "seal")]
    first = apply_edits(PROFILE, raw, edits)
    for _ in range(3):
        assert apply_edits(PROFILE, raw, edits) == first
    removed, added = changed_lines(raw.decode(), first.decode())
    assert (removed, added) == (["  seal: seal_and_initials"], ["  seal: seal"])


def test_a_hostile_file_is_not_loaded_round_trip(ws: Workspace, root: Path) -> None:
    """An alias bomb is refused by notegen's bounded reader before ruamel.yaml
    (which keeps aliases, and whose copies and comparisons would expand them)
    sees it; the source view can still mend it."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    (root / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    opened = ws.open("bomb.yaml")
    assert opened.data is None
    assert "aliases" in opened.problems[0].message
    with pytest.raises(DeskError, match="mend it in the source view"):
        ws.save_fields([Edit("bomb.yaml", "a8", [])], {"bomb.yaml": opened.version},
                       user="mallory")
    with pytest.raises(DeskError, match="mend it in the source view"):
        ws.draft([Edit("bomb.yaml", "a8", [])], NOTE)
    ws.save_source("bomb.yaml", "a0: [x]\n", opened.version, user="alice")


@pytest.mark.parametrize("value", [
    float("nan"), object(), {1: "x"}, {"a": {"b": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]
                                                    ]]]]]]]]]]]]]]]]]]]]]}},
    ["x"] * 20_000,
])
def test_a_value_that_is_no_field_is_refused(ws: Workspace, root: Path, value: object) -> None:
    before = (root / NOTE).read_bytes()
    with pytest.raises(DeskError, match=r"the value for note\.recalls"):
        save(ws, Edit(NOTE, "note.recalls", value))
    assert (root / NOTE).read_bytes() == before


@pytest.mark.parametrize("edits", [
    [Edit(NOTE, "note.protest.en", "a protest\nin two lines, with \"quotes\" and: colons")],
    [Edit(NOTE, "incidents[0].place.en", "Kyiv, the capital")],
    [Edit(NOTE, "incidents[0].date", "2025-11-13"), Edit(NOTE, "note.date", "2025-11-15")],
    [Edit(NOTE, "incidents[0].casualties.killed", "3"),
     Edit(NOTE, "incidents[0].time_approximate", "false")],
    [Edit(NOTE, "incidents[0].account.de", "neu")],  # not there yet: a round trip
    [Edit(NOTE, "note.earlier", ["kyiv-2024-01-02"])],  # a list: a round trip
    [Edit(PROFILE, "profile.formulae.az.note_verbale.opening", "{sender} x {protest}")],
])
def test_a_draft_reads_as_the_saved_file_would(root: Path, edits: list[Edit]) -> None:
    """The draft's quick way (a scalar written in place) and the save's
    round trip give the same data, and the draft keeps every line's number."""
    raw = (root / edits[0].file).read_bytes()
    drafted, saved = draft_edits(edits[0].file, raw, edits), apply_edits(edits[0].file, raw,
                                                                            edits)
    name = Path(edits[0].file)
    assert parse_source(name, drafted).data == parse_source(name, saved).data
    if all(edit.field.startswith(("note.protest", "incidents[0].place", "note.date",
                                  "incidents[0].date", "incidents[0].casualties",
                                  "incidents[0].time")) for edit in edits):
        assert drafted.count(b"\n") == raw.count(b"\n")
        after = drafted.decode().splitlines()
        assert after[-1] == raw.decode().splitlines()[-1]
        assert after.index("  recalls:") == raw.decode().splitlines().index("  recalls:")


def test_create_and_duplicate_do_not_follow_a_folder_link_outside(ws: Workspace, root: Path,
                                                                   tmp_path: Path) -> None:
    away = tmp_path / "away"
    away.mkdir()
    (root / "linked").symlink_to(away)
    spec = CaseSpec(sender_state="az", addressee_state="ru", date=dt.date(2025, 1, 1),
                    place="Kyiv")
    for folder in ("linked", "linked/sub"):
        with pytest.raises(DeskError, match="lies outside the workspace"):
            ws.create(folder, spec, user="mallory")
        with pytest.raises(DeskError, match="lies outside the workspace"):
            ws.duplicate(NOTE, folder, user="mallory")
    assert list(away.iterdir()) == []


def test_the_chronology_follows_unsaved_edits_and_a_rule(ws: Workspace) -> None:
    """With the subject moved back to 2024-06-01 (unsaved), the later
    incidents are no longer expected; a rule ticks what it chooses."""
    moved = {i.incident.id: i for i in ws.chronology(
        NOTE, [Edit(NOTE, "incidents[0].date", "2024-06-01"),
               Edit(NOTE, "note.earlier", ["kharkiv-2022-03-10", "kyiv-2024-01-02"])])}
    assert set(moved) == {"kharkiv-2022-03-10", "kyiv-2024-01-02", "quito-2024-04-05"}
    ruled = ws.chronology(NOTE, [Edit(NOTE, "note.earlier", {"rule": {"since": "2024-01-01"}})])
    assert [(i.incident.id, i.ticked, i.expected) for i in ruled] == [
        ("kharkiv-2022-03-10", False, True), ("kyiv-2024-01-02", True, True),
        ("quito-2024-04-05", False, False), ("odesa-2025-08", True, True),
        ("kyiv-2025-08-28", True, True)]


def test_a_case_that_does_not_load_marks_nothing_expected(ws: Workspace) -> None:
    items = ws.chronology(NOTE, [Edit(NOTE, "note.addressee", "nobody")])
    assert items
    assert not any(item.expected for item in items)
    assert {item.incident.id for item in items if item.ticked} == {
        "kharkiv-2022-03-10", "kyiv-2024-01-02", "kyiv-2025-08-28", "odesa-2025-08"}
    assert all(item.reason.startswith("the case does not load yet") for item in items)


@pytest.fixture
def catalogue_root(tmp_path: Path) -> Path:
    """A workspace with the worked case as it is (drawn from the Ministry's
    incident catalogue by a rule), its catalogue and the profiles it includes."""
    root = tmp_path / "ministry"
    for folder in ("az-kyiv-2025", "az-mfa-catalogue", "profiles"):
        shutil.copytree(SEED.parent / folder, root / folder)
    return root


def test_a_draft_reads_the_catalogue_with_its_edits(catalogue_root: Path) -> None:
    ws = Workspace(catalogue_root)
    note, catalogue = NOTE, INCIDENTS
    assert ws.draft([], note).note.earlier == [
        "kharkiv-2022-03-10", "kyiv-2024-01-02", "odesa-2025-08", "kyiv-2025-08-28"]
    # Moved after the subject (unsaved), the rule no longer chooses it.
    moved = [Edit(catalogue, "incidents[1].date", "2025-11-20")]
    assert ws.draft(moved, note).note.earlier == [
        "kharkiv-2022-03-10", "odesa-2025-08", "kyiv-2025-08-28"]
    ticked = {i.incident.id: i.ticked for i in ws.chronology(note, moved)}
    assert ticked == {"kharkiv-2022-03-10": True, "odesa-2025-08": True,
                      "kyiv-2025-08-28": True}
    with pytest.raises(notegen.RecordError) as caught:
        ws.draft([Edit(catalogue, "incidents[1].date", "2024-02-30")], note)
    [problem] = caught.value.problems
    assert problem.location.file is not None
    assert ws.rel(problem.location.file) == catalogue
    assert (problem.location.line, problem.location.field) == (42, "incidents[1].date")
    result = DraftPreview(ws).render(note, [Edit(catalogue, "incidents[1].date", "2024-02-30")],
                                     lang=None, note_type=None)
    assert [p.key for p in result.problems] == [f"{catalogue}::incidents[1].date"]
