"""Comparing drafts: ``diff``."""

from __future__ import annotations

from pathlib import Path

import click

from ..archive.drafts import REGISTER_PREFIX, diff_notes
from ..render.redline import FORMATS, redline_bytes
from .common import (
    STDIO,
    NotegenCommand,
    note_options,
    ready_to_render,
    register_location,
    register_option,
    render_options,
    say,
    settings,
    write_output,
)

#: The exit code when the drafts differ (0: the same; 1: an error in the
#: input; 2: a misused command).
DIFFERENT = 3


@click.command(cls=NotegenCommand)
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True,
                                                path_type=Path),
              default=STDIO, show_default=True,
              help="Where to write the redline; - for standard output.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html or pdf: the text with insertions and deletions marked, below the "
                   "changed facts; docx: a Word document of the newer draft with every change "
                   "a tracked change; json: the changed facts and paragraphs as data.")
@note_options
@register_option
@click.option("--author", default="notegen", show_default=True,
              help="DOCX: the author of the tracked changes.")
def diff(old: str, new: str, output: Path, fmt: str, lang: str | None, note_type: str | None,
         strict: bool, template_dirs: tuple[Path, ...], register_url: str | None,
         author: str) -> None:
    """Show what changed between two drafts of a note: OLD and NEW.

    Each is a case file, a PDF rendered by notegen (its embedded records), or
    an issued note of the register as register:REF (with --register, a bare
    REF that is no file is looked up there too). Both are rendered with the
    same options; without --lang both must be written in the same language.

    --format docx writes the newer draft with every change a tracked change
    (by --author, dated the newer note's date or SOURCE_DATE_EPOCH), for Word
    or LibreOffice to accept or reject.

    \b
    Exit codes (as diff(1), but 1 and 2 keep notegen's meaning):
      0  the drafts are the same (text and facts)
      3  they differ
      1  a draft cannot be read or rendered (the message on stderr says why)
      2  the command is misused
    """
    for source, name in ((old, "OLD"), (new, "NEW")):
        if not source.startswith(REGISTER_PREFIX) and register_url is None \
                and not Path(source).exists():
            raise click.BadParameter(f"{source}: no such file (an issued note is given as "
                                     "register:REF)", param_hint=name)
    options = render_options(lang, note_type, strict, template_dirs)
    if fmt == "pdf":
        ready_to_render()
    needs_register = register_url is not None or any(
        source.startswith(REGISTER_PREFIX) for source in (old, new))
    register = register_location(register_url) if needs_register else None
    result = diff_notes(old, new, options, register=register, wait=settings().register_wait)
    write_output(output, redline_bytes(result, fmt, options, author=author), fmt.upper()
                 if fmt != "html" else "html")
    facts, paragraphs = len(result.facts), len(result.text_changes)
    if result.changed:
        say(f"{facts} fact{'s' if facts != 1 else ''} and {paragraphs} paragraph"
            f"{'s' if paragraphs != 1 else ''} changed")
        click.get_current_context().exit(DIFFERENT)
    say("the drafts are the same")
