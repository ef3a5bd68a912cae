"""The service for an operator: tokens that expire and are revoked, the
access log, /health and /ready, the offline /docs page, the typed OpenAPI
document, the start-up checks and line, and records loaded from memory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import notegen
from notegen.cli import cli
from notegen.config import Settings
from notegen.errors import ConfigError, RecordError
from notegen.service.startup import check, shown_register, startup_line
from notegen.service.tokens import (
    TokenStore,
    add_token,
    new_token,
    parse_expiry,
    read_tokens,
    revoke_token,
)

from .conftest import ROOT, SEED

fastapi = pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    # Starlette 1.10 would have its test client on httpx2; httpx works still.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = dt.datetime(2026, 12, 6, 14, 0, tzinfo=dt.UTC)


# Tokens


@pytest.mark.parametrize(("given", "expected"), [
    ("90d", NOW + dt.timedelta(days=90)),
    ("12h", NOW + dt.timedelta(hours=12)),
    ("30m", NOW + dt.timedelta(minutes=30)),
    ("2w", NOW + dt.timedelta(days=14)),
    # A date: the token works through that day, UTC.
    ("2027-03-31", dt.datetime(2027, 4, 1, tzinfo=dt.UTC)),
    ("2027-03-31T18:00:00+04:00", dt.datetime(2027, 3, 31, 14, tzinfo=dt.UTC)),
])
def test_an_expiry_is_a_duration_a_day_or_a_moment(given: str, expected: dt.datetime) -> None:
    assert parse_expiry(given, NOW) == expected


@pytest.mark.parametrize(("given", "message"), [
    ("2026-12-05", "lies in the past"), ("0d", "lies in the past"),
    ("2027-03-31T18:00:00", "no UTC offset"), ("soon", "neither a duration"),
])
def test_an_expiry_that_cannot_be_is_refused(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_expiry(given, NOW)


def test_expired_and_revoked_tokens_are_refused_and_a_change_applies_at_once(
        tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    secrets = {}
    for name, expires in (("desk-1", None), ("desk-2", NOW + dt.timedelta(hours=1))):
        secrets[name], token = new_token(name, ["drafter"], expires=expires, now=NOW)
        add_token(path, token)
    store = TokenStore(path)
    assert store.admit(secrets["desk-1"], NOW).refused is None
    assert store.admit(secrets["desk-2"], NOW).refused is None
    later = NOW + dt.timedelta(hours=1)  # expires at that moment
    assert store.admit(secrets["desk-2"], later).refused == "expired token"
    assert store.admit("not-a-token", NOW).refused == "unknown token"
    revoke_token(path, "desk-1", now=NOW)
    admission = store.admit(secrets["desk-1"], NOW)  # the file is read again
    assert (admission.token and admission.token.name, admission.refused) == (
        "desk-1", "revoked token")
    # Revoked, the name may be given again, to a new token.
    fresh, token = new_token("desk-1", ["reader"], now=NOW)
    add_token(path, token)
    assert store.admit(fresh, NOW).token == token
    with pytest.raises(ConfigError, match="already has a token named 'desk-1'"):
        add_token(path, new_token("desk-1", ["reader"])[1])


def test_a_broken_tokens_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('{"tokens": [{"name": "a", "sha256": "00", "roles": ["boss"]}]}')
    with pytest.raises(ConfigError) as caught:
        read_tokens(path)
    fields = sorted(problem.location.field or "" for problem in caught.value.problems)
    assert fields == ["tokens.0.roles.0", "tokens.0.sha256"]


def test_token_add_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(tmp_path / "tokens.json")
    made = runner.invoke(cli, ["token", "add", "desk-1", "--role", "drafter", "--expires",
                               "2099-01-31", "--file", path])
    assert made.exit_code == 0, made.output
    [entry] = json.loads(Path(path).read_text())["tokens"]
    assert entry["expires"] == "2099-02-01T00:00:00Z"
    assert entry["sha256"] == hashlib.sha256(made.stdout.strip().encode()).hexdigest()
    # The older form, without "add", still works.
    assert runner.invoke(cli, ["token", "reg-1", "--role", "reader", "--file", path]
                         ).exit_code == 0
    assert runner.invoke(cli, ["token", "revoke", "reg-1", "--file", path]).exit_code == 0
    listed = runner.invoke(cli, ["token", "list", "--file", path]).stdout.splitlines()
    assert listed[0].split() == ["NAME", "ROLES", "STATE", "CREATED", "EXPIRES"]
    assert listed[1].split()[:3] == ["desk-1", "drafter", "active"]
    assert listed[1].split()[-1] == "2099-02-01T00:00:00Z"
    assert listed[2].split()[:3] == ["reg-1", "reader", "revoked"]
    again = runner.invoke(cli, ["token", "revoke", "reg-1", "--file", path])
    assert again.exit_code == 1
    assert "no token named 'reg-1' that is not revoked already" in again.stderr
    past = runner.invoke(cli, ["token", "add", "x", "--role", "reader", "--expires",
                               "2001-01-01", "--file", path])
    assert past.exit_code == 2
    assert "lies in the past" in past.stderr


# The application, without its warm-up (no lifespan)


@pytest.fixture
def served(tmp_path: Path) -> dict[str, Any]:
    from notegen.service.app import create_app

    path = tmp_path / "tokens.json"
    secrets = {}
    for name, roles, expires in (("desk-1", ["drafter"], None), ("reg-1", ["reader"], None),
                                 ("old-1", ["drafter"], NOW)):
        secrets[name], token = new_token(name, roles, now=NOW - dt.timedelta(days=1),
                                         expires=expires)
        add_token(path, token)
    secrets["gone-1"], token = new_token("gone-1", ["drafter"])
    add_token(path, token)
    revoke_token(path, "gone-1")
    log = tmp_path / "access.jsonl"
    settings = Settings(tokens=path, access_log=log, register=str(tmp_path / "r.db"))
    client = TestClient(create_app(settings))
    return {"client": client, "secrets": secrets, "log": log, "tokens": path}


def _bearer(served: dict[str, Any], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {served['secrets'][name]}"}


def _lines(served: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in served["log"].read_text().splitlines()]


def test_every_request_is_logged_with_its_token_name_and_why_it_was_refused(
        served: dict[str, Any]) -> None:
    client = served["client"]
    case = (ROOT / "tests" / "fixtures" / "minimal.json").read_bytes()
    ok = client.post("/validate", content=case, headers=_bearer(served, "desk-1"))
    assert ok.status_code == 200, ok.text
    statuses = [
        client.post("/validate", content=case).status_code,
        client.post("/validate", content=case, headers={"Authorization": "Bearer nope"}
                    ).status_code,
        client.post("/validate", content=case, headers=_bearer(served, "old-1")).status_code,
        client.post("/validate", content=case, headers=_bearer(served, "gone-1")).status_code,
        client.post("/validate", content=case, headers=_bearer(served, "reg-1")).status_code,
        client.get("/register/SRE/1/2024", headers=_bearer(served, "reg-1")).status_code,
        client.get("/health").status_code,
        client.get("/ready").status_code,
    ]
    assert statuses == [401, 401, 401, 401, 403, 404, 200, 200]
    lines = _lines(served)
    assert [(line["token"], line["route"], line["status"], line.get("refused"))
            for line in lines] == [
        ("desk-1", "/validate", 200, None),
        (None, "/validate", 401, "no token"),
        (None, "/validate", 401, "unknown token"),
        ("old-1", "/validate", 401, "expired token"),
        ("gone-1", "/validate", 401, "revoked token"),
        ("reg-1", "/validate", 403, "needs drafter or issuer"),
        ("reg-1", "/register/{reference}", 404, None),
        # /health and /ready: not logged.
    ]
    assert ok.headers["x-request-id"] == lines[0]["id"]
    first = lines[0]
    assert sorted(first) == ["id", "method", "ms", "route", "status", "token", "ts"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert first["method"] == "POST"
    text = served["log"].read_text()
    assert not any(secret in text for secret in served["secrets"].values())
    assert "Kyiv" not in text  # no body
    assert "minimal" not in text


def test_a_client_request_id_is_kept_if_it_fits(served: dict[str, Any]) -> None:
    client = served["client"]
    given = client.get("/register", headers={**_bearer(served, "reg-1"),
                                             "X-Request-ID": "desk.42_a-b"})
    odd = client.get("/register", headers={**_bearer(served, "reg-1"),
                                           "X-Request-ID": "a b\tc"})
    assert given.headers["x-request-id"] == "desk.42_a-b"
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])
    assert [line["id"] for line in _lines(served)] == [
        "desk.42_a-b", odd.headers["x-request-id"]]


@pytest.mark.logs
def test_ready_says_whether_the_register_is_reachable(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from notegen.service.app import create_app
    from notegen.service.tokens import TokenStore

    (tmp_path / "a-folder").mkdir()
    unreachable = Settings(register=str(tmp_path / "a-folder"), access_log=tmp_path / "log")
    client = TestClient(create_app(unreachable, TokenStore(None, ())))
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["error"] == "the register cannot be reached"
    assert "a-folder" not in answer.text
    # The operator's log says why.
    [logged] = [record.getMessage() for record in caplog.records
                if record.name == "notegen.service.app"]
    assert logged.startswith(f"not ready: cannot open the register {tmp_path / 'a-folder'}: ")
    assert "cannot be opened" in logged
    without = TestClient(create_app(Settings(access_log=tmp_path / "log"),
                                    TokenStore(None, ())))
    assert without.get("/ready").json() == {"ready": True, "register_status": "none"}


@pytest.mark.logs
def test_an_unreadable_tokens_file_refuses_everyone(served: dict[str, Any]) -> None:
    served["tokens"].write_text("{")
    response = served["client"].get("/register", headers=_bearer(served, "reg-1"))
    assert response.status_code == 503
    assert response.json()["error"] == "the service cannot read its tokens"
    assert _lines(served)[-1]["refused"] == "tokens file unreadable"


def test_the_docs_page_loads_only_what_the_service_serves(served: dict[str, Any]) -> None:
    client = served["client"]
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(urls) == ["/docs/assets/favicon-32x32.png", "/docs/assets/swagger-ui-bundle.js",
                            "/docs/assets/swagger-ui.css"]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "http" not in re.sub(r"window\.location\.origin", "", page.text.split("<body>")[1])
    policy = dict(part.strip().split(" ", 1) for part in
                  page.headers["content-security-policy"].split(";"))
    [inline] = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert client.get("/docs/assets/index.html").status_code == 404  # the bundle's demo page


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {ref for key, item in value.items() for ref in
                ([item] if key == "$ref" else _refs(item))}
    if isinstance(value, list):
        return {ref for item in value for ref in _refs(item)}
    return set()


def test_the_openapi_document_types_the_case_and_declares_every_header(
        served: dict[str, Any]) -> None:
    document = served["client"].get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {f"#/components/schemas/{name}" for name in schemas} >= _refs(document)
    for path in ("/validate", "/render", "/issue"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/RecordFile"}
    case = schemas["RecordFile"]
    assert "include" not in case["properties"]  # a posted case includes no file
    assert case["properties"]["note"]["anyOf"][0] == {"$ref": "#/components/schemas/Note"}
    assert schemas["Note"]["properties"]["date"]["format"] == "date"
    since = next(parameter for parameter in document["paths"]["/register"]["get"]["parameters"]
                 if parameter["name"] == "since")
    assert {"type": "string", "format": "date"} in since["schema"]["anyOf"]
    assert schemas["VerificationOut"]["properties"]["status"]["enum"] == [
        status.name for status in sorted(notegen.Status)]
    assert schemas["VerificationOut"]["properties"]["exit_code"]["enum"] == [
        status.value for status in sorted(notegen.Status)]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                assert "X-Request-ID" in response["headers"], (path, method, code)
                if code == "401":
                    assert "WWW-Authenticate" in response["headers"]
    issued = document["paths"]["/issue"]["post"]["responses"]["200"]
    assert "X-Notegen-Reference" in issued["headers"]
    render = {parameter["name"]: parameter for parameter in
              document["paths"]["/render"]["post"]["parameters"]}
    assert set(render) == {"lang", "type", "strict", "translation", "format", "pdf_variant",
                           "set", "sign", "reason"}
    assert "pdf/a-3b" in render["pdf_variant"]["schema"]["enum"]


def test_the_request_options_are_the_command_lines(served: dict[str, Any]) -> None:
    client, auth = served["client"], _bearer(served, "desk-1")
    case = (ROOT / "tests" / "fixtures" / "minimal.json").read_bytes()
    for query, message in (("lang=xx", "lang: no phrase catalogue for 'xx'; available: "
                                       "az, en, fr, ru"),
                           ("format=html&sign=true", "translation and sign apply to PDF "
                                                     "output only"),
                           ("sign=true", "sign: this service has no signing key"),
                           ("pdf_variant=pdf/x-4", "pdf_variant: not one of")):
        response = client.post(f"/render?{query}", content=case, headers=auth)
        assert response.status_code == 422, query
        assert response.json()["error"].startswith(message), response.text
    memo = client.post("/render?format=html&type=aide_memoire", content=case, headers=auth)
    verbale = client.post("/render?format=html", content=case, headers=auth)
    assert (memo.status_code, verbale.status_code) == (200, 200)
    assert memo.text != verbale.text
    assert verbale.text == notegen.render_html(notegen.load_case(case))


@pytest.mark.slow
def test_a_signed_demarche_and_verify_with_the_operators_trust_root(
        tmp_path: Path, signing_key: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from notegen.service.app import create_app

    root = tmp_path / "root.pem"
    root.write_bytes(signing_key.certificate_pem)
    monkeypatch.setenv("NOTEGEN_KEY_PASSPHRASE", signing_key.passphrase.decode())
    secret, token = new_token("desk-1", ["drafter"])
    settings = Settings(signing_key=signing_key.p12, trust=(root,),
                        access_log=tmp_path / "log")
    client = TestClient(create_app(settings, TokenStore(None, [token])))
    auth = {"Authorization": f"Bearer {secret}"}
    case = notegen.records.dump.dump_case(notegen.load_case(SEED / "note.yaml"))
    answer = client.post("/render?set=demarche&translation=en&sign=true", content=case,
                         headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="demarche.zip"'
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.namelist() == ["note.pdf", "talking-points.pdf", "press-release.pdf",
                                  "translation-en.pdf"]
    note = archive.read("note.pdf")
    verified = client.post("/verify", content=note, headers=auth).json()
    assert (verified["status"], verified["exit_code"]) == ("valid", 0)
    # The companions are not signed; the same request gives the same zip but
    # for the signature's time.
    assert b"/ByteRange" not in archive.read("talking-points.pdf")


# Start-up


def test_the_startup_checks_and_line(tmp_path: Path, signing_key: Any) -> None:
    path = tmp_path / "tokens.json"
    for name, expires in (("a", None), ("b", NOW + dt.timedelta(hours=1))):
        add_token(path, new_token(name, ["reader"], expires=expires,
                                  now=NOW - dt.timedelta(days=1))[1])
    add_token(path, new_token("c", ["reader"])[1])
    revoke_token(path, "c")
    root = tmp_path / "root.pem"
    root.write_bytes(signing_key.certificate_pem)
    settings = Settings(tokens=path, trust=(root,), signing_key=signing_key.p12,
                        register="postgresql://app:s3cret@db.mfa:5433/register?sslmode=require",
                        template_dirs=(tmp_path,))
    passphrase = {"NOTEGEN_KEY_PASSPHRASE": signing_key.passphrase.decode()}
    checked = check(settings, passphrase)
    line = startup_line(settings, checked, host="0.0.0.0", port=8080, workers=2,
                        now=NOW + dt.timedelta(hours=2))
    assert line == (f"notegen {notegen.__version__} serving http://0.0.0.0:8080 with 2 workers; "
                    "register: postgresql app:***@db.mfa:5433/register; "
                    f"templates: {tmp_path}, built-in; tokens: 3 (1 expired, 1 revoked); "
                    "trust roots: 1; signing key: yes; access log: stderr; "
                    "desk: none (no workspace); workers replaced past 256 MiB of growth")
    desk = startup_line(replace(settings, workspace=tmp_path, worker_growth_mb=64.5), checked,
                        host="::1", port=8080, workers=1, now=NOW)
    assert desk.startswith(f"notegen {notegen.__version__} serving http://[::1]:8080 with 1 "
                           "worker; ")
    assert desk.endswith(f"; desk: {tmp_path}; workers replaced past 64.5 MiB of growth")
    with pytest.raises(ConfigError, match="not with the passphrase in NOTEGEN_KEY_PASSPHRASE"):
        check(settings, {"NOTEGEN_KEY_PASSPHRASE": "wrong"})
    (tmp_path / "bad.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n")
    with pytest.raises(ConfigError) as caught:
        check(Settings(tokens=path, trust=(tmp_path / "bad.pem",)))
    [problem] = caught.value.problems
    assert problem.message == f"trust root {tmp_path / 'bad.pem'} is not a certificate (PEM or DER)"
    assert shown_register("/srv/register.db") == "sqlite /srv/register.db"
    assert shown_register(None) == "none"


def test_serve_refuses_to_start_on_a_broken_tokens_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tokens.json").write_text("[]")
    monkeypatch.setenv("NOTEGEN_TOKENS", str(tmp_path / "tokens.json"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'tokens.json'} is not a tokens file")


# Records from memory


def test_load_case_takes_records_in_memory() -> None:
    minimal = ROOT / "tests" / "fixtures" / "minimal.json"
    from_file = notegen.load_case(minimal)
    data = json.loads(minimal.read_text())
    for given in (data, minimal.read_bytes(), yaml.safe_dump(data).encode()):
        case = notegen.load_case(given)
        assert case.note == from_file.note
        assert case.incidents == from_file.incidents


def test_records_in_memory_are_located_and_include_only_under_root(tmp_path: Path) -> None:
    minimal = ROOT / "tests" / "fixtures" / "minimal.json"
    text = minimal.read_text()
    broken = text.replace('"date": "', '"date": "x', 1).encode()
    with pytest.raises(RecordError) as caught:
        notegen.load_case(broken, name="draft.json")
    [problem] = caught.value.problems
    assert problem.location.file == Path("draft.json")
    assert problem.location.line == next(number for number, line in
                                         enumerate(broken.decode().splitlines(), 1)
                                         if '"date": "x' in line)
    data = json.loads(text)
    states = {"states": data.pop("states")}
    data["include"] = ["states.yaml"]
    with pytest.raises(RecordError, match="cannot include files"):
        notegen.load_case(data)
    (tmp_path / "states.yaml").write_text(yaml.safe_dump(states))
    case = notegen.load_case(data, root=tmp_path)
    assert set(case.states) == {state["id"] for state in states["states"]}
    data["include"] = ["../states.yaml"]
    with pytest.raises(RecordError, match="lies outside the folder cases may read"):
        notegen.load_case(data, root=tmp_path)


def test_the_package_says_it_is_typed() -> None:
    assert (Path(notegen.__file__).parent / "py.typed").is_file()


@pytest.mark.logs
def test_a_busy_register_answers_503_with_retry_after(tmp_path: Path) -> None:
    """Another writer holds the register past register_wait: the client is
    told to try again later (503, Retry-After), nothing is issued, and the
    answer names no path of the server."""
    import fcntl
    import os

    from notegen.records.dump import dump_case
    from notegen.service.app import create_app

    tokens = tmp_path / "tokens.json"
    secret, token = new_token("issuer-1", ["issuer"])
    add_token(tokens, token)
    register = tmp_path / "register.db"
    with notegen.open_register(str(register)):
        pass
    settings = Settings(tokens=tokens, access_log=tmp_path / "log", register=str(register),
                        register_wait=1.0)
    client = TestClient(create_app(settings))
    draft = dump_case(notegen.load_case(ROOT / "seeds" / "mx-quito-2024" / "note.yaml"))
    held = os.open(f"{register}.lock", os.O_RDWR)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # another writer, mid-issue
        answer = client.post("/issue", content=draft,
                             headers={"Authorization": f"Bearer {secret}"})
    finally:
        os.close(held)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "busy" in answer.json()["error"]
    assert str(tmp_path) not in answer.text
    with notegen.open_register(str(register)) as opened:
        assert opened.find() == []
