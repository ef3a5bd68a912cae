"""The register of issued notes: gap-free numbers and an append-only log.

``issue_note`` takes the next number of the sender's series, renders the
final PDF with it and records the note, all in one transaction: a number is
taken only together with its issued record, so a crash mid-issue leaves
neither a gap nor a duplicate. Issuing is serialised per register (a lock
held while the note renders, a fraction of a second). Nothing is ever
updated or deleted: cancelling a note appends a cancellation, and the
number stays taken. The database refuses updates and deletions itself.

A register is an SQLite file (``sqlite:///path`` or a plain path) or a
PostgreSQL database (``postgresql://…``, with the ``postgres`` extra).
Its schema is versioned and migrated forward on opening.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import Problem, RecordError, RegisterError
from ..options import RenderOptions, settle
from ..records.case import Case
from ..records.models import Profile
from ..render.pdf import render_pdf, rendered_records

logger = logging.getLogger(__name__)


#: Schema migrations, in order; the register records the last one applied.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE issued (
            id {serial},
            series TEXT NOT NULL,
            number INTEGER NOT NULL,
            reference TEXT NOT NULL UNIQUE,
            note_date TEXT NOT NULL,
            sender TEXT NOT NULL,
            addressee TEXT NOT NULL,
            subject TEXT NOT NULL,
            language TEXT NOT NULL,
            note_type TEXT NOT NULL,
            pdf_sha256 TEXT NOT NULL,
            records_sha256 TEXT NOT NULL,
            records TEXT NOT NULL,
            issued_by TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            UNIQUE (series, number))""",
        """CREATE TABLE cancelled (
            id {serial},
            reference TEXT NOT NULL UNIQUE REFERENCES issued (reference),
            reason TEXT NOT NULL,
            cancelled_by TEXT NOT NULL,
            cancelled_at TEXT NOT NULL)""",
        "CREATE INDEX issued_subject ON issued (subject)",
        "CREATE INDEX issued_addressee ON issued (addressee)",
        "CREATE INDEX issued_date ON issued (note_date)",
        "{append_only:issued}",
        "{append_only:cancelled}",
    ),
)


@dataclass(frozen=True)
class Entry:
    """One issued note, as the register holds it."""

    reference: str
    series: str
    number: int
    note_date: str
    sender: str
    addressee: str
    subject: str
    language: str
    note_type: str
    pdf_sha256: str
    records_sha256: str
    issued_by: str
    issued_at: str
    #: Why it was cancelled, if it was.
    cancelled: str | None = None


@dataclass(frozen=True)
class IssueCheck:
    """What :meth:`Register.check` found for a PDF."""

    #: The issued note the PDF begins with, if any.
    entry: Entry | None
    #: Whether the PDF is that note unaltered (or only signed since).
    issued: bool
    #: The verdict in a sentence.
    finding: str


_COLUMNS = ("reference", "series", "number", "note_date", "sender", "addressee", "subject",
            "language", "note_type", "pdf_sha256", "records_sha256", "issued_by", "issued_at")


