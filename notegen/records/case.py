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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Location, Problem, RecordError
from . import collector
from .incidents import Selection, read_catalogue
from .models import (
    RULE_PARTIES,
    ArmedConflict,
    Chronology,
    Facility,
    Incident,
    Note,
    NoteAsWritten,
    Party,
    Profile,
    RecordFile,
    Relations,
    State,
)
from .reading import (
    Budget,
    FieldPath,
    SourceFile,
    UnreadableFile,
    overlaid,
    parse_source,
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
    #: How the note's earlier incidents were chosen, if by a rule.
    chronology: ChronologyChoice | None = None
    #: The incident catalogues (folders) the case names.
    catalogues: tuple[Path, ...] = ()
    #: Warnings about the records that do not stop a render: incidents of the
    #: catalogue a chronology leaves out, a rule's additions it chooses anyway.
    notices: tuple[Problem, ...] = ()

    def locate(self, record_id: str | None, *path: str | int) -> Location:
        """Where ``path`` inside the record ``record_id`` (``None``: the note) was written."""
        return _locate(self.origins, record_id, path)

    @property
    def source_paths(self) -> tuple[Path, ...]:
        return tuple(source.path for source in self.files)


@dataclass(frozen=True)
class ChronologyChoice:
    """The earlier incidents a rule chose (:class:`~.models.Chronology`), in
    the order the note recalls them."""

    #: The rule as written, with its additions and exclusions.
    written: Chronology
    #: What the rule chose by itself, before ``add`` and ``exclude``.
    chosen: tuple[str, ...]
    #: What the note recalls: the rule's choice, less the exclusions, with the
    #: additions; oldest first.
    resolved: tuple[str, ...]


def _locate(origins: dict[str, tuple[SourceFile, FieldPath]], record_id: str | None,
            path: FieldPath) -> Location:
    source, base = origins[record_id or ""]
    return source.locate(base + path)


def _read_all(first: SourceFile, problems: list[Problem], *, includes: bool,
              root: Path | None, overlay: Mapping[Path, bytes] | None = None,
              catalogues: dict[Path, None] | None = None
              ) -> list[tuple[SourceFile, RecordFile]]:
    """Validate ``first`` and, depth first, every file it includes (none if
    not ``includes``; only files inside ``root`` if given), and every file of
    each catalogue a file names (added to ``catalogues``); an included file
    whose real path is a key of ``overlay`` is read from there, not from disk."""
    records: list[tuple[SourceFile, RecordFile]] = []
    seen: set[Path] = set()
    catalogues = {} if catalogues is None else catalogues
    budget = Budget(MAX_CASE_BYTES, f"the case past the {MAX_CASE_BYTES // (1024 * 1024)} MB "
                    "a case may read in all", used=len(first.text.encode("utf-8")))

    def visit(file: Path, name: str, included_from: Location) -> None:
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
        try:
            raw = budget.read(file, root=root, overlay=overlay, real=resolved)
        except UnreadableFile as exc:
            problems.append(Problem(f"included file {name} {exc.reason}", included_from))
            return
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
        folder = source.data.get("catalogue")
        if folder and not includes:
            problems.append(Problem(
                "this case cannot name a catalogue: give every record in this one file (as "
                "`notegen extract` writes it)", source.locate(("catalogue",))))
        elif isinstance(folder, str) and folder.strip():
            real = Path(os.path.realpath(source.path.parent / folder.strip()))
            if real not in catalogues:
                catalogues[real] = None
                records.extend(read_catalogue(source.path.parent / folder.strip(), problems,
                                              source.locate(("catalogue",)), root=root,
                                              seen=seen, overlay=overlay))
        if isinstance(names, list):  # a broken file's includes are still checked
            for index, name in enumerate(names):
                if isinstance(name, str):
                    visit(source.path.parent / name, name, source.locate(("include", index)))

    seen.add(Path(os.path.realpath(first.path)))
    check(first)
    return records


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
            first = parse_source(path, overlaid(path, overlay[real]))
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


@dataclass(frozen=True)
class IncidentCatalogue:
    """A ministry's incident catalogue, validated on its own: its records by
    id, where each was written (:meth:`locate`)."""

    folder: Path
    states: dict[str, State]
    parties: dict[str, Party]
    facilities: dict[str, Facility]
    incidents: dict[str, Incident]
    conflicts: dict[str, ArmedConflict]
    relations: tuple[Relations, ...]
    files: tuple[SourceFile, ...]
    origins: dict[str, tuple[SourceFile, FieldPath]]

    def locate(self, record_id: str, *path: str | int) -> Location:
        """Where ``path`` inside the record ``record_id`` was written."""
        return _locate(self.origins, record_id, path)


def load_incident_catalogue(folder: str | Path, *, root: Path | None = None
                            ) -> IncidentCatalogue:
    """Load and validate the incident catalogue in ``folder`` on its own,
    by the rules a case that names it applies to its records (every id
    unique, every reference resolved, incidents within their conflicts);
    with ``root``, only files inside that folder.

    :raises RecordError: listing every problem found, each located.
    """
    folder = Path(folder)
    problems: list[Problem] = []
    with collector.paused():  # linear in the records: see .collector
        records = read_catalogue(folder, problems, Location(folder),
                                 root=Path(os.path.realpath(root)) if root else None)
        if problems:
            raise RecordError(_listed(problems))
        index = _Index(problems)
        _index_all(records, index)
        _check_record_references(index)
        _check_situation(index)
        if problems:
            raise RecordError(_listed(problems))
    tables = index.tables
    return IncidentCatalogue(folder, tables["states"], tables["parties"], tables["facilities"],
                             tables["incidents"], tables["conflicts"],
                             tuple(relations for relations, _, _ in index.relations),
                             tuple(source for source, _ in records), index.origins)


def _load(first: SourceFile, *, includes: bool, root: Path | None,
          overlay: Mapping[Path, bytes] | None = None) -> Case:
    problems: list[Problem] = []
    catalogues: dict[Path, None] = {}
    with collector.paused():  # linear in the records: see .collector
        records = _read_all(first, problems, includes=includes,
                            root=Path(os.path.realpath(root)) if root is not None else None,
                            overlay=overlay, catalogues=catalogues)
        if problems:
            raise RecordError(_listed(problems))
        return _assemble(records, tuple(catalogues))


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


def _assemble(records: Sequence[tuple[SourceFile, RecordFile]],
              catalogues: tuple[Path, ...] = ()) -> Case:
    index = _Index([])
    written = _index_records(records, index)
    _check_references(written, index)
    _check_situation(index)
    notices: list[Problem] = []
    note, choice, where = _resolve_chronology(written, index, notices)
    if catalogues and not isinstance(written.earlier, Chronology):
        notices.extend(_left_out(note, index))
    _check_chronology(note, index, where)
    if index.problems:
        raise RecordError(_listed(index.problems))
    tables = index.tables
    return Case(note=note, states=tables["states"], parties=tables["parties"],
                facilities=tables["facilities"], incidents=tables["incidents"],
                files=tuple(source for source, _ in records), origins=index.origins,
                conflicts=tables["conflicts"],
                relations=tuple(relations for relations, _, _ in index.relations),
                chronology=choice, catalogues=catalogues, notices=tuple(notices))


def _index_records(records: Sequence[tuple[SourceFile, RecordFile]], index: _Index
                   ) -> NoteAsWritten:
    """Index every record of ``records`` by id; return the case's one note.

    :raises RecordError: if there is no note (nothing else can be checked).
    """
    notes = _index_all(records, index)
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


def _index_all(records: Sequence[tuple[SourceFile, RecordFile]], index: _Index
               ) -> list[tuple[SourceFile, NoteAsWritten]]:
    """Index every record of ``records`` by id; return the notes, each with its file."""
    notes: list[tuple[SourceFile, NoteAsWritten]] = []
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
    return notes


def _check_references(note: NoteAsWritten, index: _Index) -> None:
    """Every id a record names must be a record of the kind the field wants."""
    _check_record_references(index)
    check_ref = index.check_ref
    check_ref(note.addressee, "parties", None, "addressee")
    if check_ref(note.sender, "parties", None, "sender"):
        _check_reference(note, index.tables["parties"][note.sender], index)
    for position, citation in enumerate(note.legal_bases or ()):
        for place, facility_id in enumerate(citation.facilities):
            check_ref(facility_id, "facilities", None, "legal_bases", position, "facilities",
                      place)


def _check_record_references(index: _Index) -> None:
    """Every id a record other than the note names must be a record of the
    kind the field wants."""
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
        outside = [day for day in (incident.date, *incident.also_on)
                   if not conflict.in_force(day)]
        if outside:
            until = conflict.until.isoformat() if conflict.until else "now"
            problems.append(Problem(
                f"the incident is placed in the armed conflict {conflict.id!r} "
                f"({conflict.since.isoformat()} to {until}), but is dated "
                f"{outside[0].isoformat()}, when it was not in force",
                index.locate(incident.id, "conflict")))
        if incident.attributed_to not in conflict.parties:
            problems.append(Problem(
                f"the incident is placed in the armed conflict {conflict.id!r}, but the "
                f"State it is attributed to, {incident.attributed_to!r}, is not one of its "
                f"parties ({', '.join(conflict.parties)})", index.locate(incident.id, "conflict")))


def _check_chronology(note: Note, index: _Index,
                      where: Mapping[str, FieldPath] | None = None) -> None:
    """The subject and earlier incidents must come before the note, the
    earlier ones before the subject; a reply answers an earlier note.
    ``where`` says where each earlier incident is named, if not by position
    in the note's list."""
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
            "'chronology_required: false' if this is the first", locate(None, "subject"))
            if where is None else Problem(
            "the rule under 'earlier' chooses no incident of the case; widen it, add "
            "incidents, or set 'chronology_required: false' if this is the first",
            locate(None, "earlier", "rule")))
    for position, earlier_id in enumerate(note.earlier):
        path = where.get(earlier_id, ("earlier",)) if where is not None else \
            ("earlier", position)
        if not index.check_ref(earlier_id, "incidents", None, *path):
            continue
        reason = _not_earlier(incidents[earlier_id], note, subject)
        if reason is not None:
            problems.append(Problem(reason, locate(None, *path)))


