"""Reading a case from YAML or JSON files and checking it as a whole.

:func:`load_case` reads the note file and every file it includes, validates
each against :class:`~notegen.models.RecordFile`, then applies the rules that
need the whole case (ids, dates, the chronology). Every problem found is
collected, located (file, line, column, field path) and raised at once as a
:class:`~notegen.errors.RecordError`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Location, Problem, RecordError
from .models import (
    PATTERN_HINTS,
    Facility,
    Incident,
    Note,
    Party,
    Profile,
    RecordFile,
    State,
)

logger = logging.getLogger(__name__)

#: A field path inside one file, e.g. ``("incidents", 2, "date")``.
FieldPath = tuple[str | int, ...]


#: PyYAML's safe loader in C (libyaml) where the wheel has it: ten times faster.
FastSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(FastSafeLoader):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader without YAML 1.1's base-60 numbers and timestamps.

    Unquoted ``13:30`` would otherwise be read as the integer 810, and an
    impossible date such as ``2024-13-02`` would crash the reader; dates stay
    strings here and the models parse them, with a located error.
    """


_DROPPED = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
               r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


@dataclass
class SourceFile:
    """One file read from disk, with the position of every value in it."""

    path: Path
    text: str
    data: Any
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> Location:
        """The location of ``path``, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            position = self.positions.get(path[:end])
            if position is not None:
                return Location(self.path, position[0], position[1], _dotted(path) or None)
        return Location(self.path, None, None, _dotted(path) or None)


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


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _positions(node: yaml.Node, path: FieldPath,
               out: dict[FieldPath, tuple[int, int]]) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _positions(value, (*path, key.value), out)
                # Point at the key itself: that is where a reader looks.
                out[(*path, key.value)] = (key.start_mark.line + 1, key.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _positions(item, (*path, index), out)


def read_file(path: Path) -> SourceFile:
    """Read one YAML or JSON file, keeping the position of every value.

    :raises RecordError: if the file cannot be read or is not valid syntax.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordError([Problem("file not found", Location(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError([Problem(f"cannot read the file: {exc}", Location(path))]) from None

    node: yaml.Node | None = None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError([Problem(f"invalid JSON: {exc.msg}",
                                       Location(path, exc.lineno, exc.colno))]) from None
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            # Valid JSON that YAML cannot parse (rare): fields are still
            # named, only their lines are unknown.
            logger.debug("no line numbers for %s", path)
    else:
        # One parse: the node tree gives both the positions and the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            message = f"invalid YAML: {exc.problem or exc}"
            line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise RecordError([Problem(message, Location(path, line, column))]) from None
        except yaml.YAMLError as exc:
            raise RecordError([Problem(f"invalid YAML: {exc}", Location(path))]) from None
        finally:
            loader.dispose()
    source = SourceFile(path, text, data)
    if node is not None:
        _positions(node, (), source.positions)
    return source


_MESSAGES = {
    "missing": "this field is required",
    "extra_forbidden": "unknown field (check its spelling)",
}


def _schema_problems(source: SourceFile, error: ValidationError) -> Iterator[Problem]:
    for item in error.errors(include_url=False):
        message = _MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "string_pattern_mismatch":
            pattern = str(item.get("ctx", {}).get("pattern"))
            message = PATTERN_HINTS.get(pattern, message) + f" (not {item['input']!r})"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        yield Problem(message[0].lower() + message[1:], source.locate(tuple(item["loc"])))


def _read_all(path: Path, problems: list[Problem]) -> list[tuple[SourceFile, RecordFile]]:
    """Read ``path`` and, depth first, every file it includes."""
    records: list[tuple[SourceFile, RecordFile]] = []
    seen: set[Path] = set()

    def visit(file: Path, included_from: Location | None) -> None:
        resolved = file.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        try:
            source = read_file(file)
        except RecordError as exc:
            if included_from is not None and not file.exists():
                problems.append(Problem(f"included file {file} not found", included_from))
            else:
                problems.extend(exc.problems)
            return
        if not isinstance(source.data, dict):
            problems.append(Problem("expected a mapping of sections (note, incidents, …) at "
                                    "the top of the file", source.locate(())))
            return
        try:
            record = RecordFile.model_validate(source.data)
        except ValidationError as exc:
            problems.extend(_schema_problems(source, exc))
            includes = source.data.get("include")
            if isinstance(includes, list):  # still check what it includes
                for index, name in enumerate(includes):
                    if isinstance(name, str):
                        visit(file.parent / name, source.locate(("include", index)))
            return
        records.append((source, record))
        for index, name in enumerate(record.include):
            visit(file.parent / name, source.locate(("include", index)))

    visit(path, None)
    return records


def load_case(path: str | Path) -> Case:
    """Load and validate the case whose note is in ``path``.

    ``path`` holds the note and may ``include`` catalogue files (relative to
    itself) holding states, parties, facilities and incidents.

    :raises RecordError: listing every problem found, each located.
    """
    problems: list[Problem] = []
    records = _read_all(Path(path), problems)
    if problems:
        raise RecordError(problems)
    return _assemble(records)


def _check_reference(note: Note, sender: Party, locate: Callable[..., Location],
                     problems: list[Problem]) -> None:
    """A reference number must follow the sender's pattern and carry the note's year."""
    pattern = sender.reference_pattern if isinstance(sender, Profile) else None
    if pattern is None or note.reference is None:
        return
    regex = "".join(
        {"{number}": r"(?P<number>\d+)", "{year}": r"(?P<year>\d{4})"}.get(part, re.escape(part))
        for part in re.split(r"(\{number\}|\{year\})", pattern))
    match = re.fullmatch(regex, note.reference)
    if match is None:
        problems.append(Problem(f"the reference {note.reference!r} does not follow the "
                                f"sender's pattern {pattern!r}", locate(None, "reference")))
    elif "year" in match.groupdict() and int(match["year"]) != note.date.year:
        problems.append(Problem(f"the reference carries the year {match['year']}, but the "
                                f"note is dated {note.date.isoformat()}",
                                locate(None, "reference")))


def _assemble(records: Sequence[tuple[SourceFile, RecordFile]]) -> Case:
    problems: list[Problem] = []
    origins: dict[str, tuple[SourceFile, FieldPath]] = {}
    kinds: dict[str, str] = {}
    tables: dict[str, dict[str, Any]] = {
        "states": {}, "parties": {}, "facilities": {}, "incidents": {}}
    notes: list[tuple[SourceFile, Note]] = []

    for source, record in records:
        for section, table in tables.items():
            for index, item in enumerate(getattr(record, section)):
                if item.id in origins:
                    first = origins[item.id][0].locate(origins[item.id][1])
                    problems.append(Problem(
                        f"duplicate id {item.id!r}; it is already used at "
                        f"{first.file}:{first.line}", source.locate((section, index, "id"))))
                    continue
                origins[item.id] = (source, (section, index))
                kinds[item.id] = section
                table[item.id] = item
        profile = record.profile
        if profile is not None:
            if profile.id in origins:
                first = origins[profile.id][0].locate(origins[profile.id][1])
                problems.append(Problem(
                    f"duplicate id {profile.id!r}; it is already used at "
                    f"{first.file}:{first.line}", source.locate(("profile", "id"))))
            else:
                origins[profile.id] = (source, ("profile",))
                kinds[profile.id] = "parties"
                tables["parties"][profile.id] = profile
        if record.note is not None:
            notes.append((source, record.note))

    if not notes:
        first_source = records[0][0]
        problems.append(Problem("the case has no note: add a 'note' section",
                                first_source.locate(())))
        raise RecordError(problems)
    if len(notes) > 1:
        for source, _ in notes[1:]:
            problems.append(Problem("a case has exactly one note; this is a second one",
                                    source.locate(("note",))))
    note_source, note = notes[0]
    origins[""] = (note_source, ("note",))

    def locate(record_id: str | None, *path: str | int) -> Location:
        return _locate(origins, record_id, path)

    def check_ref(value: str | None, expected: str, owner: str | None,
                  *path: str | int) -> bool:
        if value is None:
            return False
        if value not in kinds:
            problems.append(Problem(f"unknown id {value!r}: none of the {expected} has it",
                                    locate(owner, *path)))
            return False
        if kinds[value] != expected:
            problems.append(Problem(f"{value!r} is one of the {kinds[value]}, but this field "
                                    f"refers to one of the {expected}", locate(owner, *path)))
            return False
        return True

    for party in tables["parties"].values():
        check_ref(party.state, "states", party.id, "state")
    for facility in tables["facilities"].values():
        check_ref(facility.owner, "states", facility.id, "owner")
        check_ref(facility.host, "states", facility.id, "host")
        check_ref(facility.part_of, "facilities", facility.id, "part_of")
    for incident in tables["incidents"].values():
        check_ref(incident.country, "states", incident.id, "country")
        check_ref(incident.attributed_to, "states", incident.id, "attributed_to")
        for index, impact in enumerate(incident.impacts):
            check_ref(impact.facility, "facilities", incident.id, "impacts", index, "facility")

    check_ref(note.addressee, "parties", None, "addressee")
    if check_ref(note.sender, "parties", None, "sender"):
        _check_reference(note, tables["parties"][note.sender], locate, problems)
    if note.in_reply_to is not None and note.in_reply_to.date > note.date:
        problems.append(Problem("the note replied to is dated after this note",
                                locate(None, "in_reply_to", "date")))
    for index, citation in enumerate(note.legal_bases or ()):
        for position, facility_id in enumerate(citation.facilities):
            check_ref(facility_id, "facilities", None, "legal_bases", index, "facilities",
                      position)
    subject_ok = check_ref(note.subject, "incidents", None, "subject")
    subject = tables["incidents"].get(note.subject) if subject_ok else None

    if subject is not None and subject.last_date > note.date:
        problems.append(Problem(
            f"the subject incident is dated {subject.last_date.isoformat()}, after the note's "
            f"date {note.date.isoformat()}", locate(subject.id, "date")))

    if not note.earlier and note.chronology_required:
        problems.append(Problem(
            "the note recalls no earlier incidents; list them under 'earlier', or set "
            "'chronology_required: false' if this is the first", locate(None, "subject")))
    for index, earlier_id in enumerate(note.earlier):
        if not check_ref(earlier_id, "incidents", None, "earlier", index):
            continue
        earlier = tables["incidents"][earlier_id]
        where = locate(None, "earlier", index)
        if earlier_id == note.subject:
            problems.append(Problem("the subject incident cannot also be an earlier one", where))
        elif subject is not None and earlier.last_date >= subject.date:
            problems.append(Problem(
                f"{earlier_id!r} ({earlier.last_date.isoformat()}) is not earlier than the "
                f"subject incident ({subject.date.isoformat()})", where))
        elif earlier.last_date > note.date:
            problems.append(Problem(
                f"{earlier_id!r} is dated after the note ({note.date.isoformat()})", where))

    if problems:
        raise RecordError(problems)
    return Case(note=note, states=tables["states"], parties=tables["parties"],
                facilities=tables["facilities"], incidents=tables["incidents"],
                files=tuple(source for source, _ in records), origins=origins)


def dump_case(case: Case, note: Note | None = None) -> bytes:
    """``case`` as one JSON record file, with ``note`` in place of its note if
    given: what notegen embeds in a PDF. :func:`load_case` reads it back to
    the same records, and dumping those gives the same bytes.

    Only the sender's profile keeps its house style; another profile (which
    cannot change the note) is written as the party it is.
    """
    sender = case.parties[case.note.sender]
    profile = sender if isinstance(sender, Profile) else None
    parties = [Party.model_validate(party.model_dump(include=set(Party.model_fields)))
               if isinstance(party, Profile) else party
               for party in case.parties.values() if party is not profile]
    record = RecordFile(states=list(case.states.values()), parties=parties,
                        facilities=list(case.facilities.values()),
                        incidents=list(case.incidents.values()), profile=profile,
                        note=note or case.note)
    data = record.model_dump(mode="json", exclude_defaults=True)
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

