"""A command imports what it needs, when it runs (issue 22: cold paths).

Each test runs ``notegen`` in a new process, as a user does (in the process:
the autouse fixture sets ``NOTEGEN_NO_DAEMON``), and looks at the modules it
had imported when it ended. What a command must not import is named here by
what it is for: a check of records renders nothing, so it needs neither the
templates (Jinja) nor WeasyPrint; a PDF needs neither Word, nor the
register's databases, nor signing; help needs none of notegen's records.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from notegen.options import RenderOptions
from notegen.records.case import load_case
from notegen.render import html
from notegen.template_folders import BUILTIN_FOLDER
from notegen.wording import glyphs

from .conftest import SEED

NOTE = str(SEED / "note.yaml")

#: Runs the console script's entry point with the arguments after the first,
#: then writes the names of the modules imported to the file named first.
_WRAPPER = """
import gc, sys
from pathlib import Path
from notegen.cli import main
report = Path(sys.argv.pop(1))
sys.argv[0] = "notegen"
try:
    main()
finally:
    report.write_text("\\n".join([f"collecting={gc.isenabled()}", *sorted(sys.modules)]))
"""

#: Templates, PDF and Word: what rendering needs and checking does not.
RENDERING = {"jinja2", "weasyprint", "pydyf", "docx", "docxtpl", "lxml",
             "notegen.render.html", "notegen.render.docx"}
#: Signing and verifying, the register and its databases, the service, batches
#: (``render`` has ``--sign``'s options, so it knows the signature levels:
#: ``notegen.archive.signing``, which imports none of these).
ARCHIVE_AND_FACES = {"pikepdf", "pyhanko", "cryptography", "sqlite3", "psycopg",
                     "notegen.archive.register", "notegen.archive.verify", "fastapi",
                     "starlette", "uvicorn", "concurrent.futures", "notegen.batch"}
#: What the records and their wording need.
RECORDS = {"pydantic", "yaml", "babel", "notegen.records", "notegen.wording"}


def _imported(tmp_path: Path, *args: str) -> set[str]:
    """The modules ``notegen ARGS`` had imported when it ended (it must succeed),
    and ``collecting=True`` or ``False``: whether the garbage collector ran
    by then (held off while modules load, it must run again for the command)."""
    report = tmp_path / "modules.txt"
    result = subprocess.run([sys.executable, "-c", _WRAPPER, str(report), *args],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return set(report.read_text().split())


def test_validate_imports_neither_templates_nor_pdf_nor_archive(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "validate", "--no-daemon", NOTE)
    assert modules >= {*RECORDS, "collecting=True"}  # (the check did run)
    assert sorted((RENDERING | ARCHIVE_AND_FACES | {"notegen.archive.signing"}) & modules) == []


def test_a_pdf_render_imports_neither_word_nor_archive(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "render", "--no-daemon", "--no-cache", NOTE,
                        "-o", str(tmp_path / "note.pdf"))
    assert (tmp_path / "note.pdf").read_bytes().startswith(b"%PDF-")
    assert modules >= {"jinja2", "notegen.render.pdf", "collecting=True"}
    # WeasyPrint is imported by the bounded child that lays the note out.
    assert sorted(({"weasyprint", "docx", "docxtpl", "notegen.render.docx"}
                   | ARCHIVE_AND_FACES) & modules) == []


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["--version"]])
def test_help_imports_no_records(tmp_path: Path, args: list[str]) -> None:
    modules = _imported(tmp_path, *args)
    assert "notegen.cli" in modules
    assert sorted((RECORDS | RENDERING | ARCHIVE_AND_FACES | {"notegen.archive"}) & modules) == []


def test_render_help_imports_no_pdf_engine(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "render", "--help")
    assert sorted(({"weasyprint", "pydyf", "docx"} | ARCHIVE_AND_FACES) & modules) == []


# What a cold command sets up on first use, done faster, gives the same result.


def test_compiled_templates_are_kept_and_give_the_same_bytes(tmp_path: Path,
                                                             worked_pdf: bytes) -> None:
    environ = {**os.environ, "NOTEGEN_CACHE": "1", "NOTEGEN_CACHE_DIR": str(tmp_path / "c")}
    for name in ("compiling.pdf", "loading.pdf"):  # the second takes what the first kept
        subprocess.run([sys.executable, "-m", "notegen", "render", "--no-cache", NOTE,
                        "-o", str(tmp_path / name)], env=environ, check=True,
                       capture_output=True, timeout=300)
        assert (tmp_path / name).read_bytes() == worked_pdf
    kept = tmp_path / "c" / "templates"
    for folder in (kept.parent, kept):  # the cache folder, and the templates' in it
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert len(list(kept.iterdir())) >= 2  # the note's template and the base it extends


@pytest.fixture
def compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Compiled templates kept in a folder of the test's, for this test only."""
    monkeypatch.setattr(html, "_compiled", None)
    html.forget_templates()
    yield tmp_path / "compiled"
    html.forget_templates()  # no environment left with the test's folder


