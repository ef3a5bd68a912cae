"""What every command shares: error reporting, the options that recur,
the settings, and the checks made before a note is rendered or written."""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import NotegenError, RenderError

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..config import Settings
    from ..options import RenderOptions
    from ..records.case import Case

# The rest of notegen (pydantic, the records, the templates) is imported
# where a command needs it, not here: ``notegen --help`` and the daemon's
# thin client load this module and little else.

#: The note types (``NoteType``'s values; a test keeps them the same), here
#: so that ``--type`` does not import the records' models.
NOTE_TYPES = ("note_verbale", "first_person_note", "aide_memoire")

#: A case file, or ``-`` for records on standard input.
CASE = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
#: What ``-`` as CASE or as ``-o`` means.
STDIO = Path("-")
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


def _languages(ctx: click.Context, param: click.Parameter, incomplete: str
               ) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of ``--lang``: the languages of the template folders in use."""
    from ..config import load_settings
    from ..options import RenderOptions, with_settings

    try:
        folders = with_settings(RenderOptions(template_dirs=tuple(
            ctx.params.get("template_dirs") or ())), load_settings()).folders
        languages = folders.languages()
    except NotegenError:
        return []
    return [click.shell_completion.CompletionItem(lang) for lang in languages
            if lang.startswith(incomplete)]


template_dirs_option = click.option(
    "--template-dir", "template_dirs", multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of templates, catalogues and assets searched before the built-in one; "
         "repeatable, first wins. Default: template_dirs in notegen.toml.")

#: The options that choose how a note is worded, shared by render and validate.
note_options = options_of(
    click.option("--lang", metavar="CODE", shell_complete=_languages,
                 help="Write the note in this language (en, ru, az, fr…) instead of the one "
                      "the note names."),
    click.option("--type", "note_type", type=click.Choice(NOTE_TYPES),
                 help="Write it as this type of note instead of the one the note names."),
    click.option("--strict", is_flag=True,
                 help="Treat warnings (legal bases that may misapply) as errors."),
    template_dirs_option,
)

register_option = click.option(
    "--register", "register_url", metavar="URL",
    help="The register: an SQLite file or postgresql://… URL. Default: NOTEGEN_REGISTER, "
         "or register in notegen.toml.")

#: Render anew: neither use nor keep an output of the cache.
no_cache_option = click.option(
    "--no-cache", is_flag=True,
    help="Render anew, neither using nor keeping a kept output. Default: cache in "
         "notegen.toml, or NOTEGEN_CACHE.")

#: Work in this process: read from the command line before the command runs
#: (:mod:`notegen.daemon.client`), so the command itself takes no value.
no_daemon_option = click.option(
    "--no-daemon", is_flag=True, expose_value=False,
    help="Work in this process rather than in the warm per-user daemon. Default: daemon in "
         "notegen.toml; NOTEGEN_NO_DAEMON=1 turns it off.")


def settings() -> Settings:
    """The settings (notegen.toml, NOTEGEN_*), read once per command."""
    from ..config import load_settings

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
    from ..options import RenderOptions, with_settings
    from ..records.models import NoteType

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


def say(message: str) -> None:
    """Tell the user what was done (on stderr), unless ``-q`` was given."""
    if not click.get_current_context().find_root().meta.get("notegen.quiet"):
        click.echo(message, err=True)


def read_case(case_file: Path) -> Case:
    """The case in ``case_file``, or on standard input for ``-`` (JSON or
    YAML records; their includes are read from the current folder)."""
    from ..records.case import load_case

    if case_file == STDIO:
        # Read no more than a record file may hold (and a byte more, to tell).
        from ..records.reading import MAX_FILE_BYTES

        return load_case(sys.stdin.buffer.read(MAX_FILE_BYTES + 1),
                         name=str(Path.cwd() / "stdin"))
    return load_case(case_file)


def default_output(case_file: Path, case: Case, suffix: str) -> Path:
    """Where a command writes what it made of ``case_file`` when not told:
    next to the case, named after its folder.

    ``<folder>/note.yaml`` gives ``<folder>/<folder>.pdf``; any other case
    file ``<folder>/<name>.yaml`` gives ``<folder>/<folder>-<name>.pdf``, so
    two cases never share a name. Records from standard input give
    ``note-<reference or date>.pdf`` in the current folder, and that name is
    never used if a file has it already. ``suffix`` is the extension, or
    ``-demarche`` and the like for a folder.
    """
    if case_file == STDIO:
        label = case.note.reference or case.note.date.isoformat()
        target = Path(f"note-{_file_name(label)}{suffix}")
        if target.exists():
            raise click.UsageError(f"{target} exists already: give -o to choose where the "
                                   "note goes")
        return target
    folder = case_file.absolute().parent
    name = folder.name if case_file.stem == "note" else f"{folder.name}-{case_file.stem}"
    return folder / f"{_file_name(name)}{suffix}"


def _file_name(text: str) -> str:
    """``text`` made a file name: runs of anything but letters, digits, ``.``
    and ``-`` become one ``-`` (12/345/2025 gives 12-345-2025)."""
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or "note"


def write_output(target: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``target`` atomically, or to standard output for
    ``-`` (refused on a terminal for anything but text). An output the
    command looked up in the cache and did not find there is kept
    (:func:`cached_output`)."""
    _keep(data)
    if target == STDIO:
        stream = sys.stdout.buffer
        if what != "html" and sys.stdout.isatty():
            raise click.UsageError(f"will not write the {what} to a terminal: redirect it, "
                                   "or give -o FILE")
        stream.write(data)
        stream.flush()
        return
    from ..render.atomic import write_atomic

    write_atomic(target, data)
    say(f"wrote {target}")


