"""A template folder cannot read a file outside it: not through Jinja's
include, import or extends, not through a catalogue or the legal wording, not
through a link to a file or to a folder (issue 14, item 3). WeasyPrint's URLs
are confined by the fetcher (tests/test_pdf.py)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import RenderOptions, TemplateError, render_html
from notegen.cli import cli

from .conftest import SEED

SECRET = "TOP-SECRET-MARKER"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the template folder, holding what must never be read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.html").write_text(f"<p>{SECRET}</p>{{% macro m() %}}{SECRET}"
                                        "{% endmacro %}", encoding="utf-8")
    (folder / "fr.yaml").write_text(f"phrases:\n  title: {SECRET}\n", encoding="utf-8")
    (folder / "legal.yaml").write_text(
        f"articles:\n  vcdr.22.1:\n    label: {SECRET}\n    text: {SECRET}\n", encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path: Path, outside: Path) -> Path:
    templates = tmp_path / "templates"
    (templates / "catalogues").mkdir(parents=True)
    (templates / "legal").mkdir()
    (templates / "link.html").symlink_to(outside / "secret.html")
    (templates / "partials").symlink_to(outside, target_is_directory=True)
    (templates / "catalogues" / "fr.yaml").symlink_to(outside / "fr.yaml")
    (templates / "legal" / "fr.yaml").symlink_to(outside / "legal.yaml")
    return templates


@pytest.mark.parametrize("source", [
    '{% include "link.html" %}',
    '{% import "link.html" as secret %}{{ secret.m() }}',
    '{% from "link.html" import m %}{{ m() }}',
    '{% extends "link.html" %}',
    '{% include "partials/secret.html" %}',
    '{% include "../outside/secret.html" %}',
    '{% include "/' + "x" * 3 + '/../outside/secret.html" %}',
])
@pytest.mark.logs
def test_jinja_cannot_read_through_a_link(worked_case, folder: Path, source: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    (folder / "note_verbale.html.j2").write_text(source, encoding="utf-8")
    with pytest.raises(TemplateError, match="not found") as info:
        render_html(worked_case, RenderOptions(template_dirs=(folder,)))
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    # The link's target is not named either: whether it exists stays unknown.
    assert "outside/secret" not in str(info.value).replace("../outside/secret", "")


@pytest.mark.logs
def test_catalogues_and_legal_wording_are_not_read_through_a_link(
        worked_case, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="notegen"):
        html = render_html(worked_case, RenderOptions(template_dirs=(folder,), lang="fr"))
    assert SECRET not in html
    text = re.sub(r"</?span[^>]*>", "", html)
    assert "<h1>Note verbale</h1>" in text  # the built-in French wording, not the link's
    assert "Convention de Vienne sur les relations diplomatiques" in text
    warned = [r.getMessage() for r in caplog.records if r.name.startswith("notegen")]
    assert any("catalogues/fr.yaml: it leads outside its template folder" in m
               for m in warned), warned
    assert all(SECRET not in m for m in warned)


def test_templates_check_reports_every_link_out(folder: Path, tmp_path: Path) -> None:
    (folder / "loop.html").symlink_to(folder / "loop.html")
    result = CliRunner().invoke(cli, ["templates", "check", str(folder),
                                      str(SEED / "note.yaml")])
    assert result.exit_code == 1, result.output
    for name in ("link.html", "partials", "catalogues/fr.yaml", "legal/fr.yaml"):
        assert f"{name}: notegen will not read this: it leads outside the template folder" \
            in result.stderr, result.stderr
    assert "loop.html: notegen will not read this: it is a link that leads nowhere" \
        in result.stderr
    assert SECRET not in result.output