def test_compiled_templates_are_taken_and_checked_against_the_source(
        tmp_path: Path, compiled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(BUILTIN_FOLDER, folder, ignore=shutil.ignore_patterns("static"))
    shutil.copytree(BUILTIN_FOLDER / "static", folder / "static", symlinks=True)
    options = RenderOptions(template_dirs=(folder,))
    assert html.keep_compiled_templates(compiled)
    case = load_case(SEED / "note.yaml")
    monkeypatch.setattr(html, "inside", lambda: True)  # rendered here, not in a child
    first = html.render_html(case, options)
    html.forget_templates()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    with monkeypatch.context() as patched:
        patched.setattr(jinja2.Environment, "compile", refuse)
        assert html.render_html(case, options) == first
    html.forget_templates()
    template = folder / "base.html.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "</body>", "<p>edited</p></body>"), encoding="utf-8")
    assert "<p>edited</p>" in html.render_html(case, options)


def test_a_folder_others_may_open_keeps_no_compiled_templates(tmp_path: Path,
                                                             compiled: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert not html.keep_compiled_templates(shared)
    (tmp_path / "file").write_text("")
    assert not html.keep_compiled_templates(tmp_path / "file")
    assert html._compiled is None


def test_the_glyph_check_reads_the_code_points_fonttools_maps(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    for path in sorted((BUILTIN_FOLDER / "static" / "fonts").glob("*.ttf")):
        with TTFont(path) as font:
            expected = frozenset(font.getBestCmap())
        assert glyphs._cmap(path, -1) == expected


#: Imports WeasyPrint as notegen does, counting the names looked up with
#: ``ctypes.util.find_library`` (each runs ``ldconfig``, ``gcc`` and ``ld``
#: when it finds nothing); with an argument, the first attempt to open that
#: soname fails, as if the library had another one. Prints what it saw.
_LOOKUPS = """
import ctypes.util, io, json, sys
import cffi
names, opened = [], []
real = ctypes.util.find_library
def counted(name):
    names.append(name)
    return real(name)
ctypes.util.find_library = counted
soname = sys.argv[1] if len(sys.argv) > 1 else None
open_library = cffi.FFI.dlopen
def dlopen(self, name, flags=0):
    if name == soname and name not in opened:
        opened.append(name)
        raise OSError(f"cannot open {name} (the test says)")
    return open_library(self, name, flags)
cffi.FFI.dlopen = dlopen
printed = io.StringIO()
sys.stdout, out = printed, sys.stdout
from notegen.render.pdf import load_weasyprint
weasyprint = load_weasyprint()
from weasyprint.text import ffi
sys.stdout = out
print(json.dumps({"names": names, "printed": printed.getvalue(),
                  "restored": ctypes.util.find_library is counted,
                  "subset": ffi.harfbuzz_subset is not None}))
"""


def _lookups(*args: str) -> dict[str, object]:
    import json

    result = subprocess.run([sys.executable, "-c", _LOOKUPS, *args], capture_output=True,
                            text=True, check=True, timeout=120)
    seen: dict[str, object] = json.loads(result.stdout)
    return seen


@pytest.mark.skipif(sys.platform != "linux", reason="the sonames are Linux's")
def test_weasyprint_opens_its_libraries_by_soname_without_looking_them_up() -> None:
    seen = _lookups()
    # Only a library WeasyPrint does without, if it did not open (HarfBuzz's
    # vector painter is newer than most distributions), is looked up: once.
    assert set(seen["names"]) <= {"harfbuzz-subset", "harfbuzz-vector"}  # type: ignore[arg-type]
    assert seen["subset"] is True
    assert seen["restored"] is True
    assert seen["printed"] == ""


@pytest.mark.skipif(sys.platform != "linux", reason="the sonames are Linux's")
def test_a_library_that_does_not_open_by_soname_is_looked_up_as_weasyprint_does() -> None:
    seen = _lookups("libpango-1.0.so.0")
    assert "pango-1.0" in seen["names"]  # type: ignore[operator]
    assert seen["restored"] is True
    assert seen["printed"] == ""  # WeasyPrint's advice, printed in the first try, is kept back
