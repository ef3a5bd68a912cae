from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from notegen import RenderOptions, extract_record  # noqa: E402
from notegen.service import new_token  # noqa: E402
from notegen.service.app import _RENDERING, _verify_pdf  # noqa: E402

from .conftest import ROOT, free_port  # noqa: E402


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The service on loopback, a real uvicorn process, with a token per role."""
    folder = tmp_path_factory.mktemp("service")
    tokens, entries = {}, []
    for role in ("drafter", "issuer", "reader"):
        tokens[role], entry = new_token(f"{role}-1", [role])
        entries.append(entry.as_json())
    (folder / "tokens.json").write_text(json.dumps({"tokens": entries}))
    port = free_port()
    env = {**os.environ, "NOTEGEN_TOKENS": str(folder / "tokens.json"),
           "NOTEGEN_REGISTER": str(folder / "register.db"), "NOTEGEN_MAX_BODY": "300000",
           "NOTEGEN_CATALOGUE": str(ROOT / "seeds" / "az-mfa-catalogue")}
    log = (folder / "log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "notegen", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        log.close()
        pytest.fail("the service did not start: " + (folder / "log").read_text())
    try:
        yield {"url": url, "tokens": tokens, "log": folder / "log"}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _auth(service: dict[str, object], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['tokens'][role]}"}  # type: ignore[index]


@pytest.fixture(scope="module")
def case_json(worked_pdf: bytes) -> bytes:
    """The worked case as one JSON record file (what extract gives)."""
    return extract_record(worked_pdf)


@pytest.fixture(scope="module")
def draft_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The second case (a draft, to be numbered) as one JSON record file."""
    import notegen

    case = notegen.load_case(ROOT / "seeds" / "mx-quito-2024" / "note.yaml")
    return notegen.records.dump.dump_case(case)


