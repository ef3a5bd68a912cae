"""The code's shape, checked by the tools that own each rule: the layering of
the stages (import-linter, contracts in pyproject.toml), style (ruff) and
types (mypy --strict). Each runs as CI would, on the checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=600)


def test_the_stages_import_only_what_lies_below_them() -> None:
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_violation_of_the_layers_is_caught(tmp_path: Path) -> None:
    """The contracts can fail: a records module importing the render stage
    breaks the layers."""
    package = tmp_path / "notegen"
    package.mkdir()
    for stage in ("records", "render"):
        (package / stage).mkdir()
        (package / stage / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "records" / "bad.py").write_text("from ..render import pdf\n")
    (package / "render" / "pdf.py").write_text("")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = notegen\n\n[importlinter:contract:layers]\n"
        "name = layers\ntype = layers\nlayers =\n    notegen.render\n    notegen.records\n")
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=tmp_path,
                            capture_output=True, text=True, check=False, timeout=120,
                            env={"PYTHONPATH": str(tmp_path), "PATH": str(BIN)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "notegen.records.bad -> notegen.render.pdf" in result.stdout


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "notegen", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.slow
def test_mypy_strict_finds_nothing() -> None:
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout[-4000:]