def _not_earlier(earlier: Incident, note: Note, subject: Incident | None) -> str | None:
    """Why ``earlier`` cannot be an earlier incident of ``note`` (whose
    subject incident is ``subject``), or ``None`` if it can."""
    if earlier.id == note.subject:
        return "the subject incident cannot also be an earlier one"
    if subject is not None and earlier.last_date >= subject.date:
        return (f"{earlier.id!r} ({earlier.last_date.isoformat()}) is not earlier than the "
                f"subject incident ({subject.date.isoformat()})")
    if earlier.last_date > note.date:
        return f"{earlier.id!r} is dated after the note ({note.date.isoformat()})"
    return None


def _resolve_chronology(written: NoteAsWritten, index: _Index, notices: list[Problem]
                        ) -> tuple[Note, ChronologyChoice | None, dict[str, FieldPath] | None]:
    """The note with its earlier incidents listed: as written, or chosen by
    its rule (with its additions, without its exclusions, oldest first); how
    the rule chose them, and where each is named (``None``: by position in
    the note's own list). A rule's names are checked here, located; an
    addition the rule chooses anyway, or an exclusion it does not choose, is
    a notice."""
    fields = dict(written)
    chronology = written.earlier
    if not isinstance(chronology, Chronology):
        return Note.model_validate(fields), None, None
    check_ref, incidents = index.check_ref, index.tables["incidents"]
    known = {kind: [check_ref(value, "incidents", None, "earlier", kind, position)
                    for position, value in enumerate(getattr(chronology, kind))]
             for kind in ("add", "exclude")}
    selection = _selection(written, chronology, index)
    subject = incidents.get(written.subject)
    chosen: list[str] = []
    if selection is not None:
        facilities = index.tables["facilities"]
        chosen = [incident.id for incident in selection.choose(incidents.values(), facilities)
                  if _not_earlier(incident, written, subject) is None]
    where: dict[str, FieldPath] = dict.fromkeys(chosen, ("earlier", "rule"))
    picked = set(chosen)
    for position, (incident_id, ok) in enumerate(zip(chronology.add, known["add"],
                                                     strict=True)):
        if ok and incident_id in picked:
            notices.append(Problem(f"the rule chooses {incident_id!r} already; it need not "
                                   "be added", index.locate(None, "earlier", "add", position)))
        where.setdefault(incident_id, ("earlier", "add", position))
    for position, (incident_id, ok) in enumerate(zip(chronology.exclude, known["exclude"],
                                                     strict=True)):
        if ok and incident_id not in picked and incident_id not in chronology.add:
            notices.append(Problem(f"the rule does not choose {incident_id!r}; there is "
                                   "nothing to exclude",
                                   index.locate(None, "earlier", "exclude", position)))
    excluded = set(chronology.exclude)
    listed = [incident_id for incident_id in dict.fromkeys([*chosen, *chronology.add])
              if incident_id not in excluded]
    resolved = [incident.id for incident in sorted(
        (incidents[incident_id] for incident_id in listed if incident_id in incidents),
        key=lambda incident: (incident.date, incident.id))]
    resolved += [incident_id for incident_id in listed if incident_id not in incidents]
    note = Note.model_validate({**fields, "earlier": resolved})
    return note, ChronologyChoice(chronology, tuple(chosen), tuple(resolved)), where