def test_tokens_and_roles(service, case_json: bytes) -> None:
    url = service["url"]
    assert httpx.post(f"{url}/validate", content=case_json).status_code == 401
    wrong = httpx.post(f"{url}/validate", content=case_json,
                       headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    forbidden = httpx.post(f"{url}/issue", content=case_json, headers=_auth(service, "drafter"))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "this needs the role issuer"
    assert httpx.post(f"{url}/render", content=case_json,
                      headers=_auth(service, "reader")).status_code == 403
    assert httpx.get(f"{url}/register", headers=_auth(service, "drafter")).status_code == 403
    log = Path(service["log"]).read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    refused = {(line["route"], line["token"], line["refused"]) for line in lines
               if "refused" in line}
    assert ("/validate", None, "no token") in refused
    assert ("/validate", None, "unknown token") in refused
    assert ("/issue", "drafter-1", "needs issuer") in refused
    assert "not-a-token" not in log


def test_validate_and_render(service, case_json: bytes) -> None:
    url, auth = service["url"], _auth(service, "drafter")
    valid = httpx.post(f"{url}/validate", content=case_json, headers=auth)
    assert valid.status_code == 200
    assert valid.json() == {"valid": True, "warnings": []}
    pdf = httpx.post(f"{url}/render", content=case_json, headers=auth, timeout=60)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    html = httpx.post(f"{url}/render?format=html&lang=ru&type=aide_memoire",
                      content=case_json, headers=auth)
    assert "<h1>Памятная записка</h1>" in html.text


def test_errors_carry_the_located_problems(service, case_json: bytes) -> None:
    url, auth = service["url"], _auth(service, "drafter")
    broken = case_json.replace(b'"date": "2024-01-02"', b'"date": "2024-13-02"')
    response = httpx.post(f"{url}/validate", content=broken, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "the records have 1 problem:"
    [problem] = body["problems"]
    assert problem["file"] == "case.json"
    assert problem["field"].startswith("incidents[")
    assert problem["field"].endswith("].date")
    assert problem["line"] == broken.decode().splitlines().index(
        next(line for line in broken.decode().splitlines() if "2024-13-02" in line)) + 1
    too_big = httpx.post(f"{url}/validate", content=b"{" + b" " * 400_000 + b"}",
                         headers=auth)
    assert too_big.status_code == 413


def test_issue_find_cancel_and_verify(service, draft_json: bytes) -> None:
    url = service["url"]
    issued = httpx.post(f"{url}/issue", content=draft_json, headers=_auth(service, "issuer"),
                        timeout=60)
    assert issued.status_code == 200, issued.text
    reference = issued.headers["x-notegen-reference"]
    assert reference == "SRE/1/2024"
    found = httpx.get(f"{url}/register", params={"incident": "quito-2024-04-05"},
                      headers=_auth(service, "reader")).json()
    assert [entry["reference"] for entry in found] == [reference]
    assert found[0]["issued_by"] == "issuer-1"
    shown = httpx.get(f"{url}/register/{reference}", headers=_auth(service, "reader"))
    assert shown.json()["number"] == 1
    verified = httpx.post(f"{url}/verify", content=issued.content,
                          headers=_auth(service, "reader"), timeout=60).json()
    assert (verified["status"], verified["record"]) == ("unsigned", "matches")
    cancelled = httpx.post(f"{url}/cancel/{reference}", json={"reason": "duplicate"},
                           headers=_auth(service, "issuer"))
    assert cancelled.json()["cancelled"] == "duplicate"
    missing = httpx.get(f"{url}/register/SRE/9/2024", headers=_auth(service, "reader"))
    assert missing.status_code == 404
    # Said without where the register lies on the server.
    assert missing.json()["error"] == "no issued note 'SRE/9/2024'"
    again = httpx.post(f"{url}/cancel/{reference}", json={"reason": "twice"},
                       headers=_auth(service, "issuer"))
    assert again.status_code == 409
    assert "register.db" not in again.text
    assert "register.db" not in missing.text
    # The register's own rule: issued and unaltered, or not.
    checked = httpx.post(f"{url}/register/verify", content=issued.content,
                         headers=_auth(service, "reader"), timeout=60).json()
    assert checked == {"issued": True, "reference": reference, "finding": checked["finding"]}
    assert checked["finding"].startswith(f"issued note {reference} of 2024-04-")
    middle = len(issued.content) // 2
    altered = (issued.content[:middle] + bytes([issued.content[middle] ^ 1])
               + issued.content[middle + 1:])
    refused = httpx.post(f"{url}/register/verify", content=altered,
                         headers=_auth(service, "reader"), timeout=60).json()
    assert (refused["issued"], refused["reference"]) == (False, None)


def test_verifying_waits_for_the_render_in_progress(worked_pdf: bytes) -> None:
    # Verifying re-renders the records with the same fonts as the renders:
    # it may not run beside one.
    results = []
    with _RENDERING:
        worker = threading.Thread(
            target=lambda: results.append(_verify_pdf(worked_pdf, RenderOptions())))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()
        assert not results
    worker.join(60)
    assert [result.record for result in results] == ["matches"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("schemathesis") is None and
                    not (Path(sys.executable).parent / "schemathesis").exists(),
                    reason="schemathesis is not installed")
def test_the_openapi_document_holds_under_schemathesis(service, tmp_path: Path) -> None:
    command = str(Path(sys.executable).parent / "schemathesis")
    result = subprocess.run(
        [command, "run", f"{service['url']}/openapi.json", "--header",
         f"Authorization: Bearer {service['tokens']['issuer']}", "--max-examples", "15",
         "--checks", "not_a_server_error", "--request-timeout", "60"],
        capture_output=True, text=True, check=False, timeout=900,
        cwd=tmp_path)  # its cache goes here, not into the checkout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_the_docs_need_no_token_but_the_operations_do(service) -> None:
    """The page could not send a token to load the document; what it lists
    still needs one."""
    url = service["url"]
    document = httpx.get(f"{url}/openapi.json")
    assert document.status_code == 200
    assert "/render" in document.json()["paths"]
    assert httpx.get(f"{url}/docs").status_code == 200
    assert httpx.get(f"{url}/redoc").status_code == 404
    assert httpx.post(f"{url}/render", content=b"{}").status_code == 401


@pytest.mark.parametrize("include", ["/etc/passwd", "../../../../etc/hostname", "case.json",
                                     "/nonexistent/x.yaml", "/tmp"])
def test_a_posted_case_reads_no_file_of_the_server(service, case_json: bytes,
                                                   include: str) -> None:
    """Whether the path exists, is a folder or is readable: the same answer,
    which names no folder of the server and carries nothing of the file."""
    url, auth = service["url"], _auth(service, "drafter")
    data = json.loads(case_json)
    data["include"] = [include]
    body = json.dumps(data).encode()
    for path in ("/validate", "/render"):
        response = httpx.post(f"{url}{path}", content=body, headers=auth, timeout=60)
        assert response.status_code == 422, response.text
        [problem] = response.json()["problems"]
        assert problem["message"] == ("this case cannot include files: give every record in "
                                      "this one file (as `notegen extract` writes it)")
        assert (problem["file"], problem["field"]) == ("case.json", "include")
        assert "root:" not in response.text
        assert "/tmp/" not in response.text


def test_verify_reads_no_file_named_in_embedded_records(service, worked_pdf: bytes) -> None:
    """A PDF whose embedded records include a server file: verify does not
    read it, and says the records do not render."""
    import io

    import pikepdf

    record = json.loads(extract_record(worked_pdf))
    record["include"] = ["/etc/passwd"]
    with pikepdf.open(io.BytesIO(worked_pdf)) as document:
        document.attachments["notegen-record.json"] = pikepdf.AttachedFileSpec(
            document, json.dumps(record).encode(), filename="notegen-record.json")
        out = io.BytesIO()
        document.save(out)
    result = httpx.post(f"{service['url']}/verify", content=out.getvalue(),
                        headers=_auth(service, "reader"), timeout=60).json()
    assert result["status"] == "tampered"
    assert "root:" not in json.dumps(result)
    assert any("cannot include files" in finding for finding in result["findings"])


def test_two_senders_with_one_pattern_are_told_apart(service, draft_json: bytes) -> None:
    """Runs after test_issue_find_cancel_and_verify issued SRE/1/2024 for mx-sre."""
    url = service["url"]
    other = draft_json.replace(b'"mx-sre"', b'"mx-sre-2"')
    assert other != draft_json
    issued = httpx.post(f"{url}/issue", content=other, headers=_auth(service, "issuer"),
                        timeout=60)
    assert issued.status_code == 200, issued.text
    assert issued.headers["x-notegen-reference"] == "SRE/1/2024"
    ambiguous = httpx.get(f"{url}/register/SRE/1/2024", headers=_auth(service, "reader"))
    assert ambiguous.status_code == 409
    assert "was issued by 2 senders (mx-sre, mx-sre-2)" in ambiguous.json()["error"]
    chosen = httpx.get(f"{url}/register/SRE/1/2024", params={"sender": "mx-sre-2"},
                       headers=_auth(service, "reader"))
    assert chosen.json()["sender"] == "mx-sre-2"
    assert chosen.json()["cancelled"] is None


def test_the_tokens_file_is_made_by_notegen(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from notegen.cli import cli

    runner = CliRunner()
    path = tmp_path / "tokens.json"
    first = runner.invoke(cli, ["token", "desk-1", "--role", "drafter", "--file", str(path)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["token", "reg-1", "--role", "reader", "--role", "issuer",
                                 "--file", str(path)])
    entries = json.loads(path.read_text())["tokens"]
    assert [(e["name"], e["roles"]) for e in entries] == [
        ("desk-1", ["drafter"]), ("reg-1", ["reader", "issuer"])]
    import hashlib

    assert entries[1]["sha256"] == hashlib.sha256(second.stdout.strip().encode()).hexdigest()
    again = runner.invoke(cli, ["token", "add", "desk-1", "--role", "drafter", "--file",
                                str(path)])
    assert again.exit_code == 1
    assert "already has a token named 'desk-1'" in again.stderr
    assert len(json.loads(path.read_text())["tokens"]) == 2
