"""The ``notegen`` command: a thin layer over the public API.

Errors caused by input end the process with exit code 1 and a located
message on stderr; usage errors exit with 2 (click's convention). Anything
else is a bug and shows its traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import logging
import os
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .archive.register import Entry, open_register
from .archive.signing import SigningKey, sign_pdf
from .archive.verify import extract_record, read_metadata, verify_pdf
from .batch import find_cases, run_batch, summary
from .config import Settings, load_settings
from .errors import NotegenError, RegisterError, RenderError
from .options import RenderOptions, settle, with_settings
from .records.case import load_case
from .records.models import NoteType
from .render.atomic import write_atomic
from .render.authoring import builtin_templates, check_folder, eject
from .render.demarche import SETS, render_demarche
from .render.html import render_html
from .render.pdf import PDF_VARIANTS, load_weasyprint, render_pdf
from .template_folders import BUILTIN_FOLDER, builtin
from .version import __version__
from .wording.prepare import prepare

logger = logging.getLogger(__name__)

CASE = click.Path(exists=True, dir_okay=False, path_type=Path)
#: An existing file: a PDF, a key, a certificate.
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
        handler.addFilter(lambda record: not record.name.startswith(
            ("weasyprint", "fontTools", "pyhanko")))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _options_of(*options: Callable[[Callable[..., None]], Callable[..., None]]
                ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator adding ``options`` to a command, in their order."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


_template_dirs = click.option(
    "--template-dir", "template_dirs", multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of templates, catalogues and assets searched before the built-in one; "
         "repeatable, first wins. Default: template_dirs in notegen.toml.")

#: The options that choose how a note is worded, shared by render and validate.
_note_options = _options_of(
    click.option("--lang", metavar="CODE",
                 help="Write the note in this language (en, ru, az, fr…) instead of the one "
                      "the note names."),
    click.option("--type", "note_type", type=click.Choice([t.value for t in NoteType]),
                 help="Write it as this type of note instead of the one the note names."),
    click.option("--strict", is_flag=True,
                 help="Treat warnings (legal bases that may misapply) as errors."),
    _template_dirs,
)

_signing_options = _options_of(
    click.option("--passphrase", envvar="NOTEGEN_KEY_PASSPHRASE", hide_input=True,
                 help="The key file's passphrase; better given in the environment variable "
                      "NOTEGEN_KEY_PASSPHRASE than on the command line."),
    click.option("--reason", help="Why it is signed, shown in the signature. Default: the "
                                  "note's title and number."),
)


def _settings() -> Settings:
    """The settings (notegen.toml, NOTEGEN_*), read once per command."""
    root = click.get_current_context().find_root()
    if "notegen.settings" not in root.meta:
        root.meta["notegen.settings"] = load_settings()
    settings: Settings = root.meta["notegen.settings"]
    return settings


def _key(path: Path, passphrase: str | None) -> SigningKey:
    return SigningKey(path, passphrase.encode("utf-8") if passphrase else None)


def _options(lang: str | None, note_type: str | None, strict: bool,
             template_dirs: tuple[Path, ...], translation: str | None = None) -> RenderOptions:
    options = with_settings(RenderOptions(
        lang=lang, note_type=NoteType(note_type) if note_type else None, strict=strict,
        translation=translation, template_dirs=template_dirs), _settings())
    # A language asked for here must have a catalogue: a misused option (exit 2).
    languages = options.folders.languages() if lang or translation else []
    for value, hint in ((lang, "--lang"), (translation, "--translation")):
        if value is not None and value not in languages:
            raise click.BadParameter(f"no phrase catalogue for {value!r} in the template "
                                     f"folders; available: {', '.join(languages)}",
                                     param_hint=hint)
    return options


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
@click.option("--pdf-variant", type=click.Choice([*PDF_VARIANTS, "plain"]),
              default="pdf/a-3b", show_default=True,
              help="The PDF standard to follow; plain for none.")
@click.option("--set", "document_set", type=click.Choice(SETS),
              help="Render a set of documents into the folder -o: demarche is the note, "
                   "talking points, a press release and a courtesy translation.")
@click.option("--sign", "key_file", type=FILE,
              help="Sign the PDF with the key and certificate in this PKCS#12 file (PAdES).")
@_signing_options
def render(case_file: Path, output: Path | None, fmt: str, lang: str | None,
           note_type: str | None, strict: bool, template_dirs: tuple[Path, ...],
           translation: str | None, pdf_variant: str, document_set: str | None,
           key_file: Path | None, passphrase: str | None, reason: str | None) -> None:
    """Render the note of CASE to PDF (or HTML).

    CASE is the YAML or JSON file holding the note; the files it includes
    are read too. The PDF is PDF/A-3b and carries the records it was made
    from. Nothing is written unless the whole note renders (and, with
    --sign, is signed).
    """
    if fmt == "html" and key_file:
        raise click.UsageError("--sign applies to PDF output only")
    if fmt == "html" and translation and not document_set:
        raise click.UsageError("--translation and --sign apply to PDF output only")
    case = load_case(case_file)
    options = settle(case, replace(_options(lang, note_type, strict, template_dirs, translation),
                                   pdf_variant=None if pdf_variant == "plain" else pdf_variant))
    if fmt == "pdf":
        _ready_to_render()
    # Worded once: the note's render and its signature (title, place) use it.
    prepared = prepare(case, options) if document_set is None or key_file else None

    def finish(pdf: bytes) -> bytes:
        if key_file is None or prepared is None:
            return pdf
        context = prepared.context
        return sign_pdf(pdf, _key(key_file, passphrase), reason=reason or context.meta.title,
                        location=context.place)

    if document_set is not None:
        folder = output or Path(f"{case_file.stem}-{document_set}")
        for path in render_demarche(case, folder, options, html=fmt == "html",
                                    finish=finish).values():
            click.echo(f"wrote {path}", err=True)
        return
    target = output or Path(f"{case_file.stem}.{fmt}")
    if fmt == "html":
        write_atomic(target, render_html(case, options, prepared=prepared).encode("utf-8"))
    else:
        write_atomic(target, finish(render_pdf(case, options=options, prepared=prepared)))
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--key", "key_file", required=True, type=FILE,
              help="The PKCS#12 file (.p12) with the signing key and certificate.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed PDF. Default: PDF's name with -signed.")
@click.option("--location", help="Where it is signed, shown in the signature.")
@_signing_options
def sign(pdf_file: Path, key_file: Path, output: Path | None, location: str | None,
         passphrase: str | None, reason: str | None) -> None:
    """Sign a rendered note with a PAdES signature, keeping its PDF/A."""
    pdf = pdf_file.read_bytes()
    title = read_metadata(pdf).title
    target = output or pdf_file.with_name(f"{pdf_file.stem}-signed.pdf")
    write_atomic(target, sign_pdf(pdf, _key(key_file, passphrase),
                                  reason=reason or title or "Note", location=location))
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the records. Default: PDF's name with .json.")
def extract(pdf_file: Path, output: Path | None) -> None:
    """Write out the records a note was rendered from (JSON).

    They validate and render to the same PDF again.
    """
    target = output or pdf_file.with_suffix(".json")
    write_atomic(target, extract_record(pdf_file.read_bytes()))
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--trust", "roots", multiple=True, type=FILE,
              help="A trusted root certificate (PEM or DER); repeatable. Without one, "
                   "the signer is not checked and a signed note is at best untrusted (5).")
@_template_dirs
def verify(pdf_file: Path, roots: tuple[Path, ...], template_dirs: tuple[Path, ...]) -> None:
    """Check a note: its signatures, its embedded records, its PDF/A claim.

    \b
    Exit code
    0: signed and valid: intact, and the signer chains to a --trust root;
    3: not signed, but exactly the bytes its embedded records render to;
    4: changed since it was rendered or signed, or unreadable (tampered);
    5: signed and intact, but the signer is not vouched for: not by the
       --trust roots, or not checked at all because none was given;
    6: not signed, and no records to compare it with (none embedded, or
       made by another notegen version): whether it changed cannot be judged.
    """
    options = with_settings(RenderOptions(template_dirs=template_dirs), _settings())
    result = verify_pdf(pdf_file.read_bytes(), trust_roots=[r.read_bytes() for r in roots],
                        options=options)
    for finding in result.findings:
        click.echo(f"  {finding}")
    click.echo(f"{pdf_file}: {result.status.name}")
    sys.exit(result.status.value)


@cli.command()
@click.argument("case_files", metavar="CASE...", nargs=-1, required=True, type=CASE)
@_note_options
def validate(case_files: tuple[Path, ...], lang: str | None, note_type: str | None,
             strict: bool, template_dirs: tuple[Path, ...]) -> None:
    """Check the records of each CASE without rendering.

    Every problem is listed with file, line and field, and every warning;
    the exit code is 1 if any case has a problem (or, with --strict, a
    warning).
    """
    failed = 0
    options = _options(lang, note_type, strict, template_dirs)
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


@cli.command()
@click.argument("source", metavar="DIR_OR_GLOB")
@click.option("-o", "--output", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write the notes into, keeping the cases' relative paths.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes. Default: one per core.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf",
              show_default=True)
@_note_options
def batch(source: str, output: Path, jobs: int | None, fmt: str, lang: str | None,
          note_type: str | None, strict: bool, template_dirs: tuple[Path, ...]) -> None:
    """Render every case in DIR_OR_GLOB, in parallel.

    In a folder, every YAML or JSON file holding a note is a case. A case
    that fails is reported with its located error and the others go on; the
    exit code is 1 if any failed.
    """
    base, cases = find_cases(source)
    if not cases:
        raise click.UsageError(f"no cases (files holding a note) in {source}")
    options = _options(lang, note_type, strict, template_dirs)
    if jobs == 1 and fmt == "pdf":  # rendered in this process
        _ready_to_render()
    start = time.perf_counter()
    with click.progressbar(length=len(cases), label="Rendering", file=sys.stderr) as bar:
        outcomes = run_batch(cases, base, output, options, jobs=jobs, fmt=fmt,
                             progress=lambda outcome: bar.update(1))
    for line in summary(outcomes, time.perf_counter() - start):
        click.echo(line, err=True)
    if any(outcome.error for outcome in outcomes):
        sys.exit(1)


def _register_url(given: str | None) -> str:
    url = given or _settings().register
    if not url:
        raise click.UsageError("no register: give --register URL, set NOTEGEN_REGISTER, or "
                               "register = … in notegen.toml")
    return url


_register_option = click.option(
    "--register", "register_url", metavar="URL",
    help="The register: an SQLite file or postgresql://… URL. Default: NOTEGEN_REGISTER, "
         "or register in notegen.toml.")


@cli.command("issue")
@click.argument("case_file", metavar="CASE", type=CASE)
@_register_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the issued note. Default: its number, e.g. 12-346-2025.pdf.")
@click.option("--issued-by", default=lambda: os.environ.get("USER", "unknown"),
              show_default="$USER", help="Who issues it, as the register records.")
@_note_options
@click.option("--translation", metavar="CODE",
              help="Append a courtesy translation into this language.")
def issue(case_file: Path, register_url: str | None, output: Path | None, issued_by: str,
          lang: str | None, note_type: str | None, strict: bool,
          template_dirs: tuple[Path, ...], translation: str | None) -> None:
    """Give the note of CASE the next number and issue it.

    The number comes from the sender's profile (reference_pattern) and the
    register; the final PDF is rendered with it and recorded (with the
    SHA-256 of the PDF and of the records) in the same transaction. A note
    to issue has no reference of its own. Previews (render) never take a
    number.
    """
    case = load_case(case_file)
    options = _options(lang, note_type, strict, template_dirs, translation)
    _ready_to_render()
    _writable(output, "the issued note")  # before a number is taken
    url = _register_url(register_url)
    with open_register(url) as register:
        entry, pdf = register.issue(case, options, issued_by=issued_by)
    click.echo(f"issued {entry.reference}", err=True)
    target = output or Path(re.sub(r"[^\w.-]+", "-", entry.reference).strip("-") + ".pdf")
    try:
        write_atomic(_writable(target, "the issued note"), pdf)
    except NotegenError as exc:
        given = re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", register_url or "")
        again = shlex.join(["notegen", "register", "pdf", entry.reference, "--sender",
                            entry.sender, *(["--register", given] if given else []),
                            *(f"--template-dir={folder}" for folder in template_dirs)])
        raise RegisterError(
            f"{entry.reference} is issued (number {entry.number} of series {entry.series} is "
            f"taken and recorded), but its PDF could not be written: {exc}. Get the issued "
            f"PDF again with: {again} -o FILE") from None
    click.echo(f"wrote {target}", err=True)


def _writable(target: Path | None, what: str) -> Path:
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


@cli.group(cls=_Group)
def register() -> None:
    """Look up issued notes, cancel one, or check a PDF against the register."""


@register.command("list")
@_register_option
@click.option("--json", "as_json", is_flag=True, help="Write JSON lines.")
def register_list(register_url: str | None, as_json: bool) -> None:
    """Every issued note, oldest first."""
    _print_entries(register_url, as_json)


@register.command("find")
@_register_option
@click.option("--incident", help="The subject incident's id.")
@click.option("--addressee", help="The addressee's id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Dated on or after.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Dated on or before.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON lines.")
def register_find(register_url: str | None, incident: str | None, addressee: str | None,
                  since: dt.datetime | None, until: dt.datetime | None, as_json: bool) -> None:
    """Issued notes about an incident, to an addressee, or in a date range."""
    _print_entries(register_url, as_json, subject=incident, addressee=addressee,
                   since=since.date() if since else None, until=until.date() if until else None)


def _print_entries(register_url: str | None, as_json: bool, **criteria: Any) -> None:
    with open_register(_register_url(register_url)) as register:
        entries = register.find(**criteria)
    for entry in entries:
        click.echo(json.dumps(dataclasses.asdict(entry), ensure_ascii=False) if as_json
                   else _entry_line(entry))


def _entry_line(entry: Entry) -> str:
    """One entry as a line of a listing."""
    state = f"  CANCELLED: {entry.cancelled}" if entry.cancelled else ""
    return (f"{entry.reference:16} {entry.note_date}  {entry.addressee:22} "
            f"{entry.subject:22} {entry.language} {entry.issued_by}{state}")


_sender_option = click.option(
    "--sender", metavar="ID",
    help="The sender's id, if two senders issued the same reference.")


@register.command("show")
@click.argument("reference")
@_register_option
@_sender_option
@click.option("--records", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the records it was rendered from to this file.")
def register_show(reference: str, register_url: str | None, sender: str | None,
                  records: Path | None) -> None:
    """One issued note, by its number."""
    with open_register(_register_url(register_url)) as register:
        click.echo(json.dumps(dataclasses.asdict(register.show(reference, sender=sender)),
                              ensure_ascii=False, indent=2))
        if records is not None:
            write_atomic(records, register.records(reference, sender=sender))


@register.command("cancel")
@click.argument("reference")
@_register_option
@_sender_option
@click.option("--reason", required=True, help="Why, as the register records.")
@click.option("--by", "cancelled_by", default=lambda: os.environ.get("USER", "unknown"),
              show_default="$USER")
def register_cancel(reference: str, register_url: str | None, sender: str | None, reason: str,
                    cancelled_by: str) -> None:
    """Mark an issued note cancelled; its number stays taken."""
    with open_register(_register_url(register_url)) as register:
        register.cancel(reference, reason=reason, cancelled_by=cancelled_by, sender=sender)
    click.echo(f"cancelled {reference}", err=True)


@register.command("pdf")
@click.argument("reference")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it.")
@_register_option
@_sender_option
@_template_dirs
def register_pdf(reference: str, output: Path, register_url: str | None, sender: str | None,
                 template_dirs: tuple[Path, ...]) -> None:
    """The issued note REFERENCE again, rendered from the records the register
    keeps. Written only if it is the very PDF issued (its SHA-256 is the
    recorded one); give the template folders it was issued with."""
    _writable(output, "the issued note")
    options = with_settings(RenderOptions(template_dirs=template_dirs), _settings())
    _ready_to_render()
    with open_register(_register_url(register_url)) as register:
        entry, pdf = register.pdf(reference, options, sender=sender)
    write_atomic(output, pdf)
    click.echo(f"wrote {output}: issued note {entry.reference} of {entry.sender}, "
               f"sha256 {entry.pdf_sha256} as recorded", err=True)


@register.command("audit")
@_register_option
def register_audit(register_url: str | None) -> None:
    """Walk the log and check its hash chain, link by link. Exit code 0 if
    intact, 4 at the first broken link (named). Note down the head it
    prints: a later audit ending on another head, with fewer entries, means
    the log was rewritten."""
    with open_register(_register_url(register_url)) as register:
        audit = register.audit()
    click.echo(audit.finding)
    if not audit.intact:
        sys.exit(4)


@register.command("migrate")
@_register_option
@click.option("--grant", "roles", metavar="ROLE", multiple=True,
              help="PostgreSQL: let this role select and insert, nothing more (repeatable).")
def register_migrate(register_url: str | None, roles: tuple[str, ...]) -> None:
    """Create the register or bring its schema up to date (as the role that
    owns it, on PostgreSQL), and grant application roles its use."""
    with open_register(_register_url(register_url)) as register:
        for role in roles:
            register.grant(role)
            click.echo(f"{role} may select and insert", err=True)
    click.echo("the register is up to date", err=True)


@register.command("verify")
@click.argument("pdf_file", metavar="PDF", type=FILE)
@_register_option
def register_verify(pdf_file: Path, register_url: str | None) -> None:
    """Is PDF a note we issued, unaltered? Exit code 0 if so, 4 if not."""
    with open_register(_register_url(register_url)) as register:
        check = register.check(pdf_file.read_bytes())
    click.echo(f"{pdf_file}: {check.finding}")
    if not check.issued:
        sys.exit(4)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Serve notegen over HTTP (the service extra): validate, render, issue,
    register queries, verify. The OpenAPI document is at /openapi.json (for
    token holders).

    Tokens: NOTEGEN_TOKENS names their file (see `notegen token`); the
    register: NOTEGEN_REGISTER or notegen.toml.
    """
    try:
        import uvicorn
    except ImportError:
        raise click.UsageError("the service needs its extra: pip install 'notegen[service]'"
                               ) from None
    from .service import load_tokens

    load_tokens(_settings())  # fail here, clearly, rather than in every worker
    # WeasyPrint keeps 10-20 KiB of every render: a worker is replaced
    # after 500 requests (with --workers 1, the server then stops: run it
    # under a supervisor, or with two workers or more).
    uvicorn.run("notegen.service:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning",
                limit_max_requests=500 if workers > 1 else None)


