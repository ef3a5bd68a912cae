"""The records' JSON Schema (``notegen schema``), the modelines that name it,
the field reference docs/records.md, and what each language asks of the
records (notegen/wording/needs.py)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import runpy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

import notegen
from notegen.cli import cli
from notegen.errors import RecordError
from notegen.options import Document, RenderOptions
from notegen.records.models import Effect, RecordFile
from notegen.records.reading import parse_source
from notegen.records.schema import SCHEMA_FILE, record_schema, schema_text
from notegen.template_folders import TemplateFolders
from notegen.wording.needs import language_needs

from .conftest import CATALOGUE, FIXTURES, ROOT

Validator = jsonschema.Draft202012Validator
#: Every record file of the seeds and fixtures that parses (the broken-syntax
#: fixtures are there to fail before any schema).
RECORD_FILES = sorted([*(ROOT / "seeds").rglob("*.yaml"), *FIXTURES.rglob("*.yaml"),
                       *FIXTURES.rglob("*.json")])
RECORD_FILES = [path for path in RECORD_FILES if not path.stem.startswith("broken-syntax")]
YAML_RECORD_FILES = [path for path in RECORD_FILES if path.suffix == ".yaml"]


def validator() -> jsonschema.protocols.Validator:
    return Validator(record_schema(), format_checker=Validator.FORMAT_CHECKER)


def errors_of(data: Any) -> set[tuple[str | int, ...]]:
    """Where the schema finds ``data`` wrong: the path of each error (of an
    optional section, ``anyOf`` a record or null: where in the record)."""
    return {tuple(jsonschema.exceptions.best_match([error]).absolute_path)
            for error in validator().iter_errors(data)}


# The schema itself.

def test_the_schema_is_draft_2020_12_and_describes_every_field() -> None:
    schema = record_schema()
    Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["title"]
    assert schema["description"]
    assert set(schema["properties"]) == set(RecordFile.model_fields)
    assert "required" not in schema  # a case's pieces live in several files
    assert schema["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), name
        for field, prop in definition.get("properties", {}).items():
            assert prop.get("description"), (name, field)
            assert prop.get("examples"), (name, field)
            # every example is valid for its field
            for example in prop["examples"]:
                subschema = {"$defs": schema["$defs"], **prop}
                assert not list(Validator(subschema).iter_errors(example)), (name, field)


def test_dates_are_dates_and_kinds_are_enums() -> None:
    defs = record_schema()["$defs"]
    assert defs["Incident"]["properties"]["date"] == {
        **defs["Incident"]["properties"]["date"], "type": "string", "format": "date"}
    assert defs["Effect"]["enum"] == [effect.value for effect in Effect]
    assert defs["Impact"]["properties"]["effect"]["$ref"] == "#/$defs/Effect"


def test_the_wheel_ships_the_schema_as_generated() -> None:
    assert SCHEMA_FILE.parent == ROOT / "notegen" / "records"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "notegen/records/record.schema.json is out of date: run " \
        "notegen schema -o notegen/records/record.schema.json"
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == record_schema()


def test_notegen_schema_prints_it_or_writes_it(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == record_schema()
    target = tmp_path / "record.schema.json"
    result = runner.invoke(cli, ["schema", "-o", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == schema_text()
    result = runner.invoke(cli, ["schema", "-o", str(tmp_path / "no" / "such.json")])
    assert result.exit_code == 1
    assert "Error: cannot write" in result.stderr
    assert not (tmp_path / "no").exists()


# The seeds and fixtures.

@pytest.mark.parametrize("path", RECORD_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_seed_and_fixture_validates_against_the_schema(path: Path) -> None:
    source = parse_source(path, path.read_bytes())
    assert not list(validator().iter_errors(source.data))


@pytest.mark.parametrize("path", YAML_RECORD_FILES,
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_every_yaml_record_file_names_the_shipped_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (path.parent / first.removeprefix(prefix)).resolve() == SCHEMA_FILE


# Broken files: the schema says where, and the models refuse them too.

def test_a_broken_file_is_refused_at_each_broken_field() -> None:
    data = json.loads((FIXTURES / "minimal.json").read_text(encoding="utf-8"))
    assert not errors_of(data)
    data["incidents"][0]["date"] = "2025-13-01"
    data["incidents"][0]["impacts"][0]["effect"] = "flattened"
    data["incidents"][0]["time"] = "1:00"
    data["states"][0]["nickname"] = "x"
    data["parties"][0]["id"] = "Az-MFA"
    data["note"]["demands"] = [{"kind": "other"}]
    assert errors_of(data) == {
        ("incidents", 0, "date"), ("incidents", 0, "impacts", 0, "effect"),
        ("incidents", 0, "time"), ("states", 0), ("parties", 0, "id"),
        ("note", "demands", 0)}
    with pytest.raises(ValidationError) as info:
        RecordFile.model_validate(data)
    assert {error["loc"][:len(path)] for error in info.value.errors()
            for path in [("incidents", 0), ("states", 0), ("parties", 0), ("note",)]
            if error["loc"][:len(path)] == path} == {
        ("incidents", 0), ("states", 0), ("parties", 0), ("note",)}


def _minimal() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "minimal.json").read_text(encoding="utf-8"))
    return data


def _with(change: str, value: Any) -> dict[str, Any]:
    """The minimal case with the value at the dotted path ``change`` set."""
    data = copy.deepcopy(_minimal())
    *parents, last = [int(part) if part.isdigit() else part for part in change.split(".")]
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


REFUSED = [
    ("note.demands", [{"kind": "other"}]),
    ("note.demands", [{"kind": "other", "text": None}]),
    ("note.demands", []),
    ("note.earlier", ["a", "a"]),
    ("note.protest", "   "),
    ("note.protest", {"english": "protest"}),
    ("note.protest", {}),
    ("note.language", "English"),
    ("incidents.0.time", "24:00"),
    ("incidents.0.impacts", []),
    ("incidents.0.impacts.0.distance", {"value": 0}),
    ("incidents.0.impacts.0.distance", {"value": 5, "unit": "miles"}),
    ("incidents.0.means", [{"kind": "missile", "count": 0}]),
    ("incidents.0.casualties", {"killed": -1}),
    ("incidents.0.date", "14.11.2025"),
    ("states.0.forms", {"ru": {"dat": "x"}}),
    ("states.0.gender", {"ru": "female"}),
    ("states.0.iso", "aze"),
    ("conflicts", [{"id": "c", "parties": ["a"], "since": "2022-02-24"}]),
    ("conflicts", [{"id": "c", "kind": "non_international", "parties": ["a", "a"],
                    "since": "2022-02-24"}]),
    ("relations", [{"sending": "a", "receiving": "b", "protecting_power": "c"}]),
    ("relations", [{"sending": "a", "receiving": "b", "status": "protecting_power"}]),
    ("note.in_reply_to", {"reference": "1"}),
    ("incidents.0.sources", [{"title": "x", "url": "ftp://example.org"}]),
]


@pytest.mark.parametrize(("change", "value"), REFUSED, ids=[c for c, _ in REFUSED])
def test_what_the_schema_refuses_the_models_refuse(change: str, value: Any) -> None:
    data = _with(change, value)
    assert errors_of(data)
    with pytest.raises(ValidationError):
        RecordFile.model_validate(data)


ACCEPTED = [
    ("note.demands", [{"kind": "other", "text": "leave"}]),
    ("note.protest", {"en": "protest", "ru": "выразить протест"}),
    ("incidents.0.time", "23:59"),
    ("conflicts", [{"id": "c", "kind": "non_international", "parties": ["a"],
                    "since": "2022-02-24"}]),
    ("relations", [{"sending": "a", "receiving": "b", "status": "protecting_power",
                    "protecting_power": "c"}]),
    ("relations", [{"sending": "a", "receiving": "b", "protecting_power": None}]),
]


@pytest.mark.parametrize(("change", "value"), ACCEPTED, ids=[c for c, _ in ACCEPTED])
def test_what_the_models_accept_the_schema_accepts(change: str, value: Any) -> None:
    data = _with(change, value)
    assert not errors_of(data)
    RecordFile.model_validate(data)


# docs/records.md and what each language needs.

def test_the_field_reference_is_current_and_complete() -> None:
    docs = runpy.run_path(str(ROOT / "scripts" / "records_docs.py"))
    page = docs["DOC"].read_text(encoding="utf-8")
    assert page == docs["document"](), \
        "docs/records.md is out of date: run scripts/records_docs.py"
    defs = record_schema()["$defs"]
    models = [name for name, value in defs.items() if "properties" in value]
    assert sorted(docs["ORDER"]) == sorted(models)
    for name in models:
        section = page.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        for field in defs[name]["properties"]:
            assert f"\n| `{field}` |" in section, (name, field)
    for field in RecordFile.model_fields:
        assert f"\n| `{field}` |" in page.split("## The records, field by field")[0]
    for lang in ("en", "ru", "az", "fr"):
        assert f"(`{lang}`)\n" in page


BUILTIN = TemplateFolders.of([])


def test_english_needs_no_form_and_russian_the_dative_of_the_addressee() -> None:
    assert language_needs("en", BUILTIN) == ()
    # ru.yaml: note_verbale.opening "… свидетельствует своё уважение {addressee.dat}"
    needs = {(need.record, need.key): need for need in language_needs("ru", BUILTIN)}
    dative = needs[("parties[0]", "name.dat")]
    assert "note verbale" in dative.uses
    assert "first-person note" not in dative.uses
    # ru.yaml: press_release.lead "{sender:masculine=счёл|feminine=сочла|neuter=сочло}"
    assert needs[("profile", "gender")].uses == ("press release",)


def _strip(path: Path, *keys: str) -> None:
    """Remove every field named ``keys`` from the YAML file at ``path``."""

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            for key in keys:
                node.pop(key, None)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    strip(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("lang", ["ru", "az", "fr"])
def test_validate_reports_every_missing_form_at_once(seed_copy: Path, lang: str) -> None:
    """Without forms, one run names every form a note verbale in ``lang``
    needs, each at its record: what docs/records.md lists for it."""
    _strip(seed_copy / CATALOGUE / "parties.yaml", "forms", "gender")
    with pytest.raises(RecordError) as info:
        notegen.prepare(notegen.load_case(seed_copy / "note.yaml"), RenderOptions(lang=lang))
    reported = {(problem.location.field, problem.message.rsplit("{", 1)[1].split(":")[0])
                for problem in info.value.problems}
    # The worked case: the addressee is parties[0] of parties.yaml, the
    # Russian Federation states[1]; what the note (no reply) needs of them.
    where = {"parties[0]": "parties[0].forms", "states[1]": "states[1].forms"}
    expected = {(where[need.record], need.key) for need in language_needs(lang, BUILTIN)
                if "note verbale" in need.uses and need.record in where
                and need.phrase != "reply"}
    assert expected
    assert expected <= reported
    assert all(problem.message.endswith("…}}") for problem in info.value.problems)


def test_talking_points_report_every_missing_form_at_once(edit_seed: Any) -> None:
    note = edit_seed(f"{CATALOGUE}/parties.yaml",
                     "      ru: {side.gen: Азербайджанской стороны}\n", "")
    parties = note.parent / CATALOGUE / "parties.yaml"
    text = parties.read_text(encoding="utf-8")
    start = text.index("      forms:\n        ru:\n          name.nom")
    end = text.index("\n\n", start)
    parties.write_text(text[:start] + text[end + 1:], encoding="utf-8")
    parties.write_text(
        parties.read_text(encoding="utf-8").replace(
            "    forms:\n  - id: ru\n", "  - id: ru\n"), encoding="utf-8")
    with pytest.raises(RecordError) as info:
        notegen.prepare(notegen.load_case(note),
                        RenderOptions(lang="ru", document=Document.talking_points))
    forms = sorted(problem.message.rsplit("{", 1)[1].split(":")[0]
                   for problem in info.value.problems)
    assert forms == ["name.nom", "side.gen", "title.nom"]


def test_a_new_case_validates_against_the_schema_it_names(tmp_path: Path) -> None:
    from notegen.render.scaffold import CaseSpec, new_case

    written = new_case(tmp_path / "case", CaseSpec("az", "ru", dt.date(2025, 11, 14), "Kyiv",
                                                   lang="ru"))
    assert written
    prefix = "# yaml-language-server: $schema="
    for path in written:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(prefix)
        assert first.removeprefix(prefix) == SCHEMA_FILE.as_uri()
        assert not errors_of(parse_source(path, path.read_bytes()).data)
