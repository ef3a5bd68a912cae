"""The ministry's memory at the drafting desk (notegen.desk.memory), through
FastAPI's test client: the catalogue page and an incident's page, a case
whose chronology is a rule (shown, previewed live and saved as a rule), the
replies of an issued note (shown, recorded by an issuer only, with a PDF),
and the desk's small defects mended (one id per element, times in the note's
language, the language chosen from a list, a refused save beside the file
as saved, a preview that does not fill the log).

Expected incidents are chosen here from the catalogue's records by the
rule's own definition; month names come from CLDR (Babel), not from a page.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import re
import shutil
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT
from .test_desk_web import csrf_of, element, hidden, sign_in

pytest.importorskip("fastapi")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from babel.dates import get_month_names

from notegen import RenderOptions, load_case, open_register
from notegen.config import Settings
from notegen.records.case import load_incident_catalogue
from notegen.service.app import create_app
from notegen.service.tokens import TokenStore, new_token, write_tokens

CASE = "az-kyiv-2025/note.yaml"
CATALOGUE = "az-mfa-catalogue"
EARLIER = f"{CASE}::note.earlier"
QUITO = "mx-quito-2024/note.yaml"
FAST = RenderOptions(pdf_variant=None, embed_record=False)


@dataclass
class Desk:
    app: Any
    workspace: Path
    secrets: dict[str, str]
    register: Path

    def signed_in(self, name: str) -> TestClient:
        client = TestClient(self.app)
        assert sign_in(client, self.secrets[name]).status_code == 303
        return client


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "seeds", workspace)
    secrets, entries = {}, []
    for name, roles in (("ana", ["drafter"]), ("iva", ["issuer"]), ("rea", ["reader"])):
        secrets[name], entry = new_token(name, roles)
        entries.append(entry)
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, entries)
    register = tmp_path / "register.db"
    settings = Settings(workspace=workspace, register=str(register), tokens=tokens,
                        access_log=tmp_path / "access.jsonl")
    return Desk(create_app(settings, TokenStore(tokens)), workspace, secrets, register)


def by_rule(workspace: Path, since: dt.date) -> list[str]:
    """The incidents of the example catalogue the worked note's rule chooses
    from ``since``: attributed to the addressee's State (ru), on premises of
    the sender's (az), before the subject incident (14 November 2025)."""
    catalogue = load_incident_catalogue(workspace / CATALOGUE)
    return [incident.id for incident in sorted(catalogue.incidents.values(),
                                               key=lambda i: (i.date, i.id))
            if incident.attributed_to == "ru" and incident.date >= since
            and incident.last_date < dt.date(2025, 11, 14)
            and any(catalogue.facilities[impact.facility].owner == "az"
                    for impact in incident.impacts)]


def _ids_in(page: str, pattern: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(pattern, page)]


# The catalogue


def test_the_catalogue_page_lists_searches_and_shows_one_incident(desk: Desk) -> None:
    client = desk.signed_in("rea")  # a reader may look too
    catalogue = load_incident_catalogue(desk.workspace / CATALOGUE)
    oldest_first = [i.id for i in sorted(catalogue.incidents.values(),
                                         key=lambda i: (i.date, i.id))]
    page = client.get("/desk/catalogue")
    assert page.status_code == 200, page.text
    assert _ids_in(page.text, r'class="incident-link"[^>]*><code>([^<]+)</code>') == oldest_first
    assert 'href="/desk/catalogue"' in page.text  # the header links it

    since = catalogue.incidents[oldest_first[1]].date
    page = client.get("/desk/catalogue", params={"since": since.isoformat()})
    assert _ids_in(page.text, r'class="incident-link"[^>]*><code>([^<]+)</code>') == [
        i for i in oldest_first if catalogue.incidents[i].date >= since]
    page = client.get("/desk/catalogue", params={"text": "KHARKIV"})
    assert _ids_in(page.text, r'class="incident-link"[^>]*><code>([^<]+)</code>') == [
        "kharkiv-2022-03-10"]
    wrong = client.get("/desk/catalogue", params={"since": "2024-13-01"})
    assert wrong.status_code == 200
    assert "YYYY-MM-DD" in element(wrong.text, "catalogue-problems")

    one = client.get("/desk/catalogue/incident/kharkiv-2022-03-10")
    assert one.status_code == 200, one.text
    where = element(one.text, "incident-file")
    assert where.startswith(f"{CATALOGUE}/incidents.yaml:")
    line = int(where.rsplit(":", 1)[1])
    lines = (desk.workspace / CATALOGUE / "incidents.yaml").read_text().splitlines()
    assert "kharkiv-2022-03-10" in lines[line - 1]
    assert "seriously_damaged" in element(one.text, "incident-record")
    assert str(desk.workspace) not in one.text
    assert client.get("/desk/catalogue/incident/nowhere").status_code == 404
    assert client.get("/desk/catalogue", params={"catalogue": "../etc"}).status_code == 404


