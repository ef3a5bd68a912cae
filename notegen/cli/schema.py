"""The records' JSON Schema: ``schema``."""

from __future__ import annotations

from pathlib import Path

import click

from ..records.schema import schema_text
from ..render.atomic import write_atomic
from .common import STDIO, NotegenCommand, say


@click.command(cls=NotegenCommand)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True,
                                                path_type=Path),
              help="Write it to this file instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a record file, for editors.

    The schema (JSON Schema 2020-12) describes every section and field a
    record file may hold, with what each means and an example, so that an
    editor checks and completes record files as they are written. The wheel
    ships it as notegen/records/record.schema.json, which the modeline of a
    new case names:

    \b
      # yaml-language-server: $schema=<path or URL of the schema>

    What needs the whole case (ids that resolve, dates in order, the forms
    a language needs) is checked by notegen validate.
    """
    text = schema_text()
    if output is None or output == STDIO:
        click.echo(text, nl=False)
        return
    write_atomic(output, text.encode("utf-8"))
    say(f"wrote {output}")
