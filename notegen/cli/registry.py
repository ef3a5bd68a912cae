"""The register of issued notes: ``issue`` and the ``register`` group."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from ..archive.register import MAX_REPLY_FILE, Entry, Register, Reply
from ..archive.register import open_register as _open_register
from ..errors import NotegenError, RegisterError
from ..options import RenderOptions, with_settings
from ..records.case import Case, load_case
from ..render.atomic import write_atomic
from .common import (
    CASE,
    FILE,
    Group,
    NotegenCommand,
    note_options,
    ready_to_render,
    register_location,
    register_option,
    render_options,
    settings,
    template_dirs_option,
    writable,
)


def open_register(register_url: str | None) -> Register:
    """The register of ``--register`` or the settings, whose writers wait
    ``register_wait`` seconds for their turn."""
    return _open_register(register_location(register_url), wait=settings().register_wait)


def with_history(case: Case, register_url: str | None) -> Case:
    """``case`` recalling the earlier notes the register of ``--register`` or
    the settings holds about its incidents; as it is without a register."""
    if not (register_url or settings().register):
        return case
    with open_register(register_url) as register:
        return register.with_history(case)


@click.command("issue", cls=NotegenCommand)
@click.argument("case_file", metavar="CASE", type=CASE)
@register_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the issued note. Default: its number, e.g. 12-346-2025.pdf.")
@click.option("--issued-by", default=lambda: os.environ.get("USER", "unknown"),
              show_default="$USER", help="Who issues it, as the register records.")
@note_options
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
    number. The note recalls the earlier notes of the register about its
    incidents (and the replies to them), unless its records give them.
    """
    case = load_case(case_file)
    options = render_options(lang, note_type, strict, template_dirs, translation)
    ready_to_render()
    writable(output, "the issued note")  # before a number is taken
    with open_register(register_url) as register:
        entry, pdf = register.issue(case, options, issued_by=issued_by, recall=True)
    click.echo(f"issued {entry.reference}", err=True)
    target = output or Path(re.sub(r"[^\w.-]+", "-", entry.reference).strip("-") + ".pdf")
    try:
        write_atomic(writable(target, "the issued note"), pdf)
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


@click.group(cls=Group)
def register() -> None:
    """Look up issued notes, cancel one, record a reply, or check a PDF against the register."""


@register.command("list")
@register_option
@click.option("--json", "as_json", is_flag=True, help="Write JSON lines.")
def register_list(register_url: str | None, as_json: bool) -> None:
    """Every issued note, oldest first."""
    _print_entries(register_url, as_json)


@register.command("find")
@register_option
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
    with open_register(register_url) as register:
        entries = register.find(**criteria)
    for entry in entries:
        click.echo(json.dumps(dataclasses.asdict(entry), ensure_ascii=False) if as_json
                   else _entry_line(entry))


def _entry_line(entry: Entry) -> str:
    """One entry as a line of a listing."""
    state = f"  CANCELLED: {entry.cancelled}" if entry.cancelled else ""
    return (f"{entry.reference:16} {entry.note_date}  {entry.addressee:22} "
            f"{entry.subject:22} {entry.language} {entry.issued_by}{state}")


sender_option = click.option(
    "--sender", metavar="ID",
    help="The sender's id, if two senders issued the same reference.")


@register.command("show")
@click.argument("reference")
@register_option
@sender_option
@click.option("--records", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the records it was rendered from to this file.")
def register_show(reference: str, register_url: str | None, sender: str | None,
                  records: Path | None) -> None:
    """One issued note, by its number."""
    with open_register(register_url) as register:
        click.echo(json.dumps(dataclasses.asdict(register.show(reference, sender=sender)),
                              ensure_ascii=False, indent=2))
        if records is not None:
            write_atomic(records, register.records(reference, sender=sender))


@register.command("cancel")
@click.argument("reference")
@register_option
@sender_option
@click.option("--reason", required=True, help="Why, as the register records.")
@click.option("--by", "cancelled_by", default=lambda: os.environ.get("USER", "unknown"),
              show_default="$USER")
def register_cancel(reference: str, register_url: str | None, sender: str | None, reason: str,
                    cancelled_by: str) -> None:
    """Mark an issued note cancelled; its number stays taken."""
    with open_register(register_url) as register:
        register.cancel(reference, reason=reason, cancelled_by=cancelled_by, sender=sender)
    click.echo(f"cancelled {reference}", err=True)


@register.command("reply")
@click.argument("reference")
@register_option
@sender_option
@click.option("--received", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="When the reply was received (YYYY-MM-DD).")
@click.option("--reference", "their_reference", metavar="THEIRS",
              help="The reply's own number, if it is a note (without 'No.').")
@click.option("--summary", metavar="TEXT", help="What it says, in a few words (kept in the "
              "register only, never in a note).")
@click.option("--file", "file", type=FILE,
              help=f"The reply itself (a PDF, at most {MAX_REPLY_FILE // 2**20} MiB), kept in "
                   "the register by its SHA-256.")
@click.option("--unsatisfactory", is_flag=True,
              help="Its explanations are unsatisfactory: later notes recalling it say so "
                   "(needs --reference).")
@click.option("--by", "recorded_by", default=lambda: os.environ.get("USER", "unknown"),
              show_default="$USER", help="Who records it.")
@click.option("--json", "as_json", is_flag=True, help="Write the recorded reply as JSON.")
def register_reply(reference: str, register_url: str | None, sender: str | None,
                   received: dt.datetime, their_reference: str | None, summary: str | None,
                   file: Path | None, unsatisfactory: bool, recorded_by: str,
                   as_json: bool) -> None:
    """Record the other side's answer to the issued note REFERENCE (appended
    to the log; nothing is changed). Notes issued later recall REFERENCE as
    answered, and say whether the answer satisfied the sender."""
    content = None
    if file is not None:
        if file.stat().st_size > MAX_REPLY_FILE:
            raise RegisterError(f"{file}: a reply's file is at most "
                                f"{MAX_REPLY_FILE // 2**20} MiB")
        content = file.read_bytes()
        if not content.startswith(b"%PDF-"):
            raise RegisterError(f"{file}: a reply's file is a PDF (it does not begin "
                                "with %PDF-)")
    with open_register(register_url) as register:
        reply = register.reply(reference, received=received.date(), recorded_by=recorded_by,
                               their_reference=their_reference, summary=summary,
                               file=content, unsatisfactory=unsatisfactory, sender=sender)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(reply), ensure_ascii=False))
    click.echo(f"recorded a reply to {reply.reference}, received {reply.received}", err=True)