class _Warnings(logging.Handler):
    """The warnings notegen logs while an output is made: kept with it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def cached_output(case: Case, options: RenderOptions, fmt: str, no_cache: bool
                  ) -> bytes | None:
    """The output of ``case`` in ``fmt`` with settled ``options`` if the
    cache has it (its render's warnings are logged again), else ``None``;
    then the output the command writes next (:func:`write_output`) is kept,
    with the warnings logged until then. Nothing is looked up or kept with
    ``no_cache``, or ``cache = false`` in the settings.
    """
    found = settings()
    if no_cache or not found.cache:
        return None
    from ..render.cache import OutputCache, default_folder, output_key

    cache = OutputCache(found.cache_dir or default_folder(), found.cache_max_mb)
    key = output_key(case, options, fmt)
    entry = cache.get(key)
    if entry is not None:
        for message in entry.warnings:
            logger.warning("%s", message)
        return entry.data
    recorder = _Warnings()
    notegen_logger = logging.getLogger("notegen")
    notegen_logger.addHandler(recorder)
    ctx = click.get_current_context()
    ctx.call_on_close(lambda: notegen_logger.removeHandler(recorder))
    ctx.meta["notegen.cache"] = (cache, key, recorder)
    return None


def _keep(data: bytes) -> None:
    """Keep ``data`` in the cache if :func:`cached_output` asked for it."""
    ctx = click.get_current_context(silent=True)
    pending = None if ctx is None else ctx.meta.pop("notegen.cache", None)
    if pending is not None:
        cache, key, recorder = pending
        cache.put(key, data, recorder.messages)


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
    import tempfile

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


def keep_compiled_templates() -> None:
    """Have the templates compiled once, not by every command that renders:
    kept in the ``templates`` folder of the cache folder (Jinja's bytecode,
    checked against each template's source), unless the settings turn the
    cache off. ``--no-cache`` is about outputs: a template compiled anew
    gives the same note."""
    found = settings()
    if not found.cache:
        return
    from ..render.cache import default_folder
    from ..render.html import keep_compiled_templates as keep

    keep((found.cache_dir or default_folder()) / "templates")


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Hold the garbage collector off while modules are imported, then take
    what they loaded out of its sight (:func:`gc.freeze`): an import
    allocates for good, in a burst, and the collector would walk it a
    hundred times and more for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def ready_to_render() -> None:
    """Get this process ready to render: the templates taken compiled from
    the cache folder (:func:`keep_compiled_templates`), and every object
    loaded so far out of the garbage collector's sight (:func:`gc.freeze`).

    Modules live as long as the process; without this, each collection while
    a note is laid out walks pydantic's schemas and the catalogues again. A
    cold ``render`` is about 7% faster with it. WeasyPrint is imported by the
    bounded child the render runs in (and kept out of the collector's sight
    there): imported here first, its pages would be copied into the child
    one by one as the child touched them, some 5% of a cold render more.
    """
    keep_compiled_templates()
    gc.freeze()
