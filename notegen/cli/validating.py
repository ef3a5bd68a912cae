"""Checking records: ``validate``.

It reads and words each case as a render would, and renders nothing: neither
the templates nor WeasyPrint are imported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import NotegenError
from .common import (
    CASE,
    NotegenCommand,
    loading,
    no_daemon_option,
    note_options,
    read_case,
    render_options,
)


@click.command(cls=NotegenCommand)
@click.argument("case_files", metavar="CASE...", nargs=-1, required=True, type=CASE)
@note_options
@click.option("--json", "as_json", is_flag=True,
              help="Write a JSON object per case (file, valid, problems, warnings), one per "
                   "line, on standard output.")
@no_daemon_option
def validate(case_files: tuple[Path, ...], lang: str | None, note_type: str | None,
             strict: bool, template_dirs: tuple[Path, ...], as_json: bool) -> None:
    """Check the records of each CASE without rendering.

    Every problem is listed with file, line and field, and every warning;
    the exit code is 1 if any case has a problem (or, with --strict, a
    warning). Where a rule chooses the earlier incidents, those it chose
    are listed too.
    """
    with loading():
        from ..wording.prepare import prepare

    failed = 0
    options = render_options(lang, note_type, strict, template_dirs)
    for case_file in case_files:
        try:
            case = read_case(case_file)
            prepared = prepare(case, options)
        except NotegenError as exc:
            failed += 1
            if as_json:
                click.echo(json.dumps({"file": str(case_file), "valid": False,
                                       "error": str(exc).split("\n")[0],
                                       "problems": [p.as_dict() for p in exc.problems],
                                       "warnings": []}, ensure_ascii=False))
            else:
                click.echo(f"Error: {exc}", err=True)
            continue
        by_rule = list(case.chronology.resolved) if case.chronology is not None else None
        if as_json:
            click.echo(json.dumps({"file": str(case_file), "valid": True, "error": None,
                                   "problems": [],
                                   "warnings": [w.as_dict() for w in prepared.warnings],
                                   **({"earlier_by_rule": by_rule} if by_rule is not None
                                      else {})},
                                  ensure_ascii=False))
        else:
            count = len(prepared.warnings)
            note = f" ({count} warning{'s' if count != 1 else ''})" if count else ""
            click.echo(f"{case_file}: valid{note}")
            if by_rule is not None:
                click.echo(f"  earlier incidents, as its rule chose them ({len(by_rule)}): "
                           f"{', '.join(by_rule) or 'none'}")
    if failed:
        sys.exit(1)
