"""Every render is bounded in time, memory and pages (issue 14, item 4), and
what it says about a font, a URL or the file it writes (issue 14, item 9)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from notegen import (
    Case,
    NotegenError,
    RenderError,
    RenderOptions,
    TemplateError,
    render_html,
    render_pdf,
)
from notegen.options import settle
from notegen.render import limits
from notegen.render.atomic import write_atomic
from notegen.render.pdf import _render_pdf, html_to_pdf

#: The bounds the hostile renders get: small, so the tests stay fast.
SECONDS, PAGES, MEMORY_MB = 10.0, 20, 768
#: What stopping and reaping the child may add to the time limit.
SLACK = 5.0


def _folder(tmp_path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    """A template folder whose note verbale is the built-in one with ``body``
    in its footer (and ``files`` beside it)."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "note_verbale.html.j2").write_text(
        '{% extends "builtin/note_verbale.html.j2" %}{% block footer %}' + body
        + "{% endblock %}", encoding="utf-8")
    for name, data in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _svg_use_bomb(levels: int = 9, fan_out: int = 10) -> str:
    """An SVG whose each group uses the one before ten times: 10⁹ rectangles."""
    groups = "".join(f"<g id='g{level}'>" + f"<use href='#g{level - 1}'/>" * fan_out + "</g>"
                     for level in range(1, levels + 1))
    return ("<svg xmlns='http://www.w3.org/2000/svg' width='100' height='100'><defs>"
            f"<g id='g0'><rect width='1' height='1'/></g>{groups}</defs>"
            f"<use href='#g{levels}'/></svg>")


HOSTILE = {
    # 900,000 words at 200 pt: 100,000 pages.
    "100,000 pages": "<p style='font-size:200pt'>{{ 'word ' * 900000 }}</p>",
    # 100,000 forced page breaks: the pages of a record list gone wrong.
    "100,000 page breaks": ("{% for i in range(100000) %}<p style='break-after:page'>{{ i }}"
                            "</p>{% endfor %}"),
    "400,000-cell table": ("<table>{% for r in range(2000) %}<tr>{% for c in range(200) %}"
                           "<td>x</td>{% endfor %}</tr>{% endfor %}</table>"),
    "SVG <use> bomb": _svg_use_bomb(),
    "50,000 floats": ("{% for i in range(50000) %}<div style='float:left;width:10px;"
                      "height:10px'></div>{% endfor %}"),
    "50,000 nested elements": ("{% for i in range(50000) %}<div>{% endfor %}deep"
                               "{% for i in range(50000) %}</div>{% endfor %}"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_layout_is_stopped_within_its_bounds(tmp_path: Path, worked_case: Case,
                                                       name: str) -> None:
    folder = _folder(tmp_path, HOSTILE[name])
    target = tmp_path / "out" / "note.pdf"
    target.parent.mkdir()
    options = RenderOptions(template_dirs=(folder,), time_limit=SECONDS, page_limit=PAGES,
                            memory_limit_mb=MEMORY_MB)
    began = time.monotonic()
    with pytest.raises(RenderError) as info:
        render_pdf(worked_case, target, options)
    elapsed = time.monotonic() - began
    message = str(info.value)
    # Which bound, and how to allow more.
    bounds = {f"stopped after {SECONDS:g} s": "NOTEGEN_TIME_LIMIT",
              f"more than {PAGES} pages": "NOTEGEN_PAGE_LIMIT",
              f"more than {MEMORY_MB} MiB": "NOTEGEN_MEMORY_LIMIT_MB"}
    hit = [bound for bound, setting in bounds.items() if bound in message and setting in message]
    assert len(hit) == 1, message
    assert elapsed < SECONDS + SLACK
    usage = limits.last_usage
    assert usage is not None
    assert usage.peak_mib <= usage.start_address_mib + MEMORY_MB
    assert list(target.parent.iterdir()) == []  # no partial file


def test_the_page_limit_stops_the_layout_early(tmp_path: Path, worked_case: Case) -> None:
    folder = _folder(tmp_path, HOSTILE["100,000 pages"])
    began = time.monotonic()
    with pytest.raises(RenderError, match=f"more than {PAGES} pages, the page limit"):
        render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,),
                                                      page_limit=PAGES))
    # Stopped at page 21, long before its 100,000 pages or the time limit.
    assert time.monotonic() - began < SECONDS


def test_the_memory_limit_stops_the_layout(tmp_path: Path, worked_case: Case) -> None:
    folder = _folder(tmp_path, HOSTILE["400,000-cell table"])
    with pytest.raises(RenderError, match=r"laying out the note was stopped.*needed more than "
                       r"200 MiB of memory.*NOTEGEN_MEMORY_LIMIT_MB"):
        render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,),
                                                      memory_limit_mb=200))
    usage = limits.last_usage
    assert usage is not None
    assert usage.peak_mib <= usage.start_address_mib + 200


def test_built_in_templates_are_bounded_too(worked_case: Case) -> None:
    # The worked case has two pages: a huge record text would have thousands.
    with pytest.raises(RenderError, match="more than 1 pages"):
        render_pdf(worked_case, options=RenderOptions(page_limit=1))