@cli.command()
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["drafter", "issuer", "reader"]))
@click.option("--file", "tokens_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Add the token to this tokens file (made if missing), which keeps only "
                   "its SHA-256. Without it, the file's entry is printed on stderr.")
def token(name: str, roles: tuple[str, ...], tokens_file: Path | None) -> None:
    """Make a service token for NAME and print it (once: only its SHA-256 is
    kept)."""
    from .service import add_token, new_token

    secret, entry = new_token(name, list(roles))
    if tokens_file is None:
        click.echo(json.dumps(entry), err=True)
    else:
        add_token(tokens_file, entry)
        click.echo(f"added {name} to {tokens_file}", err=True)
    click.echo(secret)


@cli.group(cls=_Group)
def templates() -> None:
    """List, copy and check templates: make the notes a ministry's own."""


@templates.command("list")
def list_templates() -> None:
    """Show the built-in templates and what each is for."""
    for template in builtin_templates():
        click.echo(f"{template.name:20} {template.purpose}")
    languages = ", ".join(builtin().languages())
    click.echo(f"\nPhrase catalogues (catalogues/<lang>.yaml): {languages}")
    click.echo("Legal bases: legal/bases.yaml; style: static/note.css; fonts: static/fonts/")
    click.echo(f"Built-in folder: {BUILTIN_FOLDER}")


