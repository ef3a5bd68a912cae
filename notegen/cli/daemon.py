"""The warm render process by hand: ``daemon start|stop|status``."""

from __future__ import annotations

import importlib
import logging
import os
import time

import click

from ..daemon import client
from ..daemon.paths import log_path, safe_folder
from .common import Group, NotegenCommand, say, settings

logger = logging.getLogger(__name__)


@click.group(cls=Group)
def daemon() -> None:
    """Start, stop or ask about the warm per-user render process.

    render, validate and batch hand their work to it (starting it when none
    runs): a cold command then costs a fraction of a second instead of one
    or two, and a batch's workers start warm.
    It ends after daemon_idle_minutes (notegen.toml, default 10) without
    work. Opt out with --no-daemon, daemon = false or NOTEGEN_NO_DAEMON=1.
    """


@daemon.command("start", cls=NotegenCommand)
@click.option("--idle-minutes", type=click.FloatRange(min=0.01),
              help="End after this long without work. Default: daemon_idle_minutes in "
                   "notegen.toml, else 10.")
@click.option("--foreground", is_flag=True,
              help="Run it in this process until it ends (its log on standard error).")
def daemon_start(idle_minutes: float | None, foreground: bool) -> None:
    """Start the daemon unless it runs."""
    if not foreground:
        found = client.start(idle_minutes=idle_minutes)
        say(f"daemon running (pid {found['pid']}) on {found['socket']}")
        return
    from ..daemon.server import Server

    folder = safe_folder()
    idle = 60 * (idle_minutes or settings().daemon_idle_minutes)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    daemon_logger = logging.getLogger("notegen.daemon")
    daemon_logger.addHandler(handler)
    daemon_logger.setLevel(logging.INFO)
    daemon_logger.propagate = False  # the commands it runs set up logging their own way
    os.chdir(folder)  # hold no folder of the user's
    Server(folder, _run, idle, preload=_preload).serve()


def _run(argv: list[str]) -> int:
    """Run the command line ``argv`` here, as ``notegen`` would."""
    from .group import cli

    try:
        cli.main(args=argv, prog_name="notegen", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        click.echo(exc.code, err=True)
        return 1
    return 0


def _preload() -> None:
    importlib.import_module(f"{__package__}.rendering")


@daemon.command("stop", cls=NotegenCommand)
def daemon_stop() -> None:
    """Stop the daemon if it runs."""
    say("daemon stopped" if client.stop() else "no daemon runs")


@daemon.command("status", cls=NotegenCommand)
def daemon_status() -> None:
    """Say whether the daemon runs, since when and how much it did."""
    found = client.status()
    if found is None:
        click.echo("no daemon runs")
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(found["started"]))
    served = found["requests"]
    spare = found.get("spare")
    child = ("no render child ready" if spare is None else
             f"render child ready (pid {spare['pid']}, {spare['renders']} render"
             f"{'' if spare['renders'] == 1 else 's'} so far)")
    click.echo(f"daemon running (pid {found['pid']}) on {found['socket']}\n"
               f"  since {started}, {served} request{'' if served == 1 else 's'}, "
               f"{'warm' if found['warm'] else 'warming up'}, ends after "
               f"{found['idle_seconds'] / 60:g} minutes idle\n"
               f"  {child}\n"
               f"  notegen {found['version']}, log {log_path(safe_folder(create=False))}")
