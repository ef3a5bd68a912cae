"""Write docs/records.md, the field reference of the records, from the models
and from what each built-in language's wording needs.

    .venv/bin/python scripts/records_docs.py

The sections and fields come from the records' JSON Schema
(:func:`notegen.records.schema.record_schema`, itself from
notegen/records/models.py): type, whether required, description, example.
The forms and genders per language come from
:func:`notegen.wording.needs.language_needs`, which asks the wording what it
misses. tests/test_schema.py checks the page is current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notegen.records.schema import record_schema
from notegen.template_folders import TemplateFolders
from notegen.wording.catalogue import load_catalogue
from notegen.wording.needs import ROLES, USES, Need, language_needs

DOC = Path(__file__).resolve().parent.parent / "docs" / "records.md"

INTRO = """\
# The records: every field

This page is the reference of what a record file may hold, for whoever
writes a case. It is generated from notegen's models (run
`scripts/records_docs.py` after changing `notegen/records/models.py` or a
catalogue); the same descriptions and examples are in the records' JSON
Schema (`notegen schema`), which an editor shows while you type.

A case is one note file that may `include` other files (paths relative to
it): a sender profile, parties, incidents; and it may name the ministry's
incident catalogue (`catalogue: ../catalogue`), a folder whose every record
file is then part of the case. Every file may hold any of the sections
below and none is required in a file, but a case has exactly one `note`
(never in a catalogue), and every id it names must be a record of one of its
files. Ids are unique across a case and its catalogue. The note's `earlier`
incidents are a list of ids or a rule that chooses them (`Chronology`).

- **Text** is given once (`place: Kyiv`) or per language (`place: {en: Kyiv,
  ru: Киев}`); the note's language picks the variant. A text given once is in
  the note's `language`.
- **Dates** are written `YYYY-MM-DD` (`2025-11-14`), **times** `"HH:MM"` in
  quotes.
- A field that is not required may be left out; its default is given.
- Unknown fields are errors, never ignored.

`notegen validate CASE` checks one file by the rules below and the case as a
whole (ids that resolve, dates in order, the forms of the last section).
"""

#: The order of the models on the page: the sections, then what they hold.
ORDER = ["State", "Party", "Person", "Profile", "CourtesyPolicy", "Facility", "Incident",
         "Impact", "Distance", "Means", "Casualties", "Source", "ArmedConflict", "Relations",
         "Note", "Chronology", "ChronologyRule", "ReplyTo", "RecalledNote", "RecalledReply",
         "Demand", "Citation"]

_GENDER_HINT = {True: "`gender: female` or `male`",
                False: "`gender: {%s: masculine}` (or `feminine`, `neuter`)"}


def _example(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False, separators=(', ', ': '))}`"


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A property's type in words."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[1]
        target = defs[name]
        if "enum" in target:
            return "one of " + ", ".join(f"`{value}`" for value in target["enum"])
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop or "oneOf" in prop:
        options = [option for option in prop.get("anyOf", prop.get("oneOf"))
                   if option.get("type") != "null"]
        kinds = [option.get("type") for option in options]
        if kinds == ["string", "object"]:
            return "text (or per language)"
        return " or ".join(_kind(option, defs) for option in options)
    kind = prop.get("type")
    if kind == "array":
        return "list of " + _kind(prop["items"], defs)
    if kind == "string":
        if prop.get("format") == "date":
            return "date"
        return "text"
    if kind == "object" and "patternProperties" in prop:
        return "per language: a mapping"
    return {"integer": "whole number", "number": "number", "boolean": "true or false"
            }.get(str(kind), str(kind))


def _model(name: str, defs: dict[str, Any]) -> str:
    schema = defs[name]
    required = set(schema.get("required", ()))
    out = [f"### {name}", "", " ".join(schema.get("description", "").split()), "",
           "| field | type | required | what it is | example |", "|---|---|---|---|---|"]
    for field, prop in schema["properties"].items():
        if field in required:
            needed = "yes"
        elif prop.get("default") not in (None, [], {}):
            needed = f"no (default `{json.dumps(prop['default'], ensure_ascii=False)}`)"
        else:
            needed = "no"
        text = " ".join(prop.get("description", "").split())
        example = _example(prop["examples"][0]) if prop.get("examples") else ""
        out.append(f"| `{field}` | {_kind(prop, defs)} | {needed} | "
                   f"{text.replace('|', chr(92) + '|')} | {example.replace('|', chr(92) + '|')} |")
    return "\n".join([*out, ""])


def _sections(schema: dict[str, Any]) -> str:
    defs = schema["$defs"]
    out = ["## The sections of a record file", "",
           "| section | type | what it holds |", "|---|---|---|"]
    for field, prop in schema["properties"].items():
        text = " ".join(prop.get("description", "").split())
        out.append(f"| `{field}` | {_kind(prop, defs)} | {text} |")
    out += ["", "## The records, field by field", ""]
    out += [_model(name, defs) for name in ORDER]
    enums = sorted(name for name, value in defs.items() if "enum" in value)
    out += ["## The kinds", "", "| kind | values | what they are |", "|---|---|---|"]
    for name in enums:
        values = ", ".join(f"`{value}`" for value in defs[name]["enum"])
        out.append(f"| {name} | {values} | {' '.join(defs[name].get('description', '').split())} |")
    return "\n".join([*out, ""])


def _give(need: Need, lang: str) -> str:
    if need.key == "gender":
        return _GENDER_HINT[need.record.endswith(".head")].replace("%s", lang)
    return f"`forms: {{{lang}: {{{need.key}: …}}}}`"


def _languages() -> str:
    folders = TemplateFolders.of([])
    out = ["## What each language needs of the records", "",
           "The phrases of a language decline names and agree with genders: Russian",
           "writes \"Посольству\" (the dative) where English writes \"the Embassy\", French",
           "\"à l'Ambassade\". The records give these forms (`forms`) and genders",
           "(`gender`). Below is everything the built-in languages ask for, by the record",
           "that gives it and what needs it; `notegen validate` (and `notegen render",
           "--set demarche` for the talking points and the press release) reports",
           "every one that is missing at once, located at the record. The list is",
           "found by wording a case that gives none, in every note type and document,",
           "so it is what validation asks for.", "",
           "Note types and documents: " + ", ".join(USES) + ".", ""]
    for lang in folders.languages():
        catalogue = load_catalogue(lang, folders)
        assert catalogue is not None
        needs = language_needs(lang, folders)
        out += [f"### {catalogue.language} (`{lang}`)", ""]
        if not needs:
            out += [f"{catalogue.language} needs no form and no gender.", ""]
            continue
        out += ["| record | give | needed for | e.g. by the phrase |", "|---|---|---|---|"]
        for need in needs:
            uses = "every note and document" if len(need.uses) == len(USES) \
                else ", ".join(need.uses)
            out.append(f"| {ROLES[need.record]} | {_give(need, lang)} | {uses} | "
                       f"`{need.phrase}` |")
        out.append("")
    return "\n".join(out)


def document() -> str:
    """docs/records.md as the models and the catalogues make it now."""
    return "\n".join([INTRO, _sections(record_schema()), _languages()]).rstrip() + "\n"


if __name__ == "__main__":
    DOC.write_text(document(), encoding="utf-8")