@templates.command("eject")
@click.argument("name", type=click.Choice([t.name for t in builtin_templates()]))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Copy over files that already exist.")
def eject_template(name: str, folder: Path, force: bool) -> None:
    """Copy the built-in template NAME (and the style sheets) into FOLDER.

    Use FOLDER with --template-dir (or template_dirs in notegen.toml): its
    files then come before the built-in ones.
    """
    for path in eject(name, folder, overwrite=force):
        click.echo(f"wrote {path}", err=True)


@templates.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("case_files", metavar="[CASE]...", nargs=-1, type=CASE)
def check_templates(folder: Path, case_files: tuple[Path, ...]) -> None:
    """Check the templates, catalogues and legal wording in FOLDER.

    Every template must compile and override only existing blocks; every
    note type is rendered with each CASE (default: the worked cases) in each
    language. Problems are listed with file and line; exit code 1 if any.
    """
    report = check_folder(folder, case_files)
    for problem in report.problems:
        click.echo(f"{problem}", err=True)
    summary = (f"{report.templates} templates, {report.catalogues} catalogues, "
               f"{report.renders} renders; rendered in "
               + (", ".join(f"{lang} ({count})" for lang, count in report.languages) or "none"))
    if report.problems:
        click.echo(f"{folder}: {len(report.problems)} problems ({summary})")
        sys.exit(1)
    click.echo(f"{folder}: no problems ({summary})")


def _ready_to_render() -> None:
    """Import WeasyPrint now, then take every object loaded so far out of the
    garbage collector's sight (:func:`gc.freeze`).

    Modules live as long as the process; without this, each collection while
    a note is laid out walks all of WeasyPrint, pydantic's schemas and the
    catalogues again. A cold ``render`` is about 7% faster with it.
    """
    load_weasyprint()
    gc.freeze()


def main() -> None:
    """Entry point of the ``notegen`` console script."""
    gc.freeze()  # the same, for the modules every command imports
    cli(prog_name="notegen")
