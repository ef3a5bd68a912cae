"""The drafting desk's web face (notegen.desk.app) through FastAPI's test
client: sessions (cookie flags, expiry, revocation), CSRF on every POST,
roles on every route, confinement to the workspace, the preview and save
calls, issuing, the register browser, verification, the policy on every
answer and no address outside the service in any page or asset."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    # Starlette 1.10 would have its test client on httpx2; httpx works still.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from notegen.config import Settings
from notegen.desk.app import NOTE_POLICY, POLICY
from notegen.desk.session import COOKIE, unseal
from notegen.service.app import create_app
from notegen.service.tokens import TokenStore, new_token, revoke_token, write_tokens

WORKED = "az-kyiv-2025/note.yaml"
QUITO = "mx-quito-2024/note.yaml"
DATE = f"{WORKED}::incidents[0].date"


@dataclass
class Desk:
    app: Any
    workspace: Path
    tokens_file: Path
    secrets: dict[str, str]
    access_log: Path
    register: Path

    def client(self, https: bool = False) -> TestClient:
        return TestClient(self.app, base_url="https://testserver" if https
                          else "http://testserver")

    def signed_in(self, name: str, https: bool = False) -> TestClient:
        client = self.client(https)
        response = sign_in(client, self.secrets[name])
        assert response.status_code == 303, response.text
        return client


def sign_in(client: TestClient, token: str, next: str = "/") -> Any:
    page = client.get("/desk/signin")
    assert page.status_code == 200
    return client.post("/desk/signin", data={"csrf": hidden(page.text, "csrf"),
                                             "token": token, "next": next},
                       follow_redirects=False)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return html.unescape(found[1])


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', page)
    assert found
    return found[1]


def element(page: str, ident: str) -> str:
    """The text inside the element of id ``ident`` (no nested element of the same tag)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{ident}"[^>]*>(.*?)</\1>', page, re.DOTALL)
    assert found, f"no #{ident} in the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found[2])).strip()


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    workspace = Path(shutil.copytree(ROOT / "seeds", tmp_path / "workspace"))
    secrets, entries = {}, []
    for name, roles in (("ana", ["drafter"]), ("ben", ["drafter"]), ("iva", ["issuer"]),
                        ("rea", ["reader"])):
        secret, entry = new_token(name, roles)
        secrets[name] = secret
        entries.append(entry)
    soon, short = new_token("sam", ["drafter"],
                            expires=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10))
    secrets["sam"] = soon
    entries.append(short)
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, entries)
    log = tmp_path / "access.jsonl"
    register = tmp_path / "register.db"
    settings = Settings(workspace=workspace, register=str(register), tokens=tokens,
                        access_log=log)
    app = create_app(settings, TokenStore(tokens))
    return Desk(app, workspace, tokens, secrets, log, register)


def preview(client: TestClient, csrf: str, edits: list[dict[str, Any]], rel: str = WORKED,
            **extra: Any) -> Any:
    return client.post("/desk/api/preview", json={"rel": rel, "edits": edits, **extra},
                       headers={"X-CSRF-Token": csrf})


# Sessions


