"""``notegen watch``: the preview follows every save, shows located problems
instead of the note while the records are broken, and serves nothing but
the page, the note, its events and the template folders' static files."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from notegen import RenderOptions
from notegen.render import limits
from notegen.watch import Preview, PreviewServer, loopback, start, stop

from .catalogue_factory import NOTE_DATE, Row, incident, write_catalogue
from .conftest import CATALOGUE

#: How long a save may take to reach the page on a busy machine.
BOUND = 20.0


def get(server: PreviewServer, path: str, *, method: str = "GET",
        host: str | None = None) -> tuple[int, dict[str, str], str]:
    address, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(address), port, timeout=10)
    headers = {"Host": host} if host else {}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, dict(response.getheaders()), body


def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, "the preview did not follow the save in time"
        time.sleep(0.1)


def save(path: Path, old: str, new: str) -> None:
    """Save ``path`` with ``old`` replaced, as an editor does (write, then rename)."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.replace(temporary, path)


@pytest.fixture
def server(seed_copy: Path) -> Iterator[PreviewServer]:
    running = start(Preview(seed_copy / "note.yaml", RenderOptions()), "127.0.0.1", 0)
    yield running
    stop(running)


@pytest.mark.logs
def test_a_save_reaches_the_page_and_a_broken_one_shows_where(
        server: PreviewServer, seed_copy: Path) -> None:
    status, _, note = get(server, "/note")
    assert status == 200
    assert "Kyiv" in note
    incidents = seed_copy / CATALOGUE / "incidents.yaml"
    # A file of the case's catalogue, not the case file itself: the preview follows it too.
    save(incidents, "place: {en: Kyiv,", "place: {en: Kyivska Watchtown,")
    eventually(lambda: "Kyivska Watchtown" in get(server, "/note")[2])
    status, _, page = get(server, "/")
    assert status == 200
    assert '<iframe src="/note?v=' in page

    text = incidents.read_text(encoding="utf-8")
    line = text[:text.index("date: 2024-01-02")].count("\n") + 1
    save(incidents, "date: 2024-01-02", "date: 2024-02-31")  # no such day
    eventually(lambda: "problem" in get(server, "/")[2])
    page = get(server, "/")[2]
    assert "<iframe" not in page  # the problems instead of the note
    assert re.search(rf"incidents\.yaml:{line}</code>", page), page
    assert re.search(r"incidents\[\d+\]\.date</code>", page), page
    # The last good note stays at /note while the records are broken.
    assert "Kyivska Watchtown" in get(server, "/note")[2]

    save(incidents, "date: 2024-02-31", "date: 2024-01-02")
    save(incidents, "place: {en: Kyivska Watchtown,", "place: {en: Kyiv again,")
    eventually(lambda: "Kyiv again" in get(server, "/note")[2])
    assert "<iframe" in get(server, "/")[2]


@pytest.mark.logs
def test_a_missing_translation_is_named_by_field(server: PreviewServer, seed_copy: Path
                                                ) -> None:
    save(seed_copy / CATALOGUE / "incidents.yaml",
         "place: {en: Kyiv, ru: Киев, az: Kiyev, fr: Kyiv}",
         "place: {ru: Киев, az: Kiyev, fr: Kyiv}")
    eventually(lambda: "problem" in get(server, "/")[2])
    assert re.search(r"incidents\[\d+\]\.place", get(server, "/")[2])


def test_the_events_say_when_to_reload(server: PreviewServer, seed_copy: Path) -> None:
    version = server.preview.snapshot.version
    address, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(address), port, timeout=BOUND)
    connection.request("GET", f"/events?since={version}")
    response = connection.getresponse()
    assert response.getheader("Content-Type") == "text/event-stream"
    save(seed_copy / CATALOGUE / "incidents.yaml", "place: {en: Kyiv,",
         "place: {en: Kyiv city,")
    assert response.readline() == b"event: changed\n"
    assert f'"version": {version + 1}'.encode() in response.readline()
    connection.close()


def test_only_the_page_the_note_and_static_files_are_served(server: PreviewServer) -> None:
    status, headers, _ = get(server, "/static/fonts/NotoSerif-Regular.ttf")
    assert status == 200
    assert headers["Content-Type"] == "font/ttf"
    for path in ("/static/../notegen.toml", "/static/%2e%2e/%2e%2e/etc/passwd",
                 "/etc/passwd", "/note.yaml", "/static/fonts/../../../README.md",
                 "/_watch/__init__.py", "/catalogues/en.yaml"):
        assert get(server, path)[0] == 404, path
    assert get(server, "/", method="POST")[0] == 405
    # Another host name for this address (DNS rebinding) gets nothing.
    assert get(server, "/note", host="attacker.example:80")[0] == 421
    _, headers, _ = get(server, "/")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    _, headers, _ = get(server, "/note")
    assert "script-src" not in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_template_saved_in_a_ministry_folder_is_read_again(tmp_path: Path,
                                                           seed_copy: Path) -> None:
    folder = tmp_path / "ministry"
    (folder / "static").mkdir(parents=True)
    style = folder / "static" / "note.css"
    style.write_text("body { color: #010203; }\n", encoding="utf-8")
    preview = Preview(seed_copy / "note.yaml", RenderOptions(template_dirs=(folder,)))
    running = start(preview, "127.0.0.1", 0)
    try:
        assert "#010203" in get(running, "/note")[2]
        save(style, "#010203", "#040506")
        eventually(lambda: "#040506" in get(running, "/note")[2])
    finally:
        stop(running)


