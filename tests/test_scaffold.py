"""``notegen new``: a case, a profile and a ministry folder to start from. A
new case validates and renders at once, in every built-in language and
note type, and its placeholders are what the note shows until replaced."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import notegen
from notegen.cli import cli
from notegen.records.models import NoteType
from notegen.render.scaffold import CaseSpec, new_case

LANGUAGES = ("en", "ru", "az", "fr")


def files_under(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_new_case_renders_in_every_note_type(tmp_path: Path, lang: str) -> None:
    new_case(tmp_path / "case", CaseSpec(sender_state="az", addressee_state="ru",
                                         date=dt.date(2025, 11, 14), place="Kyiv",
                                         country="ua", lang=lang))
    case = notegen.load_case(tmp_path / "case" / "note.yaml")
    assert case.note.language == lang
    documents = [notegen.RenderOptions(note_type=note_type) for note_type in NoteType]
    documents += [notegen.RenderOptions(document=document) for document in notegen.Document]
    for options in documents:
        html = notegen.render_html(case, options)
        assert f'lang="{lang}"' in html
        # The officer's facts are in; what is left to write is in brackets.
        assert "[the Ministry]" in html or "[the Ministry of Foreign Affairs of …]" in html


def test_new_edit_validate_render_touches_no_other_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere.txt").write_text("untouched", encoding="utf-8")
    before = files_under(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "case", "kyiv", "--from", "az", "--to", "ru",
                                 "--date", "2025-11-14", "--place", "Kyiv", "--country", "ua",
                                 "--no-input"])
    assert result.exit_code == 0, result.output
    note = tmp_path / "kyiv" / "note.yaml"
    profile = tmp_path / "kyiv" / "profile.yaml"
    assert set(files_under(tmp_path)) - set(before) == {note, profile}
    # The officer fills in a placeholder, as the comments say.
    text = note.read_text(encoding="utf-8")
    text = text.replace("[lodge a strong protest against …]",
                        "lodge a strong protest against the strike on its Embassy")
    note.write_text(text, encoding="utf-8")
    assert runner.invoke(cli, ["validate", str(note)]).exit_code == 0
    result = runner.invoke(cli, ["render", str(note), "--format", "html"])
    assert result.exit_code == 0, result.output
    rendered = tmp_path / "kyiv" / "kyiv.html"
    assert "strike on its Embassy" in re.sub(r"<[^>]+>", "", rendered.read_text(encoding="utf-8"))
    assert set(files_under(tmp_path)) - set(before) == {note, profile, rendered}
    assert (tmp_path / "elsewhere.txt").read_text(encoding="utf-8") == "untouched"


def test_new_case_keeps_existing_files_and_asks_for_what_is_missing(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["new", "case", str(tmp_path), "--from", "az", "--to", "ru", "--date",
            "2025-11-14", "--place", "Kyiv"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "already exist" in again.stderr
    # Not on a terminal, a missing answer is a usage error, not a prompt.
    result = runner.invoke(cli, ["new", "case", str(tmp_path / "b"), "--from", "az"])
    assert result.exit_code == 2
    assert "give --to" in result.stderr
    result = runner.invoke(cli, ["new", "case", str(tmp_path / "c"), "--from", "AZ!", "--to",
                                 "ru", "--date", "2025-11-14", "--place", "Kyiv"])
    assert result.exit_code == 1
    assert "must be an id" in result.stderr


def test_a_case_with_an_existing_profile_includes_it(tmp_path: Path) -> None:
    profile = Path(notegen.__file__).parent.parent / "seeds" / "profiles" / "az-mfa.yaml"
    written = new_case(tmp_path / "case", CaseSpec(
        sender_state="az", addressee_state="ru", date=dt.date(2025, 11, 14), place="Kyiv",
        country="ua", profile=profile))
    assert written == [tmp_path / "case" / "note.yaml"]
    case = notegen.load_case(written[0])
    assert case.note.sender == "az-mfa"
    html = notegen.render_html(case, notegen.RenderOptions(note_type=NoteType.first_person_note))
    assert re.search(r"Jeyhun\sBayramov", html)  # the profile's Minister signs


def test_new_profile_validates_in_a_case(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "profile", str(tmp_path / "mfa.yaml"), "--state", "az",
                                 "--id", "az-mfa"])
    assert result.exit_code == 0, result.output
    written = new_case(tmp_path / "case", CaseSpec(
        sender_state="az", addressee_state="ru", date=dt.date(2025, 11, 14), place="Kyiv",
        profile=tmp_path / "mfa.yaml"))
    assert notegen.load_case(written[0]).note.sender == "az-mfa"


def test_new_ministry_is_a_folder_notegen_uses(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "ministry", str(tmp_path / "mfa"), "--lang", "de"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "mfa"
    assert (folder / "templates" / "note_verbale.html.j2").is_file()
    catalogue = (folder / "templates" / "catalogues" / "de.yaml").read_text(encoding="utf-8")
    assert catalogue.startswith('# The phrase catalogue for "de"')
    monkeypatch.chdir(folder)
    settings = notegen.load_settings()
    assert settings.template_dirs == ((folder / "templates").resolve(),)
    assert "de" in notegen.TemplateFolders.of(list(settings.template_dirs)).languages()
    # A language notegen speaks already is overridden phrase by phrase instead.
    result = runner.invoke(cli, ["new", "ministry", str(tmp_path / "other"), "--lang", "fr"])
    assert result.exit_code == 1
    assert "already speaks fr" in result.stderr