def test_a_template_overrunning_is_the_template_s_fault(tmp_path: Path,
                                                       worked_case: Case) -> None:
    # Running out of time in the template stage is a TemplateError, in a
    # PDF render as in an HTML one.
    folder = _folder(tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}."
                     "{% endfor %}{% endfor %}")
    options = RenderOptions(template_dirs=(folder,), time_limit=2)
    for render in (render_html, render_pdf):
        with pytest.raises(TemplateError, match=r"the template was stopped after 2 s.*"
                           r"NOTEGEN_TIME_LIMIT"):
            render(worked_case, options=options)


def test_a_normal_note_renders_to_the_same_bytes(worked_case: Case, worked_pdf: bytes) -> None:
    # The bounded render is the render it bounds, byte for byte, warm or cold.
    # (When the render was first bounded, the worked case's PDF without its
    # records was checked to be the very bytes of the commit before, 93ac6db.)
    assert _render_pdf(worked_case, settle(worked_case), None) == worked_pdf
    assert render_pdf(worked_case) == worked_pdf
    assert limits.last_usage is not None  # it did run in a child


@pytest.mark.logs
def test_warnings_of_the_child_reach_the_parent(worked_case: Case,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        render_pdf(worked_case, options=RenderOptions(pdf_variant="pdf/a-1b"))
    logged = [record.getMessage() for record in caplog.records
              if record.name.startswith("notegen")]
    assert logged == ["pdf/a-1b allows no JSON attachment: the records are not embedded"]


# A font that cannot be used stops the render (issue 14, item 9).

def _font_face(url: str) -> str:
    return ("<style>@font-face { font-family: 'Ministry Sans'; src: url('" + url + "'); }"
            ".sig { font-family: 'Ministry Sans'; }</style><p class='sig'>Signed</p>")


def test_a_refused_font_stops_the_render(tmp_path: Path, worked_case: Case) -> None:
    secret = tmp_path / "font.ttf"
    secret.write_bytes(b"not reachable")
    folder = _folder(tmp_path, _font_face(secret.as_uri()))
    with pytest.raises(RenderError) as info:
        render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,)))
    message = str(info.value)
    assert "'Ministry Sans'" in message
    assert "outside the template folders" in message


def test_a_corrupt_font_stops_the_render(tmp_path: Path, worked_case: Case) -> None:
    folder = _folder(tmp_path, _font_face("static/fonts/Ministry.ttf"),
                     {"static/fonts/Ministry.ttf": b"\x00\x01\x00\x00" + b"garbage" * 500})
    for _ in range(2):  # and again: WeasyPrint keeps the file it stored
        with pytest.raises(RenderError, match=r"the font 'Ministry Sans' .*cannot be used.*"
                           r"Ministry\.ttf"):
            render_pdf(worked_case, options=RenderOptions(template_dirs=(folder,)))


def test_a_good_font_of_a_user_folder_is_used(tmp_path: Path, worked_case: Case) -> None:
    from notegen.template_folders import BUILTIN_FOLDER

    font = (BUILTIN_FOLDER / "static/fonts/NotoSerif-Italic.ttf").read_bytes()
    folder = _folder(tmp_path, _font_face("static/fonts/Ministry.ttf"),
                     {"static/fonts/Ministry.ttf": font})
    options = RenderOptions(template_dirs=(folder,))
    first = render_pdf(worked_case, options=options)
    assert first.startswith(b"%PDF-")
    assert render_pdf(worked_case, options=options) == first  # warm or cold


# Messages quote no megabytes (issue 14, item 9).

def test_a_huge_data_url_is_quoted_short() -> None:
    url = "data:image/png;base64," + "A" * 2_000_000
    with pytest.raises(RenderError) as info:
        html_to_pdf(f"<!DOCTYPE html><html><body><img src='{url}'></body></html>")
    message = str(info.value)
    assert "data:image/png;base64,AAAA" in message
    assert "…" in message
    assert len(message) < 2_000


def test_a_huge_refused_url_is_quoted_short() -> None:
    url = "https://example.invalid/" + "a" * 1_000_000
    with pytest.raises(RenderError, match="not a template file") as info:
        html_to_pdf(f"<!DOCTYPE html><html><body><img src='{url}'></body></html>")
    assert len(str(info.value)) < 2_000


def test_a_template_error_quotes_no_megabytes(tmp_path: Path, worked_case: Case) -> None:
    folder = _folder(tmp_path, "{{ note[" + repr("k" * 1_000_000) + "] }}")
    with pytest.raises(TemplateError) as info:
        render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    assert len(str(info.value)) < 2_000


# Output files follow the umask (issue 14, item 9).

@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_mode_of_the_umask(tmp_path: Path, umask: int,
                                                 mode: int) -> None:
    previous = os.umask(umask)
    try:
        written = write_atomic(tmp_path / "note.pdf", b"%PDF-")
    finally:
        os.umask(previous)
    assert written.stat().st_mode & 0o777 == mode


def test_a_bug_in_the_child_is_raised_as_itself() -> None:
    def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug") as info:
        limits.run_bounded(broken, (), seconds=10, memory_mb=256)
    assert any("bounded child" in note for note in info.value.__notes__)


def test_errors_keep_their_kind_across_the_child() -> None:
    def refuse() -> None:
        raise RenderError("refused")

    with pytest.raises(NotegenError, match="refused") as info:
        limits.run_bounded(refuse, (), seconds=10, memory_mb=256)
    assert type(info.value) is RenderError