class Register:
    """An open register. Use :func:`open_register`; close it, or use ``with``."""

    def __init__(self, url: str, connection: Any, postgres: bool) -> None:
        self.url = url
        self._connection = connection
        self._postgres = postgres
        self._migrate()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    # The two dialects differ in little: placeholders, the serial key, how a
    # writer takes the lock, and how a table is made append-only.

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    @contextmanager
    def _transaction(self, lock: bool = False) -> Iterator[Any]:
        """A transaction; with ``lock``, one no other writer can run beside."""
        if self._postgres:
            with self._connection.transaction(), self._connection.cursor() as cursor:
                if lock:
                    cursor.execute("LOCK TABLE issued IN SHARE ROW EXCLUSIVE MODE")
                yield cursor
            return
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if lock else "BEGIN")
        try:
            yield cursor
        except BaseException:
            self._connection.rollback()
            raise
        else:
            self._connection.commit()
        finally:
            cursor.close()

    def _migrate(self) -> None:
        with self._transaction(lock=False) as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS notegen_schema (version INTEGER NOT NULL)")
            cursor.execute("SELECT MAX(version) FROM notegen_schema")
            current = cursor.fetchone()[0] or 0
            for version, statements in enumerate(_MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    for part in self._dialect(statement):
                        cursor.execute(part)
                cursor.execute(self._sql("INSERT INTO notegen_schema (version) VALUES (?)"),
                               (version,))
                logger.info("register %s migrated to schema %d", self.url, version)

    def _dialect(self, statement: str) -> list[str]:
        match = re.fullmatch(r"\{append_only:(\w+)\}", statement)
        if match is None:
            serial = ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if self._postgres
                      else "INTEGER PRIMARY KEY AUTOINCREMENT")
            return [statement.replace("{serial}", serial)]
        table = match[1]
        if self._postgres:
            return [
                f"""CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
                    BEGIN RAISE EXCEPTION 'the register is append-only: {table} rows are '
                    'never changed'; END $$ LANGUAGE plpgsql""",
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
            ]
        message = f"the register is append-only: {table} rows are never changed"
        return [f"""CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table}
                    BEGIN SELECT RAISE(ABORT, '{message}'); END"""
                for action in ("update", "delete")]

    # Issuing.

    def issue(self, case: Case, options: RenderOptions | None = None, *, issued_by: str,
              now: dt.datetime | None = None) -> tuple[Entry, bytes]:
        """Number, render and record the note of ``case``; return its entry and PDF.

        :raises RecordError: if the sender has no reference pattern, or the
            note already has a reference.
        :raises NotegenError: for any render error (nothing is recorded).
        """
        note = case.note
        sender = case.parties[note.sender]
        if not isinstance(sender, Profile) or sender.reference_pattern is None:
            raise RecordError([Problem(
                "notes are numbered from the sender's profile: give it a reference_pattern "
                "such as \"{number}/{year}\"", case.locate(None, "sender"))])
        if note.reference is not None:
            raise RecordError([Problem(
                "the note already has a reference; a note to issue leaves it out, and the "
                "register gives it the next number", case.locate(None, "reference"))])
        options = settle(case, options)
        pattern = sender.reference_pattern
        series = f"{sender.id}:{pattern.replace('{year}', str(note.date.year))}"
        with self._transaction(lock=True) as cursor:
            cursor.execute(self._sql("SELECT MAX(number) FROM issued WHERE series = ?"),
                           (series,))
            number = (cursor.fetchone()[0] or 0) + 1
            reference = pattern.replace("{number}", str(number)).replace(
                "{year}", str(note.date.year))
            numbered = replace(case, note=note.model_copy(update={"reference": reference}))
            pdf = render_pdf(numbered, options=options)
            records = rendered_records(numbered, options)
            entry = Entry(
                reference=reference, series=series, number=number,
                note_date=note.date.isoformat(), sender=note.sender, addressee=note.addressee,
                subject=note.subject, language=str(options.lang),
                note_type=options.note_type.value if options.note_type else note.type.value,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                records_sha256=hashlib.sha256(records).hexdigest(), issued_by=issued_by,
                issued_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"))
            cursor.execute(self._sql(
                f"INSERT INTO issued ({', '.join(_COLUMNS)}, records) "
                f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"),
                (*(getattr(entry, column) for column in _COLUMNS), records.decode("utf-8")))
        logger.info("issued %s (%s)", reference, series)
        return entry, pdf

    def cancel(self, reference: str, *, reason: str, cancelled_by: str,
               now: dt.datetime | None = None) -> None:
        """Mark ``reference`` cancelled; its number stays taken.

        :raises RegisterError: if no such note was issued, or it is cancelled already.
        """
        with self._transaction(lock=True) as cursor:
            if self._get(cursor, reference) is None:
                raise RegisterError(f"no issued note {reference!r} in {self.url}")
            cursor.execute(self._sql("SELECT 1 FROM cancelled WHERE reference = ?"),
                           (reference,))
            if cursor.fetchone() is not None:
                raise RegisterError(f"{reference!r} is cancelled already")
            cursor.execute(self._sql(
                "INSERT INTO cancelled (reference, reason, cancelled_by, cancelled_at) "
                "VALUES (?, ?, ?, ?)"),
                (reference, reason, cancelled_by,
                 (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")))

    # Reading.

    def _get(self, cursor: Any, reference: str) -> Entry | None:
        cursor.execute(self._sql(
            f"SELECT {', '.join('i.' + c for c in _COLUMNS)}, c.reason FROM issued i "
            "LEFT JOIN cancelled c ON c.reference = i.reference WHERE i.reference = ?"),
            (reference,))
        row = cursor.fetchone()
        return Entry(*row) if row else None

    def show(self, reference: str) -> Entry:
        """The entry of ``reference``.

        :raises RegisterError: if no such note was issued.
        """
        with self._transaction() as cursor:
            entry = self._get(cursor, reference)
        if entry is None:
            raise RegisterError(f"no issued note {reference!r} in {self.url}")
        return entry

    def records(self, reference: str) -> bytes:
        """The records ``reference`` was rendered from (they render to it again)."""
        self.show(reference)
        with self._transaction() as cursor:
            cursor.execute(self._sql("SELECT records FROM issued WHERE reference = ?"),
                           (reference,))
            return str(cursor.fetchone()[0]).encode("utf-8")

    def find(self, *, subject: str | None = None, addressee: str | None = None,
             since: dt.date | None = None, until: dt.date | None = None) -> list[Entry]:
        """Issued notes, oldest first, about ``subject``, to ``addressee``, or
        dated between ``since`` and ``until`` (inclusive)."""
        conditions, values = [], []
        for column, value in (("i.subject", subject), ("i.addressee", addressee)):
            if value is not None:
                conditions.append(f"{column} = ?")
                values.append(value)
        if since is not None:
            conditions.append("i.note_date >= ?")
            values.append(since.isoformat())
        if until is not None:
            conditions.append("i.note_date <= ?")
            values.append(until.isoformat())
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with self._transaction() as cursor:
            cursor.execute(self._sql(
                f"SELECT {', '.join('i.' + c for c in _COLUMNS)}, c.reason FROM issued i "
                f"LEFT JOIN cancelled c ON c.reference = i.reference {where} "
                "ORDER BY i.id"), values)
            return [Entry(*row) for row in cursor.fetchall()]

    def identify(self, pdf: bytes) -> tuple[Entry, bool] | None:
        """The issued note ``pdf`` begins with, and whether it is exactly that
        note (``False``: bytes were added after it, as a signature adds them);
        ``None`` if it begins with no note of the register."""
        whole = hashlib.sha256(pdf).hexdigest()
        digests = {whole}
        for match in re.finditer(rb"%%EOF\r?\n?", pdf):
            digests.add(hashlib.sha256(pdf[:match.end()]).hexdigest())
        marks = ", ".join("?" * len(digests))
        with self._transaction() as cursor:
            cursor.execute(self._sql(f"SELECT reference, pdf_sha256 FROM issued WHERE "
                                     f"pdf_sha256 IN ({marks})"), sorted(digests))
            row = cursor.fetchone()
            entry = self._get(cursor, row[0]) if row else None
        return (entry, row[1] == whole) if entry is not None and row else None

    def check(self, pdf: bytes) -> IssueCheck:
        """Whether ``pdf`` is a note of this register, unaltered: the very
        bytes issued, or those bytes followed only by intact, valid
        signatures that each cover the whole file (a note signed after
        issue). The rule the command line and the service both apply."""
        from .verify import verify_pdf

        found = self.identify(pdf)
        if found is None:
            return IssueCheck(None, False, "not an issued note, or altered since")
        entry, exact = found
        if not exact:  # bytes after the issued note: only intact signatures may add them
            signatures = verify_pdf(pdf).signatures
            if not signatures or not all(s.intact and s.valid and s.whole_file
                                         for s in signatures):
                return IssueCheck(entry, False, (
                    f"begins with issued note {entry.reference}, but bytes were added after "
                    "it that are not an intact signature"))
        state = f" (cancelled: {entry.cancelled})" if entry.cancelled else ""
        signed = "" if exact else ", signed after issue"
        return IssueCheck(entry, True, (
            f"issued note {entry.reference} of {entry.note_date}, issued by {entry.issued_by} "
            f"at {entry.issued_at}, unaltered{signed}{state}"))


def open_register(url: str | Path) -> Register:
    """Open (creating or migrating) the register at ``url``.

    :raises RegisterError: if it cannot be opened.
    """
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise RegisterError("a PostgreSQL register needs psycopg: install notegen with "
                                "its postgres extra") from None
        try:
            shared = psycopg.connect(text, autocommit=True)
        except psycopg.Error as exc:
            raise RegisterError(f"cannot open the register {text}: {exc}") from None
        return Register(text, shared, postgres=True)
    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    try:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        raise RegisterError(f"cannot open the register {path}: {exc}") from None
    return Register(str(path), connection, postgres=False)
