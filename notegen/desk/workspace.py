"""The desk's workspace: a folder of cases (and the profiles and catalogues
they include), read and written through the desk and nothing else.

:class:`Workspace` lists the cases and incidents of its folder, opens any
record file in it, saves edits back and scaffolds or duplicates cases:

- **Confined.** Paths are POSIX names relative to the workspace root
  (``az-kyiv-2025/note.yaml``). :meth:`Workspace.resolve` refuses an
  absolute path, ``..``, a hidden name (``.git``, the desk's own
  ``.notegen-desk``), a file that is not ``.yaml``, ``.yml`` or ``.json``
  and a symlink whose target lies outside the root; reading refuses a
  device, pipe or socket and a file over
  :data:`~notegen.records.reading.MAX_FILE_BYTES` (the records' own
  reader, :func:`~notegen.records.reading.read_bytes`, does it).
- **Round-trip saving.** An :class:`Edit` names a field as notegen's
  problems do (``incidents[0].date``, ``note.earlier``,
  ``incidents[0].account.ru``; :func:`parse_field`). Saving loads the file
  with ruamel.yaml's round-trip loader, changes the touched values only and
  writes it back: comments, key order, quoting, folded (``>-``) and literal
  blocks, flow mappings and the editor's modeline stay as they were. The
  untouched lines are kept byte for byte even where ruamel.yaml would write
  them otherwise (a long flow mapping the author wrapped): the file is
  merged three ways, the original against ruamel.yaml's own rendering of
  it, unedited and edited (:func:`_merge3`). A text is converted to the
  schema's type where the field is no string (an integer, a boolean); a
  date stays a plain YAML scalar (``date: 2025-11-14``, as notegen reads it).
- **No lost edit.** A save names the version (sha256 of the bytes) of every
  file as the editor opened it; if any file changed since, nothing is
  written and :class:`EditConflict` says who changed it (from the desk's
  journal) or that it was changed outside the desk, and when. Saves of one
  workspace take turns on a lock file (``fcntl``), so the service's worker
  processes cannot both win. Files are written to a temporary file and
  renamed into place, keeping their mode; the files of one save are all
  written or none is.
- **Journal.** Every write is a line of ``.notegen-desk/journal.jsonl``
  under the root: who, when (the clock: it is an edit log, not a rendered
  output), which file, the old and the new version.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import difflib
import enum
import fcntl
import hashlib
import io
import itertools
import json
import logging
import math
import os
import pickle
import re
import secrets
import shutil
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from ..errors import Location, NotegenError, Problem, RecordError
from ..records.case import Case, load_case
from ..records.case import expected_earlier as checks_expect
from ..records.models import Facility, Incident
from ..records.reading import MAX_FILE_BYTES, parse_source, read_bytes
from ..render.scaffold import SCHEMA, CaseSpec, new_case
from ..template_folders import TemplateFolders, builtin

logger = logging.getLogger(__name__)

#: The suffixes of the files the desk reads and writes.
SUFFIXES = (".yaml", ".yml", ".json")
#: The desk's own folder under the workspace root: the journal and the lock.
DESK_FOLDER = ".notegen-desk"
#: How many files :meth:`Workspace.cases` and :meth:`Workspace.incidents` look at.
MAX_WORKSPACE_FILES = 10_000
#: How long a rel path may be.
MAX_REL_CHARS = 1000


class DeskError(NotegenError):
    """A request the desk refuses: a path outside the workspace or of a kind
    it does not edit, a file that cannot be read, a field that does not
    exist, YAML that cannot be saved. :attr:`problems` locates what it can
    (by the file's name relative to the workspace)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join([message, *(f"  {p}" for p in self.problems)]))
        #: The sentence without the problems.
        self.message = message


class EditConflict(DeskError):
    """A save refused because a file changed since the editor opened it:
    nothing was written. :attr:`current` is the file as it is now (the
    first one that changed; :attr:`conflicts` lists every one), so the
    caller can show both versions."""

    def __init__(self, message: str, conflicts: Sequence[Opened]) -> None:
        super().__init__(message)
        self.conflicts = tuple(conflicts)
        self.current = self.conflicts[0]


class _Delete(enum.Enum):
    DELETE = "DELETE"

    def __repr__(self) -> str:
        return "DELETE"


#: The value of an :class:`Edit` that removes the field.
DELETE = _Delete.DELETE

#: A field path inside one file, e.g. ``("incidents", 0, "date")``.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Edit:
    """One field of one file set to a value (JSON data), or removed with
    :data:`DELETE`. ``field`` is written as notegen's problems name it:
    ``incidents[0].date``, ``note.earlier``, ``incidents[0].account.fr``."""

    file: str
    field: str
    value: Any


@dataclass(frozen=True)
class Opened:
    """A record file as the desk reads it."""

    rel: str
    text: str
    #: sha256 (hex) of the file's bytes: what a save must name.
    version: str
    #: The content as plain JSON data (dates as ``YYYY-MM-DD`` strings);
    #: ``None`` if the file is not valid YAML/JSON (see :attr:`problems`).
    data: Any
    modified_at: dt.datetime
    #: Who saved this version through the desk; ``None``: changed outside it.
    modified_by: str | None
    #: Why the file cannot be read as data (invalid syntax), located by rel.
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class CaseSummary:
    """A case of the workspace as the case list shows it."""

    rel: str
    subject: str | None
    subject_date: dt.date | None
    sender: str | None
    addressee: str | None
    note_type: str | None
    #: The note's language first, then the others its protest is written in.
    languages: tuple[str, ...]
    modified_at: dt.datetime
    modified_by: str | None


@dataclass(frozen=True)
class IncidentSummary:
    """An incident defined somewhere in the workspace."""

    id: str
    date: dt.date | None
    #: The place by language; a place given as one text is under ``""``.
    place: dict[str, str]
    country: str | None
    attributed_to: str | None
    #: The file that defines it (rel).
    file: str
    #: The facilities it hit (ids), in the order written.
    facilities: tuple[str, ...]


@dataclass(frozen=True)
class ChronologyItem:
    """An incident the note may recall."""

    incident: IncidentSummary
    #: It is in the note's ``earlier`` list.
    ticked: bool
    #: The checks would have the note recall it
    #: (:func:`notegen.records.case.expected_earlier`).
    expected: bool
    #: Why it is (or is not) expected, in a sentence.
    reason: str
    #: One of the case's own files defines it (otherwise ticking it needs an include).
    in_case: bool = True


# ----------------------------------------------------------------------------------------
# Field paths


_FIELD_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_field(text: str) -> FieldPath:
    """The parts of a field path as notegen's problems write it
    (``incidents[0].account.ru`` -> ``("incidents", 0, "account", "ru")``).

    :raises DeskError: if ``text`` is not one.
    """
    parts: list[str | int] = []
    position = 0
    if not isinstance(text, str) or not text or len(text) > MAX_REL_CHARS:
        raise DeskError(f"{text!r} is not a field path such as incidents[0].date")
    while position < len(text):
        match = _FIELD_TOKEN.match(text, position)
        if match is None or (match.group(2) is not None and position == 0
                             and text.startswith(".")):
            raise DeskError(f"{text!r} is not a field path such as incidents[0].date")
        if match.group(1) is not None:
            parts.append(int(match.group(1)))
        else:
            if position > 0 and not text.startswith(".", position):
                raise DeskError(f"{text!r} is not a field path such as incidents[0].date")
            parts.append(match.group(2))
        position = match.end()
    if not isinstance(parts[0], str):
        raise DeskError(f"{text!r} is not a field path such as incidents[0].date")
    return tuple(parts)


def format_field(path: Sequence[str | int]) -> str:
    """``path`` written as notegen's problems write it (the inverse of :func:`parse_field`)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# ----------------------------------------------------------------------------------------
# The records' schema, for the type a text stands for


class _Schema:
    """The records' JSON Schema, walked by field path."""

    def __init__(self) -> None:
        #: The schema notegen ships (and ``notegen schema`` prints).
        self.root: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
        self.defs: dict[str, Any] = self.root.get("$defs", {})

    def expand(self, schema: Any) -> list[dict[str, Any]]:
        """``schema`` with ``$ref`` followed and ``anyOf``/``oneOf`` spread out."""
        if not isinstance(schema, dict):
            return []
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return self.expand(self.defs.get(ref.removeprefix("#/$defs/")))
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return [one for alternative in alternatives for one in self.expand(alternative)]
        if "allOf" in schema:
            return [one for part in schema["allOf"] for one in self.expand(part)]
        return [schema]

    def child(self, schemas: list[dict[str, Any]], part: str | int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for schema in schemas:
            if isinstance(part, int):
                found += self.expand(schema.get("items"))
                continue
            properties = schema.get("properties", {})
            if part in properties:
                found += self.expand(properties[part])
                continue
            for pattern, value in schema.get("patternProperties", {}).items():
                if re.search(pattern, part):
                    found += self.expand(value)
                    break
            else:
                extra = schema.get("additionalProperties")
                if isinstance(extra, dict):
                    found += self.expand(extra)
        return found

    def at(self, path: FieldPath) -> list[dict[str, Any]]:
        schemas = self.expand(self.root)
        for part in path:
            schemas = self.child(schemas, part)
        return schemas


_SCHEMA: _Schema | None = None


def _schema() -> _Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _Schema()
    return _SCHEMA


def _types(schemas: list[dict[str, Any]]) -> set[str]:
    types: set[str] = set()
    for schema in schemas:
        kind = schema.get("type")
        if isinstance(kind, list):
            types.update(kind)
        elif isinstance(kind, str):
            types.add(kind)
        elif "enum" in schema or "const" in schema:
            types.add("string")
    return types


_INTEGER = re.compile(r"[-+]?\d{1,18}")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _typed(value: Any, schemas: list[dict[str, Any]]) -> Any:
    """A text ``value`` as the type the schema wants where that is no string
    (``"3"`` for an integer field is 3); anything else as it is."""
    if not isinstance(value, str) or not schemas:
        return value
    types = _types(schemas)
    if not types or "string" in types:
        return value
    text = value.strip()
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types and _NUMBER.fullmatch(text):
        return float(text)
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text == "":
        return None
    return value


# ----------------------------------------------------------------------------------------
# Round-trip editing


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Resolver(VersionedResolver):
    """YAML 1.2 without timestamps, as notegen's reader reads records: a
    date is a plain scalar that stays a string (an impossible one too, for
    the checks to report), and is written back plain."""

    @property
    def versioned_resolver(self) -> Any:
        table = super().versioned_resolver
        if not getattr(self, "_no_timestamps", False):
            for resolvers in table.values():
                resolvers[:] = [item for item in resolvers if item[0] != _TIMESTAMP]
            self._no_timestamps = True
        return table


def _yaml(text: str) -> YAML:
    """A round-trip YAML instance that writes as ``text`` is indented."""
    yaml = YAML(typ="rt")
    yaml.Resolver = _Resolver
    yaml.preserve_quotes = True
    yaml.width = 4096  # wrapping is left to the author (and to folded blocks)
    mapping, sequence, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


_KEY_LINE = re.compile(r"^( *)(?:- +)?[^\s#\-][^:#]*:\s*(#.*)?$")


def _indentation(text: str) -> tuple[int, int, int]:
    """The mapping indent, sequence indent and dash offset ``text`` uses
    (2, 4, 2 unless it shows otherwise)."""
    mapping, offset = None, None
    lines = [line for line in text.splitlines() if line.strip() and
             not line.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        indent = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("- "):
            indent += len(line.lstrip()) - len(line.lstrip()[1:].lstrip()) + 0
        deeper = len(following) - len(following.lstrip(" "))
        if deeper <= indent:
            continue
        if following.lstrip().startswith("- "):
            offset = offset if offset is not None else deeper - indent
        elif mapping is None:
            mapping = deeper - indent
        if mapping is not None and offset is not None:
            break
    indent = mapping if mapping is not None and mapping in range(1, 9) else 2
    dash = offset if offset is not None and offset in range(9) else indent
    return indent, dash + 2, dash


def _fold_width(old: Any) -> int:
    """The line width of the folded block ``old``, to fold a new text alike."""
    positions = list(getattr(old, "fold_pos", []) or [])
    if isinstance(old, str) and positions:
        edges = [-1, *positions, len(old)]
        widest: int = max(b - a - 1 for a, b in itertools.pairwise(edges))
        return max(60, widest)
    return 80


def _folded(text: str, width: int) -> FoldedScalarString:
    """``text`` as a folded block, each line as long as it can be up to
    ``width`` characters (or one word), broken at single spaces."""
    folded: FoldedScalarString = FoldedScalarString(text)
    positions: list[int] = []
    start = 0
    last_space = -1
    for index, char in enumerate(text):
        if char == "\n":
            start, last_space = index + 1, -1
            continue
        if (char == " " and 0 < index < len(text) - 1 and not text[index - 1].isspace()
                and not text[index + 1].isspace()):
            if index - start > width and last_space > start:
                positions.append(last_space)
                start = last_space + 1
            last_space = index
    if len(text) - start > width and last_space > start:
        positions.append(last_space)
    folded.fold_pos = positions  # type: ignore[attr-defined]
    return folded


def _styled(value: Any, old: Any, siblings: Sequence[Any] = ()) -> Any:
    """The new text ``value`` in the style of the text it replaces (or, for a
    new one, of its siblings): folded, literal or quoted as that was."""
    if not isinstance(value, str) or isinstance(value, bool):
        return value
    model = old if isinstance(old, str) else next(
        (s for s in siblings if isinstance(s, FoldedScalarString | LiteralScalarString)),
        None)
    if isinstance(model, LiteralScalarString) or ("\n" in value and model is None):
        return LiteralScalarString(value)
    if isinstance(model, FoldedScalarString):
        if "\n" in value.rstrip("\n"):
            return LiteralScalarString(value)
        return _folded(value, _fold_width(model))
    if isinstance(model, SingleQuotedScalarString):
        return SingleQuotedScalarString(value)
    if isinstance(model, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    return value


def _into(old: Any, new: Any, schemas: list[dict[str, Any]], schema: _Schema) -> Any:
    """``new`` (JSON data) put in place of ``old`` (ruamel.yaml data), keeping
    what of ``old`` it can: a mapping's comments, key order and flow style,
    a list's style, a text's folding or quoting."""
    if isinstance(new, dict) and isinstance(old, CommentedMap):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            below = schema.child(schemas, key)
            typed = _typed(value, below)
            if key in old and _plain(old[key]) == typed:
                continue  # untouched: its comments and style stay as they are
            if key in old:
                old[key] = _into(old[key], typed, below, schema)
            else:
                old[key] = _fresh(_typed(value, below), list(old.values()))
        return old
    if isinstance(new, list) and isinstance(old, CommentedSeq):
        below = schema.child(schemas, 0)
        items = [_typed(item, below) for item in new]
        plain = [_plain(item) for item in old]
        matcher = difflib.SequenceMatcher(None, plain, items, autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                continue
            replaced = [_into(old[i1 + k], items[j1 + k], below, schema)
                        if tag == "replace" and i1 + k < i2 else _fresh(items[j1 + k], old)
                        for k in range(j2 - j1)]
            del old[i1:i2]
            for k, item in enumerate(replaced):
                old.insert(i1 + k, item)
        return old
    if isinstance(new, dict | list):
        return _fresh(new, ())
    return _styled(new, old)


def _fresh(value: Any, siblings: Sequence[Any]) -> Any:
    """``value`` (JSON data) as new ruamel.yaml data: block style; a text in
    the style of its ``siblings``' texts."""
    if isinstance(value, dict):
        fresh = CommentedMap()
        for key, item in value.items():
            fresh[key] = _fresh(item, ())
        return fresh
    if isinstance(value, list):
        seq = CommentedSeq()
        seq.extend(_fresh(item, ()) for item in value)
        return seq
    return _styled(value, None, siblings)


def _plain(value: Any) -> Any:
    """ruamel.yaml data as plain JSON data."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def _place(document: Any, path: FieldPath, schema: _Schema, *, create: bool, rel: str,
           field_text: str) -> tuple[Any, str | int, list[dict[str, Any]]]:
    """The container and key ``path`` names in ``document`` (a key may hold
    dots: ``formulae.en.note_verbale.opening``), and the schemas of the
    value; with ``create``, missing mappings and lists on the way are made."""
    node = document
    schemas = schema.expand(schema.root)
    index = 0

    def refuse(why: str) -> DeskError:
        return DeskError(f"{rel}: cannot edit {field_text}: {why}",
                         [Problem(why, Location(Path(rel), field=field_text))])

    while True:
        part = path[index]
        following = index + 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise refuse(f"{format_field(path[:index]) or 'the file'} is not a list")
            if part > len(node) or (part == len(node) and not create):
                raise refuse(f"the list has {len(node)} items")
            key: str | int = part
        else:
            if not isinstance(node, dict):
                raise refuse(f"{format_field(path[:index]) or 'the file'} is not a mapping")
            key = part
            rest = path[index:]
            if part not in node and all(isinstance(p, str) for p in rest):
                joined = [".".join(str(p) for p in rest[:end]) for end in
                          range(len(rest), 1, -1)]
                present = next((name for name in joined if name in node), None)
                below = schema.child(schemas, part)
                if present is not None:
                    key, following = present, index + present.count(".") + 1
                elif below and len(rest) > 1 and "object" not in _types(below):
                    # A key that holds no mapping: the rest is one key with dots.
                    key, following = ".".join(str(p) for p in rest), len(path)
        below = schema.child(schemas, key)
        if following == len(path):
            return node, key, below
        present_child = (key < len(node)) if isinstance(key, int) else (key in node)
        if not present_child:
            if not create:
                raise refuse(f"{format_field(path[:following])} is not in the file")
            child: Any = CommentedSeq() if isinstance(path[following], int) else CommentedMap()
            if isinstance(key, int):
                node.append(child)
            else:
                node[key] = child
        node = node[key]
        schemas = below
        index = following


def _edit(document: Any, edit: Edit, path: FieldPath, schema: _Schema) -> Any:
    """Apply ``edit`` to ``document`` (ruamel.yaml or JSON data); the new document."""
    if not path:
        raise DeskError(f"{edit.file}: an edit must name a field")
    if edit.value is DELETE:
        try:
            container, key, _ = _place(document, path, schema, create=False, rel=edit.file,
                                       field_text=edit.field)
        except DeskError:
            return document  # deleting what is not there leaves it not there
        if isinstance(key, int):
            if key < len(container):
                del container[key]
        elif key in container:
            del container[key]
        return document
    container, key, schemas = _place(document, path, schema, create=True, rel=edit.file,
                                     field_text=edit.field)
    value = _typed(edit.value, schemas)
    if isinstance(container, list) and isinstance(key, int) and key == len(container):
        container.append(_fresh(value, container))
    elif isinstance(key, str) and key not in container:
        container[key] = _fresh(value, list(container.values()))
    else:
        container[key] = _into(container[key], value, schemas, schema)
    return document


def _sync_regions(base: list[str], ours: list[str], theirs: list[str]
                  ) -> list[tuple[int, int, int, int]]:
    """Where ``base`` matches both ``ours`` and ``theirs``: (base start, base end,
    ours start, theirs start), the last one empty at the ends."""
    first = difflib.SequenceMatcher(None, base, ours, autojunk=False).get_matching_blocks()
    second = difflib.SequenceMatcher(None, base, theirs, autojunk=False).get_matching_blocks()
    regions: list[tuple[int, int, int, int]] = []
    i = j = 0
    while i < len(first) - 1 and j < len(second) - 1:
        a_base, a_at, a_len = first[i]
        b_base, b_at, b_len = second[j]
        start, end = max(a_base, b_base), min(a_base + a_len, b_base + b_len)
        if start < end:
            regions.append((start, end, a_at + start - a_base, b_at + start - b_base))
        if a_base + a_len < b_base + b_len:
            i += 1
        else:
            j += 1
    regions.append((len(base), len(base), len(ours), len(theirs)))
    return regions


def _merge3(base: str, ours: str, theirs: str) -> str:
    """``ours`` (the file as written) with the changes ``theirs`` (ruamel.yaml's
    edited rendering) makes to ``base`` (its unedited rendering): lines no
    edit touched stay as the author wrote them; where both differ from
    ``base`` the edit wins."""
    if base == ours:
        return theirs
    a, b, z = (text.splitlines(keepends=True) for text in (ours, theirs, base))
    merged: list[str] = []
    at_a = at_b = at_z = 0
    for z_start, z_end, a_start, b_start in _sync_regions(z, a, b):
        part_a, part_b, part_z = a[at_a:a_start], b[at_b:b_start], z[at_z:z_start]
        if part_b == part_z:
            merged += part_a
        else:
            merged += part_b
        merged += z[z_start:z_end]
        length = z_end - z_start
        at_a, at_b, at_z = a_start + length, b_start + length, z_end
    return "".join(merged)


def _dump(yaml: YAML, document: Any) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


#: Files loaded by ruamel.yaml lately, by version: their document, pickled
#: before anything dumped it, and ruamel.yaml's rendering of it. Parsing is
#: most of an edit's time, and a preview edits the same files on every
#: keystroke; unpickling gives a fresh document in a fraction of it. (A copy
#: by ``copy.deepcopy``, or a document built again from the same nodes,
#: shares or loses comments: ruamel.yaml's dumping changes them.)
_LOADED: collections.OrderedDict[str, tuple[bytes, str]] = collections.OrderedDict()
_LOADED_LOCK = threading.Lock()
#: How many files :data:`_LOADED` keeps.
LOADED_FILES = 32


def _loaded(yaml: YAML, text: str, version: str) -> tuple[Any, str]:
    """A new round-trip document of ``text`` (whose bytes have ``version``),
    to edit, and ruamel.yaml's rendering of it unedited."""
    with _LOADED_LOCK:
        cached = _LOADED.get(version)
        if cached is not None:
            _LOADED.move_to_end(version)
    if cached is None:
        document = yaml.load(text)
        pickled = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
        cached = (pickled, _dump(yaml, document))
        with _LOADED_LOCK:
            _LOADED[version] = cached
            while len(_LOADED) > LOADED_FILES:
                _LOADED.popitem(last=False)
    # Our own pickle of our own document, never stored or received.
    return pickle.loads(cached[0]), cached[1]


#: How deep an edit's value may nest, and how many values it may hold.
MAX_VALUE_DEPTH = 32
MAX_VALUE_ITEMS = 10_000


def _check_value(edit: Edit) -> None:
    """Refuse a value that is not JSON data of a size a record field has."""
    count = 0

    def visit(value: Any, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > MAX_VALUE_DEPTH or count > MAX_VALUE_ITEMS:
            raise DeskError(f"{edit.file}: the value for {edit.field} is too large or too "
                            "deeply nested for a field of a record")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise DeskError(f"{edit.file}: the value for {edit.field} has a key that "
                                    "is not text")
                visit(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                visit(item, depth + 1)
        elif isinstance(value, float) and not math.isfinite(value):
            raise DeskError(f"{edit.file}: the value for {edit.field} is not a number")
        elif not (value is None or value is DELETE or isinstance(value, str | int | float)):
            raise DeskError(f"{edit.file}: the value for {edit.field} is not JSON data")

    visit(edit.value, 0)


def _json_indent(text: str) -> int | None:
    match = re.search(r"\n( +)\S", text)
    return len(match.group(1)) if match else None


def apply_edits(rel: str, raw: bytes, edits: Sequence[Edit]) -> bytes:
    """The bytes of the file ``rel`` (now ``raw``) with ``edits`` applied,
    every untouched line as it was.

    :raises DeskError: if the file cannot be edited (invalid syntax) or an
        edit names a field that cannot be there.
    """
    schema = _schema()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DeskError(f"{rel} is not UTF-8 text") from None
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    paths = [(edit, parse_field(edit.field)) for edit in edits]
    for edit in edits:
        _check_value(edit)
    version = _sha(raw)
    with _LOADED_LOCK:
        known = version in _LOADED
    if not known:
        # notegen's own reader first: it is bounded (aliases, nesting, size)
        # where a round-trip load of a hostile file would not be.
        try:
            parse_source(Path(rel), raw)
        except RecordError as exc:
            raise DeskError(f"{rel} cannot be edited field by field: mend it in the source "
                            "view", exc.problems) from None
    if rel.lower().endswith(".json"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeskError(f"{rel} is not valid JSON: {exc.msg} (line {exc.lineno}); "
                            "fix it in the source view") from None
        indent = _json_indent(text)
        base = json.dumps(document, indent=indent, ensure_ascii=False) + "\n"
        for edit, path in paths:
            document = _edit(document, edit, path, schema)
        edited = json.dumps(_plain(document), indent=indent, ensure_ascii=False) + "\n"
        if not text.endswith("\n"):
            base, edited = base[:-1], edited[:-1]
    else:
        yaml = _yaml(text)
        try:
            document, base = _loaded(yaml, text, version)
            if document is None:
                document = CommentedMap()
            for edit, path in paths:
                document = _edit(document, edit, path, schema)
            edited = _dump(yaml, document)
        except YAMLError as exc:
            raise DeskError(f"{rel} is not valid YAML ({str(exc).splitlines()[0]}); fix it "
                            "in the source view") from None
    return (bom + _merge3(base, text, edited)).encode("utf-8")


#: libyaml's loader where PyYAML has it (composing only: no value is constructed).
_FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Files composed lately (their node trees, by version), for drafts.
_COMPOSED: collections.OrderedDict[str, yaml.Node | None] = collections.OrderedDict()


def _composed(text: str, version: str) -> yaml.Node | None:
    with _LOADED_LOCK:
        node = _COMPOSED.get(version, False)
        if node is not False:
            _COMPOSED.move_to_end(version)
            return node  # type: ignore[return-value]
    # The file passed notegen's bounded reader already (apply_edits, parse_source).
    node = yaml.compose(text, Loader=_FastLoader)
    with _LOADED_LOCK:
        _COMPOSED[version] = node
        while len(_COMPOSED) > LOADED_FILES:
            _COMPOSED.popitem(last=False)
    return node


def _scalar_at(node: yaml.Node | None, path: FieldPath) -> yaml.ScalarNode | None:
    """The scalar node ``path`` names (a key may hold dots), if it is one."""
    for index, part in enumerate(path):
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        elif isinstance(node, yaml.MappingNode) and isinstance(part, str):
            rest = path[index:]
            names = [".".join(str(p) for p in rest[:end]) for end in range(1, len(rest) + 1)
                     if all(isinstance(p, str) for p in rest[:end])]
            found = [(name, value) for key, value in node.value for name in names
                     if isinstance(key, yaml.ScalarNode) and key.value == name]
            if len(found) != 1 or found[0][0] != part:
                return None  # a dotted key, or none: the round trip decides
            node = found[0][1]
        else:
            return None
    return node if isinstance(node, yaml.ScalarNode) else None


def draft_edits(rel: str, raw: bytes, edits: Sequence[Edit]) -> bytes:
    """Bytes of the file ``rel`` (now ``raw``) that read as it would once
    ``edits`` were saved, every line where it is: a preview's draft. An
    edit that gives a scalar field a new scalar value is made in the text
    (the value written as JSON, which YAML reads alike, padded to the lines
    it took): no round trip, which is most of a keystroke's time; any other
    edit makes the whole file go through :func:`apply_edits`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return apply_edits(rel, raw, edits)
    version = _sha(raw)
    with _LOADED_LOCK:
        known = version in _LOADED or version in _COMPOSED
    if not known:
        try:
            parse_source(Path(rel), raw)
        except RecordError:
            return apply_edits(rel, raw, edits)  # which says why
    try:
        root = _composed(text, version)
    except yaml.YAMLError:
        return apply_edits(rel, raw, edits)
    schema = _schema()
    spans: dict[tuple[int, int], str] = {}
    for edit in edits:
        _check_value(edit)
        path = parse_field(edit.field)
        node = _scalar_at(root, path)
        value = _typed(edit.value, schema.at(path))
        if (node is None or node.start_mark.index >= node.end_mark.index
                or text[node.start_mark.index] in "&!*"
                or not (value is None or isinstance(value, str | int | float))):
            return apply_edits(rel, raw, edits)
        # A block scalar's span ends after its last line break: the breaks
        # it held are written again, so that every later line keeps its number.
        spans[(node.start_mark.index, node.end_mark.index)] = json.dumps(
            value, ensure_ascii=False)
    out = text
    for (start, end), written in sorted(spans.items(), reverse=True):
        out = out[:start] + written + "\n" * out.count("\n", start, end) + out[end:]
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    return (bom + out).encode("utf-8")


# ----------------------------------------------------------------------------------------
# The workspace


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    return None


def _text_map(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"": value}
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, str)}
    return {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class _Scanned:
    """One record file of the workspace, parsed (cached by size and mtime)."""

    stamp: tuple[int, int]
    data: Any
    version: str = ""


@dataclass(frozen=True)
class _Entry:
    user: str
    at: dt.datetime
    new: str


class Workspace:
    """A folder of cases the desk reads and writes, and nothing outside it."""

    def __init__(self, root: Path, folders: TemplateFolders | None = None, *,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise DeskError(f"the workspace {root} is not a folder")
        #: The workspace folder (its real path).
        self.root = real
        #: The template folders notes are worded with (for new cases and previews).
        self.folders = folders or builtin()
        self._clock = clock
        self._scanned: dict[Path, _Scanned] = {}
        self._scan_lock = threading.Lock()
        self._journal_stamp: tuple[int, int] | None = None
        self._journal: dict[str, _Entry] = {}

    # -- paths ------------------------------------------------------------------------

    def _parts(self, rel: str, what: str) -> PurePosixPath:
        if not isinstance(rel, str) or not rel or len(rel) > MAX_REL_CHARS:
            raise DeskError(f"{what} must be a path inside the workspace")
        if "\x00" in rel or "\\" in rel or any(not c.isprintable() for c in rel):
            raise DeskError(f"{what} {rel!r} holds a character no path of the desk may hold")
        path = PurePosixPath(rel)
        if path.is_absolute() or rel.startswith("/"):
            raise DeskError(f"{what} {rel!r} is absolute: give a path inside the workspace")
        if any(part == ".." for part in path.parts) or ".." in rel.split("/"):
            raise DeskError(f"{what} {rel!r} leads out of its folder ('..')")
        if any(part.startswith(".") for part in path.parts):
            raise DeskError(f"{what} {rel!r} names a hidden file or folder")
        return path

    def _inside(self, path: Path, rel: str, what: str) -> Path:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.root) or real == self.root:
            raise DeskError(f"{what} {rel!r} lies outside the workspace")
        return path

    def resolve(self, rel: str) -> Path:
        """The file ``rel`` names in the workspace (it need not exist).

        :raises DeskError: for an absolute path, ``..``, a hidden name, a
            file that is not YAML or JSON, or a symlink that leads outside.
        """
        path = self._parts(rel, "the file")
        if path.suffix.lower() not in SUFFIXES:
            raise DeskError(f"the file {rel!r} is not a record file (.yaml, .yml or .json)")
        return self._inside(self.root / path, rel, "the file")

    def folder(self, rel: str) -> Path:
        """The folder ``rel`` names in the workspace (it need not exist).

        :raises DeskError: as :meth:`resolve` does, but for the suffix.
        """
        return self._inside(self.root / self._parts(rel.rstrip("/"), "the folder"), rel,
                            "the folder")

    def rel(self, path: Path) -> str | None:
        """``path`` relative to the root, or ``None`` if it lies outside."""
        for candidate in (Path(os.path.normpath(path)), Path(os.path.realpath(path))):
            with contextlib.suppress(ValueError):
                return candidate.relative_to(self.root).as_posix()
        return None

    def _read(self, rel: str) -> tuple[Path, bytes]:
        path = self.resolve(rel)
        try:
            return path, read_bytes(path, root=self.root)
        except RecordError as exc:
            reason = getattr(exc, "reason", None) or (
                exc.problems[0].message if exc.problems else str(exc))
            message = "file not found" if reason == "not found" else f"the file {reason}"
            raise DeskError(f"{rel}: {message}",
                            [Problem(message, Location(Path(rel)))]) from None

    # -- reading ----------------------------------------------------------------------

    def _opened(self, rel: str, path: Path, raw: bytes) -> Opened:
        version = _sha(raw)
        data: Any = None
        problems: tuple[Problem, ...] = ()
        try:
            data = parse_source(Path(rel), raw).data
        except RecordError as exc:
            problems = exc.problems
        text = raw.decode("utf-8-sig", errors="replace")
        at, by = self._modified(rel, path, version)
        return Opened(rel, text, version, data, at, by, problems)

    def open(self, rel: str) -> Opened:
        """The file ``rel``: its text, version and data, and who last saved it.

        A file that is not valid YAML/JSON opens with ``data`` ``None`` and
        its :attr:`~Opened.problems`, so it can be mended in the source view.

        :raises DeskError: if the path is refused or the file cannot be read.
        """
        path, raw = self._read(rel)
        return self._opened(rel, path, raw)

    def case_files(self, rel: str) -> list[Opened]:
        """The case file ``rel`` and the workspace files it includes (depth
        first, each once; an include that is missing or outside is left out)."""
        files: list[Opened] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen or len(seen) >= 200:
                return
            seen.add(name)
            opened = self.open(name)
            files.append(opened)
            data = opened.data
            includes = data.get("include") if isinstance(data, dict) else None
            for include in includes if isinstance(includes, list) else ():
                if not isinstance(include, str):
                    continue
                target = os.path.normpath(os.path.join(os.path.dirname(name), include))
                with contextlib.suppress(DeskError):
                    self.resolve(target)
                    visit(PurePosixPath(target).as_posix())

        visit(self._canonical(rel))
        return files

    def _canonical(self, rel: str) -> str:
        self.resolve(rel)
        return PurePosixPath(rel).as_posix()

    def _files(self) -> Iterator[tuple[str, Path]]:
        """Every record file of the workspace (hidden folders and symlinked
        folders skipped), at most :data:`MAX_WORKSPACE_FILES`."""
        count = 0
        for folder, folders, names in os.walk(self.root):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                    continue
                count += 1
                if count > MAX_WORKSPACE_FILES:
                    logger.debug("more than %d files in %s", MAX_WORKSPACE_FILES, self.root)
                    return
                path = Path(folder) / name
                yield path.relative_to(self.root).as_posix(), path

    def _scan(self) -> Iterator[tuple[str, Path, Any]]:
        """Every record file of the workspace with its data (``None`` where
        it cannot be read)."""
        for rel, path, scanned in self._scan_files():
            yield rel, path, scanned.data

    def _scan_files(self) -> list[tuple[str, Path, _Scanned]]:
        """Every record file of the workspace, read (or taken from the cache
        while its size and modification time stay the same)."""
        with self._scan_lock:  # the web face calls from several threads
            found = []
            for rel, path in self._files():
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                stamp = (info.st_size, info.st_mtime_ns)
                cached = self._scanned.get(path)
                if cached is None or cached.stamp != stamp:
                    data: Any = None
                    version = ""
                    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
                        with contextlib.suppress(RecordError, DeskError):
                            raw = self._read(rel)[1]
                            version = _sha(raw)
                            data = parse_source(path, raw).data
                    cached = _Scanned(stamp, data, version)
                    self._scanned[path] = cached
                found.append((rel, path, cached))
            self._scanned = {path: scanned for _, path, scanned in found}
            return found

    def cases(self) -> list[CaseSummary]:
        """Every file of the workspace with a top-level ``note``, by rel."""
        incidents = {item.id: item for item in self.incidents()}
        summaries = []
        for rel, path, scanned in self._scan_files():
            data = scanned.data
            if not isinstance(data, dict) or not isinstance(data.get("note"), dict):
                continue
            note = data["note"]
            subject = _str(note.get("subject"))
            own = {item.get("id"): item for item in data.get("incidents") or ()
                   if isinstance(item, dict)} if isinstance(data.get("incidents"), list) else {}
            date = (_as_date(own[subject].get("date")) if subject in own
                    else incidents[subject].date if subject in incidents else None)
            language = _str(note.get("language")) or "en"
            protest = note.get("protest")
            others = [k for k in protest if k != language] if isinstance(protest, dict) else []
            at, by = self._modified(rel, path, scanned.version)
            summaries.append(CaseSummary(
                rel=rel, subject=subject, subject_date=date, sender=_str(note.get("sender")),
                addressee=_str(note.get("addressee")),
                note_type=_str(note.get("type")) or "note_verbale",
                languages=(language, *others), modified_at=at, modified_by=by))
        return summaries

    def incidents(self) -> list[IncidentSummary]:
        """Every incident defined in the workspace, in file order."""
        found = []
        for rel, _, data in self._scan():
            items = data.get("incidents") if isinstance(data, dict) else None
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.append(_incident(item, rel))
        return found

    def catalogues(self) -> list[str]:
        """The incident catalogues (folders, by rel) that the workspace's
        files name (``catalogue: ../catalogue``) and that lie inside it, in
        the order first named."""
        found: dict[str, None] = {}
        for _, path, data in self._scan():
            named = data.get("catalogue") if isinstance(data, dict) else None
            if not isinstance(named, str) or not named.strip():
                continue
            folder = Path(os.path.realpath(path.parent / named.strip()))
            if folder.is_dir() and folder.is_relative_to(self.root) and folder != self.root:
                found.setdefault(folder.relative_to(self.root).as_posix(), None)
        return list(found)

    def _records(self, section: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record of ``section`` (``incidents``, ``facilities``…) in the
        workspace's files, with the rel of its file."""
        for rel, _, data in self._scan():
            items = data.get(section) if isinstance(data, dict) else None
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    yield rel, item

    def chronology(self, rel: str, edits: Sequence[Edit] = ()) -> list[ChronologyItem]:
        """The incidents the note of the case ``rel`` (with unsaved ``edits``)
        may recall, oldest first (the order of the note's chronology): every
        incident of the workspace dated before the subject, and any the note
        lists already.

        ``ticked``: the note recalls it (listed, or chosen by its rule).
        ``expected``: the checks would have it recalled, by the rule
        ``validate`` compares a listed chronology with
        (:func:`notegen.records.case.expected_earlier`: attributed to the
        addressee's State, it struck premises of the sender's State before
        the subject incident). While the case does not load, none is
        expected and the reason says why.

        :raises DeskError: if ``rel`` is refused or is no case.
        """
        rel = self._canonical(rel)
        files = self.case_files(rel)
        note = files[0].data.get("note") if isinstance(files[0].data, dict) else None
        if not isinstance(note, dict):
            raise DeskError(f"{rel} is not a case: it has no note")
        try:
            case: Case | None = self.draft(edits, rel)
        except RecordError:
            case = None
        local = {opened.rel for opened in files}
        every: dict[str, tuple[IncidentSummary, dict[str, Any]]] = {}
        for file, item in self._records("incidents"):
            if item["id"] not in every or file in local:  # the case's own wins
                every[item["id"]] = (_incident(item, file), item)
        if case is not None:  # with the unsaved edits
            for incident_id, model in case.incidents.items():
                if incident_id in every:
                    summary, item = every[incident_id]
                    every[incident_id] = (dataclasses.replace(
                        summary, date=model.date, country=model.country,
                        attributed_to=model.attributed_to,
                        facilities=tuple(impact.facility for impact in model.impacts)), item)
        subject_id = note.get("subject")
        listed = note.get("earlier")
        ticked = set(case.note.earlier) if case is not None else {
            i for i in listed if isinstance(i, str)} if isinstance(listed, list) else set()
        in_case = set(case.incidents) if case is not None else set()
        if case is not None:
            subject_date: dt.date | None = case.incidents[case.note.subject].date
            expected, responsible, struck = self._expected(case, every)
        else:
            subject_date = every[subject_id][0].date if subject_id in every else None
            expected, responsible, struck = set(), None, None
        items = []
        for incident, _ in every.values():
            if incident.id == subject_id:
                continue
            before = (subject_date is not None and incident.date is not None
                      and incident.date < subject_date)
            if not before and incident.id not in ticked:
                continue
            if case is None:
                reason = ("the case does not load yet: the checks mark the incidents they "
                          "expect once it does")
            elif incident.id in expected:
                reason = (f"the checks expect it: attributed to {responsible}, it struck "
                          f"premises of {struck} before the subject incident")
            elif not before:
                reason = "not before the subject incident"
            elif incident.attributed_to != responsible:
                reason = (f"attributed to {incident.attributed_to or 'no State'}, not to "
                          f"{responsible} (the addressee's State)")
            else:
                reason = f"it struck no premises of {struck} (the sender's State)"
            items.append(ChronologyItem(incident, incident.id in ticked,
                                        incident.id in expected, reason,
                                        incident.id in in_case or case is None))
        items.sort(key=lambda item: (item.incident.date or dt.date.max, item.incident.id))
        return items

    def _expected(self, case: Case, every: Mapping[str, tuple[IncidentSummary, Any]]
                  ) -> tuple[set[str], str | None, str | None]:
        """The incidents of the workspace the checks expect the note of
        ``case`` to recall, the addressee's State and the sender's."""
        incidents = []
        for incident_id, (_, item) in every.items():
            if incident_id not in case.incidents:
                with contextlib.suppress(ValidationError):
                    incidents.append(Incident.model_validate(item))
        facilities: dict[str, Facility] = {}
        for _, item in self._records("facilities"):
            with contextlib.suppress(ValidationError):
                facilities.setdefault(item["id"], Facility.model_validate(item))
        addressee = case.parties.get(case.note.addressee)
        sender = case.parties.get(case.note.sender)
        return (set(checks_expect(case, incidents, facilities)),
                addressee.state if addressee is not None else None,
                sender.state if sender is not None else None)

    # -- drafts -----------------------------------------------------------------------

    def _edited(self, edits: Sequence[Edit], *, draft: bool = False
                ) -> dict[str, tuple[Path, bytes, bytes]]:
        """Per file: its path, bytes now and bytes with ``edits`` applied
        (with ``draft``, bytes that read as the saved file would, lines kept,
        but not necessarily written alike: :func:`draft_edits`)."""
        by_file: dict[str, list[Edit]] = {}
        for edit in edits:
            if not isinstance(edit, Edit):
                raise DeskError("an edit must be an Edit")
            by_file.setdefault(self._canonical(edit.file), []).append(edit)
        result = {}
        for rel, own in by_file.items():
            path, raw = self._read(rel)
            result[rel] = (path, raw, (draft_edits if draft else apply_edits)(rel, raw, own))
        return result

    def draft(self, edits: Sequence[Edit], rel: str) -> Case:
        """The case ``rel`` as it would load with ``edits`` saved, in files
        included too; nothing is written. Problems are located in the
        files' real names.

        :raises RecordError: as :func:`~notegen.load_case` does.
        :raises DeskError: if a path is refused or an edit cannot apply.
        """
        path = self.resolve(rel)
        overlay = {Path(os.path.realpath(p)): new
                   for p, _, new in self._edited(edits, draft=True).values()}
        self._read(rel)  # refused as open would refuse it
        return load_case(path, root=self.root, overlay=overlay)

    # -- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        desk = self.root / DESK_FOLDER
        try:
            desk.mkdir(mode=0o700, exist_ok=True)
            descriptor = os.open(desk / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise DeskError(f"the workspace cannot be locked for saving: "
                            f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    def _modified(self, rel: str, path: Path, version: str) -> tuple[dt.datetime, str | None]:
        entry = self._entries().get(rel)
        if entry is not None and entry.new == version:
            return entry.at, entry.user
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = 0.0
        return dt.datetime.fromtimestamp(mtime, dt.UTC), None

    def _entries(self) -> dict[str, _Entry]:
        """The journal's last entry for each file."""
        journal = self.root / DESK_FOLDER / "journal.jsonl"
        try:
            info = os.stat(journal)
        except OSError:
            return {}
        stamp = (info.st_size, info.st_mtime_ns)
        if stamp != self._journal_stamp:
            entries: dict[str, _Entry] = {}
            with contextlib.suppress(OSError), open(journal, encoding="utf-8",
                                                    errors="replace") as stream:
                for line in stream:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        record = json.loads(line)
                        entries[record["file"]] = _Entry(
                            str(record["user"]), dt.datetime.fromisoformat(record["at"]),
                            str(record["new"]))
            self._journal, self._journal_stamp = entries, stamp
        return self._journal

    def _log(self, rel: str, user: str, old: str | None, new: str, at: dt.datetime) -> None:
        journal = self.root / DESK_FOLDER / "journal.jsonl"
        line = json.dumps({"at": at.isoformat(), "user": user, "file": rel, "old": old,
                           "new": new}, ensure_ascii=False) + "\n"
        try:
            with open(journal, "a", encoding="utf-8") as stream:
                stream.write(line)
        except OSError as exc:  # the files are saved; only the log is short
            logger.error("cannot write the desk's journal %s: %s", journal, exc)

    def _conflict(self, rel: str, path: Path, raw: bytes) -> EditConflict:
        current = self._opened(rel, path, raw)
        when = current.modified_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        who = (f"by {current.modified_by}" if current.modified_by is not None
               else "outside the desk")
        return EditConflict(f"{rel} was changed {who} at {when}, after you opened it: "
                            "nothing was saved. Compare your edits with the current "
                            "version.", [current])

    def _write_all(self, texts: Mapping[str, tuple[Path, bytes | None, bytes]],
                   user: str) -> list[Opened]:
        """Write each file (all or none), log each write; call under the lock."""
        for rel, (_, _, new) in texts.items():
            if len(new) > MAX_FILE_BYTES:
                raise DeskError(f"{rel} would be larger than the "
                                f"{MAX_FILE_BYTES // (1024 * 1024)} MB notegen reads")
        # A symlink inside the workspace is written through, to its target.
        targets = [Path(os.path.realpath(path)) for path, _, _ in texts.values()]
        if any(not target.is_relative_to(self.root) for target in targets):
            raise DeskError("a file to save lies outside the workspace")
        staged: list[tuple[Path, str]] = []
        try:
            for target, (_, old, new) in zip(targets, texts.values(), strict=True):
                staged.append((target, _stage(target, new, keep_mode=old is not None)))
        except OSError as exc:
            for _, temporary in staged:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise DeskError(f"cannot save: {exc.strerror or exc}") from None
        done: list[tuple[Path, bytes | None]] = []
        try:
            for (target, temporary), (_, old, _) in zip(staged, texts.values(), strict=True):
                os.replace(temporary, target)
                done.append((target, old))
        except OSError as exc:
            for target, old in reversed(done):  # put back what was written
                with contextlib.suppress(OSError):
                    if old is None:
                        os.unlink(target)
                    else:
                        os.replace(_stage(target, old, keep_mode=True), target)
            for _, temporary in staged:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise DeskError(f"cannot save: {exc.strerror or exc}") from None
        at = self._clock()
        opened = []
        for rel, (_, old, new) in texts.items():
            self._log(rel, user, _sha(old) if old is not None else None, _sha(new), at)
            logger.info("%s saved %s", user, rel)
        for rel, (path, _, new) in texts.items():
            opened.append(self._opened(rel, path, new))
        return opened

    def save_fields(self, edits: Sequence[Edit], versions: Mapping[str, str], *,
                    user: str) -> list[Opened]:
        """Save ``edits``, each file only if it is still the version named in
        ``versions`` (by rel); the files as saved, in the order first edited.

        :raises EditConflict: if any file changed since (nothing is written).
        :raises DeskError: if a path is refused, a version is missing or an
            edit cannot apply (nothing is written).
        """
        order = list(dict.fromkeys(self._canonical(edit.file) for edit in edits))
        missing = [rel for rel in order if rel not in versions]
        if missing:
            raise DeskError(f"no version given for {', '.join(missing)}: open the file first")
        with self._locked():
            for rel in order:
                path, raw = self._read(rel)
                if _sha(raw) != versions[rel]:
                    raise self._conflict(rel, path, raw)
            edited = self._edited(edits)
            texts: dict[str, tuple[Path, bytes | None, bytes]] = {}
            for rel in order:
                path, raw, new = edited[rel]
                _check_syntax(rel, new)
                texts[rel] = (path, raw, new)
            return self._write_all(texts, user)

    def save_source(self, rel: str, text: str, version: str, *, user: str) -> Opened:
        """Save ``text`` as the whole file ``rel`` if it is still ``version``.

        :raises EditConflict: if the file changed since (nothing is written).
        :raises DeskError: if the text is not valid YAML/JSON or too large.
        """
        rel = self._canonical(rel)
        new = text.encode("utf-8")
        _check_syntax(rel, new)
        with self._locked():
            path, raw = self._read(rel)
            if _sha(raw) != version:
                raise self._conflict(rel, path, raw)
            return self._write_all({rel: (path, raw, new)}, user)[0]

    def create(self, folder: str, spec: CaseSpec, *, user: str) -> str:
        """A new case in ``folder`` (a new folder of the workspace) from the
        scaffold of ``notegen new case``: ``note.yaml``, and ``profile.yaml``
        unless ``spec.profile`` names one (relative to the workspace root, or
        absolute inside it). Returns the rel of the new ``note.yaml``.

        :raises DeskError: if the folder exists or lies outside.
        """
        target = self.folder(folder)
        if target.exists():
            raise DeskError(f"{folder!r} already exists: choose a new folder")
        if spec.profile is not None:
            profile = spec.profile if spec.profile.is_absolute() else self.root / spec.profile
            relative = self.rel(profile)
            if relative is None:
                raise DeskError("the sender profile lies outside the workspace")
            self._read(relative)  # confined and readable
            spec = dataclasses.replace(spec, profile=self.resolve(relative))
        with self._locked():
            try:
                written = new_case(target, spec)
            except NotegenError as exc:
                with contextlib.suppress(OSError):
                    shutil.rmtree(target)
                raise DeskError(str(exc).split("\n")[0], exc.problems) from None
            at = self._clock()
            for path in written:
                rel = self.rel(path) or path.name
                self._log(rel, user, None, _sha(path.read_bytes()), at)
        return (PurePosixPath(folder.rstrip("/")) / "note.yaml").as_posix()

    def duplicate(self, rel: str, folder: str, *, user: str) -> str:
        """A copy of the case ``rel`` in the new folder ``folder``: every
        record file of the case's folder (not its subfolders) is copied
        byte for byte, comments and all, keeping ids, dates, reference and
        texts for the officer to change. Only what must change is rewritten:
        an include that leads out of the case's folder (``../profiles/…``),
        or the catalogue it names, is rewritten to lead to the same file
        (folder) from the new folder. Returns
        the rel of the copy of ``rel``.

        :raises DeskError: if ``rel`` is no case, or ``folder`` exists or
            lies outside.
        """
        rel = self._canonical(rel)
        source = self.open(rel)
        if not isinstance(source.data, dict) or "note" not in source.data:
            raise DeskError(f"{rel} is not a case: it has no note")
        target = self.folder(folder)
        if target.exists():
            raise DeskError(f"{folder!r} already exists: choose a new folder")
        origin = PurePosixPath(rel).parent
        new_folder = PurePosixPath(folder.rstrip("/"))
        texts: dict[str, tuple[Path, bytes | None, bytes]] = {}
        for name in sorted(os.listdir(self.resolve(rel).parent)):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            old_rel = (origin / name).as_posix()
            path = self.root / old_rel
            if path.is_symlink() or not path.is_file():
                continue
            _, raw = self._read(old_rel)
            new_rel = (new_folder / name).as_posix()
            texts[new_rel] = (self.resolve(new_rel), None,
                              _moved_includes(old_rel, new_rel, raw))
        with self._locked():
            if target.exists():
                raise DeskError(f"{folder!r} already exists: choose a new folder")
            target.mkdir(parents=True)
            try:
                self._write_all(texts, user)
            except DeskError:
                with contextlib.suppress(OSError):
                    shutil.rmtree(target)
                raise
        return (new_folder / PurePosixPath(rel).name).as_posix()


def _moved_includes(old_rel: str, new_rel: str, raw: bytes) -> bytes:
    """``raw`` with each include, and the catalogue, that leads out of its
    folder rewritten to lead to the same file (folder) from ``new_rel``'s folder."""
    with contextlib.suppress(RecordError):
        data = parse_source(Path(old_rel), raw).data
        if not isinstance(data, dict):
            return raw
        includes = data.get("include")
        named = [(f"include[{index}]", include) for index, include in
                 enumerate(includes if isinstance(includes, list) else [])]
        named += [("catalogue", data["catalogue"])] if "catalogue" in data else []
        old_folder, new_folder = os.path.dirname(old_rel), os.path.dirname(new_rel)
        edits = []
        for field, include in named:
            if not isinstance(include, str) or os.path.isabs(include):
                continue
            target = os.path.normpath(os.path.join(old_folder, include))
            if not target.startswith(".."):
                inside = not os.path.relpath(target, old_folder).startswith("..")
                if inside:
                    continue
            moved = os.path.relpath(target, new_folder or ".")
            if moved != include:
                edits.append(Edit(old_rel, field, Path(moved).as_posix()))
        if edits:
            return apply_edits(old_rel, raw, edits)
    return raw


def _check_syntax(rel: str, raw: bytes) -> None:
    try:
        parse_source(Path(rel), raw)
    except RecordError as exc:
        raise DeskError(f"{rel} cannot be saved: it is not valid "
                        f"{'JSON' if rel.lower().endswith('.json') else 'YAML'}",
                        exc.problems) from None


def _stage(path: Path, data: bytes, *, keep_mode: bool) -> str:
    """A temporary file beside ``path`` holding ``data`` (fsynced), with
    ``path``'s mode if ``keep_mode`` and it exists (else 0666 less the umask)."""
    mode = None
    if keep_mode:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(path).st_mode)
    temporary = str(path.parent / f".{path.name}.{secrets.token_hex(8)}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         0o600 if mode is not None else 0o666)  # the umask applies
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _incident(item: dict[str, Any], rel: str) -> IncidentSummary:
    impacts = item.get("impacts")
    facilities = tuple(str(impact["facility"]) for impact in impacts or ()
                       if isinstance(impact, dict) and isinstance(impact.get("facility"), str)
                       ) if isinstance(impacts, list) else ()
    return IncidentSummary(id=item["id"], date=_as_date(item.get("date")),
                           place=_text_map(item.get("place")), country=_str(item.get("country")),
                           attributed_to=_str(item.get("attributed_to")), file=rel,
                           facilities=facilities)


__all__ = ["DELETE", "CaseSummary", "ChronologyItem", "DeskError", "Edit", "EditConflict",
           "FieldPath", "IncidentSummary", "Opened", "Workspace", "apply_edits",
           "draft_edits", "format_field", "parse_field"]
