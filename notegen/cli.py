"""The ``notegen`` command: a thin layer over the public API.

Errors caused by input end the process with exit code 1 and a located
message on stderr; usage errors exit with 2 (click's convention). Anything
else is a bug and shows its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click

from . import __version__
from .errors import NotegenError
from .loading import load_case
from .models import NoteType
from .output import write_atomic
from .templating import RenderOptions, prepare, render_html

logger = logging.getLogger(__name__)

CASE = click.Path(exists=True, dir_okay=False, path_type=Path)


class _NotegenCommand(click.Command):
    """Reports :class:`NotegenError` as ``Error: …`` on stderr, exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NotegenError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


class _Group(click.Group):
    command_class = _NotegenCommand


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="notegen")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging).")
def cli(verbose: int) -> None:
    """Turn incident records into formal diplomatic protest notes."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if verbose < 2:
        # WeasyPrint reports every CSS property it skips; notegen turns what
        # matters into errors itself. Filter at the handler, not the logger,
        # so notegen still sees WeasyPrint's warnings.
        handler.addFilter(lambda record: not record.name.startswith(("weasyprint", "fontTools")))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _note_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that choose how a note is worded, shared by render and validate."""
    for option in reversed([
        click.option("--lang", metavar="CODE",
                     help="Write the note in this language (en, ru, az, fr…) instead of "
                          "the one the note names."),
        click.option("--type", "note_type", type=click.Choice([t.value for t in NoteType]),
                     help="Write it as this type of note instead of the one the note names."),
        click.option("--strict", is_flag=True,
                     help="Treat warnings (legal bases that may misapply) as errors."),
    ]):
        command = option(command)
    return command


def _options(lang: str | None, note_type: str | None, strict: bool,
             translation: str | None = None) -> RenderOptions:
    return RenderOptions(lang=lang, note_type=NoteType(note_type) if note_type else None,
                         strict=strict, translation=translation)


@cli.command()
@click.argument("case_file", metavar="CASE", type=CASE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the note. Default: CASE's name with .pdf or .html, "
                   "in the current folder.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf",
              show_default=True, help="html writes the HTML instead, for preview.")
@_note_options
@click.option("--translation", metavar="CODE",
              help="Append a courtesy translation into this language, as an enclosure "
                   "(PDF only).")
def render(case_file: Path, output: Path | None, fmt: str, lang: str | None,
           note_type: str | None, strict: bool, translation: str | None) -> None:
    """Render the note of CASE to PDF (or HTML).

    CASE is the YAML or JSON file holding the note; the files it includes
    are read too. Nothing is written unless the whole note renders.
    """
    if translation and fmt == "html":
        raise click.UsageError("a courtesy translation is an enclosure of the PDF; "
                               "render the translation's HTML with --lang instead")
    case = load_case(case_file)
    options = _options(lang, note_type, strict, translation)
    target = output or Path(f"{case_file.stem}.{fmt}")
    if fmt == "html":
        write_atomic(target, render_html(case, options).encode("utf-8"))
    else:
        from .pdf import render_pdf

        render_pdf(case, target, options)
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("case_files", metavar="CASE...", nargs=-1, required=True, type=CASE)
@_note_options
def validate(case_files: tuple[Path, ...], lang: str | None, note_type: str | None,
             strict: bool) -> None:
    """Check the records of each CASE without rendering.

    Every problem is listed with file, line and field, and every warning;
    the exit code is 1 if any case has a problem (or, with --strict, a
    warning).
    """
    failed = 0
    options = _options(lang, note_type, strict)
    for case_file in case_files:
        try:
            prepared = prepare(load_case(case_file), options)
        except NotegenError as exc:
            failed += 1
            click.echo(f"Error: {exc}", err=True)
        else:
            count = len(prepared.warnings)
            note = f" ({count} warning{'s' if count != 1 else ''})" if count else ""
            click.echo(f"{case_file}: valid{note}")
    if failed:
        sys.exit(1)


def main() -> None:
    """Entry point of the ``notegen`` console script."""
    cli(prog_name="notegen")
