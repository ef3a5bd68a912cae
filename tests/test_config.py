from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import ConfigError, RenderOptions, load_settings
from notegen.cli import cli

from .conftest import ROOT, SEED

EXAMPLE = ROOT / "examples" / "sre-templates"


def test_no_file_no_settings(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {}).template_dirs == ()


def test_template_folders_relative_to_the_file_found_in_a_parent(tmp_path: Path) -> None:
    (tmp_path / "mfa-templates").mkdir()
    (tmp_path / "notegen.toml").write_text('[notegen]\ntemplate_dirs = ["mfa-templates"]\n')
    inner = tmp_path / "notes" / "2025"
    inner.mkdir(parents=True)
    config = load_settings(inner, {})
    assert config.path == tmp_path / "notegen.toml"
    assert config.template_dirs == ((tmp_path / "mfa-templates").resolve(),)


@pytest.mark.parametrize(("text", "message"), [
    ("[notegen\n", "is not valid TOML"),
    ('[notegen]\ntemplate_dir = ["x"]\n', "notegen.template_dir: Extra inputs"),
    ('[notegen]\ntemplate_dirs = ["missing"]\n', "does not exist"),
    ('[notegen]\ntime_limit = -1\n', "notegen.time_limit: Input should be greater than 0"),
    ('[notegn]\nregister = "x.db"\n', "unknown table \\[notegn\\]"),
])
def test_a_bad_settings_file_is_a_located_error(tmp_path: Path, text: str,
                                                message: str) -> None:
    (tmp_path / "notegen.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(tmp_path, {})
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
    assert result.exit_code == 2  # the option asks for what the folders do not have
    assert "Invalid value for --lang: no phrase catalogue for 'es'" in result.stderr
    (tmp_path / "notegen.toml").write_text("[notegen\n")
    broken = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "--format", "html"])
    assert broken.exit_code == 1
    # A broken settings file is reported as such, not as a problem of the records.
    assert "notegen.toml is not valid TOML" in broken.stderr
    assert "the records have" not in broken.stderr


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    (tmp_path / "notegen.toml").write_text(
        '[notegen]\nregister = "file.db"\ntime_limit = 5\ntokens = "tokens.json"\n')
    inner = tmp_path / "desk"
    inner.mkdir()
    from_file = load_settings(inner, {})
    assert from_file.register == str(tmp_path / "file.db")  # relative to the file
    assert from_file.tokens == tmp_path / "tokens.json"
    assert from_file.time_limit == 5
    given = load_settings(inner, {"NOTEGEN_REGISTER": "env.db", "NOTEGEN_TIME_LIMIT": "40",
                                  "NOTEGEN_MAX_BODY": "1000"})
    assert given.register == str(inner / "env.db")  # relative to where the command runs
    assert (given.time_limit, given.max_body) == (40, 1000)
    assert given.tokens == tmp_path / "tokens.json"


def test_a_bad_variable_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NOTEGEN_MAX_BODY: Input should be a valid integer"):
        load_settings(tmp_path, {"NOTEGEN_MAX_BODY": "lots"})


def test_service_and_command_line_read_the_same_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastapi")
    from notegen.service import create_app

    (tmp_path / "t").mkdir()
    (tmp_path / "notegen.toml").write_text(
        '[notegen]\ntemplate_dirs = ["t"]\nregister = "r.db"\ntokens = "tokens.json"\n')
    (tmp_path / "tokens.json").write_text('{"tokens": []}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTEGEN_REGISTER", raising=False)
    monkeypatch.delenv("NOTEGEN_TOKENS", raising=False)
    state = create_app().state.notegen
    assert state.settings == load_settings()
    assert state.options().template_dirs == ((tmp_path / "t").resolve(),)


def test_the_limits_and_trust_roots_reach_the_render_options(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastapi")
    from notegen.options import with_settings
    from notegen.service import create_app

    (tmp_path / "root.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "tokens.json").write_text('{"tokens": []}')
    (tmp_path / "notegen.toml").write_text(
        '[notegen]\ntime_limit = 7\npage_limit = 9\ntrust = ["root.pem"]\n'
        'tokens = "tokens.json"\n')
    settings = load_settings(tmp_path, {"NOTEGEN_MEMORY_LIMIT_MB": "300"})
    options = with_settings(RenderOptions(), settings)
    assert (options.time_limit, options.memory_limit_mb, options.page_limit) == (7, 300, 9)
    assert settings.trust == (tmp_path / "root.pem",)
    state = create_app(settings).state.notegen
    assert state.options().page_limit == 9
    assert state.trust_roots == (b"-----BEGIN CERTIFICATE-----\n",)
    with pytest.raises(ConfigError, match=r"trust root .*missing\.pem is not a file"):
        load_settings(tmp_path, {"NOTEGEN_TRUST": "missing.pem"})
