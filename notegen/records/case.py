"""A case: one note and the records it refers to, read and checked as a whole.

:func:`load_case` reads the note file and every file it includes, validates
each against :class:`~notegen.records.models.RecordFile`, then applies the
rules that need the whole case, in three steps: the records are indexed by
id (:class:`_Index`), every reference between them must resolve to a record
of the right kind, and the dates must tell a chronology. Every problem found
is collected, located (file, line, column, field path) and raised at once as
a :class:`~notegen.errors.RecordError`.

Each file is read by :func:`~notegen.records.reading.read_bytes` (regular
files only, each at most 2 MB); a case as a whole reads at most
:data:`MAX_CASE_FILES` files and :data:`MAX_CASE_BYTES` bytes, and lists
at most :data:`MAX_LISTED_PROBLEMS` problems. With ``root``, an include
whose real path lies outside that folder is refused in words that do not
tell whether it exists; with ``includes`` false, any include is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Location, Problem, RecordError
from . import collector
from .models import (
    ArmedConflict,
    Facility,
    Incident,
    Note,
    Party,
    Profile,
    RecordFile,
    Relations,
    State,
)
from .reading import (
    MAX_FILE_BYTES,
    FieldPath,
    SourceFile,
    UnreadableFile,
    parse_source,
    read_bytes,
    read_file,
    schema_problems,
    shown,
)

logger = logging.getLogger(__name__)

#: How many bytes a case may read in all, its note file and every file it
#: includes together.
MAX_CASE_BYTES = 8 * 1024 * 1024
#: How many files a case may read, its note file included.
MAX_CASE_FILES = 200
#: How many problems a refused case lists; the rest are counted.
MAX_LISTED_PROBLEMS = 200


@dataclass(frozen=True)
class Case:
    """A validated case: one note and the records it refers to.

    Records are keyed by id. :meth:`locate` tells where a record, or a field of
    it, was written, so later stages can report located errors too.
    """

    note: Note
    states: dict[str, State]
    parties: dict[str, Party]
    facilities: dict[str, Facility]
    incidents: dict[str, Incident]
    files: tuple[SourceFile, ...]
    origins: dict[str, tuple[SourceFile, FieldPath]]
    #: The armed conflicts the records state, by id; none: peacetime.
    conflicts: dict[str, ArmedConflict] = field(default_factory=dict)
    #: Diplomatic relations as the records state them; normal where none does.
    relations: tuple[Relations, ...] = ()

    def locate(self, record_id: str | None, *path: str | int) -> Location:
        """Where ``path`` inside the record ``record_id`` (``None``: the note) was written."""
        return _locate(self.origins, record_id, path)

    @property
    def source_paths(self) -> tuple[Path, ...]:
        return tuple(source.path for source in self.files)


def _locate(origins: dict[str, tuple[SourceFile, FieldPath]], record_id: str | None,
            path: FieldPath) -> Location:
    source, base = origins[record_id or ""]
    return source.locate(base + path)


def _read_all(first: SourceFile, problems: list[Problem], *, includes: bool,
              root: Path | None, overlay: Mapping[Path, bytes] | None = None
              ) -> list[tuple[SourceFile, RecordFile]]:
    """Validate ``first`` and, depth first, every file it includes (none if
    not ``includes``; only files inside ``root`` if given); an included file
    whose real path is a key of ``overlay`` is read from there, not from disk."""
    records: list[tuple[SourceFile, RecordFile]] = []
    seen: set[Path] = set()
    total = len(first.text.encode("utf-8"))

    def visit(file: Path, name: str, included_from: Location) -> None:
        nonlocal total
        if not name.isprintable() or len(name) > 200:
            name = shown(name)  # a name made to garble the message
        if "\x00" in str(file):
            problems.append(Problem(f"included file {name} has a name no file can have (it "
                                    "holds a NUL character)", included_from))
            return
        # realpath, not Path.resolve: a symlink loop is reported by the
        # reader, not raised here.
        resolved = Path(os.path.realpath(file))
        if root is not None and not resolved.is_relative_to(root):
            # The same words whether or not it exists, and no folder named.
            problems.append(Problem(f"included file {name} lies outside the folder cases "
                                    "may read", included_from))
            return
        if resolved in seen:
            return
        seen.add(resolved)
        if len(seen) > MAX_CASE_FILES:
            problems.append(Problem(f"a case may read at most {MAX_CASE_FILES} files; this "
                                    "include is one too many", included_from))
            return
        left = MAX_CASE_BYTES - total
        try:
            if overlay is not None and resolved in overlay:
                raw = _overlaid(file, overlay[resolved], min(MAX_FILE_BYTES, max(left, 0)))
            else:
                raw = read_bytes(file, root=root, limit=min(MAX_FILE_BYTES, max(left, 0)))
        except UnreadableFile as exc:
            reason = exc.reason
            if left < MAX_FILE_BYTES and "larger than" in reason:
                reason = (f"would take the case past the {MAX_CASE_BYTES // (1024 * 1024)} MB "
                          "a case may read in all")
            problems.append(Problem(f"included file {name} {reason}", included_from))
            return
        total += len(raw)
        try:
            source = parse_source(file, raw)
        except RecordError as exc:
            problems.extend(exc.problems)
            return
        check(source)

    def check(source: SourceFile) -> None:
        if not isinstance(source.data, dict):
            problems.append(Problem("expected a mapping of sections (note, incidents, …) at "
                                    "the top of the file", source.locate(())))
            return
        names = source.data.get("include")
        if names and not includes:
            problems.append(Problem(
                "this case cannot include files: give every record in this one file (as "
                "`notegen extract` writes it)", source.locate(("include",))))
            return
        try:
            records.append((source, RecordFile.model_validate(source.data)))
        except ValidationError as exc:
            problems.extend(schema_problems(source, exc))
        if isinstance(names, list):  # a broken file's includes are still checked
            for index, name in enumerate(names):
                if isinstance(name, str):
                    visit(source.path.parent / name, name, source.locate(("include", index)))

    seen.add(Path(os.path.realpath(first.path)))
    check(first)
    return records


def _overlaid(path: Path, raw: bytes, limit: int) -> bytes:
    """``raw``, the bytes given in place of the file ``path``, if within ``limit``."""
    if len(raw) > limit:
        raise UnreadableFile(path, f"is larger than the {limit:,} bytes notegen reads")
    return raw


def load_case(source: str | Path | Mapping[str, Any] | bytes, *, includes: bool = True,
              root: Path | None = None, name: str | None = None,
              overlay: Mapping[Path, bytes] | None = None) -> Case:
    """Load and validate a case: the note file at ``source`` (a path), or the
    records themselves, already in memory (a mapping, or the bytes of a JSON
    or YAML record file), so an embedder needs no temporary file.

    A note file may ``include`` catalogue files (relative to itself) holding
    states, parties, facilities and incidents; with ``includes`` false it may
    not, and with ``root`` only files inside that folder. Records given in
    memory are located as ``name`` (default ``case.json``, or ``case.yaml``
    for bytes that are not JSON); their includes are read relative to
    ``root`` and only inside it; without ``root``, relative to the folder of
    ``name`` if it is an absolute path (as for a file there: what the command
    line does with records on standard input), and otherwise refused.

    ``overlay`` maps real paths (symlinks resolved) to bytes read in place of
    those files, the note file's too: a draft with unsaved edits loads as it
    would once saved, located in the files' own names.

    :raises RecordError: listing every problem found, each located.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        real = Path(os.path.realpath(path))
        if overlay is not None and real in overlay:
            first = parse_source(path, _overlaid(path, overlay[real], MAX_FILE_BYTES))
        else:
            first = read_file(path)
        return _load(first, includes=includes, root=root, overlay=overlay)
    if isinstance(source, Mapping):
        data, default = _json_bytes(source), "case.json"
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        default = "case.json" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") \
            else "case.yaml"
    else:
        raise TypeError(f"load_case takes a path, a mapping or bytes, not "
                        f"{type(source).__name__}")
    located = Path(name or default)
    if root is not None:
        located = Path(os.path.realpath(root)) / located.name
    return _load(parse_source(located, data),
                 includes=includes and (root is not None or located.is_absolute()), root=root)


