"""The JSON Schema of a record file, for editors and other programs.

:func:`record_schema` derives it from the models (:mod:`.models`): every
section a file may hold (none required, since a case's records may lie in
several files), every field with its description and examples, dates as
``format: date``, kinds as enums, unknown fields refused. Where a model's
validator checks something pydantic cannot say in a schema, :data:`_RULES`
says it (a demand of kind ``other`` needs its text, …). What needs the
whole case (ids that resolve, dates in order) no schema of one file can say:
``notegen validate`` checks it.

The wheel ships the schema as ``notegen/records/record.schema.json``
(:data:`SCHEMA_FILE`), which the seeds' and new cases' modelines name; a test
keeps it equal to :func:`record_schema`. Regenerate it with ``notegen schema
-o notegen/records/record.schema.json``.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
from pathlib import Path
from typing import Any

from .models import Note, RecordFile

#: Where the wheel ships the schema.
SCHEMA_FILE = Path(__file__).with_name("record.schema.json")
#: The schema's identifier: a name, not an address to fetch it from.
SCHEMA_ID = "urn:notegen:record-file"
#: The JSON Schema dialect it is written in.
DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: What the models' validators check beyond their fields' types, as JSON
#: Schema, by model (each is added to that model's schema).
_RULES: dict[str, dict[str, Any]] = {
    # Demand._other_needs_text
    "Demand": {
        "if": {"required": ["kind"], "properties": {"kind": {"const": "other"}}},
        "then": {"required": ["text"], "properties": {"text": {"not": {"type": "null"}}}},
    },
    # Relations._consistent: a protecting power exactly for that status.
    "Relations": {
        "if": {"required": ["status"],
               "properties": {"status": {"const": "protecting_power"}}},
        "then": {"required": ["protecting_power"],
                 "properties": {"protecting_power": {"type": "string"}}},
        "else": {"properties": {"protecting_power": {"type": "null"}}},
    },
    # ArmedConflict._consistent: an international conflict (the default
    # kind) has two parties or more, each listed once.
    "ArmedConflict": {
        "properties": {"parties": {"uniqueItems": True}},
        "if": {"required": ["kind"], "properties": {"kind": {"const": "non_international"}}},
        "else": {"properties": {"parties": {"minItems": 2}}},
    },
    # Note.earlier: each incident once.
    "Note": {"properties": {"earlier": {"uniqueItems": True}}},
}


def record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record file."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    generated = RecordFile.model_json_schema(ref_template="#/$defs/{model}")
    # A note as written is what a file holds: the schema calls it Note.
    generated = json.loads(json.dumps(generated).replace('"#/$defs/NoteAsWritten"',
                                                         '"#/$defs/Note"'))
    definitions: dict[str, Any] = generated.pop("$defs")
    definitions["Note"] = {**definitions.pop("NoteAsWritten"), "title": "Note",
                           "description": inspect.cleandoc(Note.__doc__ or "")}
    for name, rules in _RULES.items():
        _merge(definitions[name], rules)
    generated.pop("title", None)
    generated.pop("description", None)
    schema = {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "notegen record file",
        "description": (
            "One YAML or JSON file of a notegen case. Every section is optional: a case "
            "may spread its records over several files (include), and has exactly one "
            "note. Records refer to each other by id; `notegen validate` checks what "
            "needs the whole case."),
        **generated,
        "$defs": dict(sorted(definitions.items())),
    }
    _tidy(schema)
    return schema


def _merge(target: dict[str, Any], rules: dict[str, Any]) -> None:
    """Add ``rules`` to the schema ``target``, property by property."""
    for key, value in rules.items():
        if key == "properties":
            for name, extra in value.items():
                target["properties"][name] = {**target["properties"][name], **extra}
        else:
            target[key] = value


def _tidy(node: Any) -> None:
    """Say in the schema what pydantic leaves unsaid, throughout: a mapping
    whose keys follow a pattern takes no other key (the models refuse them);
    and drop the titles pydantic makes from field names ("Attributed To"),
    which would only repeat the key."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        properties = node.get("properties")
        if isinstance(properties, dict):
            for value in properties.values():
                if isinstance(value, dict):
                    value.pop("title", None)
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def schema_text() -> str:
    """:func:`record_schema` as the text of a JSON file (what ``notegen
    schema`` prints and the wheel ships): keys in a fixed order, two spaces
    of indent, the characters as they are, a line break at the end."""
    return json.dumps(record_schema(), indent=2, ensure_ascii=False) + "\n"
