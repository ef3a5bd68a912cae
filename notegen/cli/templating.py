"""Templates a ministry makes its own: the ``templates`` group."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ..errors import Location, NotegenError, Problem
from ..render.authoring import builtin_templates, check_folder, eject
from ..template_folders import BUILTIN_FOLDER, builtin
from .common import CASE, Group, say


@click.group(cls=Group)
def templates() -> None:
    """List, copy and check templates: make the notes a ministry's own."""


@templates.command("list")
def list_templates() -> None:
    """Show the built-in templates and what each is for."""
    from ..render.docx import WORD_TEMPLATE

    for template in builtin_templates():
        click.echo(f"{template.name:20} {template.purpose}")
    languages = ", ".join(builtin().languages())
    click.echo(f"\nPhrase catalogues (catalogues/<lang>.yaml): {languages}")
    click.echo("Legal bases: legal/bases.yaml; style: static/note.css; fonts: static/fonts/")
    click.echo(f"Word (--format docx): {WORD_TEMPLATE}, the letterhead, styles and numbering")
    click.echo(f"Built-in folder: {BUILTIN_FOLDER}")


@templates.command("eject")
@click.argument("name", type=click.Choice([t.name for t in builtin_templates()]))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Copy over files that already exist.")
def eject_template(name: str, folder: Path, force: bool) -> None:
    """Copy the built-in template NAME (and the style sheets, and the Word
    template note.docx) into FOLDER.

    Use FOLDER with --template-dir (or template_dirs in notegen.toml): its
    files then come before the built-in ones.
    """
    from ..render.docx import WORD_TEMPLATE
    from ..render.word_package import eject_word_template

    word = folder / WORD_TEMPLATE
    if word.exists() and not force:
        raise NotegenError(f"{word} already exists; keep it, or copy over it with --force")
    for path in [*eject(name, folder, overwrite=force), eject_word_template(folder)]:
        say(f"wrote {path}")


@templates.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("case_files", metavar="[CASE]...", nargs=-1, type=CASE)
def check_templates(folder: Path, case_files: tuple[Path, ...]) -> None:
    """Check the templates, catalogues and legal wording in FOLDER.

    Every template must compile and override only existing blocks; every
    note type is rendered with each CASE (default: the worked cases) in each
    language. Problems are listed with file and line; exit code 1 if any.
    """
    from ..render.docx import WORD_TEMPLATE, check_word_template

    report = check_folder(folder, case_files)
    word = folder / WORD_TEMPLATE
    if word.is_file():  # a Word template: opened, its tags compiled, its styles checked
        from ..records.case import load_case
        from ..template_folders import SEEDS_FOLDER, TemplateFolders

        cases = [load_case(path) for path in
                 case_files or sorted(SEEDS_FOLDER.glob("*/note.yaml"))]
        problems = [Problem(message, Location(word)) for message in
                    check_word_template(word, TemplateFolders.of([folder]), cases)]
        report = dataclasses.replace(report, problems=(*report.problems, *problems),
                                     templates=report.templates + 1)
    for problem in report.problems:
        click.echo(f"{problem}", err=True)
    summary = (f"{report.templates} templates, {report.catalogues} catalogues, "
               f"{report.renders} renders; rendered in "
               + (", ".join(f"{lang} ({count})" for lang, count in report.languages) or "none"))
    if report.problems:
        click.echo(f"{folder}: {len(report.problems)} problems ({summary})")
        sys.exit(1)
    click.echo(f"{folder}: no problems ({summary})")


