"""What every command shares: error reporting, the options that recur,
the settings, and the checks made before a note is rendered or written."""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from ..config import Settings, load_settings
from ..errors import NotegenError, RenderError
from ..options import RenderOptions, with_settings
from ..records.models import NoteType

CASE = click.Path(exists=True, dir_okay=False, path_type=Path)
#: An existing file: a PDF, a key, a certificate.
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class NotegenCommand(click.Command):
    """Reports :class:`NotegenError` as ``Error: …`` on stderr, exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NotegenError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


class Group(click.Group):
    command_class = NotegenCommand
    group_class = type


def options_of(*options: Callable[[Callable[..., None]], Callable[..., None]]
               ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator adding ``options`` to a command, in their order."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


template_dirs_option = click.option(
    "--template-dir", "template_dirs", multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of templates, catalogues and assets searched before the built-in one; "
         "repeatable, first wins. Default: template_dirs in notegen.toml.")

#: The options that choose how a note is worded, shared by render and validate.
note_options = options_of(
    click.option("--lang", metavar="CODE",
                 help="Write the note in this language (en, ru, az, fr…) instead of the one "
                      "the note names."),
    click.option("--type", "note_type", type=click.Choice([t.value for t in NoteType]),
                 help="Write it as this type of note instead of the one the note names."),
    click.option("--strict", is_flag=True,
                 help="Treat warnings (legal bases that may misapply) as errors."),
    template_dirs_option,
)

register_option = click.option(
    "--register", "register_url", metavar="URL",
    help="The register: an SQLite file or postgresql://… URL. Default: NOTEGEN_REGISTER, "
         "or register in notegen.toml.")


def settings() -> Settings:
    """The settings (notegen.toml, NOTEGEN_*), read once per command."""
    root = click.get_current_context().find_root()
    if "notegen.settings" not in root.meta:
        root.meta["notegen.settings"] = load_settings()
    found: Settings = root.meta["notegen.settings"]
    return found


def render_options(lang: str | None, note_type: str | None, strict: bool,
                   template_dirs: tuple[Path, ...], translation: str | None = None
                   ) -> RenderOptions:
    """The options of a command's ``note_options``, with the settings applied.

    :raises click.BadParameter: for a language no catalogue in the folders has.
    """
    options = with_settings(RenderOptions(
        lang=lang, note_type=NoteType(note_type) if note_type else None, strict=strict,
        translation=translation, template_dirs=template_dirs), settings())
    # A language asked for here must have a catalogue: a misused option (exit 2).
    languages = options.folders.languages() if lang or translation else []
    for value, hint in ((lang, "--lang"), (translation, "--translation")):
        if value is not None and value not in languages:
            raise click.BadParameter(f"no phrase catalogue for {value!r} in the template "
                                     f"folders; available: {', '.join(languages)}",
                                     param_hint=hint)
    return options


def register_location(given: str | None) -> str:
    """The register's URL: ``--register``, else the settings; a usage error if none."""
    url = given or settings().register
    if not url:
        raise click.UsageError("no register: give --register URL, set NOTEGEN_REGISTER, or "
                               "register = … in notegen.toml")
    return url


def writable(target: Path | None, what: str) -> Path:
    """``target`` (or, for None, the current folder) can be written: its
    folder exists and takes a new file, and it is not a folder itself.

    :raises RenderError: if not.
    """
    folder = Path.cwd() if target is None else target.absolute().parent
    if target is not None and target.is_dir():
        raise RenderError(f"cannot write {what} to {target}: it is a folder")
    if not folder.is_dir():
        raise RenderError(f"cannot write {what} to {target}: folder {folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".notegen-", suffix=".probe"):
            pass
    except OSError as exc:
        raise RenderError(f"cannot write {what} in {folder}: "
                          f"{exc.strerror or exc}") from None
    return target if target is not None else folder


def ready_to_render() -> None:
    """Import WeasyPrint now, then take every object loaded so far out of the
    garbage collector's sight (:func:`gc.freeze`).

    Modules live as long as the process; without this, each collection while
    a note is laid out walks all of WeasyPrint, pydantic's schemas and the
    catalogues again. A cold ``render`` is about 7% faster with it.
    """
    from ..render.pdf import load_weasyprint

    load_weasyprint()
    gc.freeze()
