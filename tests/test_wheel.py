"""The built wheel carries the templates and renders without the checkout."""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SEED

pytestmark = pytest.mark.slow

MODELINE = "# yaml-language-server: $schema="


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True)
    [built] = out.glob("notegen-*.whl")
    return built


def test_wheel_ships_templates_catalogues_and_fonts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ["notegen/templates/note_verbale.html.j2", "notegen/templates/base.html.j2",
                 "notegen/templates/catalogues/en.yaml", "notegen/templates/static/note.css",
                 "notegen/templates/static/fonts/NotoSerif-Regular.ttf",
                 "notegen/templates/static/fonts/fonts.conf",
                 "notegen/templates/static/fonts/OFL.txt",
                 "notegen/templates/legal/bases.yaml",
                 # The worked cases, which `templates check` renders against.
                 "notegen/seeds/az-kyiv-2025/note.yaml", "notegen/seeds/profiles/az-mfa.yaml",
                 "notegen/seeds/az-mfa-catalogue/incidents.yaml",
                 # Typed for embedders; the preview's page; the scaffolds of `new`.
                 "notegen/py.typed", "notegen/watch/page.html.j2", "notegen/watch/reload.js",
                 "notegen/desk/pages/case.html.j2", "notegen/desk/static/desk.js",
                 "notegen/render/redline.html.j2", "notegen/templates/note.docx",
                 "notegen/render/scaffolds/case.yaml.j2",
                 "notegen/render/scaffolds/profile.yaml.j2"]:
        assert name in names, name
    assert not any(name.startswith(("tests/", "seeds/")) for name in names)
    # Each seed's editor modeline names the schema where the wheel has it
    # (hatch_build.py), not where the checkout does.
    with zipfile.ZipFile(wheel) as archive:
        seeds = [name for name in names
                 if name.startswith("notegen/seeds/") and name.endswith(".yaml")]
        assert len(seeds) >= 7
        for name in seeds:
            first = archive.read(name).decode("utf-8").splitlines()[0]
            assert first.startswith(MODELINE), name
            schema = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                                       first.removeprefix(MODELINE)))
            assert schema == "notegen/records/record.schema.json", name
            assert schema in names


def test_installed_wheel_renders_the_worked_case(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    script = (
        "import sys, notegen\n"
        "assert notegen.__file__.startswith(sys.argv[1]), notegen.__file__\n"
        "from notegen.template_folders import BUILTIN_FOLDER, builtin\n"
        "assert str(BUILTIN_FOLDER).startswith(sys.argv[1]), BUILTIN_FOLDER\n"
        "from notegen.render.authoring import SEEDS_FOLDER\n"
        "assert str(SEEDS_FOLDER).startswith(sys.argv[1]), SEEDS_FOLDER\n"
        "case = notegen.load_case(sys.argv[2])\n"
        "notegen.render_pdf(case, 'out.pdf')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("FONTCONFIG_FILE", None)
    subprocess.run([sys.executable, "-c", script, str(target), str(SEED / "note.yaml")],
                   cwd=tmp_path, env=env, check=True)
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF-")
