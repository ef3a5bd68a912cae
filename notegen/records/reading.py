"""Reading one YAML or JSON file, keeping where every value was written.

Records, phrase catalogues and the legal wording are all read here, so that
every problem in any of them is reported the same way: file, line, column,
field path and a plain sentence (:class:`~notegen.errors.Problem`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Location, Problem, RecordError, TemplateError
from .models import PATTERN_HINTS

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
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordError([Problem("file not found", Location(path))]) from None
    except OSError as exc:
        raise RecordError([Problem(f"cannot read the file: {exc.strerror or exc}",
                                   Location(path))]) from None
    return parse_source(path, data)


def parse_source(path: Path, raw: bytes) -> SourceFile:
    """Parse ``raw``, the bytes of a YAML or JSON file (by ``path``'s
    suffix), keeping the position of every value; problems are located in
    ``path``, which need not exist (a case posted to the service).

    :raises RecordError: if the bytes are not valid UTF-8 or valid syntax.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError([Problem(f"cannot read the file: {exc}", Location(path))]) from None

    node: yaml.Node | None = None
    data: Any = None
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


def schema_problems(source: SourceFile, error: ValidationError) -> Iterator[Problem]:
    """Each problem pydantic found in ``source``, located and in a plain sentence."""
    for item in error.errors(include_url=False):
        message = _MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "string_pattern_mismatch":
            pattern = str(item.get("ctx", {}).get("pattern"))
            message = PATTERN_HINTS.get(pattern, message) + f" (not {item['input']!r})"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        yield Problem(message[0].lower() + message[1:], source.locate(tuple(item["loc"])))



Model = TypeVar("Model", bound=BaseModel)


def read_data_file(path: Path, model: type[Model]) -> Model:
    """Read a YAML data file of a template folder (a phrase catalogue, the
    legal wording) as ``model``.

    :raises TemplateError: naming the file, with every problem in it located
        by line and field.
    """
    try:
        source = read_file(path)
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
