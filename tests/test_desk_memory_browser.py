"""The ministry's memory at the drafting desk, in a real browser (Debian's
Chromium through Selenium, set up as tests/test_desk_browser.py does),
against ``notegen serve --workspace`` over a copy of the example that names
the Ministry's catalogue and chooses its chronology by a rule.

Two officers' tasks, each step saved as a screenshot under the test's
temporary folder: a drafter narrows the rule and sees the chronology and
the preview follow, leaves one incident out by unticking it, saves, and
finds the rule (with the exclusion) in the YAML, then looks the incident
up in the catalogue; an issuer records a reply, with its PDF, on an issued
note's entry page. No Content-Security-Policy violation and no script
error on the way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, free_port

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
pytest.importorskip("selenium")


from notegen import RenderOptions, load_case, open_register  # noqa: E402

from .test_desk_browser import (  # noqa: E402
    TIMEOUT,
    Desk,
    Officer,
    officers,  # noqa: F401  (a fixture: over this module's desk)
)
from .test_desk_memory import CASE, CATALOGUE, QUITO, by_rule  # noqa: E402

pytestmark = pytest.mark.slow

#: Set to a path, the test also saves the README's picture of the rule at the
#: desk there (docs/desk-memory.png).
SCREENSHOT = os.environ.get("NOTEGEN_DESK_MEMORY_SCREENSHOT")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    from notegen.service.tokens import new_token, write_tokens

    base = tmp_path_factory.mktemp("memory-desk")
    workspace = base / "workspace"
    shutil.copytree(ROOT / "seeds", workspace)
    original = Path(shutil.copytree(workspace, base / "original"))
    secrets, entries = {}, []
    for name, roles in (("drafter-ana", ["drafter"]), ("issuer-iva", ["issuer"])):
        secrets[name], entry = new_token(name, roles)
        entries.append(entry)
    tokens = base / "tokens.json"
    write_tokens(tokens, entries)
    register = base / "register.db"
    with open_register(str(register)) as opened:
        opened.issue(load_case(workspace / QUITO), RenderOptions(pdf_variant=None,
                                                                 embed_record=False),
                     issued_by="issuer-iva")
    port = free_port()
    stderr = base / "serve.stderr"
    env = {**os.environ, "NOTEGEN_TOKENS": str(tokens), "NOTEGEN_REGISTER": str(register),
           "NOTEGEN_ACCESS_LOG": str(base / "access.jsonl")}
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "notegen", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workspace", str(workspace)],
            cwd=base, env=env, stdout=sink, stderr=subprocess.STDOUT)
    running = Desk(f"http://127.0.0.1:{port}", workspace, original, secrets,
                   base / "access.jsonl", stderr, process)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"notegen serve stopped ({process.returncode}):\n"
                            f"{running.server_says()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{running.url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"notegen serve did not answer in {TIMEOUT:.0f} s:\n"
                            f"{running.server_says()}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_drafter_narrows_the_rule_and_leaves_one_out(
        desk: Desk, officers: Callable[..., Officer]) -> None:  # noqa: F811
    ana = officers("ana", 1400, 900)
    ana.sign_in("drafter-ana")
    ana.go(f"/desk/case/{CASE}")
    start = ana.wait_preview(-1, "ok", "the case with its rule")
    assert ana.find("#chronology").get_attribute("data-mode") == "rule"
    assert ana.find("#rule-since").get_attribute("value") == "2022-02-24"

    def ticked() -> list[str]:
        return [box.get_attribute("value") or "" for box in
                ana.all('#chronology input[name="earlier"]') if box.is_selected()]

    assert ticked() == by_rule(desk.workspace, dt.date(2022, 2, 24))
    since = dt.date(2023, 1, 1)
    narrowed = by_rule(desk.workspace, since)
    assert 1 < len(narrowed) < len(by_rule(desk.workspace, dt.date(2022, 2, 24)))
    ana.replace_text(ana.find("#rule-since"), since.isoformat())
    after = ana.wait_preview(start, "ok", "the rule narrowed")
    ana.wait(lambda d: ticked() == narrowed, f"the ticked incidents to be {narrowed}")
    assert ana.find("#rule-summary").text.startswith(f"The rule chooses {len(narrowed)} ")
    ana.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})",
                              ana.find("#chronology"))
    ana.shot("rule-narrowed")
    if SCREENSHOT:
        ana.driver.save_screenshot(SCREENSHOT)

    # Unticking one the rule chose leaves it out, by name.
    left_out = narrowed[0]
    ana.find(f'#chronology input[name="earlier"][value="{left_out}"]').click()
    assert ana.find("#rule-exclude").get_attribute("value") == left_out
    ana.wait_preview(after, "ok", "one incident left out")
    ana.wait(lambda d: ticked() == narrowed[1:], "the left-out incident unticked")
    ana.find("button#save").click()
    ana.wait(lambda d: ana.find("#save-status").text.startswith("Saved"), "the save")
    ana.shot("saved")
    case = load_case(desk.workspace / CASE)
    assert case.chronology is not None
    assert case.chronology.written.model_dump(mode="json", exclude_defaults=True) == {
        "rule": {"since": since.isoformat()}, "exclude": [left_out]}
    assert list(case.note.earlier) == narrowed[1:]

    # The incident left out, in the catalogue.
    ana.go("/desk/catalogue")
    ana.wait(lambda d: ana.all("table#catalogue-incidents a.incident-link"), "the catalogue")
    ana.shot("catalogue")
    ana.find(f'a.incident-link[href$="/{left_out}"]').click()
    ana.wait(lambda d: ana.find("#incident-id").text == left_out, "the incident's page")
    assert ana.find("#incident-file").text.startswith(f"{CATALOGUE}/incidents.yaml:")
    ana.shot("incident")
    assert ana.console_faults() == []


def test_an_issuer_records_a_reply_with_its_pdf(
        desk: Desk, officers: Callable[..., Officer],  # noqa: F811
        tmp_path: Path) -> None:
    iva = officers("iva", 1400, 900)
    iva.sign_in("issuer-iva")
    iva.go("/desk/register")
    iva.wait(lambda d: iva.all("table#register-entries a.entry-link"), "the register")
    iva.all("table#register-entries a.entry-link")[0].click()
    iva.wait(lambda d: iva.find("form#reply"), "the reply form")
    assert iva.find("#entry-answered").text == "no reply recorded"
    pdf = tmp_path / "reply.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% the Embassy's reply\n%%EOF\n")
    iva.find("#reply-received").send_keys("2024-06-03")
    iva.find("#reply-reference").send_keys("4512")
    iva.find("#reply-summary").send_keys("denies any involvement")
    iva.find("#reply-file").send_keys(str(pdf))
    iva.shot("reply-filled")
    iva.find("#reply-submit").click()
    iva.wait(lambda d: iva.find("#entry-answered").text == "yes, 1 reply recorded",
             "the reply recorded")
    row = iva.find("table#replies tbody tr").text
    assert "4512" in row
    assert "denies any involvement" in row
    link = iva.find("a.reply-file").get_attribute("href") or ""
    assert iva.fetch("GET", link.removeprefix(desk.url)) == 200
    iva.shot("reply-recorded")
    assert iva.console_faults() == []