def _selection(note: Note, chronology: Chronology, index: _Index) -> Selection | None:
    """What the rule of ``chronology`` chooses, its States named; ``None``
    if one of its names is no State (a located problem)."""
    rule, parties = chronology.rule, index.tables["parties"]
    states: dict[str, str] = {}
    for name in ("attributed_to", "struck"):
        value: str = getattr(rule, name)
        if value in RULE_PARTIES:
            party = parties.get(getattr(note, value))
            if party is None:
                return None  # an unknown sender or addressee: reported already
            states[name] = party.state
        elif index.check_ref(value, "states", None, "earlier", "rule", name):
            states[name] = value
    countries = [index.check_ref(value, "states", None, "earlier", "rule", "countries",
                                 position) for position, value in enumerate(rule.countries)]
    if len(states) < 2 or not all(countries):
        return None
    return Selection(since=rule.since, until=rule.until, countries=frozenset(rule.countries),
                     attributed_to=states["attributed_to"], struck=states["struck"],
                     premises=frozenset(rule.premises), effects=frozenset(rule.effects))


#: The rule a listed chronology is compared with, where the case has a
#: catalogue: every incident attributed to the addressee's State that struck
#: the sender's premises before the subject incident.
_EVERY_EARLIER = Chronology.model_validate({"rule": {}})


