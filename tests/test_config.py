from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import RecordError
from notegen.cli import cli
from notegen.config import find_config

from .conftest import ROOT, SEED

EXAMPLE = ROOT / "examples" / "sre-templates"


def test_no_file_no_settings(tmp_path: Path) -> None:
    assert find_config(tmp_path).template_dirs == ()


def test_template_folders_relative_to_the_file_found_in_a_parent(tmp_path: Path) -> None:
    (tmp_path / "mfa-templates").mkdir()
    (tmp_path / "notegen.toml").write_text('[notegen]\ntemplate_dirs = ["mfa-templates"]\n')
    inner = tmp_path / "notes" / "2025"
    inner.mkdir(parents=True)
    config = find_config(inner)
    assert config.path == tmp_path / "notegen.toml"
    assert config.template_dirs == ((tmp_path / "mfa-templates").resolve(),)


@pytest.mark.parametrize(("text", "message"), [
    ("[notegen\n", "invalid TOML"),
    ('[notegen]\ntemplate_dir = ["x"]\n', "notegen.template_dir: Extra inputs"),
    ('[notegen]\ntemplate_dirs = ["missing"]\n', "does not exist"),
])
def test_a_bad_settings_file_is_a_located_error(tmp_path: Path, text: str,
                                                message: str) -> None:
    (tmp_path / "notegen.toml").write_text(text)
    with pytest.raises(RecordError, match=message) as info:
        find_config(tmp_path)
    assert info.value.problems[0].location.file == tmp_path / "notegen.toml"


def test_the_command_line_uses_the_settings(tmp_path: Path, runner: CliRunner,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notegen.toml").write_text(
        f'[notegen]\ntemplate_dirs = ["{EXAMPLE}"]\n')
    monkeypatch.chdir(tmp_path)
    second = str(ROOT / "seeds" / "mx-quito-2024" / "note.yaml")
    result = runner.invoke(cli, ["render", second, "--lang", "es", "--format", "html",
                                 "-o", "note.html"])
    assert result.exit_code == 0, result.output
    assert "<h1>Nota verbal</h1>" in (tmp_path / "note.html").read_text(encoding="utf-8")
    # --template-dir replaces the settings' folders.
    plain = tmp_path / "plain"
    plain.mkdir()
    result = runner.invoke(cli, ["render", second, "--lang", "es", "--template-dir",
                                 str(plain), "--format", "html"])
    assert result.exit_code == 1
    assert "no phrase catalogue for language 'es'" in result.stderr
    (tmp_path / "notegen.toml").write_text("[notegen\n")
    broken = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "--format", "html"])
    assert broken.exit_code == 1
    assert "notegen.toml: invalid TOML" in broken.stderr