def test_the_pdf_of_each_save_comes_from_one_kept_child_that_reads_an_edited_template(
        tmp_path: Path, seed_copy: Path) -> None:
    import pikepdf

    folder = tmp_path / "ministry"
    folder.mkdir()
    template = folder / "note_verbale.html.j2"
    preview = Preview(seed_copy / "note.yaml", RenderOptions(template_dirs=(folder,)),
                      pdf=tmp_path / "note.pdf")
    seen: list[limits.SpareChild] = []
    try:
        for title in ["First title", "First title", "Second title"]:
            template.write_text("{% extends 'builtin/note_verbale.html.j2' %}"
                                f"{{% block document_title %}}{title}{{% endblock %}}",
                                encoding="utf-8")
            assert preview.refresh([template]).error is None
            with pikepdf.open(tmp_path / "note.pdf") as pdf:
                assert str(pdf.open_metadata().get("dc:title")) == title
            kept = limits.spare()
            assert kept is not None
            seen.append(kept)
    finally:
        preview.close()
    assert limits.spare() is None
    # One child for all (the first save also warmed it for the folder); each
    # save's HTML (a ministry's template: bounded too) and PDF rendered in it.
    assert {kept.pid for kept in seen} == {seen[0].pid}
    assert [kept.renders - seen[0].renders for kept in seen] == [0, 2, 4]


@pytest.mark.slow
def test_the_command_serves_and_writes_the_pdf(seed_copy: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "preview.pdf"
    process = subprocess.Popen(
        [sys.executable, "-m", "notegen", "watch", str(seed_copy / "note.yaml"), "--port", "0",
         "--pdf", str(pdf)], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        connection.request("GET", "/note")
        assert "Kyiv" in connection.getresponse().read().decode()
        connection.close()
        assert pdf.read_bytes().startswith(b"%PDF-")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_a_record_added_to_the_catalogue_is_rendered(tmp_path: Path) -> None:
    # The case names a catalogue folder and chooses its earlier incidents by
    # rule: a file added to the folder (which the case names nowhere) brings
    # its incident into the chronology, and taking it away takes it out.
    catalogue = tmp_path / "catalogue"
    write_catalogue(catalogue, [
        Row("w1", dt.date(2023, 3, 10), "ua", "ru", "az-embassy-ua"),
        Row("w2", dt.date(2025, 11, 14), "ua", "ru", "az-embassy-ua", "seriously_damaged")])
    case = tmp_path / "case" / "note.yaml"
    case.parent.mkdir()
    case.write_text(json.dumps({"catalogue": "../catalogue", "note": {
        "date": NOTE_DATE.isoformat(), "sender": "az-mfa", "addressee": "ru-embassy-az",
        "subject": "w2", "earlier": {"rule": {"since": "2022-01-01"}},
        "protest": "protest against the attack", "demands": [{"kind": "investigation"}]}}),
        encoding="utf-8")
    running = start(Preview(case, RenderOptions()), "127.0.0.1", 0)
    try:
        assert "10 March 2023" in _note_text(running)
        assert "7 June 2024" not in _note_text(running)
        added = catalogue / "later" / "incidents-extra.json"
        added.parent.mkdir()
        record = incident(Row("w3", dt.date(2024, 6, 7), "ua", "ru", "az-consulate-ua"))
        added.write_text(json.dumps({"incidents": [{**record, "date": "2024-06-07"}]}),
                         encoding="utf-8")
        eventually(lambda: "7 June 2024" in _note_text(running))
        # A hidden file (an editor's) is not read by the catalogue: no render.
        version = running.preview.snapshot.version
        (catalogue / ".incidents-2023.json.swp").write_text("{", encoding="utf-8")
        save(added, "2024-06-07", "2024-06-08")
        eventually(lambda: "8 June 2024" in _note_text(running))
        assert running.preview.snapshot.version == version + 1
        added.unlink()
        eventually(lambda: "8 June 2024" not in _note_text(running))
        assert "10 March 2023" in _note_text(running)
    finally:
        stop(running)


def _note_text(server: PreviewServer) -> str:
    """The note's HTML with its no-break spaces as spaces."""
    return get(server, "/note")[2].replace("\xa0", " ").replace("&nbsp;", " ")


def test_loopback_is_an_address_of_this_machine() -> None:
    assert loopback("127.0.0.1")
    assert loopback("::1")
    assert loopback("localhost")
    assert not loopback("192.0.2.1")
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        loopback("example.org")


@pytest.mark.slow
def test_the_first_pdf_warms_the_process(seed_copy: Path, tmp_path: Path) -> None:
    # With --pdf the first render warms the process up, so the PDF of the
    # first save after it starts warm (a process otherwise warms up at its
    # second render: the first edit would wait for that).
    script = ("import sys\nfrom pathlib import Path\nfrom notegen import RenderOptions\n"
              "from notegen.render.pdf import is_warm\nfrom notegen.watch import Preview\n"
              "preview = Preview(Path(sys.argv[1]), RenderOptions(), pdf=Path(sys.argv[2]))\n"
              "assert preview.refresh().pdf is not None\nprint(is_warm())\n")
    result = subprocess.run([sys.executable, "-c", script, str(seed_copy / "note.yaml"),
                             str(tmp_path / "note.pdf")], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True\n"
    assert (tmp_path / "note.pdf").read_bytes().startswith(b"%PDF-")
