"""The incident catalogue and the chronology chosen by rule (issue 21).

The catalogue below is written by hand, one incident a row; the incidents
each rule must choose are written by hand too, from the rule, beside it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import notegen
from notegen import RecordError, extract_record, load_case, render_pdf
from notegen.cli import cli
from notegen.records.case import load_incident_catalogue

from .catalogue_factory import NOTE_DATE, Row, write_catalogue

D = dt.date

#: Sender az (its Ministry) protests to ru (its Embassy); the conflict ru-ua
#: covers every incident attributed to ru. Premises: az-embassy-ua,
#: az-consulate-ua, az-company-ua (State company), the same in ge, sy, lb;
#: tr's and kz's likewise.
ROWS = [
    Row("r01", D(2019, 3, 1), "ua", "ru", "az-embassy-ua", "damaged"),
    Row("r02", D(2020, 6, 10), "ua", "ru", "az-company-ua", "struck"),
    Row("r03", D(2021, 12, 31), "ua", "ru", "az-consulate-ua", "near_miss"),
    Row("r04", D(2022, 1, 1), "ua", "ru", "az-embassy-ua", "damaged"),
    Row("r05", D(2022, 3, 10), "ua", "ru", "az-consulate-ua", "seriously_damaged"),
    Row("r06", D(2022, 5, 5), "ua", "by", "az-embassy-ua", "damaged"),
    Row("r07", D(2022, 7, 7), "ua", "ru", "tr-embassy-ua", "damaged"),
    Row("r08", D(2022, 8, 8), "ge", "ru", "az-embassy-ge", "struck"),
    Row("r09", D(2022, 9, 9), "ua", "ru", "az-company-ua", "damaged"),
    Row("r10", D(2023, 1, 15), "ua", "ru", "kz-company-ua", "destroyed"),
    Row("r11", D(2023, 2, 20), "ua", "ru", "az-embassy-ua", "near_miss"),
    Row("r12", D(2023, 3, 3), "lb", "sy", "az-embassy-lb", "damaged"),
    Row("r13", D(2023, 4, 4), "ua", "ru", "az-consulate-ua", "damaged"),
    Row("r14", D(2023, 5, 5), "ua", "by", "tr-consulate-ua", "damaged"),
    Row("r15", D(2023, 6, 6), "ge", "ru", "az-company-ge", "damaged"),
    Row("r16", D(2023, 7, 7), "ua", "ru", "az-company-ua", "near_miss"),
    Row("r17", D(2023, 8, 8), "sy", "ru", "az-embassy-sy", "struck"),
    Row("r18", D(2023, 9, 9), "ua", "ir", "az-embassy-ua", "damaged"),
    Row("r19", D(2024, 1, 2), "ua", "ru", "az-embassy-ua", "near_miss"),
    Row("r20", D(2024, 2, 2), "ua", "ru", "tr-company-ua", "damaged"),
    Row("r21", D(2024, 3, 3), "ua", "ru", "kz-embassy-ua", "damaged"),
    Row("r22", D(2024, 4, 4), "ge", "by", "az-consulate-ge", "struck"),
    Row("r23", D(2024, 5, 5), "ua", "ru", "az-consulate-ua", "struck"),
    Row("r24", D(2024, 6, 6), "lb", "ru", "az-company-lb", "damaged"),
    Row("r25", D(2024, 7, 7), "ua", "sy", "az-embassy-ua", "damaged"),
    Row("r26", D(2025, 1, 10), "ua", "ru", "az-embassy-ua", "damaged"),
    Row("r27", D(2025, 2, 11), "ua", "ru", "tr-embassy-ua", "struck"),
    Row("r28", D(2025, 3, 12), "ua", "ir", "kz-consulate-ua", "near_miss"),
    Row("r29", D(2025, 8, 8), "ua", "ru", "az-company-ua", "damaged"),
    Row("r30", D(2025, 8, 28), "ua", "ru", "az-embassy-ua", "damaged"),
    Row("r31", D(2025, 10, 1), "ge", "ru", "az-embassy-ge", "near_miss"),
    Row("r32", D(2025, 11, 14), "ua", "ru", "az-embassy-ua", "seriously_damaged"),
    Row("r33", D(2025, 12, 1), "ua", "ru", "tr-embassy-ua", "damaged"),
    Row("r34", D(2025, 12, 20), "ua", "by", "az-embassy-ua", "damaged"),
    Row("r35", D(2025, 12, 24), "ua", "ru", "az-consulate-ua", "damaged"),
]
#: The note protests r32; r35 (az, by ru) came after it.
SUBJECT = "r32"

#: attributed_to addressee (ru), struck sender (az), since 2022-01-01, in ua.
RULE = {"since": "2022-01-01", "countries": ["ua"]}
#: Written from the rows: ru on az's premises in ua (embassy, consulate or
#: company), from 2022-01-01, before r32.
CHOSEN = ["r04", "r05", "r09", "r11", "r13", "r16", "r19", "r23", "r26", "r29", "r30"]
#: The default rule (any date, anywhere): CHOSEN with r01-r03 (before 2022)
#: and r08, r15, r17, r24, r31 (outside ua).
EVERY_EARLIER = ["r01", "r02", "r03", "r04", "r05", "r08", "r09", "r11", "r13", "r15", "r16",
                 "r17", "r19", "r23", "r24", "r26", "r29", "r30", "r31"]


def _case(folder: Path, earlier: Any, rows: list[Row] = ROWS, **note: Any) -> Path:
    """A case in ``folder/case`` naming the catalogue ``folder/catalogue``."""
    if not (folder / "catalogue").exists():
        write_catalogue(folder / "catalogue", rows)
    case = folder / "case" / "note.yaml"
    case.parent.mkdir(parents=True, exist_ok=True)
    data = {"catalogue": "../catalogue",
            "note": {"date": NOTE_DATE.isoformat(), "sender": "az-mfa",
                     "addressee": "ru-embassy-az", "subject": SUBJECT, "earlier": earlier,
                     "protest": "protest against the attack",
                     "demands": [{"kind": "investigation"}], **note}}
    case.write_text(json.dumps(data, indent=1), encoding="utf-8")  # JSON is YAML
    return case


def _problems(case: Path) -> list[tuple[str | None, str]]:
    with pytest.raises(RecordError) as info:
        load_case(case)
    return [(problem.location.field, problem.message) for problem in info.value.problems]


def test_the_catalogue_is_large_enough_to_mean_something() -> None:
    assert len(ROWS) >= 30
    assert len({row.attributed_to for row in ROWS}) >= 4
    assert len({row.date.year for row in ROWS}) >= 5


def test_the_rule_chooses_exactly_the_expected_incidents(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, {"rule": RULE}))
    assert case.note.earlier == CHOSEN
    assert case.chronology is not None
    assert sorted(case.chronology.chosen) == CHOSEN
    assert case.notices == ()
    assert len(case.incidents) == len(ROWS)  # the whole catalogue is the case's


@pytest.mark.parametrize(("rule", "expected"), [
    # Only the State company's premises.
    ({**RULE, "premises": ["state_company_facility"]}, ["r09", "r16", "r29"]),
    # Only near misses.
    ({**RULE, "effects": ["near_miss"]}, ["r11", "r16", "r19"]),
    # Up to the end of 2023.
    ({**RULE, "until": "2023-12-31"}, ["r04", "r05", "r09", "r11", "r13", "r16"]),
    # Anywhere, any day: every earlier one.
    ({}, EVERY_EARLIER),
    # States by id: by on az's premises (r06; r22 is in ge, r34 after the subject).
    ({"attributed_to": "by", "countries": ["ua"]}, ["r06"]),
    # ru on tr's premises, in ua, before the subject.
    ({"struck": "tr", "countries": ["ua"]}, ["r07", "r20", "r27"]),
])
def test_each_part_of_a_rule(tmp_path: Path, rule: dict[str, Any], expected: list[str]
                             ) -> None:
    assert load_case(_case(tmp_path, {"rule": rule})).note.earlier == expected


def test_add_and_exclude(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, {"rule": RULE, "add": ["r08"], "exclude": ["r13"]}))
    assert case.note.earlier == ["r04", "r05", "r08", "r09", "r11", "r16", "r19", "r23",
                                 "r26", "r29", "r30"]


def test_unknown_ids_in_a_rule_are_located_errors(tmp_path: Path) -> None:
    problems = _problems(_case(tmp_path, {"rule": {**RULE, "countries": ["ua", "zz"]},
                                          "add": ["r08", "nope"], "exclude": ["gone"]}))
    assert ("note.earlier.add[1]", "unknown id 'nope': none of the incidents has it") \
        in problems
    assert ("note.earlier.exclude[0]", "unknown id 'gone': none of the incidents has it") \
        in problems
    assert ("note.earlier.rule.countries[1]", "unknown id 'zz': none of the states has it") \
        in problems


def test_an_addition_must_still_be_earlier(tmp_path: Path) -> None:
    problems = _problems(_case(tmp_path, {"rule": RULE, "add": ["r35"]}))
    assert problems == [("note.earlier.add[0]",
                         "'r35' (2025-12-24) is not earlier than the subject incident "
                         "(2025-11-14)")]


def test_a_rule_is_checked_as_it_is_written(tmp_path: Path) -> None:
    problems = _problems(_case(tmp_path, {"rule": {"since": "2024-01-01",
                                                   "until": "2023-01-01"}}))
    assert problems == [("note.earlier.rule",
                         "until (2023-01-01) is before since (2024-01-01)")]
    problems = _problems(_case(tmp_path, {"rule": {"premises": ["palace"]}}))
    assert [field for field, _ in problems] == ["note.earlier.rule.premises[0]"]
    problems = _problems(_case(tmp_path, ["r04", "r04"]))
    assert problems == [("note.earlier", "listed more than once: r04")]


def test_a_rule_that_chooses_nothing(tmp_path: Path) -> None:
    problems = _problems(_case(tmp_path, {"rule": {"since": "2025-11-01"}}))
    assert [field for field, _ in problems] == ["note.earlier.rule"]
    # Unless the note says it is the first.
    assert load_case(_case(tmp_path, {"rule": {"since": "2025-11-01"}},
                           chronology_required=False)).note.earlier == []


def test_additions_and_exclusions_the_rule_makes_needless_are_notices(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, {"rule": RULE, "add": ["r04"], "exclude": ["r08"]}))
    assert [(notice.location.field, notice.message) for notice in case.notices] == [
        ("note.earlier.add[0]", "the rule chooses 'r04' already; it need not be added"),
        ("note.earlier.exclude[0]", "the rule does not choose 'r08'; there is nothing to "
                                    "exclude")]


def test_a_list_that_leaves_out_what_the_rule_would_choose_is_warned(tmp_path: Path) -> None:
    listed = [incident for incident in EVERY_EARLIER if incident not in ("r19", "r26")]
    case = load_case(_case(tmp_path, listed))
    assert case.note.earlier == listed
    assert [(notice.location.field, notice.message) for notice in case.notices] == [
        ("note.earlier", "the catalogue has 2 incidents attributed to 'ru' that struck "
                         "premises of 'az' before the subject incident, which 'earlier' does "
                         "not list: 'r19', 'r26'; list them, or give 'earlier' as a rule "
                         "(with exclude for those the note should not recall)")]
    # A complete list is not warned about.
    assert load_case(_case(tmp_path, EVERY_EARLIER)).notices == ()


@pytest.mark.logs
def test_validate_shows_the_rule_s_choice_and_warns(tmp_path: Path) -> None:
    runner = CliRunner()
    by_rule = _case(tmp_path / "a", {"rule": RULE})
    result = runner.invoke(cli, ["validate", str(by_rule)])
    assert result.exit_code == 0, result.output
    assert f"as its rule chose them (11): {', '.join(CHOSEN)}" in result.output
    result = runner.invoke(cli, ["validate", "--json", str(by_rule)])
    assert json.loads(result.stdout)["earlier_by_rule"] == CHOSEN
    listed = _case(tmp_path / "b", [i for i in EVERY_EARLIER if i != "r19"])
    result = runner.invoke(cli, ["validate", "--json", str(listed)])
    warnings = json.loads(result.stdout)["warnings"]
    assert any("does not list: 'r19'" in warning["message"] for warning in warnings)
    assert "WARNING: " in result.stderr
    assert "does not list: 'r19'" in result.stderr
    result = runner.invoke(cli, ["validate", "--strict", str(listed)])
    assert result.exit_code == 1


@pytest.mark.logs
def test_an_issued_note_renders_the_same_after_the_catalogue_grows(tmp_path: Path) -> None:
    case_file = _case(tmp_path, {"rule": RULE})
    pdf = render_pdf(load_case(case_file))
    records = json.loads(extract_record(pdf))
    assert records["note"]["earlier"] == CHOSEN  # the resolved list, not the rule
    assert "catalogue" not in records
    # The catalogue grows: an incident the rule chooses.
    (tmp_path / "catalogue" / "later.json").write_text(json.dumps({"incidents": [{
        "id": "r19b", "date": "2024-01-20", "place": "Kyiv", "country": "ua",
        "attributed_to": "ru", "conflict": "ru-ua", "account": "a drone hit the embassy",
        "impacts": [{"facility": "az-embassy-ua", "effect": "struck"}]}]}), encoding="utf-8")
    grown = load_case(case_file)
    assert "r19b" in grown.note.earlier
    assert render_pdf(grown) != pdf
    # The issued note's own records render to the very bytes.
    assert render_pdf(load_case(extract_record(pdf))) == pdf
    assert notegen.verify_pdf(pdf).record == "matches"


def test_a_catalogue_is_validated_on_its_own(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "catalogue", ROWS)
    catalogue = load_incident_catalogue(tmp_path / "catalogue")
    assert len(catalogue.incidents) == len(ROWS)
    assert catalogue.locate("r04").file == tmp_path / "catalogue" / "incidents-2022.json"
    broken = tmp_path / "catalogue" / "sub" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_text("incidents:\n  - id: rx\n    date: 2022-01-01\n    place: Kyiv\n"
                      "    country: xx\n    attributed_to: ru\n    account: again\n"
                      "    impacts: [{facility: nowhere, effect: damaged}]\n"
                      "  - {id: r04, date: 2022-01-01, place: Kyiv, country: ua, "
                      "attributed_to: ru, account: twice,\n"
                      "     impacts: [{facility: az-embassy-ua, effect: damaged}]}\n",
                      encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_incident_catalogue(tmp_path / "catalogue")
    found = {(p.location.file.name, p.location.line, p.location.field)
             for p in info.value.problems}
    assert found == {("broken.yaml", 9, "incidents[1].id"),  # r04 again
                     ("broken.yaml", 5, "incidents[0].country"),
                     ("broken.yaml", 8, "incidents[0].impacts[0].facility")}


def test_a_catalogue_holds_records_only(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "catalogue", ROWS[:3])
    (tmp_path / "catalogue" / "stray.yaml").write_text(
        "include: [other.yaml]\nnote: {date: 2025-01-01}\n", encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_incident_catalogue(tmp_path / "catalogue")
    assert [(p.location.line, p.location.field) for p in info.value.problems] == [
        (2, "note"), (1, "include")]


def test_a_case_without_includes_names_no_catalogue(tmp_path: Path) -> None:
    case = _case(tmp_path, {"rule": RULE})
    with pytest.raises(RecordError, match="cannot name a catalogue"):
        load_case(case.read_bytes(), name="case.json")
    with pytest.raises(RecordError, match="catalogue lies outside"):
        load_case(case, root=case.parent)


def test_incidents_list_find_and_show(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "catalogue", ROWS)
    runner = CliRunner()
    folder = str(tmp_path / "catalogue")

    def ids(*args: str) -> list[str]:
        result = runner.invoke(cli, ["incidents", *args, "--json"])
        assert result.exit_code == 0, result.output
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    assert ids("list", folder) == [row.id for row in ROWS]
    assert ids("list", folder, "--attributed-to", "ru", "--struck", "az", "--since",
               "2022-01-01", "--until", "2025-11-14", "--country", "ua") == [*CHOSEN, "r32"]
    assert ids("list", folder, "--facility", "az-company-ua") == ["r02", "r09", "r16", "r29"]
    assert ids("list", folder, "--effect", "destroyed") == ["r10"]
    assert ids("list", folder, "--country", "ge", "--attributed-to", "by") == ["r22"]
    assert ids("find", folder, "TR-EMBASSY", "--since", "2025-01-01") == ["r27", "r33"]
    result = runner.invoke(cli, ["incidents", "list", folder, "--effect", "destroyed"])
    assert result.output.startswith("2023-01-15  r10  ua  by ru  kz-company-ua destroyed")
    result = runner.invoke(cli, ["incidents", "show", folder, "r10"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == \
        f"# r10: {tmp_path / 'catalogue' / 'incidents-2023.json'}:3"
    assert "effect: destroyed" in result.output
    result = runner.invoke(cli, ["incidents", "show", folder, "r99"])
    assert result.exit_code == 1
    assert "no incident of the catalogue has the id 'r99'" in result.output
