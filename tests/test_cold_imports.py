"""A command imports what it needs, when it runs (issue 22: cold paths).

Each test runs ``notegen`` in a new process, as a user does (in the process:
the autouse fixture sets ``NOTEGEN_NO_DAEMON``), and looks at the modules it
had imported when it ended. What a command must not import is named here by
what it is for: a check of records renders nothing, so it needs neither the
templates (Jinja) nor WeasyPrint; a PDF needs neither Word, nor the
register's databases, nor signing; help needs none of notegen's records.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SEED

NOTE = str(SEED / "note.yaml")

#: Runs the console script's entry point with the arguments after the first,
#: then writes the names of the modules imported to the file named first.
_WRAPPER = """
import sys
from pathlib import Path
from notegen.cli import main
report = Path(sys.argv.pop(1))
sys.argv[0] = "notegen"
try:
    main()
finally:
    report.write_text("\\n".join(sorted(sys.modules)))
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
    """The modules ``notegen ARGS`` had imported when it ended (it must succeed)."""
    report = tmp_path / "modules.txt"
    result = subprocess.run([sys.executable, "-c", _WRAPPER, str(report), *args],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return set(report.read_text().split())


def test_validate_imports_neither_templates_nor_pdf_nor_archive(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "validate", "--no-daemon", NOTE)
    assert modules >= RECORDS  # (the check did run)
    assert sorted((RENDERING | ARCHIVE_AND_FACES | {"notegen.archive.signing"}) & modules) == []


def test_a_pdf_render_imports_neither_word_nor_archive(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "render", "--no-daemon", "--no-cache", NOTE,
                        "-o", str(tmp_path / "note.pdf"))
    assert modules >= {"weasyprint", "jinja2"}
    assert sorted(({"docx", "docxtpl", "notegen.render.docx"} | ARCHIVE_AND_FACES) & modules) == []


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["--version"]])
def test_help_imports_no_records(tmp_path: Path, args: list[str]) -> None:
    modules = _imported(tmp_path, *args)
    assert "notegen.cli" in modules
    assert sorted((RECORDS | RENDERING | ARCHIVE_AND_FACES | {"notegen.archive"}) & modules) == []


def test_render_help_imports_no_pdf_engine(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "render", "--help")
    assert sorted(({"weasyprint", "pydyf", "docx"} | ARCHIVE_AND_FACES) & modules) == []
