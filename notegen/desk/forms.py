"""The desk's forms, built from the records' JSON Schema (:func:`record_schema`).

A section of a record file (the note, an incident) becomes a tree of
:class:`Field` (one input), :class:`Texts` (a text in each language of the
case, side by side) and :class:`Group` (an object, or one item of a list):
the widget follows the schema's type (a date, a time, a number, a yes/no, a
choice among an enum's values, a text). Every input is named
``<file>::<field>``, the field path exactly as notegen's problems name it
(``incidents[0].account.ru``), so a problem finds its field.

This module does not import the web framework.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..records.schema import record_schema

Widget = Literal["text", "textarea", "date", "time", "number", "checkbox", "select", "list"]

#: Fields a form does not show as inputs: the chronology has its own
#: checkboxes, and ids and includes are changed in the source view.
_HIDDEN = {("Note", "earlier"), ("Incident", "id")}
#: Texts written as a clause or more: a text area rather than a line.
_LONG = {"protest", "recalls", "position", "account", "damage", "text"}


@dataclass(frozen=True)
class Field:
    """One input."""

    key: str
    label: str
    widget: Widget
    value: str = ""
    checked: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    required: bool = False
    lang: str | None = None
    kind: str = "string"  # what the value is sent as: string, integer, number, boolean, list

    @property
    def id(self) -> str:
        """An element id for the input (a ``<label for>`` names it)."""
        return "f-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in self.key)


@dataclass(frozen=True)
class Texts:
    """A text given in each language of the case, side by side."""

    key: str
    label: str
    help: str
    fields: tuple[Field, ...]
    required: bool = False


@dataclass
class Group:
    """An object of the records (the note, an incident, one impact), or a
    list of them; ``items`` are :class:`Field`, :class:`Texts` or :class:`Group`."""

    key: str
    label: str
    help: str = ""
    items: list[Field | Texts | Group] = field(default_factory=list)
    #: A list's template for one more item (``__index__`` where its index goes).
    addable: Group | Field | Texts | None = None
    #: For a list: the file and path of the list (new items go at its end).
    list_path: str | None = None
    count: int = 0
    #: An optional object the file does not give: shown folded.
    absent: bool = False


def _defs() -> dict[str, Any]:
    defs: dict[str, Any] = record_schema()["$defs"]
    return defs


def _ref(node: Mapping[str, Any]) -> str | None:
    ref = node.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _is_text(node: Mapping[str, Any]) -> bool:
    """A text in one language or several: a string, or a map of languages."""
    options = node.get("anyOf", ())
    kinds = {option.get("type") for option in options}
    return "string" in kinds and "object" in kinds and any(
        "propertyNames" in option for option in options)


def _non_null(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` without its ``null`` alternative."""
    options = [option for option in node.get("anyOf", ()) if option.get("type") != "null"]
    if len(options) == 1:
        merged = {**node, **options[0]}
        merged.pop("anyOf", None)
        return merged
    return node


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class FormBuilder:
    """Builds the fields of one record file's sections."""

    def __init__(self, languages: Sequence[str],
                 choices: Mapping[str, Sequence[str]] | None = None) -> None:
        self.languages = tuple(languages)
        #: Fields (by path, e.g. ``note.language``) chosen from a list, not typed.
        self.choices = dict(choices or {})
        self.defs = _defs()

    def model(self, name: str, value: Any, file: str, path: str, label: str,
              help: str = "") -> Group:
        """The group of the model ``name`` at ``path`` of ``file``."""
        schema = self.defs[name]
        data = value if isinstance(value, dict) else {}
        group = Group(f"{file}::{path}", label, help or schema.get("description", ""))
        required = set(schema.get("required", ()))
        for prop, node in schema.get("properties", {}).items():
            if (name, prop) in _HIDDEN:
                continue
            item = self.node(node, data.get(prop), file, f"{path}.{prop}", prop,
                             prop in required)
            if item is not None:
                group.items.append(item)
        return group

    def node(self, node: Mapping[str, Any], value: Any, file: str, path: str, name: str,
             required: bool = False) -> Field | Texts | Group | None:
        help = str(node.get("description", ""))
        key = f"{file}::{path}"
        label = _label(name)
        if path in self.choices:
            return Field(key, label, "select", _shown(value),
                         options=(*(("",) if not required else ()), *self.choices[path]),
                         help=help, required=required)
        if _is_text(node) or (_is_text(_non_null(node))):
            return self.texts(key, label, help, value, required, long=name in _LONG)
        node = _non_null(node)
        ref = _ref(node)
        if ref is not None:
            target = self.defs[ref]
            if "enum" in target:
                return Field(key, label, "select", _shown(value),
                             options=tuple(("",) if not required else ()) + tuple(
                                 str(option) for option in target["enum"]),
                             help=help or target.get("description", ""), required=required)
            group = self.model(ref, value, file, path, label, help)
            group.absent = value is None and not required
            return group
        kind = node.get("type")
        if kind == "array":
            return self.array(node, value, file, path, name, help)
        if kind == "boolean":
            default = bool(node.get("default", False))
            return Field(key, label, "checkbox", checked=bool(value) if value is not None
                         else default, help=help, kind="boolean")
        if kind in ("integer", "number"):
            return Field(key, label, "number", _shown(value), help=help, required=required,
                         kind=str(kind))
        if node.get("format") == "date":
            return Field(key, label, "date", _shown(value), help=help, required=required)
        if "HH:MM" in help or name == "time":
            return Field(key, label, "time", _shown(value), help=help, required=required)
        return Field(key, label, "text", _shown(value), help=help, required=required)

    def texts(self, key: str, label: str, help: str, value: Any, required: bool,
              long: bool) -> Texts | Field:
        widget: Widget = "textarea" if long else "text"
        if isinstance(value, str):  # one text for every language: edited as it is
            return Field(key, f"{label} (every language)", widget, value, help=help,
                         required=required)
        given = value if isinstance(value, dict) else {}
        languages = [*self.languages, *(lang for lang in given if lang not in self.languages)]
        return Texts(key, label, help, tuple(
            Field(f"{key}.{lang}", f"{label} ({lang})", widget, _shown(given.get(lang)),
                  help=help, lang=lang) for lang in languages), required)

    def array(self, node: Mapping[str, Any], value: Any, file: str, path: str, name: str,
              help: str) -> Group | Field:
        items = node.get("items", {})
        values = value if isinstance(value, list) else []
        ref = _ref(items)
        if not _is_text(items) and ref is None:
            # A list of plain values (dates, ids): one line, comma-separated.
            return Field(f"{file}::{path}", _label(name), "list",
                         ", ".join(_shown(item) for item in values),
                         help=f"{help} Separate them with commas.".strip(), kind="list")
        group = Group(f"{file}::{path}", _label(name), help, list_path=path, count=len(values))
        singular = _label(name).rstrip("s") if name.endswith("s") else _label(name)
        for index, item in enumerate(values):
            group.items.append(self.element(items, ref, item, file, f"{path}[{index}]",
                                            f"{singular} {index + 1}", name))
        group.addable = self.element(items, ref, None, file, f"{path}[__index__]",
                                     f"{singular} (new)", name)
        return group

    def element(self, items: Mapping[str, Any], ref: str | None, value: Any, file: str,
                path: str, label: str, name: str) -> Group | Field | Texts:
        if ref is not None and "enum" not in self.defs[ref]:
            return self.model(ref, value, file, path, label)
        found = self.node(items, value, file, path, label.lower(), False)
        assert found is not None
        return found


def languages_of(data: Iterable[Any], extra: Iterable[str | None] = ()) -> list[str]:
    """The languages the texts of ``data`` are given in, the ``extra`` first."""
    found: list[str] = [lang for lang in extra if lang]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys = list(node)
            if keys and all(isinstance(key, str) and 2 <= len(key) <= 3 and key.islower()
                            and key.isalpha() for key in keys) and all(
                    isinstance(item, str) for item in node.values()):
                found.extend(keys)
                return
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for item in data:
        walk(item)
    return list(dict.fromkeys(found))
