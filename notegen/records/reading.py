"""Reading one YAML or JSON file, keeping where every value was written.

Records, phrase catalogues and the legal wording are all read here, so that
every problem in any of them is reported the same way: file, line, column,
field path and a plain sentence (:class:`~notegen.errors.Problem`).

Reading is confined and bounded, whatever the file holds
(:func:`read_bytes`, :func:`parse_source`):

- only regular files are read: a folder, a device (``/dev/zero``), a named
  pipe or a socket is refused without reading (a pipe is opened
  non-blocking, so it cannot hang the reader), and so is a symlink loop;
  given a ``root``, a file whose real path lies outside it is refused
  without saying whether it exists;
- a file may hold at most :data:`MAX_FILE_BYTES` (2 MB); a larger one is
  refused from its size, before it is read;
- a file holds at most :data:`MAX_VALUES` values, and lists and mappings
  nest at most :data:`MAX_DEPTH` deep (YAML and JSON);
- YAML aliases (``*name``) may stand for at most :data:`MAX_ALIAS_VALUES`
  values in all (an "alias bomb" is refused at the alias that passes the
  limit), and an alias inside the value it names is refused;
- a key given twice in one mapping (YAML) or object (JSON) is an error, not
  "the last one wins";
- a number may have at most :data:`MAX_NUMBER_DIGITS` digits;
- the text must be UTF-8 (a byte-order mark is allowed, in YAML and JSON
  alike), without control characters other than tab and line breaks, and
  without lone surrogates (``"\\ud800"`` in JSON).

Every refusal is a :class:`~notegen.errors.RecordError` located by line and
column where there is one. The limits are module constants: change them
here (a case as a whole is bounded in :mod:`.case`, a text in
:mod:`.models`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ..errors import Location, Problem, RecordError, TemplateError
from .models import PATTERN_HINTS, UNION_TAGS, describe_character

try:  # libyaml's parser where the wheel has it: ten times faster
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - every wheel notegen supports has it
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

logger = logging.getLogger(__name__)

#: The largest file notegen reads as data (a record file, a phrase
#: catalogue, the legal wording, a case posted to the service), in bytes.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: How deep lists and mappings may nest in one file.
MAX_DEPTH = 64
#: How many values (scalars, lists, mappings) one file may hold, each alias
#: counted as the values it stands for.
MAX_VALUES = 200_000
#: How many values the YAML aliases of one file may stand for, in all.
MAX_ALIAS_VALUES = 100_000
#: How many digits (with sign and base prefix, in YAML) a number may be written with.
MAX_NUMBER_DIGITS = 100
#: How many schema problems of one file are listed; the rest are counted.
MAX_LISTED_PROBLEMS = 100
#: How many bytes of files parsed lately :func:`parse_source` keeps, parsed,
#: for the next read of the same bytes under the same name.
PARSED_KEPT_BYTES = 16 * 1024 * 1024

#: A field path inside one file, e.g. ``("incidents", 2, "date")``.
FieldPath = tuple[str | int, ...]

_MERGE = "tag:yaml.org,2002:merge"


class _Refused(ComposerError):
    """A limit of this module, or a duplicate key, met while composing."""


class _Loader(Composer, _Parser, SafeConstructor, Resolver):
    """PyYAML's safe loader, bounded, without YAML 1.1's base-60 numbers and
    timestamps.

    Unquoted ``13:30`` would otherwise be read as the integer 810, and an
    impossible date such as ``2024-13-02`` would crash the reader; dates stay
    strings here and the models parse them, with a located error.

    libyaml parses; the nodes are composed here, in Python, so that nesting,
    aliases and duplicate keys are checked as they are met, each refusal at
    the place it is written.
    """

    def __init__(self, text: str) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        #: Values composed so far, counting each alias as the values it stands for.
        self._values = 0
        #: Values the aliases met so far stand for.
        self._aliased = 0
        self._depth = 0
        self._sizes: dict[Any, int] = {}
        self._open: set[Any] = set()

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        mark: Any = event.start_mark if event is not None else None  # libyaml's or PyYAML's
        if isinstance(event, AliasEvent):
            anchor = event.anchor
            if anchor in self._open:
                raise _Refused(None, None, f"the alias *{anchor} stands for a value it is "
                                    "part of (a recursive alias)", mark)
            size = self._sizes.get(anchor, 0)
            self._aliased += size
            self._values += size
            if self._aliased > MAX_ALIAS_VALUES or self._values > MAX_VALUES:
                raise _Refused(None, None, "the aliases in this file stand for more than "
                                    f"{MAX_ALIAS_VALUES:,} values; write the values out", mark)
            return super().compose_node(parent, index)  # an undefined alias is refused there
        assert isinstance(event, NodeEvent)
        anchor = event.anchor
        if self._depth >= MAX_DEPTH:
            raise _Refused(None, None, f"lists and mappings nest more than {MAX_DEPTH} "
                                "deep here", mark)
        before = self._values
        self._depth += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)
        self._values += 1
        if self._values > MAX_VALUES:
            raise _Refused(None, None, f"the file holds more than {MAX_VALUES:,} values "
                           "(scalars, lists and mappings); split it into files that include "
                           "each other", mark)
        if anchor is not None:
            self._sizes[anchor] = self._values - before
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        first: dict[tuple[str, str], Mark] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.tag != _MERGE:
                mark = first.setdefault((key.tag, key.value), key.start_mark)
                if mark is not key.start_mark:
                    raise _Refused(None, None, f"the key {shown(key.value)} is given "
                                        f"twice in this mapping (first on line {mark.line + 1})",
                                        key.start_mark)
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # An explicit tag the value does not fit (``!!int x``, ``!!bool maybe``,
        # ``!!timestamp 2024-13-45``) makes PyYAML raise a bare ValueError or
        # KeyError; say where instead.
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            raise ConstructorError(None, None, f"the value cannot be read as "
                                   f"{node.tag.rpartition(':')[2] or node.tag}: {exc}",
                                   node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        if len(str(node.value)) > MAX_NUMBER_DIGITS:  # int() of a long one is slow
            raise ConstructorError(None, None, f"a number may have at most "
                                   f"{MAX_NUMBER_DIGITS} digits", node.start_mark)
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int",  # type: ignore[type-var]
                        _Loader.construct_yaml_int)
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


def shown(value: object, width: int = 60) -> str:
    """``value`` as Python writes it (control characters escaped), shortened
    to about ``width`` characters: an error message must stay readable
    whatever the input held."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass
class SourceFile:
    """One file read from disk, with the position of every value in it.

    Positions are found when first asked for (:attr:`positions`): most files
    of a large catalogue are never asked where a value is, and finding every
    position costs more than reading the file (a JSON file is composed again
    for them, and so is a YAML file whose nodes were let go).

    One file read again with the same bytes is the same object
    (:func:`parse_source` keeps the files parsed lately): :attr:`data` is
    shared, and no caller may change it."""

    path: Path
    text: str
    data: Any
    #: The composed YAML, kept until the positions are taken from it, or let
    #: go (``None``) and composed again when they are asked for; always
    #: ``None`` for JSON.
    node: Node | None = field(default=None, repr=False)
    _positions: dict[FieldPath, tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def positions(self) -> dict[FieldPath, tuple[int, int]]:
        """Line and column (from 1) of every value, by field path."""
        if self._positions is None:
            positions: dict[FieldPath, tuple[int, int]] = {}
            node = self.node
            if node is None and not _is_json(self.path):  # parsed once: cannot fail
                node = _parse_yaml(self.path, self.text)[1]
            if node is not None:
                _positions(node, (), positions)
            elif _is_json(self.path):
                _json_positions(self.text, positions)
            self._positions, self.node = positions, None
        return self._positions

    def locate(self, path: FieldPath) -> Location:
        """The location of ``path``, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            position = self.positions.get(path[:end])
            if position is not None:
                return Location(self.path, position[0], position[1], _dotted(path) or None)
        return Location(self.path, None, None, _dotted(path) or None)


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, str) and (not part.isprintable() or len(part) > 60):
            part = shown(part)  # a key made to garble the message
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _positions(node: yaml.Node, path: FieldPath,
               out: dict[FieldPath, tuple[int, int]]) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                _positions(value, (*path, key.value), out)
                # Point at the key itself: that is where a reader looks.
                out[(*path, key.value)] = (key.start_mark.line + 1, key.start_mark.column + 1)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _positions(item, (*path, index), out)


class UnreadableFile(RecordError):
    """A file that cannot be read at all (missing, not a regular file,
    too large, outside its root); :attr:`reason` says why as a phrase that
    follows the file's name ("… not found")."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        message = "file not found" if reason == "not found" else f"the file {reason}"
        super().__init__([Problem(message, Location(path))])


class FileTooLarge(UnreadableFile):
    """A file with more bytes than it may have."""


def _size(count: int) -> str:
    megabytes = count / (1024 * 1024)
    if count % (1024 * 1024) == 0:
        return f"{megabytes:.0f} MB"
    return f"{megabytes:.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


_NOT_REGULAR = ("is not a regular file (a folder, device, pipe or socket); notegen reads "
                "data only from ordinary files")


def read_bytes(path: Path, *, root: Path | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them;
    with ``root``, only if its real path (symlinks followed) lies inside
    ``root``.

    A folder, device, named pipe or socket is refused before a byte is
    read, and so is a file larger than ``limit``; a pipe is opened
    non-blocking so that it cannot hang the reader. A file outside ``root``
    is refused in the same words whether or not it exists.

    :raises UnreadableFile: located at ``path``, saying why.
    """
    if "\x00" in str(path):  # the OS cannot even look it up
        raise UnreadableFile(path, "has a name no file can have (it holds a NUL character)")
    target = path
    if root is not None:
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(root)):
            raise UnreadableFile(path, "lies outside the folder it may be read from")
    try:
        # stat first: a device or pipe is not even opened.
        if not stat.S_ISREG(os.stat(target).st_mode):
            raise UnreadableFile(path, _NOT_REGULAR)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
            | getattr(os, "O_CLOEXEC", 0) | (getattr(os, "O_NOFOLLOW", 0) if root else 0)
        descriptor = os.open(target, flags)
    except OSError as exc:
        raise UnreadableFile(path, _os_reason(exc)) from None
    try:
        info = os.fstat(descriptor)  # what was opened, should the path have changed
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, _NOT_REGULAR)
        if info.st_size > limit:
            raise FileTooLarge(path, f"is {_size(info.st_size)}, larger than the "
                               f"{_size(limit)} notegen reads")
        chunks: list[bytes] = []
        left = limit + 1  # a file that grows while read is still refused
        while left > 0:
            chunk = os.read(descriptor, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise UnreadableFile(path, _os_reason(exc)) from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileTooLarge(path, f"is larger than the {_size(limit)} notegen reads")
    return data


def overlaid(path: Path, raw: bytes, limit: int = MAX_FILE_BYTES) -> bytes:
    """``raw``, the bytes given in place of the file ``path`` (a draft's
    unsaved edits), if there are at most ``limit`` of them.

    :raises FileTooLarge: if there are more.
    """
    if len(raw) > limit:
        raise FileTooLarge(path, f"is {_size(len(raw))}, larger than the {_size(limit)} "
                           "notegen reads")
    return raw


@dataclass
class Budget:
    """The bytes that files read together (a case and the files it
    includes, a catalogue) may take in all, each file also at most
    :data:`MAX_FILE_BYTES`; :meth:`read` counts what each file read takes."""

    #: How many bytes the files may take in all.
    total: int
    #: What a file that would pass ``total`` would do, after "would take":
    #: "the case past the 8 MB a case may read in all".
    passing: str
    #: How many bytes the files read so far took.
    used: int = 0

    def read(self, path: Path, *, root: Path | None = None,
             overlay: Mapping[Path, bytes] | None = None, real: Path | None = None) -> bytes:
        """The bytes of the file ``path``, counted: read by :func:`read_bytes`
        (with ``root``), or taken from ``overlay`` if its real path (``real``,
        if the caller has it already) is a key there.

        :raises UnreadableFile: if it cannot be read, or is larger than a file
            may be or than what is left (saying it "would take" the files
            past ``total``).
        """
        left = self.total - self.used
        limit = min(MAX_FILE_BYTES, max(left, 0))
        given = None
        if overlay:
            given = overlay.get(Path(os.path.realpath(path)) if real is None else real)
        try:
            if given is not None:
                raw = overlaid(path, given, limit)
            else:
                raw = read_bytes(path, root=root, limit=limit)
        except FileTooLarge:
            if left >= MAX_FILE_BYTES:
                raise
            raise FileTooLarge(path, f"would take {self.passing}") from None
        self.used += len(raw)
        return raw


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOENT: "not found",
        errno.ENOTDIR: "not found",
        errno.ELOOP: "is a symbolic link that leads back to itself (a symlink loop)",
        errno.EACCES: "cannot be read: permission denied",
        errno.EPERM: "cannot be read: permission denied",
        errno.ENXIO: _NOT_REGULAR,
        errno.EISDIR: _NOT_REGULAR,
        errno.ENAMETOOLONG: "has a name too long to open",
    }
    return reasons.get(exc.errno or 0, f"cannot be read: {(exc.strerror or str(exc)).lower()}")


def read_file(path: Path, *, root: Path | None = None) -> SourceFile:
    """Read one YAML or JSON file, keeping the position of every value
    (confined and bounded as :func:`read_bytes` and :func:`parse_source` say).

    :raises RecordError: if the file cannot be read or is not valid syntax.
    """
    return parse_source(path, read_bytes(path, root=root))


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of the character at ``offset`` of ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _decode(path: Path, raw: bytes) -> str:
    """``raw`` as text, without a byte-order mark; undecodable bytes are
    located by line and column."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[3 if bom else 0:exc.start].decode("utf-8", "replace")
        line, column = _line_column(before, len(before))
        hint = ""
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            hint = " (it looks like UTF-16: save it as UTF-8)"
        raise RecordError([Problem(
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read{hint}",
            Location(path, line, column))]) from None


#: Characters no record, catalogue or wording file has a use for as written:
#: C0 controls but tab and line breaks, DEL and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Half a surrogate pair: JSON can write one ("\ud800"), no text can hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: A JSON escape of half a surrogate pair that is not part of a whole pair.
_LONE_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                             r"|(?<![dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def parse_source(path: Path, raw: bytes) -> SourceFile:
    """Parse ``raw``, the bytes of a YAML or JSON file (by ``path``'s
    suffix), keeping the position of every value; problems are located in
    ``path``, which need not exist (a case posted to the service).

    :raises RecordError: if the bytes are more than :data:`MAX_FILE_BYTES`,
        not UTF-8 text, not valid syntax, or pass a limit of this module.
    """
    if len(raw) > MAX_FILE_BYTES:
        raise FileTooLarge(path, f"is {_size(len(raw))}, larger than the "
                           f"{_size(MAX_FILE_BYTES)} notegen reads")
    raw = bytes(raw)
    kept = _parsed.get(path, raw)
    if kept is not None:
        return kept
    source = _parse(path, raw)
    _parsed.keep(path, raw, source)
    return source


def _is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


class _Parsed:
    """The files parsed lately, by name and bytes, up to
    :data:`PARSED_KEPT_BYTES` of them, the least recently read let go first:
    a warm process (the daemon, the service, the desk) reads the same
    catalogue for every note, and parsing YAML in Python is most of what
    loading a case costs. Keyed by the bytes themselves, not by a file's
    size and time, so an edit is never missed however fast it follows.
    Only files that parsed without a problem are kept, without their
    nodes (:attr:`SourceFile.positions` composes them again if asked)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._files: OrderedDict[tuple[Path, bytes], SourceFile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, raw: bytes) -> SourceFile | None:
        with self._lock:
            source = self._files.get((path, raw))
            if source is not None:
                self._files.move_to_end((path, raw))
            return source

    def keep(self, path: Path, raw: bytes, source: SourceFile) -> None:
        if len(raw) > self.limit:
            return
        with self._lock:
            if (path, raw) in self._files:
                return
            self._files[(path, raw)] = source
            self.size += len(raw)
            while self.size > self.limit:
                (_, dropped), _ = self._files.popitem(last=False)
                self.size -= len(dropped)
        source.node = None  # a YAML file's nodes take ten times its bytes


_parsed = _Parsed(PARSED_KEPT_BYTES)


def _parse(path: Path, raw: bytes) -> SourceFile:
    """:func:`parse_source` of bytes it has not kept."""
    text = _decode(path, raw)
    control = _CONTROL.search(text)
    if control is not None:
        where = Location(path, *_line_column(text, control.start()))
        raise RecordError([Problem(f"the file has {describe_character(control.group())}, a "
                                   "control character that has no place in a text file", where)])
    is_json = _is_json(path)
    data, node = _parse_json(path, text) if is_json else _parse_yaml(path, text)
    source = SourceFile(path, text, data, node)
    escape = _LONE_SURROGATE.search(text) if is_json else None
    if escape is not None:
        for field_path, value in _strings(data, ()):
            found = _SURROGATE.search(value)
            if found is not None:
                where = source.locate(field_path)
                if where.line is None:  # YAML could not compose it: the escape's place
                    where = Location(path, *_line_column(text, escape.start()), where.field)
                raise RecordError([Problem(
                    f"the text has {describe_character(found.group())}, a lone surrogate "
                    "(half of a UTF-16 pair) and no character: write the character itself",
                    where)])
    return source


def _strings(data: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string in ``data`` (keys too), with the field path where it is."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield (*path, key), key
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _strings(item, (*path, index))


def _parse_yaml(path: Path, text: str) -> tuple[Any, Node | None]:
    # One parse: the node tree gives both the positions and the data.
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or str(exc)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise RecordError([Problem(f"invalid YAML: {message}",
                                   Location(path, line, column))]) from None
    except yaml.reader.ReaderError as exc:
        raise RecordError([Problem(f"invalid YAML: {exc.reason}", Location(
            path, *_line_column(text, min(exc.position, len(text)))))]) from None
    except yaml.YAMLError as exc:
        raise RecordError([Problem(f"invalid YAML: {exc}", Location(path))]) from None
    finally:
        loader.dispose()
    return data, node


class _TooLong(ValueError):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _TooLong(digits)
    return int(digits)


#: What a JSON text is made of: a string (escapes included), a bracket, or
#: another scalar (a number, true, false, null).
_JSON_TOKENS = re.compile(r'"(?:[^"\\]+|\\.)*"?|[\[\]{}]|[^\s"\[\]{},:]+', re.DOTALL)


def _json_shape(text: str) -> tuple[str, int] | None:
    """What passes a limit first, and where (an offset), if anything does:
    nesting deeper than :data:`MAX_DEPTH` or more than :data:`MAX_VALUES`
    values. Counted before parsing, which recurses, and faster than
    composing the nodes."""
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    if not deep and len(text) <= MAX_VALUES:  # every value takes a character at least
        return None
    if _surely_within(text):
        return None
    depth = values = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()[0]
        if char in "]}":
            depth -= 1
            continue
        values += 1
        if values > MAX_VALUES:
            return (f"the file holds more than {MAX_VALUES:,} values (scalars, lists and "
                    "objects); split it into files that include each other", token.start())
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"lists and objects nest more than {MAX_DEPTH} deep here", token.start()
    return None


#: A JSON string (one left open runs to the end: the text is no JSON then).
_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _surely_within(text: str) -> bool:
    """Whether ``text`` surely passes no limit of :func:`_json_shape`, told
    fast (in C but for one step per bracket): with its strings taken out,
    every value follows a bracket, comma or colon (an upper bound of their
    number), and its brackets nest no deeper than :data:`MAX_DEPTH`. If not
    sure, :func:`_json_shape` counts token by token."""
    bare = _JSON_STRING.sub('""', text)
    if sum(map(bare.count, ",:[{")) + 1 > MAX_VALUES:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(bare):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            return False
    return True


def _parse_json(path: Path, text: str) -> tuple[Any, Node | None]:
    shape = _json_shape(text)
    if shape is not None:
        message, offset = shape
        raise RecordError([Problem(f"invalid JSON: {message}",
                                   Location(path, *_line_column(text, offset)))])
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise RecordError([Problem(f"invalid JSON: {exc.msg}",
                                   Location(path, exc.lineno, exc.colno))]) from None
    except _TooLong as exc:
        where = Location(path, *_line_column(text, max(text.find(exc.digits), 0)))
        raise RecordError([Problem(f"invalid JSON: a number may have at most "
                                   f"{MAX_NUMBER_DIGITS} digits", where)]) from None
    if duplicates:
        # JSON is YAML, nearly: composed again for the line of the duplicate key.
        loader = _Loader(text)
        try:
            loader.get_single_node()
        except _Refused as exc:
            mark = exc.problem_mark
            message = f"invalid JSON: {exc.problem}".replace("mapping", "object")
            raise RecordError([Problem(message, Location(path, *(
                (mark.line + 1, mark.column + 1) if mark else (None, None))))]) from None
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
        raise RecordError([Problem(f"invalid JSON: the key {shown(duplicates[0])} is given "
                                   "twice in one object", Location(path))])
    return data, None  # its positions are found when asked for (SourceFile.positions)


def _json_positions(text: str, out: dict[FieldPath, tuple[int, int]]) -> None:
    """The position of every value of ``text``, a JSON file parsed already
    (JSON is YAML, nearly), as :func:`_positions` finds them in composed
    nodes, from libyaml's events: composing the nodes in Python would cost
    more than the rest of loading the file. None for valid JSON that YAML
    cannot parse (rare): fields are still named, only their lines are
    unknown."""
    parser = _Parser(text)
    # Each open object or list: its path, and the key or index of its value
    # now (an object's is None while its next key is due).
    stack: list[tuple[FieldPath, list[Any]]] = []
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, MappingEndEvent | SequenceEndEvent):
                stack.pop()
                continue
            if not isinstance(event, NodeEvent):
                continue
            start: Any = event.start_mark  # libyaml's or PyYAML's
            mark = (start.line + 1, start.column + 1)
            path: FieldPath = ()
            if stack:
                base, at = stack[-1]
                if at[0] is None:  # an object's key: where a reader looks for its value
                    if not isinstance(event, ScalarEvent):
                        raise yaml.YAMLError("a key that is not a string")
                    at[0] = event.value
                    out[(*base, event.value)] = mark
                    continue
                if isinstance(at[0], int):
                    at[0] += 1
                    path = (*base, at[0])
                    out[path] = mark
                else:
                    path, at[0] = (*base, at[0]), None
            else:
                out[path] = mark
            if isinstance(event, MappingStartEvent):
                stack.append((path, [None]))
            elif isinstance(event, SequenceStartEvent):
                stack.append((path, [-1]))
    except yaml.YAMLError:
        logger.debug("no line numbers for a JSON file")
        out.clear()
    finally:
        parser.dispose()


_MESSAGES = {
    "missing": "this field is required",
    "extra_forbidden": "unknown field (check its spelling)",
}


def schema_problems(source: SourceFile, error: ValidationError) -> Iterator[Problem]:
    """Each problem pydantic found in ``source``, located and in a plain
    sentence; past :data:`MAX_LISTED_PROBLEMS`, one more says how many are
    not listed."""
    items = error.errors(include_url=False, include_input=True)
    for item in items[:MAX_LISTED_PROBLEMS]:
        message = _MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "string_pattern_mismatch":
            pattern = str(item.get("ctx", {}).get("pattern"))
            message = PATTERN_HINTS.get(pattern, message) + f" (not {shown(item['input'])})"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        yield Problem(message[0].lower() + message[1:], source.locate(_untagged(item["loc"])))
    if len(items) > MAX_LISTED_PROBLEMS:
        yield Problem(f"and {len(items) - MAX_LISTED_PROBLEMS:,} more problems in this file, "
                      "not listed", Location(source.path))



def _untagged(loc: tuple[int | str, ...]) -> FieldPath:
    """``loc`` without the names pydantic gives the branches of a union
    (:data:`~notegen.records.models.UNION_TAGS`), which no file holds."""
    return tuple(part for index, part in enumerate(loc)
                 if not (index and part in UNION_TAGS.get(str(loc[index - 1]), ())))


Model = TypeVar("Model", bound=BaseModel)


def read_data_file(path: Path, model: type[Model], *, root: Path | None = None) -> Model:
    """Read a YAML data file of a template folder (a phrase catalogue, the
    legal wording) as ``model``; with ``root``, only if it lies inside that
    folder (see :func:`read_bytes`).

    :raises TemplateError: naming the file, with every problem in it located
        by line and field.
    """
    try:
        source = read_file(path, root=root)
    except RecordError as exc:
        raise TemplateError("the file cannot be read", template=str(path),
                            problems=exc.problems) from None
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        problems = tuple(schema_problems(source, exc))
        head = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise TemplateError(f"{head} in the file", template=str(path),
                            problems=problems) from None