def test_signing_in_gives_a_strict_httponly_cookie_and_signing_out_ends_it(desk: Desk
                                                                          ) -> None:
    client = desk.client()
    assert client.get("/", follow_redirects=False).headers["location"].startswith(
        "/desk/signin")
    answer = sign_in(client, desk.secrets["ana"], next="/desk/verify")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/verify"
    cookie = next(value for value in answer.headers.get_list("set-cookie")
                  if value.startswith(f"{COOKIE}="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= flags
    assert "samesite=strict" in cookie.lower()
    assert "path=/;" in cookie.lower() + ";"
    assert "secure" not in flags  # plain http (the test client): a Secure cookie would be lost
    assert desk.secrets["ana"] not in cookie  # the token never goes in the cookie
    home = client.get("/")
    assert home.status_code == 200
    assert element(home.text, "user").startswith("ana")
    out = client.post("/desk/signout", data={"csrf": csrf_of(home.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    assert any(value.startswith(f"{COOKIE}=") and "max-age=0" in value.lower()
               for value in out.headers.get_list("set-cookie"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_https(desk: Desk) -> None:
    client = desk.client(https=True)
    answer = sign_in(client, desk.secrets["ana"])
    cookie = next(value for value in answer.headers.get_list("set-cookie")
                  if value.startswith(f"{COOKIE}="))
    assert "secure" in cookie.lower()


def test_a_wrong_token_or_a_forged_form_does_not_sign_in(desk: Desk) -> None:
    client = desk.client()
    wrong = sign_in(client, "not-a-token")
    assert wrong.status_code == 401
    assert not any(value.startswith(f"{COOKIE}=") for value in wrong.headers.get_list("set-cookie"))
    assert "signin-error" in wrong.text
    # No CSRF token of the sign-in form (a login forged from another site).
    forged = desk.client().post("/desk/signin", data={"token": desk.secrets["ana"]},
                                follow_redirects=False)
    assert forged.status_code == 403
    # Nor may the form send anyone off the site afterwards.
    away = sign_in(desk.client(), desk.secrets["ana"], next="//elsewhere.example/")
    assert away.headers["location"] == "/"


def test_a_session_ends_when_it_expires_and_never_outlives_its_token(desk: Desk) -> None:
    client = desk.signed_in("sam")
    session = unseal(desk.app.state.desk.secret, client.cookies.get(COOKIE),
                     dt.datetime.now(dt.UTC))
    assert session is not None
    token_expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert session.expires <= token_expires  # not the 480 minutes of the setting
    assert client.get("/").status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    desk.app.state.desk.clock = lambda: later
    gone = client.get("/", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/desk/signin")


def test_the_session_setting_bounds_a_session(desk: Desk) -> None:
    client = desk.signed_in("ana")
    session = unseal(desk.app.state.desk.secret, client.cookies.get(COOKIE),
                     dt.datetime.now(dt.UTC))
    assert session is not None
    left = session.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=470) < left <= dt.timedelta(minutes=480)
    desk.app.state.desk.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=481)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_revoking_a_token_ends_its_sessions_at_once(desk: Desk) -> None:
    client = desk.signed_in("ana")
    assert client.get(f"/desk/case/{WORKED}").status_code == 200
    revoke_token(desk.tokens_file, "ana")
    gone = client.get(f"/desk/case/{WORKED}", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/desk/signin?ended=revoked"
    api = client.post("/desk/api/preview", json={"rel": WORKED, "edits": []},
                      headers={"X-CSRF-Token": "x"})
    assert api.status_code == 401


def test_a_tampered_cookie_is_no_session(desk: Desk) -> None:
    client = desk.signed_in("ana")
    value = client.cookies.get(COOKIE)
    assert value is not None
    payload, mac = value.split(".")
    forged = desk.client()
    forged.cookies.set(COOKIE, payload + "." + ("0" if mac[0] != "0" else "1") + mac[1:])
    assert forged.get("/", follow_redirects=False).status_code == 303


# CSRF and roles on every route


def _posts(desk: Desk) -> list[tuple[str, dict[str, Any]]]:
    """Every POST of the desk, with a body it would take."""
    return [
        ("/desk/api/preview", {"json": {"rel": WORKED, "edits": []}}),
        ("/desk/api/save", {"json": {"rel": WORKED, "edits": [], "versions": {}}}),
        (f"/desk/source/{WORKED}", {"data": {"text": "x: 1\n", "version": "0"}}),
        ("/desk/new", {"data": {"folder": "new", "sender_state": "az"}}),
        (f"/desk/duplicate/{WORKED}", {"data": {"folder": "copy"}}),
        (f"/desk/issue/{QUITO}", {"data": {"version": "0"}}),
        ("/desk/register/cancel/SRE/1/2024", {"data": {"reason": "wrong"}}),
        ("/desk/api/verify", {"content": b"%PDF-1.7\n"}),
        ("/desk/signout", {"data": {}}),
    ]


def test_every_post_without_the_csrf_token_is_refused(desk: Desk) -> None:
    client = desk.signed_in("iva")
    page = client.get(f"/desk/case/{WORKED}").text
    before = {path: path.read_bytes() for path in desk.workspace.rglob("*.yaml")}
    for path, body in _posts(desk):
        answer = client.post(path, follow_redirects=False, **body)
        assert answer.status_code == 403, (path, answer.status_code, answer.text[:200])
        wrong = client.post(path, headers={"X-CSRF-Token": "not-the-token"},
                            follow_redirects=False, **body)
        assert wrong.status_code == 403, (path, wrong.status_code)
    # A token from another site's page: the right token, but another origin.
    other = client.post("/desk/api/preview", json={"rel": WORKED, "edits": []},
                        headers={"X-CSRF-Token": csrf_of(page),
                                 "Origin": "http://elsewhere.example"})
    assert other.status_code == 403
    assert before == {path: path.read_bytes() for path in desk.workspace.rglob("*.yaml")}
    assert client.get("/").status_code == 200  # still signed in: sign-out was refused too
    assert not desk.register.exists() or not _issued(desk)


def _issued(desk: Desk) -> list[Any]:
    import notegen

    with notegen.open_register(desk.register) as register:
        return register.find()


@pytest.mark.parametrize(("who", "allowed"), [
    ("ana", {"cases"}), ("iva", {"cases", "issue", "register"}), ("rea", {"register"})])
def test_every_route_checks_the_role(desk: Desk, who: str, allowed: set[str]) -> None:
    client = desk.signed_in(who)
    csrf = csrf_of(client.get("/desk/verify").text)
    gets = {
        "cases": ["/desk/new", f"/desk/case/{WORKED}", f"/desk/source/{WORKED}"],
        "issue": [f"/desk/issue/{QUITO}"],
        "register": ["/desk/register"],
    }
    for kind, paths in gets.items():
        for path in paths:
            status = client.get(path).status_code
            assert (status == 200) == (kind in allowed), (who, path, status)
            if kind not in allowed:
                assert status == 403, (who, path, status)
    posts = {
        "cases": [("/desk/api/preview", {"json": {"rel": WORKED, "edits": []}}),
                  ("/desk/api/save", {"json": {"rel": WORKED, "edits": [], "versions": {}}}),
                  (f"/desk/source/{WORKED}", {"data": {"csrf": csrf, "text": "",
                                                       "version": "0"}}),
                  ("/desk/new", {"data": {"csrf": csrf}}),
                  (f"/desk/duplicate/{WORKED}", {"data": {"csrf": csrf, "folder": ""}})],
        "issue": [(f"/desk/issue/{QUITO}", {"data": {"csrf": csrf, "version": "0"}}),
                  ("/desk/register/cancel/SRE/1/2024", {"data": {"csrf": csrf,
                                                                 "reason": "x"}})],
    }
    for kind, requests in posts.items():
        for path, body in requests:
            status = client.post(path, headers={"X-CSRF-Token": csrf},
                                 follow_redirects=False, **body).status_code
            if kind in allowed:
                assert status != 403, (who, path, status)
            else:
                assert status == 403, (who, path, status)
    assert client.get("/desk/verify").status_code == 200  # verification: every role
    case = client.get(f"/desk/case/{WORKED}")
    if "cases" in allowed:
        assert ('id="issue"' in case.text) == ("issue" in allowed)
    refusals = [json.loads(line) for line in desk.access_log.read_text().splitlines()]
    mine = [line for line in refusals if line.get("token") == who and line["status"] == 403]
    assert all(str(line.get("refused", "")).startswith("needs ") for line in mine)
    assert bool(mine) == (allowed != {"cases", "issue", "register"})


# Confinement


@pytest.mark.parametrize("rel", ["../secret.yaml", "az-kyiv-2025/../../secret.yaml",
                                 "/etc/passwd", "%2Fetc%2Fpasswd",
                                 "az-kyiv-2025/%2e%2e/%2e%2e/secret.yaml",
                                 ".notegen-desk/secret"])
def test_a_path_outside_the_workspace_is_refused(desk: Desk, rel: str) -> None:
    secret = desk.workspace.parent / "secret.yaml"
    secret.write_text("note: {subject: leaked-text}\n", encoding="utf-8")
    client = desk.signed_in("ana")
    csrf = csrf_of(client.get("/desk/verify").text)
    for path in (f"/desk/case/{rel}", f"/desk/source/{rel}", f"/desk/pdf/{rel}"):
        answer = client.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "leaked-text" not in answer.text
        assert "root:" not in answer.text
    shown = preview(client, csrf, [], rel=rel.replace("%2F", "/")).json()
    assert shown["html"] is None
    assert shown["problems"]
    saved = client.post("/desk/api/save", headers={"X-CSRF-Token": csrf}, json={
        "rel": WORKED, "edits": [{"file": rel.replace("%2F", "/"), "field": "note.subject",
                                  "value": "overwritten"}], "versions": {}})
    assert saved.status_code in (409, 422), saved.text
    assert "overwritten" not in secret.read_text(encoding="utf-8")


# The preview


def test_the_preview_of_a_good_draft_and_of_a_broken_one(desk: Desk) -> None:
    client = desk.signed_in("ana")
    page = client.get(f"/desk/case/{WORKED}")
    csrf = csrf_of(page.text)
    # The form's fields are named after the file and the field path, each in its container.
    assert f'data-field="{DATE}"' in page.text
    assert f'name="{DATE}"' in page.text
    good = preview(client, csrf, [{"file": WORKED, "field": "incidents[0].date",
                                   "value": "2025-11-13"}])
    assert good.status_code == 200
    answer = good.json()
    assert answer["problems"] == []
    assert "13 November 2025" in " ".join(answer["html"].split())
    frame = client.get(answer["url"])
    assert frame.status_code == 200
    assert frame.headers["content-security-policy"] == NOTE_POLICY
    assert "13 November 2025" in " ".join(frame.text.split())
    # The note's fonts load from the template folders, beside the preview.
    fonts = re.findall(r'url\("(static/fonts/[^"]+)"\)', frame.text)
    assert fonts
    font = client.get(f"/desk/preview/{fonts[0]}")
    assert font.status_code == 200
    assert len(font.content) > 10_000
    # In Russian, as a first-person note: the record's Russian text.
    russian = preview(client, csrf, [], lang="ru", note_type="first_person_note").json()
    assert 'lang="ru"' in russian["html"]
    broken = preview(client, csrf, [{"file": WORKED, "field": "incidents[0].date",
                                     "value": "2025-02-30"}]).json()
    assert broken["html"] is None
    assert broken["url"] is None
    assert [problem["key"] for problem in broken["problems"]] == [DATE]
    assert "day" in broken["problems"][0]["message"]
    # Nothing was written.
    assert "2025-02-30" not in (desk.workspace / WORKED).read_text(encoding="utf-8")


# Saving


def _versions(page: str) -> dict[str, str]:
    found = re.search(r'data-versions="([^"]*)"', page)
    assert found
    versions: dict[str, str] = json.loads(html.unescape(found[1]))
    return versions


def test_saving_keeps_the_comments_and_a_stale_save_is_refused(desk: Desk) -> None:
    ana, ben = desk.signed_in("ana"), desk.signed_in("ben")
    ana_page, ben_page = (client.get(f"/desk/case/{WORKED}").text for client in (ana, ben))
    note = desk.workspace / WORKED
    before = note.read_text(encoding="utf-8")
    saved = ana.post("/desk/api/save", headers={"X-CSRF-Token": csrf_of(ana_page)}, json={
        "rel": WORKED, "versions": _versions(ana_page),
        "edits": [{"file": WORKED, "field": "incidents[0].date", "value": "2025-11-13"},
                  {"file": WORKED, "field": "note.earlier",
                   "value": ["kharkiv-2022-03-10", "kyiv-2024-01-02"]}]})
    assert saved.status_code == 200, saved.text
    after = note.read_text(encoding="utf-8")
    assert "    date: 2025-11-13\n" in after
    assert "  # Illustrative: the number of the real note was not published.\n" in after
    assert "odesa-2025-08" not in after.split("earlier:")[1].split("protest:")[0]
    assert [line for line in before.splitlines() if line.startswith("#")] == \
        [line for line in after.splitlines() if line.startswith("#")]
    # Ben opened the same version before Ana saved: his save is refused, naming her.
    refused = ben.post("/desk/api/save", headers={"X-CSRF-Token": csrf_of(ben_page)}, json={
        "rel": WORKED, "versions": _versions(ben_page),
        "edits": [{"file": WORKED, "field": "incidents[0].time", "value": "02:00"}]})
    assert refused.status_code == 409
    conflict = refused.json()
    assert conflict["conflict"] is True
    assert "ana" in conflict["error"]
    assert conflict["modified_by"] == "ana"
    assert note.read_text(encoding="utf-8") == after  # nothing of Ben's written
    # With the versions of a fresh page, it saves.
    fresh = ben.get(f"/desk/case/{WORKED}").text
    again = ben.post("/desk/api/save", headers={"X-CSRF-Token": csrf_of(fresh)}, json={
        "rel": WORKED, "versions": _versions(fresh),
        "edits": [{"file": WORKED, "field": "incidents[0].time", "value": "02:00"}]})
    assert again.status_code == 200
    assert 'time: "02:00"' in note.read_text(encoding="utf-8")


def test_the_source_view_saves_and_refuses_a_stale_save_keeping_the_text(desk: Desk
                                                                        ) -> None:
    ana, ben = desk.signed_in("ana"), desk.signed_in("ben")
    rel = "az-mfa-catalogue/parties.yaml"
    pages = [client.get(f"/desk/source/{rel}") for client in (ana, ben)]
    assert all(page.status_code == 200 for page in pages)
    text = element(pages[0].text, "source")
    assert text == (desk.workspace / rel).read_text(encoding="utf-8").strip()
    mine = text + "# Ana was here\n"
    saved = ana.post(f"/desk/source/{rel}", data={
        "csrf": hidden(pages[0].text, "csrf"), "version": hidden(pages[0].text, "version"),
        "text": mine})
    assert saved.status_code == 200
    assert (desk.workspace / rel).read_text(encoding="utf-8") == mine
    theirs = text + "# Ben was here\n"
    refused = ben.post(f"/desk/source/{rel}", data={
        "csrf": hidden(pages[1].text, "csrf"), "version": hidden(pages[1].text, "version"),
        "text": theirs})
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text
    assert "ana" in element(refused.text, "save-status")
    assert "# Ben was here" in element(refused.text, "source")  # nothing lost
    assert (desk.workspace / rel).read_text(encoding="utf-8") == mine


# The chronology


def test_the_chronology_lists_earlier_incidents_with_the_ticked_and_expected(desk: Desk
                                                                           ) -> None:
    client = desk.signed_in("ana")
    page = client.get(f"/desk/case/{WORKED}").text
    chronology = page.split('id="chronology"')[1].split("</fieldset>")[0]
    boxes = re.findall(r'<input type="checkbox" name="earlier" value="([^"]+)"[^>]*>',
                       chronology)
    assert set(boxes) >= {"kharkiv-2022-03-10", "kyiv-2024-01-02", "kyiv-2025-08-28",
                          "odesa-2025-08"}
    assert "kyiv-2025-11-14" not in boxes  # the subject itself is not earlier
    ticked = re.findall(r'value="([^"]+)"[^>]*\bchecked', chronology)
    assert set(ticked) == {"kharkiv-2022-03-10", "kyiv-2024-01-02", "kyiv-2025-08-28",
                           "odesa-2025-08"}
    expected = re.findall(r'value="([^"]+)"[^>]*data-expected="true"', chronology)
    assert "kyiv-2024-01-02" in expected  # the Embassy in Kyiv, hit by the same State


# Out of the desk


def test_issuing_takes_the_number_the_confirmation_showed(desk: Desk) -> None:
    iva = desk.signed_in("iva")
    case = iva.get(f"/desk/case/{QUITO}").text
    assert 'id="issue"' in case
    confirm = iva.get(f"/desk/issue/{QUITO}")
    assert confirm.status_code == 200
    number = element(confirm.text, "next-number")
    assert number == "SRE/1/2024"  # the sender's pattern SRE/{number}/{year}, first of 2024
    issued = iva.post(f"/desk/issue/{QUITO}", data={
        name: hidden(confirm.text, name) for name in ("csrf", "version", "expected", "lang",
                                                      "type")})
    assert issued.status_code == 200, issued.text
    assert element(issued.text, "issued-reference") == number
    assert [entry.reference for entry in _issued(desk)] == [number]
    assert element(iva.get(f"/desk/issue/{QUITO}").text, "next-number") == "SRE/2/2024"
    # The worked case has a reference of its own: it cannot be issued, and says why.
    refused = iva.get(f"/desk/issue/{WORKED}")
    assert refused.status_code == 422
    assert "already has a reference" in refused.text
    assert 'id="confirm-issue"' not in refused.text
    log = [json.loads(line) for line in desk.access_log.read_text().splitlines()]
    assert any(line.get("reference") == number and line.get("token") == "iva"
               and line["route"] == "/desk/issue/{rel}" for line in log)


def test_a_changed_case_is_not_issued_on_an_old_confirmation(desk: Desk) -> None:
    iva = desk.signed_in("iva")
    confirm = iva.get(f"/desk/issue/{QUITO}").text
    path = desk.workspace / QUITO
    path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    stale = iva.post(f"/desk/issue/{QUITO}", data={
        name: hidden(confirm, name) for name in ("csrf", "version", "expected")})
    assert stale.status_code == 409
    assert not _issued(desk)


def test_the_register_browser_finds_opens_and_cancels(desk: Desk) -> None:
    iva = desk.signed_in("iva")
    confirm = iva.get(f"/desk/issue/{QUITO}").text
    iva.post(f"/desk/issue/{QUITO}", data={name: hidden(confirm, name)
                                           for name in ("csrf", "version", "expected")})
    rea = desk.signed_in("rea")
    for query, found in (({"subject": "quito-2024-04-05"}, True), ({"subject": "other"}, False),
                         ({"addressee": "ec-embassy-mexico"}, True),
                         ({"from": "2024-04-01", "to": "2024-04-30"}, True),
                         ({"from": "2025-01-01"}, False)):
        page = rea.get("/desk/register", params=query)
        assert page.status_code == 200
        table = page.text.split('id="register-entries"')[1].split("</table>")[0]
        assert ("SRE/1/2024" in table) == found, (query, table)
    assert rea.get("/desk/register", params={"from": "yesterday"}).status_code == 422
    entry = rea.get("/desk/register/entry/SRE/1/2024")
    assert entry.status_code == 200
    assert element(entry.text, "entry-reference") == "SRE/1/2024"
    assert 'id="cancel"' not in entry.text  # a reader cannot cancel
    assert rea.get("/desk/register/entry/SRE/9/2024").status_code == 404
    page = iva.get("/desk/register/entry/SRE/1/2024")
    assert 'id="cancel"' in page.text
    assert 'id="cancel-reason"' in page.text
    empty = iva.post("/desk/register/cancel/SRE/1/2024", data={
        "csrf": hidden(page.text, "csrf"), "sender": "mx-sre", "reason": " "})
    assert empty.status_code == 422
    done = iva.post("/desk/register/cancel/SRE/1/2024", data={
        "csrf": hidden(page.text, "csrf"), "sender": "mx-sre",
        "reason": "issued to the wrong embassy"})
    assert done.status_code == 200
    assert "issued to the wrong embassy" in element(done.text, "entry-state")
    assert _issued(desk)[0].cancelled == "issued to the wrong embassy"


def test_the_pdf_download_is_the_same_bytes_each_time(desk: Desk) -> None:
    ana = desk.signed_in("ana")
    first = ana.get(f"/desk/pdf/{WORKED}")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-")
    assert 'filename="az-kyiv-2025.pdf"' in first.headers["content-disposition"]
    assert ana.get(f"/desk/pdf/{WORKED}").content == first.content
    assert ana.get(f"/desk/pdf/{WORKED}", params={"lang": "xx"}).status_code == 422



def test_an_error_page_names_no_folder_of_the_server(desk: Desk) -> None:
    note = desk.workspace / WORKED
    note.write_text(note.read_text(encoding="utf-8").replace(
        "    date: 2025-11-14\n", "    date: 2025-02-30\n", 1), encoding="utf-8")
    ana = desk.signed_in("ana")
    for path in (f"/desk/pdf/{WORKED}", f"/desk/demarche/{WORKED}?translation=ru"):
        answer = ana.get(path)
        assert answer.status_code == 422, path
        assert str(desk.workspace) not in answer.text, path
        assert f"{WORKED}:15: incidents[0].date: " in html.unescape(answer.text), path
    csrf = csrf_of(ana.get("/desk/verify").text)
    saved = ana.post("/desk/api/save", headers={"X-CSRF-Token": csrf}, json={
        "rel": WORKED, "versions": {}, "edits": [{"file": WORKED, "field": "no such[",
                                                  "value": 1}]})
    assert str(desk.workspace) not in saved.text


def test_the_demarche_set_downloads_as_a_zip(desk: Desk) -> None:
    ana = desk.signed_in("ana")
    none = ana.get(f"/desk/demarche/{WORKED}")
    assert none.status_code == 422
    assert "Démarche translation" in none.text  # the desk's words, not the command line's
    assert "--translation" not in none.text
    answer = ana.get(f"/desk/demarche/{WORKED}", params={"translation": "ru"})
    assert answer.status_code == 200, answer.text[:300]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.namelist() == ["note.pdf", "talking-points.pdf", "press-release.pdf",
                                      "translation-ru.pdf"]


def test_verifying_an_issued_pdf(desk: Desk) -> None:
    iva = desk.signed_in("iva")
    confirm = iva.get(f"/desk/issue/{QUITO}").text
    iva.post(f"/desk/issue/{QUITO}", data={name: hidden(confirm, name)
                                           for name in ("csrf", "version", "expected")})
    pdf = iva.get("/desk/register/pdf/SRE/1/2024")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    rea = desk.signed_in("rea")
    csrf = csrf_of(rea.get("/desk/verify").text)
    answer = rea.post("/desk/api/verify", content=pdf.content,
                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "unsigned"
    assert result["record"] == "matches"
    assert result["register"]["issued"] is True
    assert result["register"]["reference"] == "SRE/1/2024"
    altered = rea.post("/desk/api/verify", content=pdf.content + b"\n% tail\n",
                       headers={"X-CSRF-Token": csrf}).json()
    assert altered["register"]["issued"] is False


def test_a_case_is_created_and_duplicated(desk: Desk) -> None:
    ana = desk.signed_in("ana")
    form = ana.get("/desk/new").text
    made = ana.post("/desk/new", data={
        "csrf": hidden(form, "csrf"), "folder": "az-odesa-2026", "sender_state": "az",
        "addressee_state": "ru", "date": "2026-01-10", "place": "Odesa", "country": "ua",
        "lang": "en", "note_type": "note_verbale", "profile": "profiles/az-mfa.yaml"},
        follow_redirects=False)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/desk/case/az-odesa-2026/note.yaml"
    assert (desk.workspace / "az-odesa-2026" / "note.yaml").is_file()
    assert ana.get(made.headers["location"]).status_code == 200
    bad = ana.post("/desk/new", data={"csrf": hidden(form, "csrf"), "folder": "../out",
                                      "sender_state": "az", "addressee_state": "ru",
                                      "date": "2026-01-10", "place": "Odesa"})
    assert bad.status_code == 422
    assert not (desk.workspace.parent / "out").exists()
    copy = ana.post(f"/desk/duplicate/{WORKED}", data={
        "csrf": hidden(form, "csrf"), "folder": "az-kyiv-2025-copy"}, follow_redirects=False)
    assert copy.status_code == 303, copy.text
    assert copy.headers["location"].startswith("/desk/case/az-kyiv-2025-copy/")
    home = ana.get("/").text
    assert "az-kyiv-2025-copy/" in home
    assert "az-odesa-2026/note.yaml" in home


# What every answer carries, and what none holds


def _pages(desk: Desk) -> dict[str, Any]:
    iva = desk.signed_in("iva")
    paths = ["/", "/desk/new", f"/desk/case/{WORKED}", f"/desk/source/{WORKED}",
             f"/desk/issue/{QUITO}", "/desk/register", "/desk/verify", "/desk/case/missing.yaml",
             "/desk/nothing-here"]
    answers = {path: iva.get(path) for path in paths}
    answers["/desk/signin"] = desk.client().get("/desk/signin")
    for name in ("desk.css", "desk.js"):
        link = re.search(rf'(/desk/static/[^"]+/{re.escape(name)})"', answers["/"].text)
        assert link, name
        answers[link[1]] = iva.get(link[1])
    return answers


def test_every_page_and_asset_carries_the_policy(desk: Desk) -> None:
    for path, answer in _pages(desk).items():
        assert answer.headers.get("content-security-policy") == POLICY, path
        assert answer.headers.get("x-content-type-options") == "nosniff", path
    assert "'unsafe-inline'" not in POLICY
    assert "frame-ancestors 'none'" in POLICY


def test_the_assets_are_cached_under_names_that_change_with_them(desk: Desk) -> None:
    pages = _pages(desk)
    for path, answer in pages.items():
        if path.startswith("/desk/static/"):
            assert answer.status_code == 200
            assert "immutable" in answer.headers["cache-control"]
            assert answer.headers["etag"].strip('"') in path
    stale = desk.client().get("/desk/static/000000000000/desk.js")
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "no-cache"
    assert desk.client().get("/desk/static/x/secret").status_code == 404


_NAMESPACE = re.compile(r"https?://www\.w3\.org/[\w/.#-]*")


def test_no_page_or_asset_names_an_address_outside_the_service(desk: Desk) -> None:
    texts = {path: answer.text for path, answer in _pages(desk).items()}
    folder = ROOT / "notegen" / "desk"
    for path in [*(folder / "pages").iterdir(), *(folder / "static").iterdir()]:
        texts[str(path)] = path.read_text(encoding="utf-8")
    for where, text in texts.items():
        outside = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", _NAMESPACE.sub("", text))
        assert not outside, (where, outside)
    for where, text in texts.items():
        for inline in ("<script>", " style=", "<style"):  # no inline script or style
            assert inline not in text, (where, inline)
        assert not re.search(r"\son[a-z]+=", text), where  # no inline event handlers


def test_desk_requests_are_in_the_access_log_with_the_users_name(desk: Desk) -> None:
    ana = desk.signed_in("ana")
    ana.get(f"/desk/case/{WORKED}")
    desk.client().get("/", follow_redirects=False)
    lines = [json.loads(line) for line in desk.access_log.read_text().splitlines()]
    opened = [line for line in lines if line.get("route") == "/desk/case/{rel}"]
    assert opened
    assert opened[-1]["token"] == "ana"
    assert opened[-1]["status"] == 200
    signin = [line for line in lines if line.get("route") == "/desk/signin"
              and line["method"] == "POST"]
    assert signin
    assert signin[-1]["token"] == "ana"
    anonymous = [line for line in lines if line.get("route") == "/" and line["status"] == 303]
    assert anonymous
    assert anonymous[-1]["refused"] == "no session"
    assert not any(desk.secrets["ana"] in line for line in desk.access_log.read_text().
                   splitlines())


def test_without_a_workspace_the_home_page_says_how_to_have_one(tmp_path: Path) -> None:
    app = create_app(Settings(), TokenStore(None, []), access_log=False)
    client = TestClient(app)
    page = client.get("/")
    assert page.status_code == 200
    assert "--workspace" in page.text
    assert "NOTEGEN_WORKSPACE" in page.text
    assert page.headers["content-security-policy"] == POLICY
    assert client.get("/desk/signin").status_code == 404


def test_the_session_secret_is_private_and_shared(tmp_path: Path) -> None:
    from notegen.desk.session import SECRET_FILE, desk_secret

    first = desk_secret(tmp_path)
    assert desk_secret(tmp_path) == first
    assert len(first) == 32
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert not [path for path in (tmp_path / SECRET_FILE).parent.iterdir()
                if path.name != "secret"]


def test_the_preview_shows_the_courtesy_translation_when_asked(desk: Desk) -> None:
    client = desk.signed_in("ana")
    csrf = csrf_of(client.get(f"/desk/case/{WORKED}").text)
    ask = [{"file": WORKED, "field": "note.translation", "value": "ru"}]
    without = preview(client, csrf, ask).json()
    assert without["url"] is not None
    assert without["translation_url"] is None
    shown = preview(client, csrf, ask, translation=True).json()
    assert shown["translation_url"] is not None
    frame = client.get(shown["translation_url"])
    assert frame.headers["content-security-policy"] == NOTE_POLICY
    assert 'lang="ru"' in frame.text
    assert "заявить решительный протест" in " ".join(frame.text.split())
    # The worked case names no translation of its own: nothing to show.
    assert preview(client, csrf, [], translation=True).json()["translation_url"] is None


def test_the_chronology_offers_no_incident_the_case_cannot_recall(desk: Desk) -> None:
    page = desk.signed_in("ana").get(f"/desk/case/{WORKED}").text
    chronology = page.split('id="chronology"')[1].split("</fieldset>")[0]
    # The Quito incident is in the other case's file, which this case does not include.
    assert 'value="quito-2024-04-05"' not in chronology
    assert "quito-2024-04-05" in chronology.split('class="elsewhere"')[1]


def test_a_page_carries_on_with_a_renewed_session(desk: Desk) -> None:
    client = desk.signed_in("ana")
    old = csrf_of(client.get(f"/desk/case/{WORKED}").text)
    sign_in(client, desk.secrets["ana"])  # signed in again (another tab): a new session
    refused = preview(client, old, [])
    assert refused.status_code == 403
    assert refused.json()["reason"] == "csrf"
    renewed = client.get("/desk/api/session").json()
    assert renewed["name"] == "ana"
    assert renewed["csrf"] != old
    assert preview(client, renewed["csrf"], []).status_code == 200
    assert desk.client().get("/desk/api/session").status_code == 401
