from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from notegen.cli import cli

from .conftest import CATALOGUE, CHOSEN, FIXTURES, ROOT, SEED, Edit, ThrowawayKey, line_of

NOTE = str(SEED / "note.yaml")


def test_validate_a_good_case(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", NOTE, str(FIXTURES / "minimal.json")])
    assert result.exit_code == 0, result.output
    assert f"{NOTE}: valid" in result.stdout


def test_validate_reports_each_problem_and_exits_1(runner: CliRunner, edit_seed: Edit) -> None:
    edit_seed("note.yaml", "sender: az-mfa", "sender: Nobody")
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "date: 2024-01-02", "date: 2024-02-30")
    result = runner.invoke(cli, ["validate", str(note), NOTE])
    assert result.exit_code == 1
    assert "the records have 2 problems:" in result.stderr
    assert ("note.sender: an id is written in lower-case letters, digits, '.', '_' or '-' "
            "(not 'Nobody')") in result.stderr
    assert "incidents[1].date: input should be a valid date" in result.stderr
    assert result.stdout == f"{NOTE}: valid\n{CHOSEN}"
    assert "Traceback" not in result.output


def test_validate_checks_language_texts_too(runner: CliRunner, edit_seed: Edit) -> None:
    note = edit_seed(f"{CATALOGUE}/incidents.yaml", "place: {en: Kharkiv, ", "place: {")
    result = runner.invoke(cli, ["validate", str(note)])
    assert result.exit_code == 1
    assert "incidents[0].place: no en text (given: az, fr, ru)" in result.stderr


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["validate"]).exit_code == 2
    assert runner.invoke(cli, ["validate", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert runner.invoke(cli, ["render", NOTE, "--format", "odt"]).exit_code == 2
    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2


def test_render_pdf_matches_the_api(runner: CliRunner, tmp_path: Path, worked_pdf: bytes) -> None:
    target = tmp_path / "note.pdf"
    result = runner.invoke(cli, ["render", NOTE, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == worked_pdf
    with pikepdf.open(io.BytesIO(target.read_bytes())) as pdf:
        assert len(pdf.pages) >= 1


def test_render_html_for_preview(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "note.html"
    result = runner.invoke(cli, ["render", NOTE, "--format", "html", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_render_writes_next_to_the_case_named_after_its_folder(
        runner: CliRunner, seed_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["render", str(seed_copy / "note.yaml"), "--format", "html"])
    assert result.exit_code == 0, result.output
    # seeds/az-kyiv-2025/note.yaml → seeds/az-kyiv-2025/az-kyiv-2025.html
    assert (seed_copy / "az-kyiv-2025.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")
    assert f"wrote {seed_copy / 'az-kyiv-2025.html'}" in result.stderr
    # A second case in the same folder gets a name of its own: nothing replaced.
    shutil.copy(seed_copy / "note.yaml", seed_copy / "to-france.yaml")
    result = runner.invoke(cli, ["render", str(seed_copy / "to-france.yaml"), "--format",
                                 "html", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert 'lang="fr"' in (seed_copy / "az-kyiv-2025-to-france.html").read_text("utf-8")
    assert 'lang="en"' in (seed_copy / "az-kyiv-2025.html").read_text("utf-8")
    assert not list(tmp_path.glob("*.html"))  # nothing in the current folder


def test_records_from_stdin_and_the_note_to_stdout(runner: CliRunner, seed_copy: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Includes of records on standard input resolve from the current folder.
    monkeypatch.chdir(seed_copy)
    records = (seed_copy / "note.yaml").read_bytes()
    result = runner.invoke(cli, ["render", "-", "-o", "-", "--format", "html"], input=records)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "Kyiv" in result.stdout
    assert "wrote" not in result.stderr
    # Without -o, from stdin: note-<reference>, in the current folder, never replaced.
    result = runner.invoke(cli, ["render", "-", "--format", "html"], input=records)
    assert result.exit_code == 0, result.stderr
    assert (seed_copy / "note-12-345-2025.html").is_file()
    result = runner.invoke(cli, ["render", "-", "--format", "html"], input=records)
    assert result.exit_code == 2
    assert "note-12-345-2025.html exists already" in result.stderr


def test_quiet_says_only_what_goes_wrong(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["-q", "render", NOTE, "-o", str(tmp_path / "n.html"),
                                 "--format", "html"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert (tmp_path / "n.html").is_file()


def test_validate_json_lists_every_problem_located(runner: CliRunner, edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "subject: kyiv-2025-11-14", "subject: nothing")
    result = runner.invoke(cli, ["validate", "--json", NOTE, str(note)])
    assert result.exit_code == 1
    good, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert good["valid"] is True
    assert good["problems"] == []
    assert bad["valid"] is False
    problem = bad["problems"][0]
    assert problem["file"] == str(note)
    assert problem["field"] == "note.subject"
    assert isinstance(problem["line"], int)
    assert "unknown id 'nothing'" in problem["message"]


def test_lang_completes_from_the_template_folders(tmp_path: Path) -> None:
    folder = tmp_path / "ministry"
    (folder / "catalogues").mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "catalogues" / "en.yaml", folder / "catalogues" / "de.yaml")
    env = {**os.environ, "_NOTEGEN_COMPLETE": "bash_complete",
           "COMP_WORDS": f"notegen render x.yaml --template-dir {folder} --lang ",
           "COMP_CWORD": "6"}
    result = subprocess.run([sys.executable, "-c", "from notegen.cli import main; main()"],
                            env=env, capture_output=True, text=True, timeout=60)
    offered = [line.split(",", 1)[1] for line in result.stdout.splitlines()]
    assert {"en", "ru", "az", "fr", "de"} <= set(offered), result.stdout + result.stderr


def test_bad_records_write_nothing(runner: CliRunner, edit_seed: Edit, tmp_path: Path) -> None:
    note = edit_seed("note.yaml", "subject: kyiv-2025-11-14", "subject: nothing")
    target = tmp_path / "out.pdf"
    result = runner.invoke(cli, ["render", str(note), "-o", str(target)])
    assert result.exit_code == 1
    assert "note.subject: unknown id 'nothing'" in result.stderr
    assert not target.exists()


def test_the_console_script_runs_without_traceback(tmp_path: Path) -> None:
    broken = FIXTURES / "broken-syntax.yaml"
    result = subprocess.run([sys.executable, "-m", "notegen", "validate", str(broken)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the records have 1 problem:")
    assert f"{broken}:5:12: invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_render_another_type_and_language(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "note.html"
    result = runner.invoke(cli, ["render", NOTE, "--format", "html", "--lang", "ru",
                                 "--type", "aide_memoire", "-o", str(target)])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert '<html lang="ru">' in html
    assert "<h1>Памятная записка</h1>" in html
    assert runner.invoke(cli, ["render", NOTE, "--type", "memo"]).exit_code == 2


def test_render_with_a_courtesy_translation(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    result = runner.invoke(cli, ["render", NOTE, "--translation", "fr", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) >= 4
    html = runner.invoke(cli, ["render", NOTE, "--format", "html", "--translation", "fr"])
    assert html.exit_code == 2
    assert "--translation and --sign apply to PDF output only" in html.stderr


def _misapplied(edit_seed: Edit) -> Path:
    return edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                     "  legal_bases:\n    - {article: vccr.31.3}\n    - {article: vcdr.1.i}\n"
                     "    - {article: vcdr.22.1, framing: general_principle}\n"
                     "  demands:\n    - kind: investigation")


def test_warnings_are_shown_and_fail_only_with_strict(runner: CliRunner,
                                                      edit_seed: Edit) -> None:
    note = str(_misapplied(edit_seed))
    result = runner.invoke(cli, ["validate", note])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{note}: valid (1 warning)\n{CHOSEN}"
    assert "WARNING: " in result.stderr
    assert "vccr.59 applies to honorary_consulate" in result.stderr
    strict = runner.invoke(cli, ["validate", "--strict", note])
    assert strict.exit_code == 1
    assert "note.legal_bases[0]: vccr.31.3 protects consulate" in strict.stderr


def test_validate_checks_the_form_of_each_type(runner: CliRunner) -> None:
    second = str(SEED.parent / "mx-quito-2024" / "note.yaml")
    assert runner.invoke(cli, ["validate", second]).exit_code == 0
    result = runner.invoke(cli, ["validate", "--type", "first_person_note", second])
    assert result.exit_code == 1
    assert "a first-person note is addressed to a person" in result.stderr


def test_render_signed_then_verify_extract(runner: CliRunner, tmp_path: Path,
                                           signing_key: ThrowawayKey) -> None:
    target = tmp_path / "note.pdf"
    env = {"NOTEGEN_KEY_PASSPHRASE": signing_key.passphrase.decode()}
    result = runner.invoke(cli, ["render", NOTE, "-o", str(target), "--sign",
                                 str(signing_key.p12)], env=env)
    assert result.exit_code == 0, result.output
    root = tmp_path / "root.pem"
    root.write_bytes(signing_key.certificate_pem)
    verified = runner.invoke(cli, ["verify", str(target), "--trust", str(root)])
    assert verified.exit_code == 0, verified.output
    assert "signed by Desk Officer (Note Verbale No. 12/345/2025): intact, valid, trusted" \
        in verified.stdout
    assert verified.stdout.endswith(f"{target}: valid\n")
    assert "Traceback" not in verified.output

    records = tmp_path / "records.json"
    assert runner.invoke(cli, ["extract", str(target), "-o", str(records)]).exit_code == 0
    assert runner.invoke(cli, ["validate", str(records)]).exit_code == 0

    tampered = tmp_path / "tampered.pdf"
    data = target.read_bytes()
    tampered.write_bytes(data[:2000] + bytes([data[2000] ^ 1]) + data[2001:])
    assert runner.invoke(cli, ["verify", str(tampered)]).exit_code == 4


def test_sign_an_existing_note_and_verify_unsigned(runner: CliRunner, tmp_path: Path,
                                                   signing_key: ThrowawayKey) -> None:
    plain = tmp_path / "note.pdf"
    assert runner.invoke(cli, ["render", NOTE, "-o", str(plain)]).exit_code == 0
    unsigned = runner.invoke(cli, ["verify", str(plain)])
    assert unsigned.exit_code == 3
    assert "not signed" in unsigned.stdout
    result = runner.invoke(cli, ["sign", str(plain), "--key", str(signing_key.p12),
                                 "--passphrase", signing_key.passphrase.decode(),
                                 "--location", "Baku"])
    assert result.exit_code == 0, result.output
    signed = tmp_path / "note-signed.pdf"
    # Without a trust root the signer is not checked: not "valid".
    unchecked = runner.invoke(cli, ["verify", str(signed)])
    assert unchecked.exit_code == 5
    assert "signer not checked: give --trust ROOT.pem" in unchecked.stdout
    root = tmp_path / "root.pem"
    root.write_bytes(signing_key.certificate_pem)
    assert runner.invoke(cli, ["verify", str(signed), "--trust", str(root)]).exit_code == 0
    wrong = runner.invoke(cli, ["sign", str(plain), "--key", str(signing_key.p12),
                                "--passphrase", "nope", "-o", str(tmp_path / "x.pdf")])
    assert wrong.exit_code == 1
    assert "cannot read the signing key" in wrong.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_pdf_variant_option(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    result = runner.invoke(cli, ["render", NOTE, "-o", str(target), "--pdf-variant", "plain"])
    assert result.exit_code == 0, result.output
    with pikepdf.open(target) as pdf:
        assert pdf.open_metadata().get("pdfaid:part") is None
        assert "notegen-record.json" in pdf.attachments
    assert runner.invoke(cli, ["render", NOTE, "--pdf-variant", "pdf/x-4"]).exit_code == 2


def test_extract_from_a_pdf_without_records(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    assert runner.invoke(cli, ["render", NOTE, "-o", str(target), "--pdf-variant",
                               "pdf/a-1b"]).exit_code == 0
    result = runner.invoke(cli, ["extract", str(target)])
    assert result.exit_code == 1
    assert "the PDF has no embedded notegen-record.json" in result.stderr


def test_an_unknown_translation_language_is_a_located_error(
        runner: CliRunner, edit_seed: Edit, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "--translation", "xx",
                                 "-o", str(tmp_path / "note.pdf")])
    assert result.exit_code == 2  # an option the folders cannot serve: misused
    assert "Invalid value for --translation: no phrase catalogue for 'xx' in the template " \
        "folders; available: az, en, fr, ru" in result.stderr
    assert "Traceback" not in result.output
    note = edit_seed("note.yaml", "  language: en\n", "  language: en\n  translation: zz\n")
    result = runner.invoke(cli, ["validate", str(note)])
    assert result.exit_code == 1
    assert f"{note}:{line_of(note, 'translation: zz')}:3: note.translation: no phrase " \
        "catalogue for the courtesy translation's language 'zz'" in result.stderr
    assert not (tmp_path / "note.pdf").exists()


def test_render_with_sign_words_the_note_once(runner: CliRunner, tmp_path: Path,
                                              signing_key, monkeypatch) -> None:
    import notegen.wording.prepare as module

    calls = []
    original = module.prepare

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "prepare", counting)
    monkeypatch.setattr("notegen.cli.rendering.prepare", counting)
    monkeypatch.setattr("notegen.render.html.prepare", counting)
    result = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "-o",
                                 str(tmp_path / "note.pdf"), "--sign", str(signing_key.p12),
                                 "--passphrase", signing_key.passphrase.decode()])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1


def test_help_answers_to_h_too(runner: CliRunner) -> None:
    for args in (["-h"], ["render", "-h"], ["register", "list", "-h"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Usage: " in result.output


@pytest.mark.parametrize("content", [b"hello", b"%PDF-1.4\njunk", b""])
def test_a_file_that_is_not_a_pdf_is_said_plainly(runner: CliRunner, tmp_path: Path,
                                                  content: bytes) -> None:
    path = tmp_path / "note.pdf"
    path.write_bytes(content)
    for args in (["verify", str(path)], ["extract", str(path)]):
        result = runner.invoke(cli, args)
        assert result.exit_code in (1, 4), result.output
        assert "not a readable PDF" in result.output
        assert "BytesIO" not in result.output
        assert "the records have" not in result.output