def test_a_broken_catalogue_is_shown_located(desk: Desk) -> None:
    path = desk.workspace / CATALOGUE / "incidents.yaml"
    path.write_text(path.read_text().replace("attributed_to: ru", "attributed_to: atlantis", 1))
    page = desk.signed_in("ana").get("/desk/catalogue")
    said = element(page.text, "catalogue-problems")
    assert "atlantis" in said
    assert f"{CATALOGUE}/incidents.yaml:" in said


# A chronology by rule


def test_the_case_page_shows_the_rule_and_what_it_chose(desk: Desk) -> None:
    page = desk.signed_in("ana").get(f"/desk/case/{CASE}")
    assert page.status_code == 200, page.text
    assert re.search(r'id="chronology"[^>]*data-mode="rule"', page.text)
    assert re.search(r'id="rule-since"[^>]*value="2022-02-24"', page.text)
    assert re.search(r'id="rule-attributed-to"[^>]*value="addressee"', page.text)
    chosen = by_rule(desk.workspace, dt.date(2022, 2, 24))
    assert chosen, "the example's rule chooses incidents"
    assert _ids_in(page.text, r'value="([^"]+)"[^>]*data-chosen="true"') == chosen
    ticked = _ids_in(page.text, r'name="earlier" value="([^"]+)"[^>]* checked')
    assert ticked == chosen
    assert f"chooses {len(chosen)} incident" in element(page.text, "rule-summary")


def test_the_preview_follows_the_rule_live(desk: Desk) -> None:
    client = desk.signed_in("ana")
    csrf = csrf_of(client.get(f"/desk/case/{CASE}").text)
    later = dt.date(2025, 1, 1)
    rule = {"rule": {"attributed_to": "addressee", "struck": "sender",
                     "since": later.isoformat()}}
    answer = client.post("/desk/api/preview", headers={"X-CSRF-Token": csrf}, json={
        "rel": CASE, "edits": [{"file": CASE, "field": "note.earlier", "value": rule}]})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["chosen"] == by_rule(desk.workspace, later)
    assert found["recalled"] == by_rule(desk.workspace, later)
    every = by_rule(desk.workspace, dt.date(2022, 2, 24))
    dropped = every[-1]
    answer = client.post("/desk/api/preview", headers={"X-CSRF-Token": csrf}, json={
        "rel": CASE, "edits": [{"file": CASE, "field": "note.earlier",
                                "value": {**rule, "rule": {"since": "2022-02-24"},
                                          "exclude": [dropped]}}]})
    assert answer.json()["recalled"] == every[:-1]


