"""The ``notegen`` group: its global options, and its commands, each
loaded from the module of its concern only when it runs (or when help lists
it), as MkDocs does: ``notegen --help`` and ``notegen validate`` do not pay
for WeasyPrint or pyHanko."""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys

import click

from ..version import __version__
from .common import Group

#: Every command: its name, the module that defines it, and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "render": ("rendering", "Render the note of CASE to PDF (or HTML)."),
    "validate": ("validating", "Check the records of each CASE without rendering."),
    "batch": ("rendering", "Render every case in DIR_OR_GLOB, in parallel."),
    "sign": ("signatures", "Sign a rendered note with a PAdES signature, keeping its PDF/A."),
    "verify": ("signatures", "Check a note: its signatures, its embedded records, its PDF/A "
                             "claim."),
    "extract": ("signatures", "Write out the records a note was rendered from (JSON)."),
    "incidents": ("incidents", "List, find and show the incidents of a catalogue."),
    "diff": ("diffing", "Redline two drafts of a note: changed words and changed facts."),
    "issue": ("registry", "Give the note of CASE the next number and issue it."),
    "register": ("registry", "Look up issued notes, cancel one, or check a PDF against the "
                             "register."),
    "serve": ("serving", "Serve notegen over HTTP: the API for other programs."),
    "token": ("serving", "Make, list and revoke the service's tokens."),
    "schema": ("schema", "Print the JSON Schema of a record file, for editors."),
    "new": ("scaffold", "Start a case, a sender profile or a ministry's template folder."),
    "watch": ("watching", "Preview CASE in the browser, again on every save."),
    "daemon": ("daemon", "Start, stop or ask about the warm per-user render process."),
    "templates": ("templating", "List, copy and check templates: make the notes a "
                                "ministry's own."),
}


class _LazyGroup(Group):
    """The top-level group: loads a command's module when it is asked for."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["notegen.argv"] = list(args)  # as given: what the daemon is handed
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        relayed = _relayed(ctx, cmd_name)
        if relayed is not None:
            return relayed
        module = importlib.import_module(f"{__package__}.{COMMANDS[cmd_name][0]}")
        _collect_from_now_on()
        command = getattr(module, cmd_name.replace("-", "_"))
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The one-line help from COMMANDS: listing commands imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notegen")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Say only what goes wrong.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Turn incident records into formal diplomatic protest notes.

    \b
    Shell completion (commands, options, --lang from the template folders):
      eval "$(_NOTEGEN_COMPLETE=bash_source notegen)"   # in ~/.bashrc
      eval "$(_NOTEGEN_COMPLETE=zsh_source notegen)"    # in ~/.zshrc
    """
    ctx.meta["notegen.quiet"] = quiet
    _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if verbose < 2:
        # WeasyPrint reports every CSS property it skips; notegen turns what
        # matters into errors itself. Filter at the handler, not the logger,
        # so notegen still sees WeasyPrint's warnings.
        handler.addFilter(lambda record: not record.name.startswith(
            ("weasyprint", "fontTools", "pyhanko", "watchfiles")))
    logging.basicConfig(level=level, handlers=[handler], force=True)


#: Whether :func:`main` holds the garbage collector off until a command's
#: module is loaded.
_held = False


def _collect_from_now_on() -> None:
    """Let the garbage collector run again, if :func:`main` held it off,
    with what was loaded so far out of its sight."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def _relayed(ctx: click.Context, name: str) -> click.Command | None:
    """For a command the daemon runs (:mod:`notegen.daemon.client`): run it
    there, and return a command that replays what it wrote and its exit
    code; ``None`` to run it in this process."""
    from ..daemon import client, handover

    argv = ctx.meta.get("notegen.argv")
    if ctx.resilient_parsing or argv is None or not handover.wanted(name, argv):
        return None
    _configure_logging(ctx.params.get("verbose") or 0)
    outcome = client.relay(name, argv)
    if outcome is None:
        return None

    def replay() -> None:
        outcome.replay()
        click.get_current_context().exit(outcome.status)

    return click.Command(name, callback=replay, add_help_option=False, context_settings={
        "ignore_unknown_options": True, "allow_extra_args": True})


def main() -> None:
    """Run the command line in this process (or, for a command the daemon
    runs, hand it over, starting a daemon if need be)."""
    # On its first model pydantic reads the metadata of every installed
    # package for plugins (30-50 ms of a cold command); notegen has none to
    # load. A value given (PYDANTIC_DISABLE_PLUGINS= loads them all) is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Importing a command's module (pydantic's models, the templates, ...)
    # allocates for good, in a burst: the garbage collector would walk it
    # some 200 times for nothing. It is held off until the module is loaded,
    # which then lies out of its sight (:func:`gc.freeze`; as
    # :func:`.common.loading` does for what a command imports itself).
    global _held
    gc.freeze()
    if gc.isenabled():
        gc.disable()
        _held = True
    cli(prog_name="notegen")


__all__ = ["COMMANDS", "cli", "main"]
