from __future__ import annotations

import http.server
import io
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from notegen import RenderError, load_case, render_pdf
from notegen.pdf import check_harfbuzz_subset, html_to_pdf
from notegen.templating import BUILTIN_FOLDER

from .conftest import FIXTURES, SEED, Edit

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is not installed")


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                            check=True)
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Text with hyphenation at line ends undone and whitespace collapsed."""
    return " ".join(text.replace("\u2010\n", "").replace("-\n", "").split())


def test_worked_case_has_one_to_three_a4_pages(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        assert 1 <= len(pdf.pages) <= 3
        for page in pdf.pages:
            width, height = (float(v) for v in page.mediabox[2:])
            assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


def test_text_lists_every_earlier_incident_in_date_order(worked_pdf: bytes) -> None:
    text = flat(pdf_text(worked_pdf))
    markers = ["1. 10 March 2022, Kharkiv", "2. 2 January 2024, Kyiv",
               "3. 8 August 2025 and 18 August 2025, Odesa region", "4. 28 August 2025, Kyiv"]
    positions = [text.find(marker) for marker in markers]
    assert all(p >= 0 for p in positions), (positions, text)
    assert positions == sorted(positions)


def test_text_has_the_parts_of_a_note_verbale(worked_pdf: bytes) -> None:
    text = flat(pdf_text(worked_pdf))
    for part in [
        "MINISTRY OF FOREIGN AFFAIRS OF THE REPUBLIC OF AZERBAIJAN",
        "No. 12/345/2025",
        "NOTE VERBALE",
        "The Ministry of Foreign Affairs of the Republic of Azerbaijan presents its compliments "
        "to the Embassy of the Russian Federation in the Republic of Azerbaijan and has the "
        "honour to lodge a strong protest",
        "on 14 November 2025 at about 01:00 local time,",
        "an Iskander-type missile",
        "the coordinates of all diplomatic representations",
        "conduct a thorough investigation into the incident",
        "provide a detailed explanation of the circumstances of the incident",
        "renew to the Embassy the assurances of its highest consideration.",
        "Baku, 14 November 2025",
        "The Embassy of the Russian Federation in the Republic of Azerbaijan Baku",
    ]:
        assert part in text, part
    # Courtesy opens the text and closes it, in that order.
    assert text.index("presents its compliments") < text.index("highest consideration")


def test_multi_page_notes_number_their_pages(worked_pdf: bytes) -> None:
    pages = pdf_text(worked_pdf).split("\f")
    count = len([page for page in pages if page.strip()])
    assert count >= 2
    for number in range(1, count + 1):
        assert re.search(rf"\b{number} ?/ ?{count}\b", pages[number - 1])


def test_a_one_page_note_has_no_page_number() -> None:
    pdf = render_pdf(load_case(FIXTURES / "minimal.json"))
    text = pdf_text(pdf)
    assert text.count("\f") == 1
    assert not re.search(r"\b1 ?/ ?1\b", text)
    assert "Casualties: 2 injured." in text


def test_metadata_comes_from_the_note(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]) == "Note Verbale No. 12/345/2025"
        assert str(info["/Author"]) == ("The Ministry of Foreign Affairs of the Republic of "
                                        "Azerbaijan")
        assert str(info["/CreationDate"]).startswith("D:20251114")
        assert str(pdf.Root.Lang) == "en"


def test_all_fonts_are_embedded_and_ours(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        fonts = {}
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                fonts[str(font.BaseFont)] = "/FontFile2" in descendant.FontDescriptor
    assert fonts
    assert all(fonts.values())
    assert all(name.split("+")[1].startswith("Notegen-Serif") for name in fonts)


def test_same_input_gives_the_same_bytes(worked_case, worked_pdf: bytes) -> None:
    assert render_pdf(worked_case) == worked_pdf


def test_written_atomically_and_nothing_on_failure(edit_seed: Edit, tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    target.write_bytes(b"previous")
    note = edit_seed("incidents.yaml", "an air strike seriously", "\U0001F600 an air strike")
    with pytest.raises(RenderError, match="no font of the template can draw"):
        render_pdf(load_case(note), target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name != "seeds"] == ["note.pdf"]


def _html(body: str) -> str:
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<style>html{font-family:serif}</style></head>"
            f"<body><p>Text</p>{body}</body></html>")


def test_local_files_outside_the_template_folders_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    (tmp_path / "link.css").symlink_to(secret)
    for body in [f"<img src='{secret.as_uri()}'>",
                 f"<link rel='stylesheet' href='{secret.as_uri()}'>",
                 "<img src='static/../../../../../../../etc/passwd'>"]:
        with pytest.raises(RenderError, match="outside the template folders"):
            html_to_pdf(_html(body), base_folder=BUILTIN_FOLDER, asset_folders=[BUILTIN_FOLDER])


def test_attachments_cannot_carry_files_out(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (f"<link rel='attachment' href='{secret.as_uri()}'>"
            f"<a rel='attachment' href='{secret.as_uri()}'>x</a>")
    try:
        pdf = html_to_pdf(_html(body), base_folder=BUILTIN_FOLDER,
                          asset_folders=[BUILTIN_FOLDER])
    except RenderError:
        return
    assert b"TOP-SECRET-CONTENT" not in pdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert len(document.attachments) == 0


@pytest.fixture
def loopback_server() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"body{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_the_network_is_never_reached(loopback_server: tuple[str, list[str]]) -> None:
    url, requests = loopback_server
    body = (f"<img src='{url}/image.png'><link rel='stylesheet' href='{url}/a.css'>"
            f"<style>@import url('{url}/b.css');</style>")
    with pytest.raises(RenderError, match="not a template file"):
        html_to_pdf(_html(body), base_folder=BUILTIN_FOLDER, asset_folders=[BUILTIN_FOLDER])
    assert requests == []


def test_data_urls_and_template_assets_are_allowed() -> None:
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42"
             "mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
    pdf = html_to_pdf(_html(f"<img src='{pixel}'><link rel='stylesheet' "
                            "href='static/single-page.css'>"),
                      base_folder=BUILTIN_FOLDER, asset_folders=[BUILTIN_FOLDER])
    assert pdf.startswith(b"%PDF-")


def test_the_setup_installed_harfbuzz_subset() -> None:
    # Without libharfbuzz-subset0 rendering is 3-5x slower and not reproducible.
    assert check_harfbuzz_subset()


def test_separate_processes_give_the_same_bytes(tmp_path: Path, worked_pdf: bytes) -> None:
    for name in ("a.pdf", "b.pdf"):
        subprocess.run([sys.executable, "-m", "notegen", "render", str(SEED / "note.yaml"),
                        "-o", str(tmp_path / name)], check=True, capture_output=True)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes() == worked_pdf
