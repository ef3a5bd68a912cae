"""The ministry's memory over HTTP (notegen.service.memory): the catalogue
searched as ``notegen incidents`` searches it, one incident in full, and
what a posted case's chronology recalls. Expected incidents are computed
here from the rows the catalogue was written from, by the criteria's own
definitions, not read from an answer."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from . import catalogue_factory as factory

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from notegen.config import Settings
from notegen.service.app import create_app
from notegen.service.tokens import TokenStore, new_token, write_tokens

ROWS = factory.synthetic_rows(40)


def _client(tmp_path: Path, catalogue: Path | None) -> tuple[TestClient, dict[str, str]]:
    secrets, entries = {}, []
    for role in ("drafter", "issuer", "reader"):
        secrets[role], entry = new_token(role, [role])
        entries.append(entry)
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, entries)
    settings = Settings(tokens=tokens, catalogue=catalogue, access_log=tmp_path / "log")
    app = create_app(settings, TokenStore(tokens))
    return TestClient(app), {role: f"Bearer {secret}" for role, secret in secrets.items()}


@pytest.fixture
def memory(tmp_path: Path) -> tuple[TestClient, dict[str, str], Path]:
    folder = tmp_path / "catalogue"
    factory.write_catalogue(folder, ROWS)
    client, auth = _client(tmp_path, folder)
    return client, auth, folder


def _ids(rows: list[factory.Row]) -> list[str]:
    return [row.id for row in sorted(rows, key=lambda row: (row.date, row.id))]


def _get(client: TestClient, auth: str, url: str, **params: Any) -> Any:
    return client.get(url, params=params, headers={"Authorization": auth})


def test_the_catalogue_is_searched_by_the_criteria_of_notegen_incidents(memory: Any) -> None:
    client, auth, _ = memory
    every = _get(client, auth["reader"], "/incidents", limit=200)
    assert every.status_code == 200, every.text
    assert every.json()["total"] == 40
    assert [item["id"] for item in every.json()["incidents"]] == _ids(ROWS)

    since, until = dt.date(2020, 1, 1), dt.date(2023, 12, 31)
    answer = _get(client, auth["reader"], "/incidents", since=since.isoformat(),
                  until=until.isoformat(), attributed_to="ru", limit=200).json()
    assert [item["id"] for item in answer["incidents"]] == _ids(
        [row for row in ROWS if since <= row.date <= until and row.attributed_to == "ru"])

    answer = _get(client, auth["reader"], "/incidents", struck="az", country=["ua", "ge"],
                  effect=["destroyed", "damaged"], limit=200).json()
    assert [item["id"] for item in answer["incidents"]] == _ids(
        [row for row in ROWS if factory.owner_of(row) == "az" and row.country in ("ua", "ge")
         and row.effect in ("destroyed", "damaged")])
    assert answer["incidents"], "the criteria should choose some incidents of 40"

    facility = ROWS[3].facility
    answer = _get(client, auth["reader"], "/incidents", facility=facility, limit=200).json()
    assert [item["id"] for item in answer["incidents"]] == _ids(
        [row for row in ROWS if row.facility == facility])

    # find: the text in the account, whatever its case
    answer = _get(client, auth["reader"], "/incidents", text="DRONE ATTACK", limit=200).json()
    assert [item["id"] for item in answer["incidents"]] == _ids(
        [row for row in ROWS if row.means == "drone"])


def test_pages_are_bounded_and_in_order(memory: Any) -> None:
    client, auth, _ = memory
    first = _get(client, auth["reader"], "/incidents", limit=15).json()
    second = _get(client, auth["reader"], "/incidents", limit=15, offset=15).json()
    assert first["total"] == second["total"] == 40
    assert [item["id"] for item in first["incidents"] + second["incidents"]] == _ids(ROWS)[:30]
    assert _get(client, auth["reader"], "/incidents", limit=201).status_code == 422
    assert _get(client, auth["reader"], "/incidents", offset=-1).status_code == 422
    wrong = _get(client, auth["reader"], "/incidents", since="2024-01-01", until="2023-01-01")
    assert wrong.status_code == 422
    assert "until" in wrong.json()["error"]
    assert _get(client, auth["reader"], "/incidents", effect="vanished").status_code == 422


def test_one_incident_in_full_with_where_it_is_written(memory: Any) -> None:
    client, auth, folder = memory
    row = ROWS[7]
    answer = _get(client, auth["drafter"], f"/incidents/{row.id}")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["file"] == f"incidents-{row.date.year}.json"
    text = (folder / found["file"]).read_text(encoding="utf-8").splitlines()
    # the record begins on that line (here a JSON object whose id is the next line)
    assert f'"id": "{row.id}"' in "".join(text[found["line"] - 1:found["line"] + 1])
    assert found["incident"]["attributed_to"] == row.attributed_to
    assert found["impacts"] == [{"facility": row.facility, "effect": row.effect}]
    missing = _get(client, auth["reader"], "/incidents/no-such-incident")
    assert missing.status_code == 404
    assert "no-such-incident" in missing.json()["error"]
    assert str(folder) not in missing.text


def test_the_catalogue_is_read_again_when_a_file_changes(memory: Any) -> None:
    client, auth, folder = memory
    assert _get(client, auth["reader"], "/incidents").json()["total"] == 40
    extra = factory.Row("inc-new", dt.date(2025, 12, 30), "ua", "ru",
                        factory.facility_id("az", "embassy", "ua"))
    factory.write_catalogue(folder, [*ROWS, extra])
    answer = _get(client, auth["reader"], "/incidents", since="2025-12-30").json()
    assert [item["id"] for item in answer["incidents"]] == ["inc-new"]


def test_a_broken_catalogue_is_a_located_error(memory: Any) -> None:
    client, auth, folder = memory
    path = folder / "incidents-2019.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["incidents"][0]["attributed_to"] = "atlantis"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    answer = _get(client, auth["reader"], "/incidents")
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert "atlantis" in problem["message"]
    assert problem["file"] == "incidents-2019.json"
    assert problem["line"] is not None


def test_roles_and_no_catalogue(tmp_path: Path, memory: Any) -> None:
    client, auth, _ = memory
    assert client.get("/incidents").status_code == 401
    case = json.dumps({"note": factory.note(ROWS)}, default=str)
    assert client.post("/chronology", content=case,
                       headers={"Authorization": auth["reader"]}).status_code == 403
    (tmp_path / "bare").mkdir()
    bare, bare_auth = _client(tmp_path / "bare", None)
    answer = _get(bare, bare_auth["reader"], "/incidents")
    assert answer.status_code == 503
    assert "NOTEGEN_CATALOGUE" in answer.json()["error"]


def _post(client: TestClient, auth: str, note: dict[str, Any], **params: Any) -> Any:
    return client.post("/chronology", params=params,
                       content=json.dumps({"note": note}, default=str),
                       headers={"Authorization": auth})


def test_the_rule_chooses_its_incidents_with_additions_and_exclusions(memory: Any) -> None:
    client, auth, _ = memory
    subject, before = factory.protested(ROWS)
    since = dt.date(2019, 1, 1)
    by_rule = [row for row in before if row.date >= since]
    assert len(by_rule) >= 2, "the rows should give the rule something to choose"
    excluded = by_rule[0].id
    older = next(row for row in ROWS if row.date < since and row.date < subject.date
                 and row.attributed_to != "ru")
    note = factory.note(ROWS, earlier={"rule": {"since": since.isoformat()},
                                       "add": [older.id], "exclude": [excluded]})
    answer = _post(client, auth["drafter"], note)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["rule"] == {"since": since.isoformat()}
    assert found["chosen"] == _ids(by_rule)
    assert [item["id"] for item in found["recalled"]] == _ids(
        [row for row in by_rule if row.id != excluded] + [older])
    assert found["add"] == [older.id]
    assert found["exclude"] == [excluded]
    # the checks' own rule: every earlier incident by the addressee's State on the sender's premises
    assert found["expected"] == _ids(before)
    assert found["left_out"] == [i for i in _ids(before) if i not in
                                 {item["id"] for item in found["recalled"]}]


def test_a_listed_chronology_is_warned_of_what_it_leaves_out(memory: Any) -> None:
    client, auth, _ = memory
    _, before = factory.protested(ROWS)
    listed = _ids(before)[1:]
    answer = _post(client, auth["drafter"], factory.note(ROWS, earlier=listed))
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["rule"] is None
    assert found["chosen"] == []
    assert [item["id"] for item in found["recalled"]] == listed
    assert found["left_out"] == _ids(before)[:1]
    assert any(_ids(before)[0] in warning["message"] for warning in found["warnings"])
    assert all(warning["file"] == "case.json" for warning in found["warnings"])


def test_a_case_alone_is_read_without_the_catalogue(memory: Any) -> None:
    client, auth, folder = memory
    answer = _post(client, auth["drafter"], factory.note(ROWS), catalogue="false")
    assert answer.status_code == 422
    assert any("unknown id" in problem["message"] for problem in answer.json()["problems"])
    assert str(folder) not in answer.text


def test_the_catalogue_setting_is_a_folder(tmp_path: Path) -> None:
    from notegen.config import load_settings
    from notegen.errors import ConfigError

    (tmp_path / "cat").mkdir()
    settings = load_settings(tmp_path, {"NOTEGEN_CATALOGUE": "cat"})
    assert settings.catalogue == (tmp_path / "cat").resolve()  # where the command runs
    (tmp_path / "notegen.toml").write_text('[notegen]\ncatalogue = "cat"\n', encoding="utf-8")
    assert load_settings(tmp_path, {}).catalogue == (tmp_path / "cat").resolve()
    (tmp_path / "notegen.toml").write_text('[notegen]\ncatalogue = "nowhere"\n',
                                           encoding="utf-8")
    with pytest.raises(ConfigError, match="catalogue"):
        load_settings(tmp_path, {})
