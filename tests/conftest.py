from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import notegen

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "az-kyiv-2025"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def worked_case() -> notegen.Case:
    return notegen.load_case(SEED / "note.yaml")


@pytest.fixture(scope="session")
def worked_pdf(worked_case: notegen.Case) -> bytes:
    return notegen.render_pdf(worked_case)


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the worked case's folder (with the profiles beside it)."""
    seeds = Path(shutil.copytree(SEED.parent, tmp_path / "seeds"))
    return seeds / SEED.name


Edit = Callable[[str, str, str], Path]


@pytest.fixture
def edit_seed(seed_copy: Path) -> Edit:
    """Replace text in one file of a copy of the worked case; return the note path."""

    def edit(file: str, old: str, new: str) -> Path:
        path = seed_copy / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return seed_copy / "note.yaml"

    return edit


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def line_of(path: Path, marker: str) -> int:
    """The 1-based line of the first occurrence of ``marker`` in ``path``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in {path}")