def _json_bytes(records: Mapping[str, Any]) -> bytes:
    """``records`` as the text of a JSON record file, one value a line or so,
    so that problems are located by line; dates may be given as dates.

    :raises RecordError: if a value has no JSON form.
    """

    def encode(value: object) -> str:
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    try:
        return json.dumps(records, indent=1, ensure_ascii=False, default=encode,
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RecordError([Problem(f"the records hold a value that is not JSON data ({exc})",
                                   Location(Path("case.json")))]) from None


def load_case_data(data: bytes, name: str = "case.json") -> Case:
    """Load and validate a case given as the bytes of one record file (what
    ``notegen extract`` writes, or a service receives), located as ``name``.
    It includes no other file.

    :raises RecordError: listing every problem found, each located.
    """
    return _load(parse_source(Path(name), data), includes=False, root=None)


def _load(first: SourceFile, *, includes: bool, root: Path | None,
          overlay: Mapping[Path, bytes] | None = None) -> Case:
    problems: list[Problem] = []
    with collector.paused():  # linear in the records: see .collector
        records = _read_all(first, problems, includes=includes,
                            root=Path(os.path.realpath(root)) if root is not None else None,
                            overlay=overlay)
        if problems:
            raise RecordError(_listed(problems))
        return _assemble(records)


def _listed(problems: Sequence[Problem]) -> list[Problem]:
    """``problems``, the first :data:`MAX_LISTED_PROBLEMS` of them, and one
    more that counts the rest."""
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return list(problems)
    rest = len(problems) - MAX_LISTED_PROBLEMS
    return [*problems[:MAX_LISTED_PROBLEMS],
            Problem(f"and {rest:,} more problems, not listed", problems[-1].location)]


@dataclass
class _Index:
    """The records of a case by id, where each was written, and what kind of
    record (``states``, ``parties``, …) each id names."""

    problems: list[Problem]
    origins: dict[str, tuple[SourceFile, FieldPath]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "states": {}, "parties": {}, "facilities": {}, "incidents": {}, "conflicts": {}})
    #: The relations records, each with where it was written.
    relations: list[tuple[Relations, SourceFile, FieldPath]] = field(default_factory=list)

    def add(self, item: State | Party | Facility | Incident | ArmedConflict, kind: str,
            source: SourceFile, path: FieldPath) -> None:
        """Index ``item``, unless its id is taken: that is a problem."""
        if item.id in self.origins:
            first = self.origins[item.id][0].locate(self.origins[item.id][1])
            self.problems.append(Problem(
                f"duplicate id {item.id!r}; it is already used at {first.file}:{first.line}",
                source.locate((*path, "id"))))
            return
        self.origins[item.id] = (source, path)
        self.kinds[item.id] = kind
        self.tables[kind][item.id] = item

    def locate(self, record_id: str | None, *path: str | int) -> Location:
        return _locate(self.origins, record_id, path)

    def check_ref(self, value: str | None, expected: str, owner: str | None,
                  *path: str | int) -> bool:
        """Whether ``value`` is the id of one of the ``expected`` records; a
        located problem if it is not (``None`` is no reference at all)."""
        if value is None:
            return False
        if value not in self.kinds:
            self.problems.append(Problem(f"unknown id {value!r}: none of the {expected} has "
                                         "it", self.locate(owner, *path)))
            return False
        if self.kinds[value] != expected:
            self.problems.append(Problem(
                f"{value!r} is one of the {self.kinds[value]}, but this field refers to one "
                f"of the {expected}", self.locate(owner, *path)))
            return False
        return True


