"""Starting points: the ``new`` group (``new case``, ``new profile``,
``new ministry``)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from ..options import RenderOptions, with_settings
from ..records.models import NoteType
from ..render.authoring import builtin_templates
from ..render.scaffold import CaseSpec, new_case, new_ministry, new_profile
from .common import Group, NotegenCommand, say, settings

_no_input = click.option("--no-input", is_flag=True,
                         help="Never ask: what is not given is an error.")
_force = click.option("--force", is_flag=True, help="Write over files that exist.")


def _ask(value: Any, option: str, question: str, no_input: bool, **prompt: Any) -> Any:
    """``value``, or the answer to ``question`` on a terminal."""
    if value is not None:
        return value
    if no_input or not sys.stdin.isatty():
        raise click.UsageError(f"give {option} (or run on a terminal to be asked)")
    return click.prompt(question, **prompt)


@click.group(cls=Group)
def new() -> None:
    """Start a case, a sender profile or a ministry's template folder."""


@new.command("case", cls=NotegenCommand)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "sender_state", metavar="STATE",
              help="The sending State's id, e.g. az.")
@click.option("--to", "addressee_state", metavar="STATE",
              help="The State held responsible, whose Embassy receives the note, e.g. ru.")
@click.option("--date", "date", type=click.DateTime(["%Y-%m-%d"]),
              help="The incident's date (YYYY-MM-DD).")
@click.option("--place", help="Where it happened, in the note's language, e.g. Kyiv.")
@click.option("--country", metavar="STATE",
              help="The State where it happened. Default: the responsible State.")
@click.option("--lang", default="en", show_default=True, help="The note's language.")
@click.option("--type", "note_type", type=click.Choice([t.value for t in NoteType]),
              default=NoteType.note_verbale.value, show_default=True)
@click.option("--profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The sender's profile file. Default: a new profile.yaml beside the case.")
@_no_input
@_force
def new_case_command(folder: Path, sender_state: str | None, addressee_state: str | None,
                     date: dt.datetime | None, place: str | None, country: str | None,
                     lang: str, note_type: str, profile: Path | None, no_input: bool,
                     force: bool) -> None:
    """Write a new case into FOLDER: note.yaml (and a profile.yaml), with
    every text to fill in [in brackets]. It validates and renders as it is.
    """
    spec = CaseSpec(
        sender_state=_ask(sender_state, "--from", "Sending State (id, e.g. az)", no_input),
        addressee_state=_ask(addressee_state, "--to",
                             "State held responsible (id, e.g. ru)", no_input),
        date=_ask(date, "--date", "Date of the incident", no_input,
                  type=click.DateTime(["%Y-%m-%d"])).date(),
        place=_ask(place, "--place", "Place of the incident", no_input),
        country=country, lang=lang, note_type=NoteType(note_type), profile=profile,
        folders=with_settings(RenderOptions(), settings()).folders)
    for path in new_case(folder, spec, overwrite=force):
        say(f"wrote {path}")
    say(f"next: edit {folder / 'note.yaml'}, and watch it with: notegen watch "
        f"{folder / 'note.yaml'}")


@new.command("profile", cls=NotegenCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "profile_id", help="The profile's id, e.g. az-mfa.")
@click.option("--state", help="The sending State's id, e.g. az.")
@click.option("--lang", default="en", show_default=True,
              help="The language of its placeholder texts.")
@_no_input
@_force
def new_profile_command(file: Path, profile_id: str | None, state: str | None, lang: str,
                        no_input: bool, force: bool) -> None:
    """Write a new sender profile (a ministry's names, letterhead, head,
    seal and numbering) to FILE."""
    state = _ask(state, "--state", "Sending State (id, e.g. az)", no_input)
    profile_id = profile_id or f"{state}-mfa"
    for path in new_profile(file, profile_id=profile_id, state=state, lang=lang,
                            overwrite=force):
        say(f"wrote {path}")


@new.command("ministry", cls=NotegenCommand)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", metavar="CODE",
              help="A language notegen does not speak yet: a catalogue to translate.")
@click.option("--template", type=click.Choice([t.name for t in builtin_templates()]),
              default="note_verbale", show_default=True, help="The template to start from.")
@_force
def new_ministry_command(folder: Path, lang: str | None, template: str, force: bool) -> None:
    """Make FOLDER a ministry's own: notegen.toml, its templates/ folder with
    a template to restyle, and (with --lang) a catalogue to translate."""
    for path in new_ministry(folder, lang=lang, template=template, overwrite=force):
        say(f"wrote {path}")
    say(f"next: check it with: notegen templates check {folder / 'templates'}")