def test_saving_keeps_the_rule_a_rule(desk: Desk) -> None:
    client = desk.signed_in("ana")
    page = client.get(f"/desk/case/{CASE}")
    csrf = csrf_of(page.text)
    path = desk.workspace / CASE
    before = path.read_text(encoding="utf-8")
    versions = json.loads(html.unescape(re.search(r'data-versions="([^"]*)"', page.text)[1]))
    # an edit elsewhere leaves the rule as written, byte for byte
    saved = client.post("/desk/api/save", headers={"X-CSRF-Token": csrf}, json={
        "rel": CASE, "versions": versions,
        "edits": [{"file": CASE, "field": "note.date", "value": "2025-11-15"}]})
    assert saved.status_code == 200, saved.text
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("  date: 2025-11-14\n  sender:", "  date: 2025-11-15\n  sender:")
    # the rule edited as the page sends it (one value): still a rule, comments kept
    versions[CASE] = saved.json()["saved"][0]["version"]
    edited = {"rule": {"attributed_to": "addressee", "struck": "sender", "since": "2023-01-01"},
              "exclude": [by_rule(desk.workspace, dt.date(2023, 1, 1))[0]]}
    saved = client.post("/desk/api/save", headers={"X-CSRF-Token": csrf}, json={
        "rel": CASE, "versions": versions,
        "edits": [{"file": CASE, "field": "note.earlier", "value": edited}]})
    assert saved.status_code == 200, saved.text
    text = path.read_text(encoding="utf-8")
    case = load_case(path)
    assert case.chronology is not None
    assert case.chronology.written.model_dump(mode="json", exclude_defaults=True) == {
        "rule": {"since": "2023-01-01"}, "exclude": edited["exclude"]}
    # only the day changed, the rule's own comments stay on their lines
    removed = [line for line in after.splitlines() if line not in text.splitlines()]
    added = [line for line in text.splitlines() if line not in after.splitlines()]
    assert [line.split("#")[0].strip() for line in removed] == ["since: 2022-02-24"]
    assert [line.split("#")[0].strip() for line in added][:1] == ["since: 2023-01-01"]
    assert "attributed_to: addressee   # attributed to the addressee's State" in text


# Replies


def _issued(desk: Desk) -> str:
    """Issue the Quito case in the desk's register; its reference."""
    with open_register(str(desk.register)) as register:
        entry, _ = register.issue(load_case(desk.workspace / QUITO), FAST, issued_by="iva")
    return entry.reference


