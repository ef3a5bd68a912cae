"""The public API, used as an embedder would: with its own types, across
process boundaries, with logging left to the application."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import notegen
from notegen import (
    Document,
    Location,
    NoteType,
    Problem,
    RecordError,
    RenderOptions,
    TemplateError,
    load_case,
)

from .conftest import EARLIER_LIST, EARLIER_RULE, Edit


def test_every_public_name_is_there() -> None:
    for name in ("Case", "Entry", "Location", "NoteContext", "NotegenError", "Problem",
                 "RecordError", "Register", "RegisterError", "RenderError", "RenderOptions",
                 "SigningKey", "Status", "TemplateError", "Verification", "__version__",
                 "build_context", "extract_record", "load_case", "open_register", "prepare",
                 "render_html", "render_pdf", "sign_pdf", "verify_pdf",
                 # and what their parameters need
                 "NoteType", "Document", "Catalogue", "Applied", "load_catalogue",
                 "TemplateFolders", "ConfigError", "Settings", "load_settings",
                 # keys ministries use, and the schema editors use
                 "Pkcs11Key", "SignatureLevel", "record_schema"):
        assert name in notegen.__all__
        assert getattr(notegen, name) is not None


def test_render_options_take_the_enums_or_their_values(worked_case: notegen.Case) -> None:
    by_value = RenderOptions(note_type="aide_memoire", document="talking_points")
    assert by_value.note_type is NoteType.aide_memoire
    assert by_value.document is Document.talking_points
    assert by_value == RenderOptions(note_type=NoteType.aide_memoire,
                                     document=Document.talking_points)
    html = notegen.render_html(worked_case, RenderOptions(note_type="aide_memoire"))
    assert "Aide-Mémoire</span></h1>" in html
    with pytest.raises(ValueError, match="'memo' is not a valid NoteType"):
        RenderOptions(note_type="memo")


def test_build_context_can_be_called_with_public_types(worked_case: notegen.Case) -> None:
    catalogue = notegen.load_catalogue("fr", notegen.TemplateFolders.of())
    assert isinstance(catalogue, notegen.Catalogue)
    catalogue = catalogue.with_phrases({}, variant=NoteType.note_verbale.value)
    context = notegen.build_context(worked_case, catalogue, (), NoteType.note_verbale)
    assert context.lang == "fr"
    assert context.title == "Note verbale"


@pytest.mark.parametrize("error", [
    RecordError([Problem("a sentence", Location(Path("a.yaml"), 3, 5, "note.date"))]),
    TemplateError("bad", template="x.html.j2", line=4),
    TemplateError("2 problems", template="catalogues/fr.yaml",
                  problems=[Problem("p", Location(Path("fr.yaml"), 1, 1, "phrases.x"))]),
    notegen.RenderError("no glyph"),
    notegen.ConfigError("bad settings", [Problem("q", Location(Path("notegen.toml")))]),
    notegen.RegisterError("busy"),
])
def test_errors_pickle_with_their_kind_and_problems(error: notegen.NotegenError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.problems == error.problems
    assert again.__dict__ == error.__dict__


def _load_in_child(path: Path) -> None:
    load_case(path)


def test_a_record_error_raised_in_a_bounded_render_keeps_its_problems(
        worked_case: notegen.Case, tmp_path: Path) -> None:
    """A user template folder makes the render run in a bounded child
    process; a records' problem found there comes back whole, not as a bare
    NotegenError without its problems (the service answered problems: [])."""
    folder = tmp_path / "templates"
    folder.mkdir()
    # The Russian phrase needs the dative of the name; a plain string has none.
    (folder / "note_verbale.html.j2").write_text(
        '{{ phrase("addressee.block", addressee="Посольство") }}')
    with pytest.raises(RecordError) as info:
        notegen.render_html(worked_case, RenderOptions(template_dirs=(folder,), lang="ru"))
    [problem] = info.value.problems
    assert "needs the 'dat' form of 'Посольство'" in problem.message


def test_process_pool_results_keep_their_kind(edit_seed: Edit) -> None:
    edit_seed("note.yaml", EARLIER_RULE, EARLIER_LIST)
    note = edit_seed("note.yaml", "    - kyiv-2024-01-02", "    - nowhere")
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool, pytest.raises(RecordError) as info:
        pool.apply(_load_in_child, (note,))
    assert info.value.problems[0].location.field == "note.earlier[1]"


def test_the_package_logs_nothing_unless_asked() -> None:
    """A program that uses the API and configures no logging sees none of
    notegen's warnings (the package root attaches a NullHandler when its API
    is first used, not on import: the daemon's hand-over does without
    logging)."""
    script = ("import logging, sys\n"
              "import notegen\n"
              "assert 'logging' not in sys.modules or not logging.getLogger('notegen').handlers\n"
              "notegen.RenderOptions\n"
              "logging.getLogger('notegen.render.pdf').warning('a warning nobody asked for')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