def _assemble(records: Sequence[tuple[SourceFile, RecordFile]]) -> Case:
    index = _Index([])
    note = _index_records(records, index)
    _check_references(note, index)
    _check_situation(index)
    _check_chronology(note, index)
    if index.problems:
        raise RecordError(_listed(index.problems))
    tables = index.tables
    return Case(note=note, states=tables["states"], parties=tables["parties"],
                facilities=tables["facilities"], incidents=tables["incidents"],
                files=tuple(source for source, _ in records), origins=index.origins,
                conflicts=tables["conflicts"],
                relations=tuple(relations for relations, _, _ in index.relations))


def _index_records(records: Sequence[tuple[SourceFile, RecordFile]], index: _Index) -> Note:
    """Index every record of ``records`` by id; return the case's one note.

    :raises RecordError: if there is no note (nothing else can be checked).
    """
    notes: list[tuple[SourceFile, Note]] = []
    for source, record in records:
        for kind in index.tables:
            for position, item in enumerate(getattr(record, kind)):
                index.add(item, kind, source, (kind, position))
        for position, relations in enumerate(record.relations):
            index.relations.append((relations, source, ("relations", position)))
        if record.profile is not None:  # a profile is the party it describes
            index.add(record.profile, "parties", source, ("profile",))
        if record.note is not None:
            notes.append((source, record.note))
    if not notes:
        index.problems.append(Problem("the case has no note: add a 'note' section",
                                      records[0][0].locate(())))
        raise RecordError(_listed(index.problems))
    for source, _ in notes[1:]:
        index.problems.append(Problem("a case has exactly one note; this is a second one",
                                      source.locate(("note",))))
    note_source, note = notes[0]
    index.origins[""] = (note_source, ("note",))
    return note