def expected_earlier(case: Case, incidents: Iterable[Incident] = (),
                     facilities: Mapping[str, Facility] | None = None) -> list[str]:
    """The ids of the incidents the checks would have the note of ``case``
    recall, oldest first: those the default chronology rule chooses
    (attributed to the addressee's State, having struck premises of the
    sender's State, before the subject incident), what ``validate`` compares
    a listed chronology with. Chosen among the case's incidents and
    ``incidents`` (more of them, e.g. a drafting desk's workspace), their
    premises among the case's facilities and ``facilities``."""
    index = _Index([])
    index.tables["states"].update(case.states)
    index.tables["parties"].update(case.parties)
    index.tables["facilities"].update({**(facilities or {}), **case.facilities})
    selection = _selection(case.note, _EVERY_EARLIER, index)
    subject = case.incidents.get(case.note.subject)
    if selection is None or subject is None:
        return []
    candidates = {**{incident.id: incident for incident in incidents}, **case.incidents}
    chosen = [incident for incident in selection.choose(candidates.values(),
                                                        index.tables["facilities"])
              if _not_earlier(incident, case.note, subject) is None]
    return [incident.id for incident in sorted(chosen, key=lambda i: (i.date, i.id))]


def _left_out(note: Note, index: _Index) -> Iterator[Problem]:
    """A notice naming the incidents of the catalogue that the default rule
    chooses and the note's own list of earlier incidents leaves out."""
    selection = _selection(note, _EVERY_EARLIER, index)
    incidents = index.tables["incidents"]
    subject = incidents.get(note.subject)
    if selection is None or subject is None:
        return
    listed = set(note.earlier)
    missed = [incident.id for incident in selection.choose(incidents.values(),
                                                           index.tables["facilities"])
              if incident.id not in listed and _not_earlier(incident, note, subject) is None]
    if missed:
        attributed, struck = selection.attributed_to, selection.struck
        named = ", ".join(repr(incident_id) for incident_id in missed[:10]) + (
            f" and {len(missed) - 10} more" if len(missed) > 10 else "")
        yield Problem(
            f"the catalogue has {len(missed)} incident{'s' if len(missed) != 1 else ''} "
            f"attributed to {attributed!r} that struck premises of {struck!r} before the "
            f"subject incident, which 'earlier' does not list: {named}; list "
            f"{'them' if len(missed) != 1 else 'it'}, or give 'earlier' as a rule (with "
            "exclude for those the note should not recall)", index.locate(None, "earlier"))


def _check_reference(note: Note, sender: Party, index: _Index) -> None:
    """A reference number must follow the sender's pattern and carry the note's year."""
    pattern = sender.reference_pattern if isinstance(sender, Profile) else None
    if pattern is None or note.reference is None:
        return
    regex = "".join(
        {"{number}": r"(?P<number>\d+)", "{year}": r"(?P<year>\d{4})"}.get(part, re.escape(part))
        for part in re.split(r"(\{number\}|\{year\})", pattern))
    match = re.fullmatch(regex, note.reference)
    # Located only for a problem: locating composes a JSON file's nodes again.
    if match is None:
        index.problems.append(Problem(f"the reference {note.reference!r} does not follow "
                                      f"the sender's pattern {pattern!r}",
                                      index.locate(None, "reference")))
    elif "year" in match.groupdict() and int(match["year"]) != note.date.year:
        index.problems.append(Problem(f"the reference carries the year {match['year']}, but "
                                      f"the note is dated {note.date.isoformat()}",
                                      index.locate(None, "reference")))
