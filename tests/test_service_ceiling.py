"""The service near its ceiling: a posted case read from memory as JSON and
located only when it is wrong, workers warm before their first request, and
workers replaced by measured memory growth without dropping a request."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

with warnings.catch_warnings():
    # Starlette 1.10 would have its test client on httpx2; httpx works still.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from notegen.config import Settings  # noqa: E402
from notegen.records.case import load_case  # noqa: E402
from notegen.records.dump import dump_case  # noqa: E402
from notegen.records.reading import _json_positions, _Loader, _positions  # noqa: E402
from notegen.service.app import create_app  # noqa: E402
from notegen.service.tokens import add_token, new_token  # noqa: E402
from notegen.service.workers import Recycling, Supervisor, resident_bytes  # noqa: E402

from .conftest import SEED, free_port  # noqa: E402

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def posted() -> bytes:
    """The worked case as a client posts it: one JSON record file."""
    return dump_case(load_case(SEED / "note.yaml"))


def _line(text: str, marker: str) -> int:
    """The line (from 1) of the one line of ``text`` holding ``marker``."""
    [line] = [number for number, content in enumerate(text.splitlines(), 1)
              if marker in content]
    return line


# Reading a posted case


def test_json_positions_are_where_yaml_puts_them(posted: bytes) -> None:
    text = posted.decode()
    composed: dict[Any, tuple[int, int]] = {}
    _positions(_Loader(text).get_single_node(), (), composed)
    walked: dict[Any, tuple[int, int]] = {}
    _json_positions(text, walked)
    assert walked == composed
    assert len(walked) > 100
    nested = '[1, [2, {"a": [3, {"b": {}}]}], {"c": []}]'
    composed, walked = {}, {}
    _positions(_Loader(nested).get_single_node(), (), composed)
    _json_positions(nested, walked)
    assert walked == composed
    assert walked[(1, 1, "a")] == (1, 10)  # a value is found where its key is


def test_a_valid_posted_case_is_loaded_without_finding_positions(posted: bytes) -> None:
    """Positions are for problems: a case that has none is not walked for them."""
    case = load_case(posted, name="case.json")
    [source] = case.files
    assert source._positions is None
    assert case.locate(None, "reference").line == _line(posted.decode(), '"reference": "12/')


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    """The service's application in this process, warmed up, with a drafter's token."""
    tokens = tmp_path / "tokens.json"
    secret, entry = new_token("desk-1", ["drafter"])
    add_token(tokens, entry)
    log = tmp_path / "access.jsonl"
    app = create_app(Settings(tokens=tokens, access_log=log))
    with TestClient(app) as test_client:
        yield test_client, {"Authorization": f"Bearer {secret}"}, log


def test_a_posted_json_case_with_errors_is_located_by_file_line_and_field(
        client: tuple[TestClient, dict[str, str], Path], posted: bytes) -> None:
    test_client, auth, _ = client
    records = json.loads(posted)
    note = records["note"]
    year = int(note["date"][:4])
    # The sender's pattern is 12/{number}/{year}: a reference of another year.
    note["reference"] = f"12/345/{year - 1}"
    body = json.dumps(records, indent=2).encode()
    answer = test_client.post("/render?format=html", content=body, headers=auth)
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    text = body.decode()
    assert problem["file"] == "case.json"
    assert problem["field"] == "note.reference"
    assert problem["line"] == _line(text, f'"reference": "12/345/{year - 1}"')
    assert problem["message"] == (f"the reference carries the year {year - 1}, but the note "
                                  f"is dated {note['date']}")
    # A value of the wrong form, in the records' schema.
    note["reference"] = f"12/345/{year}"
    note["date"] = f"{year}-13-02"
    body = json.dumps(records, indent=2).encode()
    answer = test_client.post("/validate", content=body, headers=auth)
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert (problem["file"], problem["field"]) == ("case.json", "note.date")
    assert problem["line"] == _line(body.decode(), f'"date": "{year}-13-02"')


# Warm before the first request


@pytest.fixture
def audit() -> Iterator[list[tuple[str, str]]]:
    """What this process imports and opens while the list is switched on
    (an audit hook cannot be removed: it only listens while asked to)."""
    heard: list[tuple[str, str]] = []
    listening = threading.Event()

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if listening.is_set() and event in ("import", "open"):
            heard.append((event, str(args[0])))

    sys.addaudithook(hook)
    listening.set()
    yield heard
    listening.clear()


def test_a_worker_is_warm_before_its_first_request(
        client: tuple[TestClient, dict[str, str], Path], posted: bytes,
        request: pytest.FixtureRequest) -> None:
    """The lifespan, which uvicorn runs before a worker takes a connection,
    leaves nothing for the first request of each kind to import or read but
    what every request reads (the Word template, the render's memory)."""
    test_client, auth, log = client
    assert log.read_text() == ""  # the worker's rehearsal is not logged
    heard = request.getfixturevalue("audit")
    for kind in ("html", "docx", "pdf"):
        heard.clear()
        answer = test_client.post(f"/render?format={kind}", content=posted, headers=auth)
        assert answer.status_code == 200
        first = sorted(set(heard))
        heard.clear()
        assert test_client.post(f"/render?format={kind}", content=posted,
                                headers=auth).status_code == 200
        assert first == sorted(set(heard)), kind
        assert not [name for event, name in first if event == "import"], kind
    assert test_client.post("/validate", content=posted, headers=auth).json()["valid"]
    assert len(log.read_text().splitlines()) == 7


# Workers replaced by their memory


def test_a_worker_is_replaced_once_it_has_grown_past_the_setting() -> None:
    policy = Recycling(growth_mb=64)
    warm = 300 * MIB
    assert not policy.over(warm, warm)
    assert not policy.over(warm, warm + 64 * MIB)  # up to the setting, it serves on
    assert policy.over(warm, warm + 64 * MIB + 4096)
    assert not policy.over(warm, warm - 10 * MIB)  # memory given back counts for nothing
    assert Recycling(growth_mb=0.5).over(warm, warm + MIB)


def test_resident_memory_is_measured_as_it_is_now() -> None:
    before = resident_bytes()
    held = bytearray(64 * MIB)  # zeroed: every page touched
    grown = resident_bytes()
    assert grown - before >= 48 * MIB
    del held
    assert resident_bytes() < grown  # the current figure, not the largest so far


@pytest.mark.logs
def test_a_worker_that_cannot_start_stops_the_service(
        caplog: pytest.LogCaptureFixture) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    config = uvicorn.Config("tests.no_such_module:app", host="127.0.0.1", port=free_port(),
                            log_level="critical")
    with caplog.at_level(logging.ERROR, logger="notegen.service.workers"):
        assert Supervisor(config, 2, Recycling(growth_mb=256)).run() == 1
    [message] = caplog.messages
    assert message.startswith("a worker could not start (exit status ")
    assert message.endswith("): stopping")


@pytest.mark.slow
def test_a_worker_over_the_limit_is_replaced_without_dropping_a_request(
        tmp_path: Path, posted: bytes) -> None:
    """One worker, allowed to grow by 0.05 MiB once warm: the first renders
    take it over, a replacement starts and warms up while it serves on, and
    then it drains. Two clients posting all along on keep-alive connections
    get every answer; the replacement serves what follows."""
    tokens = tmp_path / "tokens.json"
    secret, entry = new_token("desk-1", ["drafter"])
    add_token(tokens, entry)
    port = free_port()
    env = {**os.environ, "NOTEGEN_TOKENS": str(tokens), "NOTEGEN_WORKER_GROWTH_MB": "0.05",
           "NOTEGEN_ACCESS_LOG": str(tmp_path / "access.jsonl")}
    log = (tmp_path / "log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "notegen", "serve", "--port", str(port),
                               "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    answers: list[int | str] = []
    closing: list[bool] = []
    replaced = threading.Event()

    def post_until_replaced() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"},
                          timeout=120) as session:
            # On until the old worker has closed this connection, and two
            # more, which the new worker answers.
            after, closed, deadline = 0, False, time.monotonic() + 240
            while after < 2 and time.monotonic() < deadline:
                try:
                    answer = session.post("/render?format=html", content=posted)
                    answers.append(answer.status_code)
                    closing.append(answer.headers.get("connection") == "close")
                    closed = closed or closing[-1]
                except httpx.TransportError as exc:
                    answers.append(repr(exc))
                if closed:
                    after += 1
                time.sleep(0.05)

    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the service did not start: " + (tmp_path / "log").read_text())
        clients = [threading.Thread(target=post_until_replaced) for _ in range(2)]
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not replaced.is_set():
            text = (tmp_path / "log").read_text()
            if "finishes what it has in hand and ends" in text:
                replaced.set()
            time.sleep(0.2)
        for thread in clients:
            thread.join(240)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    text = (tmp_path / "log").read_text()
    assert replaced.is_set(), text
    assert "more than when it was warm (worker_growth_mb: 0.05): starting its replacement" in text
    assert set(answers) == {200}, answers
    # Each client's keep-alive connection served it until the old worker
    # closed it, once, with its answer.
    assert sum(closing) == 2, closing
    lines = [json.loads(line) for line in (tmp_path / "access.jsonl").read_text().splitlines()]
    assert len(lines) == len(answers)
    assert server.returncode == 0