@register.command("replies")
@click.argument("reference")
@register_option
@sender_option
@click.option("--json", "as_json", is_flag=True, help="Write JSON lines.")
@click.option("--file", "file_of", metavar="SHA256",
              help="Write the file recorded with a reply (by its SHA-256) to -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the file of --file.")
def register_replies(reference: str, register_url: str | None, sender: str | None,
                     as_json: bool, file_of: str | None, output: Path | None) -> None:
    """The replies recorded to the issued note REFERENCE, oldest first."""
    if (file_of is None) != (output is None):
        raise click.UsageError("--file and -o go together")
    with open_register(register_url) as register:
        replies = register.replies(reference, sender=sender)
        if file_of is not None and output is not None:
            if file_of not in {reply.file_sha256 for reply in replies}:
                raise RegisterError(f"no reply to {reference} carries the file {file_of}")
            write_atomic(writable(output, "the reply's file"), register.reply_file(file_of))
            click.echo(f"wrote {output}", err=True)
            return
    for reply in replies:
        click.echo(json.dumps(dataclasses.asdict(reply), ensure_ascii=False) if as_json
                   else _reply_line(reply))


def _reply_line(reply: Reply) -> str:
    """One reply as a line of a listing."""
    number = f"No. {reply.their_reference}" if reply.their_reference else "(no number)"
    verdict = "  UNSATISFACTORY" if reply.unsatisfactory else ""
    attached = f"  file {reply.file_sha256[:12]}…" if reply.file_sha256 else ""
    summary = f"  {reply.summary}" if reply.summary else ""
    return (f"{reply.reference:16} received {reply.received}  {number:14} "
            f"{reply.recorded_by}{verdict}{attached}{summary}")


@register.command("pdf")
@click.argument("reference")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it.")
@register_option
@sender_option
@template_dirs_option
def register_pdf(reference: str, output: Path, register_url: str | None, sender: str | None,
                 template_dirs: tuple[Path, ...]) -> None:
    """The issued note REFERENCE again, rendered from the records the register
    keeps. Written only if it is the very PDF issued (its SHA-256 is the
    recorded one); give the template folders it was issued with."""
    writable(output, "the issued note")
    options = with_settings(RenderOptions(template_dirs=template_dirs), settings())
    ready_to_render()
    with open_register(register_url) as register:
        entry, pdf = register.pdf(reference, options, sender=sender)
    write_atomic(output, pdf)
    click.echo(f"wrote {output}: issued note {entry.reference} of {entry.sender}, "
               f"sha256 {entry.pdf_sha256} as recorded", err=True)


@register.command("audit")
@register_option
def register_audit(register_url: str | None) -> None:
    """Walk the log and check its hash chain, link by link. Exit code 0 if
    intact, 4 at the first broken link (named). Note down the head it
    prints: a later audit ending on another head, with fewer entries, means
    the log was rewritten."""
    with open_register(register_url) as register:
        audit = register.audit()
    click.echo(audit.finding)
    if not audit.intact:
        sys.exit(4)


@register.command("migrate")
@register_option
@click.option("--grant", "roles", metavar="ROLE", multiple=True,
              help="PostgreSQL: let this role select and insert, nothing more (repeatable).")
def register_migrate(register_url: str | None, roles: tuple[str, ...]) -> None:
    """Create the register or bring its schema up to date (as the role that
    owns it, on PostgreSQL), and grant application roles its use."""
    with open_register(register_url) as register:
        for role in roles:
            register.grant(role)
            click.echo(f"{role} may select and insert", err=True)
    click.echo("the register is up to date", err=True)


@register.command("verify")
@click.argument("pdf_file", metavar="PDF", type=FILE)
@register_option
def register_verify(pdf_file: Path, register_url: str | None) -> None:
    """Is PDF a note we issued, unaltered? Exit code 0 if so, 4 if not."""
    with open_register(register_url) as register:
        check = register.check(pdf_file.read_bytes())
    click.echo(f"{pdf_file}: {check.finding}")
    if not check.issued:
        sys.exit(4)


