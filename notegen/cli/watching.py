"""The live preview: ``watch``."""

from __future__ import annotations

import logging
import threading
import webbrowser
from pathlib import Path

import click

from ..watch import Preview, loopback, start, stop
from .common import CASE, STDIO, NotegenCommand, note_options, render_options, writable

logger = logging.getLogger(__name__)


@click.command(cls=NotegenCommand)
@click.argument("case_file", metavar="CASE", type=CASE)
@note_options
@click.option("--translation", metavar="CODE",
              help="Preview with a courtesy translation into this language.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the PDF here after every save that renders.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to serve the preview on; keep it on loopback.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="The port; 0 takes any free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def watch(case_file: Path, lang: str | None, note_type: str | None, strict: bool,
          template_dirs: tuple[Path, ...], translation: str | None, pdf: Path | None,
          host: str, port: int, open_browser: bool) -> None:
    """Preview CASE in the browser, again on every save.

    Serves the note's HTML at http://127.0.0.1:8765/ and renders it again
    whenever CASE, a file it includes or a file of the template folders is
    saved; the page reloads by itself. While the records have a problem,
    the page lists the problems (file, line, field) instead of the note.
    Stop with Ctrl-C.
    """
    if case_file == STDIO:
        raise click.BadParameter("watch follows a file: give its path, not -",
                                 param_hint="CASE")
    options = render_options(lang, note_type, strict, template_dirs, translation)
    if pdf is not None:
        writable(pdf, "the PDF")
    try:
        on_loopback = loopback(host)
    except ValueError:
        raise click.BadParameter(f"{host!r} is not an IP address", param_hint="--host"
                                 ) from None
    if not on_loopback:
        logger.warning("the preview is served on %s: anyone who reaches this machine can "
                       "read the note", host)
    try:
        server = start(Preview(case_file, options, pdf=pdf), host, port)
    except OSError as exc:
        raise click.UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}"
                               ) from None
    click.echo(f"previewing {case_file} at {server.url} (Ctrl-C stops)", err=True)
    if open_browser:
        webbrowser.open(server.url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)