def _check_references(note: Note, index: _Index) -> None:
    """Every id a record names must be a record of the kind the field wants."""
    check_ref, tables = index.check_ref, index.tables
    for party in tables["parties"].values():
        check_ref(party.state, "states", party.id, "state")
    for facility in tables["facilities"].values():
        check_ref(facility.owner, "states", facility.id, "owner")
        check_ref(facility.host, "states", facility.id, "host")
        check_ref(facility.part_of, "facilities", facility.id, "part_of")
    for incident in tables["incidents"].values():
        check_ref(incident.country, "states", incident.id, "country")
        check_ref(incident.attributed_to, "states", incident.id, "attributed_to")
        for position, impact in enumerate(incident.impacts):
            check_ref(impact.facility, "facilities", incident.id, "impacts", position,
                      "facility")
    check_ref(note.addressee, "parties", None, "addressee")
    if check_ref(note.sender, "parties", None, "sender"):
        _check_reference(note, tables["parties"][note.sender], index)
    for position, citation in enumerate(note.legal_bases or ()):
        for place, facility_id in enumerate(citation.facilities):
            check_ref(facility_id, "facilities", None, "legal_bases", position, "facilities",
                      place)


def _check_situation(index: _Index) -> None:
    """The situation's records name States; an incident placed in a conflict
    lies within its dates and is attributed to one of its parties."""
    check_ref, tables, problems = index.check_ref, index.tables, index.problems
    for conflict in tables["conflicts"].values():
        for position, party in enumerate(conflict.parties):
            check_ref(party, "states", conflict.id, "parties", position)
    seen: dict[tuple[str, str, object], int] = {}
    for relations, source, path in index.relations:
        for name in ("sending", "receiving", "protecting_power"):
            value = getattr(relations, name)
            if value is None:
                continue
            if index.kinds.get(value) != "states":
                problems.append(Problem(f"unknown State {value!r}: none of the states has "
                                        "this id", source.locate((*path, name))))
        key = (relations.sending, relations.receiving, relations.since)
        if key in seen:
            problems.append(Problem(
                f"relations between {relations.sending!r} and {relations.receiving!r} "
                f"are already stated from the same day (relations[{seen[key]}] of this "
                "case's files)", source.locate((*path, "since"))))
        else:
            seen[key] = path[-1] if isinstance(path[-1], int) else 0
    for incident in tables["incidents"].values():
        if not check_ref(incident.conflict, "conflicts", incident.id, "conflict"):
            continue
        conflict = tables["conflicts"][incident.conflict]
        where = index.locate(incident.id, "conflict")
        outside = [day for day in (incident.date, *incident.also_on)
                   if not conflict.in_force(day)]
        if outside:
            until = conflict.until.isoformat() if conflict.until else "now"
            problems.append(Problem(
                f"the incident is placed in the armed conflict {conflict.id!r} "
                f"({conflict.since.isoformat()} to {until}), but is dated "
                f"{outside[0].isoformat()}, when it was not in force", where))
        if incident.attributed_to not in conflict.parties:
            problems.append(Problem(
                f"the incident is placed in the armed conflict {conflict.id!r}, but the "
                f"State it is attributed to, {incident.attributed_to!r}, is not one of its "
                f"parties ({', '.join(conflict.parties)})", where))