@pytest.fixture(scope="module")
def issued_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A register holding the Quito case issued (a render: done once for the module)."""
    folder = tmp_path_factory.mktemp("issued")
    database = folder / "register.db"
    with open_register(str(database)) as register:
        entry, _ = register.issue(load_case(ROOT / "seeds" / QUITO), FAST, issued_by="iva")
    return database, entry.reference


def _with_issued(desk: Desk, issued_once: tuple[Path, str]) -> str:
    """The desk's register as a copy of :func:`issued_once`'s; the reference."""
    shutil.copyfile(issued_once[0], desk.register)
    return issued_once[1]


def test_an_entry_shows_its_replies_and_an_issuer_records_one(
        desk: Desk, issued_once: tuple[Path, str]) -> None:
    reference = _with_issued(desk, issued_once)
    url = f"/desk/register/entry/{reference}"
    reader = desk.signed_in("rea")
    page = reader.get(url)
    assert page.status_code == 200, page.text
    assert element(page.text, "entry-answered") == "no reply recorded"
    assert 'id="reply"' not in page.text  # a reader records nothing
    refused = reader.post(f"/desk/register/reply/{reference}",
                          data={"csrf": csrf_of(page.text), "received": "2025-01-01"})
    assert refused.status_code == 403

    issuer = desk.signed_in("iva")
    page = issuer.get(url)
    assert 'id="reply"' in page.text
    form = {"csrf": hidden(page.text, "csrf"), "sender": hidden(page.text, "sender"),
            "received": "2099-13-01", "reference": "", "summary": ""}
    bad = issuer.post(f"/desk/register/reply/{reference}", data=form)
    assert bad.status_code == 422
    assert "YYYY-MM-DD" in element(bad.text, "reply-status")
    form.update(received="2024-06-01", reference="N-77", summary="they deny it",
                unsatisfactory="on")
    done = issuer.post(f"/desk/register/reply/{reference}", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    page = issuer.get(done.headers["location"])
    assert element(page.text, "entry-answered") == "yes, 1 reply recorded"
    table = element(page.text, "replies")
    assert "N-77" in table
    assert "they deny it" in table
    assert "unsatisfactory" in table

    pdf = b"%PDF-1.7\n% a reply\n%%EOF\n"
    answer = issuer.post(f"/desk/register/reply/{reference}", headers={
        "X-CSRF-Token": csrf_of(page.text)}, json={
        "received": "2024-06-20", "reference": "N-80", "summary": "", "file":
        base64.b64encode(pdf).decode(), "sender": hidden(page.text, "sender")})
    assert answer.status_code == 200, answer.text
    page = issuer.get(answer.json()["entry"])
    assert element(page.text, "entry-answered") == "yes, 2 replies recorded"
    link = re.search(r'class="reply-file" href="([^"]+)"', page.text)[1]
    assert reader.get(link).content == pdf
    not_pdf = issuer.post(f"/desk/register/reply/{reference}", headers={
        "X-CSRF-Token": csrf_of(page.text)}, json={
        "received": "2024-06-21", "file": base64.b64encode(b"hello").decode()})
    assert not_pdf.status_code == 422
    assert "PDF" in not_pdf.json()["error"]
    with open_register(str(desk.register)) as register:
        assert [reply.their_reference for reply in register.replies(reference)] == [
            "N-77", "N-80"]


def test_a_reply_needs_the_csrf_token(desk: Desk, issued_once: tuple[Path, str]) -> None:
    reference = _with_issued(desk, issued_once)
    issuer = desk.signed_in("iva")
    answer = issuer.post(f"/desk/register/reply/{reference}", json={"received": "2024-06-20"})
    assert answer.status_code == 403
    assert answer.json()["reason"] == "csrf"


# The desk's defects


def test_every_id_of_a_page_is_one_element_s(desk: Desk,
                                             issued_once: tuple[Path, str]) -> None:
    reference = _with_issued(desk, issued_once)
    client = desk.signed_in("iva")
    for url in ("/", "/desk/catalogue", f"/desk/register/entry/{reference}",
                "/desk/register", "/desk/verify"):
        page = client.get(url).text
        ids = Counter(re.findall(r'\bid="([^"]+)"', page))
        assert [name for name, count in ids.items() if count > 1] == [], url
    page = desk.signed_in("ana").get(f"/desk/case/{CASE}").text
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [name for name, count in ids.items() if count > 1] == []


@pytest.mark.slow  # issues a note of its own (a render) in another language
@pytest.mark.parametrize("lang", ["ru"])
def test_the_issued_time_is_said_in_the_note_s_language(desk: Desk, lang: str) -> None:
    path = desk.workspace / QUITO
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^  language: \w+", f"  language: {lang}", text)
                    if re.search(r"(?m)^  language:", text) else text, encoding="utf-8")
    reference = _issued(desk)
    page = desk.signed_in("rea").get(f"/desk/register/entry/{reference}").text
    moment = re.search(r'<time datetime="([^"]+)">([^<]+)</time></dd>', page)
    assert moment is not None
    issued = dt.datetime.fromisoformat(moment[1])
    with open_register(str(desk.register)) as register:
        language = register.show(reference).language
    said = html.unescape(moment[2])
    assert "T" not in said.split()[0]
    assert str(get_month_names("wide", locale=language)[issued.month]).lower() in said.lower() \
        or str(get_month_names("wide", context="format", locale=language)[issued.month]) \
        in said


def test_the_note_s_language_is_chosen_among_the_templates_languages(desk: Desk) -> None:
    page = desk.signed_in("ana").get(f"/desk/case/{CASE}").text
    select = re.search(rf'<select id="[^"]*" name="{re.escape(CASE)}::note.language"[^>]*>'
                       r"(.*?)</select>", page, re.DOTALL)
    assert select is not None, "the note's language is a select"
    options = re.findall(r'<option value="([^"]*)"', select[1])
    from notegen.template_folders import builtin

    assert [option for option in options if option] == list(builtin().languages())
    assert re.search(r'<option value="en" selected>', select[1])


def test_a_refused_source_save_shows_the_file_as_saved_beside_it(desk: Desk) -> None:
    client = desk.signed_in("ana")
    page = client.get(f"/desk/source/{CASE}").text
    version = hidden(page, "version")
    path = desk.workspace / CASE
    path.write_text(path.read_text() + "# changed by someone else\n", encoding="utf-8")
    refused = client.post(f"/desk/source/{CASE}", data={
        "csrf": hidden(page, "csrf"), "version": version, "text": "note: {}\n"})
    assert refused.status_code == 409
    assert re.search(r'class="source-sides conflict"', refused.text)
    beside = element(refused.text, "conflict-current")
    assert "# changed by someone else" in beside
    assert "outside the desk" in beside
    assert "note: {}" in html.unescape(refused.text)  # the text sent is kept in the form


def test_a_case_page_conflict_carries_the_file_as_saved(desk: Desk) -> None:
    client = desk.signed_in("ana")
    page = client.get(f"/desk/case/{CASE}")
    versions = json.loads(html.unescape(re.search(r'data-versions="([^"]*)"', page.text)[1]))
    path = desk.workspace / CASE
    path.write_text(path.read_text() + "# changed\n", encoding="utf-8")
    answer = client.post("/desk/api/save", headers={"X-CSRF-Token": csrf_of(page.text)},
                         json={"rel": CASE, "versions": versions, "edits": [
                             {"file": CASE, "field": "note.date", "value": "2025-11-15"}]})
    assert answer.status_code == 409
    assert answer.json()["text"] == path.read_text()


def test_the_preview_shows_its_warnings_without_logging_them(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    every = by_rule(desk.workspace, dt.date(2022, 2, 24))
    client = desk.signed_in("ana")
    csrf = csrf_of(client.get(f"/desk/case/{CASE}").text)
    # a hand-written list that leaves one out: a warning of the records
    listed = {"file": CASE, "field": "note.earlier", "value": every[1:]}
    with caplog.at_level(logging.DEBUG, logger="notegen"):
        answer = client.post("/desk/api/preview", headers={"X-CSRF-Token": csrf},
                             json={"rel": CASE, "edits": [listed]})
    assert answer.status_code == 200, answer.text
    assert any(every[0] in warning["message"] for warning in answer.json()["warnings"])
    said = [record for record in caplog.records if every[0] in record.getMessage()]
    assert said, "the warning is logged, at DEBUG"
    assert all(record.levelno == logging.DEBUG for record in said)


def test_the_settings_catalogue_is_offered_beside_the_workspace_s(desk: Desk,
                                                                  tmp_path: Path) -> None:
    ministry = shutil.copytree(desk.workspace / CATALOGUE, tmp_path / "ministry-catalogue")
    (ministry / "incidents.yaml").write_text(
        (ministry / "incidents.yaml").read_text().replace("kyiv-2024-01-02", "kyiv-2024-01-03"),
        encoding="utf-8")
    tokens = tmp_path / "tokens.json"
    secret, entry = new_token("rea2", ["reader"])
    write_tokens(tokens, [entry])
    settings = Settings(workspace=desk.workspace, tokens=tokens, catalogue=ministry,
                        access_log=tmp_path / "access.jsonl")
    client = TestClient(create_app(settings, TokenStore(tokens)))
    assert sign_in(client, secret).status_code == 303
    page = client.get("/desk/catalogue").text
    options = _ids_in(page, r'<option value="([^"]+)"[^>]*>(?:the ministry|az-mfa)')
    assert options == ["ministry", CATALOGUE]
    assert "kyiv-2024-01-03" in page  # the settings' catalogue comes first
    assert str(ministry) not in page
    other = client.get("/desk/catalogue", params={"catalogue": CATALOGUE}).text
    assert "kyiv-2024-01-02" in other
    assert "kyiv-2024-01-03" not in other
    one = client.get("/desk/catalogue/incident/kyiv-2024-01-03",
                     params={"catalogue": "ministry"})
    assert element(one.text, "incident-file").startswith("incidents.yaml:")


# The démarche zip the desk and the service share


def test_the_demarche_zip_is_the_same_bytes_for_the_same_case(desk: Desk) -> None:
    import io
    import zipfile

    from notegen.render.demarche import demarche_zip

    case = load_case(desk.workspace / CASE)
    options = RenderOptions(translation="fr")
    first = demarche_zip(case, options, html=True)
    assert demarche_zip(case, options, html=True) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == [
        "note.html", "talking-points.html", "press-release.html", "translation-fr.html"]
    assert {info.date_time for info in infos} == {(*case.note.date.timetuple()[:3], 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o644}