def _check_chronology(note: Note, index: _Index) -> None:
    """The subject and earlier incidents must come before the note, the
    earlier ones before the subject; a reply answers an earlier note."""
    problems, locate, incidents = index.problems, index.locate, index.tables["incidents"]
    if note.in_reply_to is not None and note.in_reply_to.date > note.date:
        problems.append(Problem("the note replied to is dated after this note",
                                locate(None, "in_reply_to", "date")))
    subject = incidents.get(note.subject) if index.check_ref(
        note.subject, "incidents", None, "subject") else None
    if subject is not None and subject.last_date > note.date:
        problems.append(Problem(
            f"the subject incident is dated {subject.last_date.isoformat()}, after the note's "
            f"date {note.date.isoformat()}", locate(subject.id, "date")))
    if not note.earlier and note.chronology_required:
        problems.append(Problem(
            "the note recalls no earlier incidents; list them under 'earlier', or set "
            "'chronology_required: false' if this is the first", locate(None, "subject")))
    for position, earlier_id in enumerate(note.earlier):
        if not index.check_ref(earlier_id, "incidents", None, "earlier", position):
            continue
        earlier = incidents[earlier_id]
        where = locate(None, "earlier", position)
        if earlier_id == note.subject:
            problems.append(Problem("the subject incident cannot also be an earlier one", where))
        elif subject is not None and earlier.last_date >= subject.date:
            problems.append(Problem(
                f"{earlier_id!r} ({earlier.last_date.isoformat()}) is not earlier than the "
                f"subject incident ({subject.date.isoformat()})", where))
        elif earlier.last_date > note.date:
            problems.append(Problem(
                f"{earlier_id!r} is dated after the note ({note.date.isoformat()})", where))


def _check_reference(note: Note, sender: Party, index: _Index) -> None:
    """A reference number must follow the sender's pattern and carry the note's year."""
    pattern = sender.reference_pattern if isinstance(sender, Profile) else None
    if pattern is None or note.reference is None:
        return
    regex = "".join(
        {"{number}": r"(?P<number>\d+)", "{year}": r"(?P<year>\d{4})"}.get(part, re.escape(part))
        for part in re.split(r"(\{number\}|\{year\})", pattern))
    match = re.fullmatch(regex, note.reference)
    where = index.locate(None, "reference")
    if match is None:
        index.problems.append(Problem(f"the reference {note.reference!r} does not follow "
                                      f"the sender's pattern {pattern!r}", where))
    elif "year" in match.groupdict() and int(match["year"]) != note.date.year:
        index.problems.append(Problem(f"the reference carries the year {match['year']}, but "
                                      f"the note is dated {note.date.isoformat()}", where))
