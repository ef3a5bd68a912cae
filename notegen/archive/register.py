"""The register of issued notes: gap-free numbers and an append-only log.

``issue`` takes the next number of the sender's series, renders the final
PDF with it and records the note, all in one transaction: a number is taken
only together with its issued record, so a crash mid-issue leaves neither a
gap nor a duplicate. Issuing is serialised per register (a lock held while
the note renders, a fraction of a second). Nothing is ever updated or
deleted: cancelling a note appends a cancellation, and the number stays
taken.

The database itself keeps the log append-only, against any of its users and
not only against notegen: triggers refuse every UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE) of the log, and refuse an INSERT that is not the next
entry: a note whose number is not exactly the next of its series, whose
reference its series has already, or a second cancellation of a note (so
SQLite's ``REPLACE`` and PostgreSQL's ``ON CONFLICT`` cannot rewrite an
entry either). On PostgreSQL, notegen should run as a role that may only
SELECT and INSERT and does not own the tables, so it cannot disable the
triggers (see :meth:`Register.grant`).

Every entry of the log (issued notes and cancellations, in one sequence
numbered by ``position`` from 1) carries a link of a hash chain::

    chain = sha256(previous entry's chain (64 hex digits; 64 zeros for the first)
                   + canonical content)

where the canonical content is the entry's fields as JSON with sorted keys,
no spaces and ASCII escapes, plus ``"log": "issued"``, ``"cancelled"`` or ``"reply"``
(an issued note's records are covered by ``records_sha256``).
:meth:`Register.audit` walks the log, recomputes every link and reports the
first that is broken; the head of the chain it reports, noted down outside
the database, also shows later whether the log was rewritten as a whole.

References are unique per series (per sender): two senders with the same
reference pattern each have their own "SRE/1/2024". A lookup by reference
that two senders share needs the sender.

Replies (schema 3): the other side's answer to an issued note is an entry
of the log too (``"log": "reply"``), appended by :meth:`Register.reply`;
a file given with it (the reply's scan, a PDF) is kept in the database
beside the log, by its SHA-256, which the chained entry holds, so that one
backup and one audit cover both. A cancelled note takes no reply. What a
note recalls of earlier notes and their replies is
:meth:`Register.history` (see :mod:`.history`).

The history index (schema 4): for each issued note, one row per incident
it protested (its subject and chronology, as its records say), so that
:meth:`Register.history` reads the notes about a note's incidents by index
whatever the size of the register. It is written with the note, in the
same transaction; the database refuses to change it, or to add to it for any
note but the log's last entry; the audit checks it against the records.

A register is an SQLite file (``sqlite:///path`` or a plain path) or a
PostgreSQL database (``postgresql://…``, with the ``postgres`` extra). Its
schema is versioned and migrated forward on opening, one opener at a time
(an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). Every
database error becomes a :class:`~notegen.errors.RegisterError` saying which
register refused what, in a plain sentence.

Under contention a writer waits its turn, for at most ``wait`` seconds
(:func:`open_register`; the ``register_wait`` setting, 30 by default). It
says once, after :data:`BUSY_NOTICE` seconds, that the register is busy and
it is waiting (a warning in the log); at the deadline it gives up with a
:class:`RegisterError` saying the register is busy and how long it waited.
Nothing is written then, so no number is taken or lost. On SQLite the
writers queue on a lock file beside the register (the kernel hands it on,
in turn) and SQLite's own busy timeout covers the rest of the deadline; on
PostgreSQL, on an advisory lock under ``lock_timeout``, and a transaction
the server aborts as a serialization failure or deadlock is run again
within the same deadline.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import Problem, RecordError, RegisterBusy, RegisterError
from ..options import RenderOptions, settle
from ..records.case import Case, load_case_data
from ..records.models import Profile, RecalledNote
from ..render.pdf import render_pdf, rendered_records
from .history import IssuedNote, ReplyRow, protested, recalled

logger = logging.getLogger(__name__)

#: PostgreSQL advisory lock keys ("notegen" and 1 or 2): one writer at a
#: time, one migration at a time. Taking them needs no privilege.
_WRITES = 0x6E6F746567656E01
_MIGRATION = 0x6E6F746567656E02

#: Seconds a writer waits before it says (once) that the register is busy.
BUSY_NOTICE = 2.0

#: The chain value before the first entry.
GENESIS = "0" * 64

_APPEND_ONLY = "the register is append-only"


def _v1_append_only(register: Register, cursor: Any) -> None:
    """Schema 1's guard: refuse UPDATE and DELETE (only)."""
    for table in ("issued", "cancelled"):
        if register._postgres:
            cursor.execute(f"""CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'the register is append-only: {table} rows are '
                'never changed'; END $$ LANGUAGE plpgsql""")
            cursor.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE
                ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
            continue
        message = f"the register is append-only: {table} rows are never changed"
        for action in ("update", "delete"):
            cursor.execute(f"""CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()}
                ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END""")


#: One migration step: a statement (``{serial}`` and ``{integer}`` are
#: filled in per dialect) or a function of the register and a cursor.
Step = str | Callable[["Register", Any], None]


def _to_v2(register: Register, cursor: Any) -> None:
    """Schema 2 (see the module's docstring): the log in one sequence with a
    hash chain, references unique per series, and guards against every kind
    of write. Rebuilds the tables: the rows of schema 1 are copied, issued
    notes first (in the order they were issued), then their cancellations,
    and chained as they go."""
    postgres = register._postgres
    for table in ("issued", "cancelled"):
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_v1")
    integer = "BIGINT" if postgres else "INTEGER"
    cursor.execute(f"""CREATE TABLE issued (
        position {integer} NOT NULL,
        series TEXT NOT NULL,
        number INTEGER NOT NULL,
        reference TEXT NOT NULL,
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
        chain TEXT NOT NULL CHECK (length(chain) = 64),
        CONSTRAINT issued_log_position PRIMARY KEY (position),
        CONSTRAINT issued_series_number UNIQUE (series, number),
        CONSTRAINT issued_series_reference UNIQUE (series, reference))""")
    cursor.execute(f"""CREATE TABLE cancelled (
        position {integer} NOT NULL,
        series TEXT NOT NULL,
        reference TEXT NOT NULL,
        reason TEXT NOT NULL,
        cancelled_by TEXT NOT NULL,
        cancelled_at TEXT NOT NULL,
        chain TEXT NOT NULL CHECK (length(chain) = 64),
        CONSTRAINT cancelled_log_position PRIMARY KEY (position),
        CONSTRAINT cancelled_series_reference UNIQUE (series, reference),
        CONSTRAINT cancelled_of_issued FOREIGN KEY (series, reference)
            REFERENCES issued (series, reference))""")
    head = GENESIS
    position = 0
    cursor.execute(f"SELECT {', '.join(_COLUMNS)}, records FROM issued_v1 ORDER BY id")
    for row in cursor.fetchall():
        position += 1
        fields = dict(zip(_COLUMNS, row[:-1], strict=True))
        head = register._append(cursor, "issued", position, head, fields, row[-1])
    cursor.execute("SELECT i.series, c.reference, c.reason, c.cancelled_by, c.cancelled_at "
                   "FROM cancelled_v1 c JOIN issued_v1 i ON i.reference = c.reference "
                   "ORDER BY c.id")
    for row in cursor.fetchall():
        position += 1
        head = register._append(cursor, "cancelled", position, head,
                                dict(zip(_CANCELLED, row, strict=True)))
    cursor.execute("DROP TABLE cancelled_v1")
    cursor.execute("DROP TABLE issued_v1")
    for column, name in (("subject", "subject"), ("addressee", "addressee"),
                         ("note_date", "date")):
        cursor.execute(f"CREATE INDEX issued_{name} ON issued ({column})")
    cursor.execute("CREATE INDEX issued_pdf ON issued (pdf_sha256)")
    cursor.execute("CREATE INDEX issued_reference ON issued (reference)")
    (_pg_guards if postgres else _sqlite_guards)(cursor)
    if position:
        logger.info("register %s: %d entries of schema 1 chained", register._shown, position)


#: The next position of the log, as SQL.
_NEXT_POSITION = ("{greatest}(COALESCE((SELECT MAX(position) FROM issued), 0), "
                  "COALESCE((SELECT MAX(position) FROM cancelled), 0)) + 1")
_NEXT_NUMBER = "(SELECT COALESCE(MAX(number), 0) + 1 FROM issued WHERE series = NEW.series)"

#: The insert guards: (table, condition that refuses, why), in both dialects.
_GUARDS = (
    ("issued", f"NEW.position IS DISTINCT FROM {_NEXT_POSITION}",
     "an entry takes the next position of the log"),
    ("issued", f"NEW.number IS DISTINCT FROM {_NEXT_NUMBER}",
     "a note takes the next number of its series, no gap and no reuse"),
    ("issued", "EXISTS (SELECT 1 FROM issued WHERE series = NEW.series "
               "AND reference = NEW.reference)",
     "its series has this reference already"),
    ("cancelled", f"NEW.position IS DISTINCT FROM {_NEXT_POSITION}",
     "an entry takes the next position of the log"),
    ("cancelled", "NOT EXISTS (SELECT 1 FROM issued WHERE series = NEW.series "
                  "AND reference = NEW.reference)",
     "only an issued note can be cancelled"),
    ("cancelled", "EXISTS (SELECT 1 FROM cancelled WHERE series = NEW.series "
                  "AND reference = NEW.reference)",
     "a note is cancelled once, and its cancellation stays"),
    ("notegen_schema", "NEW.version IS DISTINCT FROM "
                       "(SELECT COALESCE(MAX(version), 0) + 1 FROM notegen_schema)",
     "schema versions follow one another"),
)
_TABLES = ("issued", "cancelled", "notegen_schema")


def _sqlite_guards(cursor: Any, guards: tuple[tuple[str, str, str], ...] = _GUARDS,
                   tables: tuple[str, ...] = _TABLES) -> None:
    """SQLite: BEFORE triggers. REPLACE deletes a conflicting row without
    firing DELETE triggers (unless recursive_triggers is on), so the insert
    guards refuse any insert that could conflict in the first place."""
    for table in tables:
        for action in ("update", "delete"):
            cursor.execute(f"""CREATE TRIGGER {table}_refuse_{action} BEFORE {action.upper()}
                ON {table} BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}: {table} rows are never
                {action}d'); END""".replace("\n                ", " "))
        checks = "\n".join(
            f"SELECT RAISE(ABORT, '{_APPEND_ONLY}: {why}') WHERE "
            f"{condition.format(greatest='MAX').replace('IS DISTINCT FROM', 'IS NOT')};"
            for guarded, condition, why in guards if guarded == table)
        cursor.execute(f"CREATE TRIGGER {table}_insert_guard BEFORE INSERT ON {table} "
                       f"BEGIN {checks} END")


def _pg_guards(cursor: Any, guards: tuple[tuple[str, str, str], ...] = _GUARDS,
               tables: tuple[str, ...] = _TABLES, refuse: bool = True) -> None:
    """PostgreSQL: statement triggers refusing UPDATE, DELETE and TRUNCATE
    (they fire even when no row is touched, and for ``ON CONFLICT DO
    UPDATE``), and row triggers guarding inserts, which first take the
    writers' lock so that an insert outside notegen is serialised too.
    ``refuse``: make the refusing function too (a later schema's guards
    use the one made before)."""
    if refuse:
        cursor.execute(f"""CREATE FUNCTION notegen_refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY}: % rows are never changed (% refused)',
                TG_TABLE_NAME, TG_OP; END $$ LANGUAGE plpgsql""")
    for table in tables:
        cursor.execute(f"""CREATE TRIGGER {table}_refuse BEFORE UPDATE OR DELETE OR TRUNCATE
            ON {table} FOR EACH STATEMENT EXECUTE FUNCTION notegen_refuse()""")
        checks = "\n".join(
            f"IF {condition.format(greatest='GREATEST')} THEN RAISE EXCEPTION "
            f"'{_APPEND_ONLY}: {why}'; END IF;"
            for guarded, condition, why in guards if guarded == table)
        cursor.execute(f"""CREATE FUNCTION {table}_insert_guard() RETURNS trigger AS $$
            BEGIN PERFORM pg_advisory_xact_lock({_WRITES}); {checks} RETURN NEW; END
            $$ LANGUAGE plpgsql""")
        cursor.execute(f"""CREATE TRIGGER {table}_insert_guard BEFORE INSERT ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_insert_guard()""")
    cursor.execute("DROP FUNCTION IF EXISTS issued_append_only() CASCADE")
    cursor.execute("DROP FUNCTION IF EXISTS cancelled_append_only() CASCADE")


#: The largest file a reply may carry, in bytes.
MAX_REPLY_FILE = 20 * 1024 * 1024
#: The longest summary of a reply, in characters.
MAX_SUMMARY = 4000

_LOG = ("issued", "cancelled", "replies")
_NEXT_POSITION_V3 = ("{greatest}(" + ", ".join(
    f"COALESCE((SELECT MAX(position) FROM {table}), 0)" for table in _LOG) + ") + 1")
#: Schema 3's insert guards: schema 2's, with replies in the log's positions.
_GUARDS_V3 = (
    *((table, condition.replace(_NEXT_POSITION, _NEXT_POSITION_V3), why)
      for table, condition, why in _GUARDS),
    ("replies", f"NEW.position IS DISTINCT FROM {_NEXT_POSITION_V3}",
     "an entry takes the next position of the log"),
    ("replies", "NOT EXISTS (SELECT 1 FROM issued WHERE series = NEW.series "
                "AND reference = NEW.reference)",
     "a reply answers an issued note"),
    ("replies", "EXISTS (SELECT 1 FROM cancelled WHERE series = NEW.series "
                "AND reference = NEW.reference)",
     "a cancelled note takes no reply"),
    ("replies", "NEW.file_sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reply_files "
                "WHERE sha256 = NEW.file_sha256)",
     "the file of a reply is stored before the reply"),
    ("reply_files", "EXISTS (SELECT 1 FROM reply_files WHERE sha256 = NEW.sha256)",
     "a file is stored once"),
)
_TABLES_V3 = ("issued", "cancelled", "replies", "reply_files", "notegen_schema")


def _to_v3(register: Register, cursor: Any) -> None:
    """Schema 3: replies in the log, and the files they carry. The log of
    schema 2 stays as it is (its chain holds); the guards are made again so
    that the log's next position counts replies too."""
    postgres = register._postgres
    integer, blob = ("BIGINT", "BYTEA") if postgres else ("INTEGER", "BLOB")
    cursor.execute(f"""CREATE TABLE reply_files (
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        size {integer} NOT NULL,
        content {blob} NOT NULL,
        CONSTRAINT reply_files_sha256 PRIMARY KEY (sha256))""")
    cursor.execute(f"""CREATE TABLE replies (
        position {integer} NOT NULL,
        series TEXT NOT NULL,
        reference TEXT NOT NULL,
        received TEXT NOT NULL,
        their_reference TEXT,
        summary TEXT,
        file_sha256 TEXT,
        file_size {integer},
        unsatisfactory INTEGER NOT NULL CHECK (unsatisfactory IN (0, 1)),
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        chain TEXT NOT NULL CHECK (length(chain) = 64),
        CONSTRAINT replies_log_position PRIMARY KEY (position),
        CONSTRAINT replies_of_issued FOREIGN KEY (series, reference)
            REFERENCES issued (series, reference),
        CONSTRAINT replies_file FOREIGN KEY (file_sha256) REFERENCES reply_files (sha256))""")
    cursor.execute("CREATE INDEX replies_note ON replies (series, reference)")
    if postgres:
        cursor.execute("DROP FUNCTION notegen_refuse() CASCADE")
        for table in _TABLES:
            cursor.execute(f"DROP FUNCTION {table}_insert_guard() CASCADE")
        _pg_guards(cursor, _GUARDS_V3, _TABLES_V3)
        return
    for table in _TABLES:
        for trigger in ("refuse_update", "refuse_delete", "insert_guard"):
            cursor.execute(f"DROP TRIGGER {table}_{trigger}")
    _sqlite_guards(cursor, _GUARDS_V3, _TABLES_V3)


#: The position of the log's last entry, as SQL.
_LAST_POSITION = ("{greatest}(" + ", ".join(
    f"COALESCE((SELECT MAX(position) FROM {table}), 0)" for table in _LOG) + ")")
#: Schema 4's insert guard: the incidents a note protested are indexed with
#: the note, while it is the log's last entry.
_GUARDS_V4 = (
    ("issued_incidents", "NOT EXISTS (SELECT 1 FROM issued WHERE series = NEW.series AND "
                         f"reference = NEW.reference AND position = {_LAST_POSITION})",
     "the incidents a note protested are recorded with the note"),
)
_TABLES_V4 = (*_TABLES_V3, "issued_incidents")
#: Notes whose records one step of the migration to schema 4 reads at a time.
_INDEX_BATCH = 200


def _to_v4(register: Register, cursor: Any) -> None:
    """Schema 4: the history index, one row per issued note and incident it
    protested (see the module's docstring), filled from the records of the
    notes issued so far, a batch at a time; then guarded like the log."""
    cursor.execute("""CREATE TABLE issued_incidents (
        series TEXT NOT NULL,
        reference TEXT NOT NULL,
        incident TEXT NOT NULL,
        CONSTRAINT issued_incidents_key PRIMARY KEY (incident, series, reference),
        CONSTRAINT issued_incidents_of_issued FOREIGN KEY (series, reference)
            REFERENCES issued (series, reference))""")
    after, indexed = 0, 0
    while True:
        cursor.execute(register._sql("SELECT position, series, reference, records FROM issued "
                                     "WHERE position > ? ORDER BY position LIMIT ?"),
                       (after, _INDEX_BATCH))
        rows = cursor.fetchall()
        if not rows:
            break
        for _, series, reference, records in rows:
            register._index(cursor, str(series), str(reference), protested(str(records)))
        after, indexed = int(rows[-1][0]), indexed + len(rows)
    if register._postgres:
        _pg_guards(cursor, _GUARDS_V4, ("issued_incidents",), refuse=False)
    else:
        _sqlite_guards(cursor, _GUARDS_V4, ("issued_incidents",))
    if indexed:
        logger.info("register %s: the incidents of %d issued notes indexed", register._shown,
                    indexed)


#: Schema migrations, in order; the register records the last one applied.
_MIGRATIONS: tuple[tuple[Step, ...], ...] = (
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
        _v1_append_only,
    ),
    (_to_v2,),
    (_to_v3,),
    (_to_v4,),
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
class Reply:
    """The other side's answer to an issued note, as the register holds it."""

    #: The issued note it answers, and that note's series.
    reference: str
    series: str
    #: When it was received (ISO date).
    received: str
    #: Its own number, if it is a note.
    their_reference: str | None
    #: What it says, in a few words (kept in the register only).
    summary: str | None
    #: The SHA-256 and size of the file recorded with it (its scan), if any.
    file_sha256: str | None
    file_size: int | None
    #: Whether the sender found its explanations unsatisfactory.
    unsatisfactory: bool
    recorded_by: str
    recorded_at: str
    #: Its position in the log.
    position: int


@dataclass(frozen=True)
class IssueCheck:
    """What :meth:`Register.check` found for a PDF."""

    #: The issued note the PDF begins with, if any.
    entry: Entry | None
    #: Whether the PDF is that note unaltered (or only signed since).
    issued: bool
    #: The verdict in a sentence.
    finding: str


@dataclass(frozen=True)
class Audit:
    """What :meth:`Register.audit` found walking the log."""

    #: Whether every link of the chain holds and the log has no gap.
    intact: bool
    #: The entries (issued notes and cancellations) checked.
    entries: int
    #: The chain value of the last entry checked that holds (``GENESIS`` for none).
    head: str
    #: The verdict in a sentence: the first broken link, located, if any.
    finding: str
    #: The position of the first broken entry, if any.
    position: int | None = None


_COLUMNS = ("reference", "series", "number", "note_date", "sender", "addressee", "subject",
            "language", "note_type", "pdf_sha256", "records_sha256", "issued_by", "issued_at")
_CANCELLED = ("series", "reference", "reason", "cancelled_by", "cancelled_at")
_REPLIES = ("series", "reference", "received", "their_reference", "summary", "file_sha256",
            "file_size", "unsatisfactory", "recorded_by", "recorded_at")
_ENTRY = (f"SELECT {', '.join('i.' + c for c in _COLUMNS)}, c.reason FROM issued i "
          "LEFT JOIN cancelled c ON c.series = i.series AND c.reference = i.reference")


def link(previous: str, kind: str, fields: dict[str, Any]) -> str:
    """The chain value of an entry of the log (``kind`` "issued",
    "cancelled" or "reply") whose ``fields`` include its position, after ``previous``."""
    content = json.dumps({"log": kind, **fields}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=True)
    return hashlib.sha256((previous + content).encode("ascii")).hexdigest()


def _entry_of(kind: str, row: Any) -> tuple[str, dict[str, Any], bytes | None, str]:
    """An entry of the log as the audit reads it (position, the columns,
    for an issued note its records, then the chain value): its kind, its
    chained fields, its records, its chain value."""
    names = ("position", *{"issued": _COLUMNS, "cancelled": _CANCELLED,
                           "reply": _REPLIES}[kind])
    fields = dict(zip(names, row[:len(names)], strict=True))
    fields["position"] = int(fields["position"])
    for number in ("file_size", "unsatisfactory"):
        if fields.get(number) is not None:
            fields[number] = int(fields[number])
    records = str(row[len(names)]).encode("utf-8") if kind == "issued" else None
    return kind, fields, records, str(row[-1])


def _reply_of(row: Any) -> Reply:
    """A reply from its row: the columns of ``_REPLIES``, then its position."""
    fields = dict(zip(_REPLIES, row, strict=False))
    return Reply(**{**fields, "file_size": None if fields["file_size"] is None
                    else int(fields["file_size"]),
                    "unsatisfactory": bool(fields["unsatisfactory"])},
                 position=int(row[len(_REPLIES)]))


def _shown(url: str) -> str:
    """``url`` without its password, fit for a message."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", url)


class _Conflict(RegisterError):
    """PostgreSQL aborted a transaction as a serialization failure or a
    deadlock: it is run again, within the register's wait."""


def _is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says another writer holds the register."""
    if type(exc).__name__ in ("LockNotAvailable", "QueryCanceled"):
        return True
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc) for word in ("database is locked", "database is busy",
                                      "database table is locked"))


#: Database errors in a plain sentence: (words of the error, the sentence).
_PLAIN = (
    ("disk i/o error", "its file could not be read or written (disk I/O error): check the "
                       "disk and the file system"),
    ("readonly database", "its file may not be written (read-only file, folder or file "
                          "system): give notegen write access to it and its folder"),
    ("unable to open database", "its file cannot be opened: check the path and the "
                                "folder's permissions"),
    ("file is not a database", "the file is not an SQLite database"),
    ("malformed", "its file is damaged: restore it from a backup, then run "
                  "`notegen register audit`"),
    ("no such table", "it lacks the register's tables (damaged, or not a notegen register)"),
    ("does not exist", "a table, column or database it needs does not exist (not a "
                       "notegen register, or the wrong database)"),
    ("connection refused", "the database server cannot be reached (connection refused): "
                           "is it running, on this host and port?"),
    ("password authentication failed", "the database server refused the credentials "
                                        "(password authentication failed)"),
    ("no password supplied", "the database server wants a password, and the URL gives "
                             "none"),
    ("permission denied", "the database refused the role the permission"),
    ("terminating connection", "the database server closed the connection"),
    ("server closed the connection", "the database server closed the connection"),
    ("the connection is closed", "the connection to the database server is closed"),
    ("timeout expired", "the database server did not answer in time"),
)


def _plain(exc: BaseException) -> str:
    """``exc`` as a plain sentence, with the database's own first line."""
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    lowered = str(exc).lower()
    for words, sentence in _PLAIN:
        if words in lowered:
            return detail if sentence in detail else f"{sentence} ({detail})"
    return detail


def _busy_error(shown: str, what: str, waited: float) -> RegisterError:
    return RegisterBusy(
        f"the register {shown} is busy: {what} waited {waited:.0f} s for another writer "
        "to finish and gave up (the wait is the register_wait setting, "
        "NOTEGEN_REGISTER_WAIT); nothing was written, so no number was taken")


def _notice(shown: str, what: str, deadline: float) -> None:
    """Say once that the register is busy and this is waiting."""
    logger.warning("the register %s is busy: %s waits for another writer, for up to "
                   "%.0f s more", shown, what, max(0.0, deadline - time.monotonic()))


class Register:
    """An open register. Use :func:`open_register`; close it, or use ``with``."""

    def __init__(self, url: str, connection: Any, postgres: bool, wait: float = 30.0) -> None:
        self.url = url
        #: Seconds a writer waits for its turn before giving up.
        self.wait = wait
        self._shown = _shown(url)
        self._connection = connection
        self._postgres = postgres
        errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        if postgres:
            import psycopg

            errors = (psycopg.Error,)
        self._errors = errors
        try:
            self._migrate()
        except BaseException:
            with suppress(*errors):
                connection.close()
            raise

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._connection.close()
        except self._errors as exc:
            raise self._refused("closing", exc) from None

    # The two dialects differ in little: placeholders, how a writer takes
    # the lock, and the guards' triggers.

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def _refused(self, what: str, exc: Exception) -> RegisterError:
        if type(exc).__name__ in ("SerializationFailure", "DeadlockDetected"):
            return _Conflict(f"the register {self._shown} refused {what}: {_plain(exc)}")
        if _is_busy(exc):
            return self._busy(what, self.wait)
        return RegisterError(f"the register {self._shown} refused {what}: {_plain(exc)}")

    def _busy(self, what: str, waited: float) -> RegisterError:
        return _busy_error(self._shown, what, waited)

    @contextmanager
    def _transaction(self, what: str, lock: int | None = None,
                     deadline: float | None = None) -> Iterator[Any]:
        """A transaction doing ``what`` (for messages); with ``lock`` (an
        advisory lock key; on SQLite, any), one no other writer runs beside,
        waited for until ``deadline`` (``time.monotonic()``; default: the
        register's wait from now). A database error becomes a
        :class:`RegisterError`."""
        if deadline is None:
            deadline = time.monotonic() + self.wait
        try:
            if self._postgres:
                with self._connection.transaction(), self._connection.cursor() as cursor:
                    if lock is not None:
                        self._pg_lock(cursor, lock, what, deadline)
                    # Any other lock waited for (a table locked outside
                    # notegen) is waited for until the deadline too.
                    left = max(1, int((deadline - time.monotonic()) * 1000))
                    cursor.execute(f"SET LOCAL lock_timeout = {left}")
                    yield cursor
                return
            if lock is None:
                with self._sqlite_transaction("BEGIN", deadline, what) as cursor:
                    yield cursor
                return
            with _writers_lock(Path(self.url), self._shown, what, deadline), \
                    self._sqlite_transaction("BEGIN IMMEDIATE", deadline, what) as cursor:
                yield cursor
        except self._errors as exc:
            raise self._refused(what, exc) from None

    def _pg_lock(self, cursor: Any, lock: int, what: str, deadline: float) -> None:
        """PostgreSQL: take the advisory lock ``lock`` for the transaction,
        waiting in the server's queue until ``deadline``; say once, after
        :data:`BUSY_NOTICE` seconds, that the register is busy."""
        from psycopg import errors

        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock,))
        if cursor.fetchone()[0]:
            return
        started = time.monotonic()
        noticed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._busy(what, time.monotonic() - started)
            step = left if noticed else min(left, BUSY_NOTICE)
            cursor.execute("SAVEPOINT notegen_wait")
            cursor.execute(f"SET LOCAL lock_timeout = {max(1, int(step * 1000))}")
            try:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            except errors.LockNotAvailable:
                cursor.execute("ROLLBACK TO SAVEPOINT notegen_wait")
                if not noticed:
                    _notice(self._shown, what, deadline)
                    noticed = True
                continue
            cursor.execute("RELEASE SAVEPOINT notegen_wait")
            return

    def _retrying(self, what: str) -> Iterator[float]:
        """The deadline of one attempt at a write, for as long as PostgreSQL
        aborts the attempts as serialization failures or deadlocks and the
        register's wait lasts (the caller stops at the first that succeeds)."""
        deadline = time.monotonic() + self.wait
        while True:
            yield deadline
            if time.monotonic() >= deadline:
                raise self._busy(what, self.wait)
            logger.debug("register %s: %s runs again after a serialization failure",
                         self._shown, what)

    @contextmanager
    def _sqlite_transaction(self, begin: str, deadline: float, what: str) -> Iterator[Any]:
        cursor = self._connection.cursor()
        try:
            # SQLite's own busy handler waits out the rest of the deadline
            # (a writer outside notegen, a checkpoint, a reader in recovery),
            # saying once, after BUSY_NOTICE seconds, that it waits.
            started = time.monotonic()
            left = max(0.0, deadline - started)
            cursor.execute(f"PRAGMA busy_timeout = {max(1, int(min(left, BUSY_NOTICE) * 1000))}")
            try:
                cursor.execute(begin)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or left <= BUSY_NOTICE:
                    raise
                _notice(self._shown, what, deadline)
                left = max(0.0, deadline - time.monotonic())
                cursor.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
                try:
                    cursor.execute(begin)
                except sqlite3.OperationalError as again:
                    if _is_busy(again):
                        raise self._busy(what, time.monotonic() - started) from None
                    raise
            cursor.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
            try:
                yield cursor
            except BaseException:
                self._connection.rollback()
                raise
            self._connection.commit()
        finally:
            cursor.close()

    def _schema_version(self, cursor: Any) -> int:
        if self._postgres:
            # A scan of the catalogue, not to_regclass: that may answer from a
            # cache that does not yet know the table another opener just made.
            cursor.execute("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE "
                           "schemaname = current_schema() AND tablename = 'notegen_schema'")
        else:
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'notegen_schema'")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT MAX(version) FROM notegen_schema")
        return int(cursor.fetchone()[0] or 0)

    def _migrate(self) -> None:
        latest = len(_MIGRATIONS)
        with self._transaction("reading its schema version") as cursor:
            current = self._schema_version(cursor)
        if current > latest:
            raise RegisterError(f"the register {self._shown} has schema version {current}, "
                                f"newer than this notegen knows ({latest}): upgrade notegen")
        if current == latest:
            return
        what = (f"migrating its schema from version {current} to {latest} (on PostgreSQL "
                "only the role owning the register may; run `notegen register migrate` as "
                "that role)")
        with self._transaction(what, lock=_MIGRATION) as cursor:
            current = self._schema_version(cursor)  # another opener may have done it
            if current == 0:
                cursor.execute("CREATE TABLE IF NOT EXISTS notegen_schema "
                               "(version INTEGER NOT NULL)")
            for version, steps in enumerate(_MIGRATIONS[current:], start=current + 1):
                for step in steps:
                    if callable(step):
                        step(self, cursor)
                        continue
                    serial = ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if self._postgres
                              else "INTEGER PRIMARY KEY AUTOINCREMENT")
                    cursor.execute(step.replace("{serial}", serial))
                cursor.execute(self._sql("INSERT INTO notegen_schema (version) VALUES (?)"),
                               (version,))
                logger.info("register %s migrated to schema %d", self._shown, version)

    # Writing: every entry is appended at the next position, chained.

    def _head(self, cursor: Any) -> tuple[int, str]:
        """The last position of the log and its chain value."""
        last = (0, GENESIS)
        for table in _LOG:
            cursor.execute(f"SELECT position, chain FROM {table} ORDER BY position DESC LIMIT 1")
            row = cursor.fetchone()
            if row is not None and row[0] > last[0]:
                last = (int(row[0]), str(row[1]))
        return last

    def _append(self, cursor: Any, kind: str, position: int, previous: str,
                fields: dict[str, Any], records: str | None = None) -> str:
        """Insert an entry of the log; return its chain value."""
        chain = link(previous, kind, {"position": position, **fields})
        columns = ["position", *fields, "chain"]
        values: list[Any] = [position, *fields.values(), chain]
        if records is not None:
            columns.append("records")
            values.append(records)
        table = "replies" if kind == "reply" else kind
        cursor.execute(self._sql(f"INSERT INTO {table} ({', '.join(columns)}) "
                                 f"VALUES ({', '.join('?' * len(columns))})"), values)
        return chain

    def issue(self, case: Case, options: RenderOptions | None = None, *, issued_by: str,
              now: dt.datetime | None = None, recall: bool = False) -> tuple[Entry, bytes]:
        """Number, render and record the note of ``case``; return its entry and PDF.

        With ``recall`` (as ``notegen issue`` does), the note recalls the
        earlier notes the register holds about its incidents
        (:meth:`history`, read in the same transaction), unless its records
        give them; the records it is recorded and embedded with hold them.

        :raises RecordError: if the sender has no reference pattern, or the
            note already has a reference.
        :raises RegisterError: if the register refuses (the sender issued
            this reference already in another series of theirs).
        :raises NotegenError: for any render error (nothing is recorded).
        """
        pattern, series = _numbering(case)
        options = settle(case, options)
        what = f"issuing a note of series {series}"
        for deadline in self._retrying(what):
            try:
                entry, pdf = self._issue(case, options, series, pattern, issued_by, now, what,
                                         deadline, recall)
            except _Conflict:
                continue
            break
        logger.info("issued %s (%s)", entry.reference, series)
        return entry, pdf

    def _issue(self, case: Case, options: RenderOptions, series: str, pattern: str,
               issued_by: str, now: dt.datetime | None, what: str,
               deadline: float, recall: bool = False) -> tuple[Entry, bytes]:
        """One attempt at :meth:`issue`, in one transaction."""
        note = case.note
        with self._transaction(what, lock=_WRITES, deadline=deadline) as cursor:
            if recall and not note.recalled_notes:
                note = note.model_copy(update={"recalled_notes": self._history(cursor, case)})
                case = replace(case, note=note)
            cursor.execute(self._sql("SELECT MAX(number) FROM issued WHERE series = ?"),
                           (series,))
            number = (cursor.fetchone()[0] or 0) + 1
            reference = pattern.replace("{number}", str(number)).replace(
                "{year}", str(note.date.year))
            cursor.execute(self._sql("SELECT series FROM issued WHERE sender = ? AND "
                                     "reference = ?"), (note.sender, reference))
            clash = cursor.fetchone()
            if clash is not None:
                raise RegisterError(
                    f"{note.sender} issued {reference} already, in series {clash[0]}: its "
                    f"reference_pattern changed so that its references repeat; make the new "
                    f"pattern give references of its own")
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
            position, previous = self._head(cursor)
            text = records.decode("utf-8")
            self._append(cursor, "issued", position + 1, previous,
                         {column: getattr(entry, column) for column in _COLUMNS}, text)
            self._index(cursor, series, reference, protested(text))
        return entry, pdf

    def _index(self, cursor: Any, series: str, reference: str,
               incidents: tuple[str, ...]) -> None:
        """Index the ``incidents`` the note ``reference`` of ``series`` protested."""
        if incidents:
            cursor.executemany(self._sql("INSERT INTO issued_incidents (series, reference, "
                                         "incident) VALUES (?, ?, ?)"),
                               [(series, reference, incident) for incident in incidents])

    def cancel(self, reference: str, *, reason: str, cancelled_by: str,
               now: dt.datetime | None = None, sender: str | None = None) -> None:
        """Mark ``reference`` (of ``sender``, if two senders have it) cancelled;
        its number stays taken.

        :raises RegisterError: if no such note was issued, it is cancelled
            already, or two senders issued ``reference`` and ``sender`` is not given.
        """
        with self._transaction(f"cancelling {reference}", lock=_WRITES) as cursor:
            entry = self._lookup(cursor, reference, sender)
            if entry.cancelled is not None:
                raise RegisterError(f"{reference!r} is cancelled already")
            position, previous = self._head(cursor)
            self._append(cursor, "cancelled", position + 1, previous, {
                "series": entry.series, "reference": entry.reference, "reason": reason,
                "cancelled_by": cancelled_by,
                "cancelled_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")})
        logger.info("cancelled %s (%s)", reference, entry.series)

    def reply(self, reference: str, *, received: dt.date, recorded_by: str,
              their_reference: str | None = None, summary: str | None = None,
              file: bytes | None = None, unsatisfactory: bool = False,
              now: dt.datetime | None = None, sender: str | None = None) -> Reply:
        """Record the other side's answer to the issued note ``reference`` (of
        ``sender``, if two senders have it), received on ``received``: its
        own number, a summary, its file (a PDF, kept by its SHA-256, at most
        :data:`MAX_REPLY_FILE` bytes), and whether its explanations are
        unsatisfactory (a later note says so).

        :raises RegisterError: if no such note was issued, it is cancelled,
            the reply is dated before it or recorded already, or the file
            or summary is refused.
        """
        their_reference = (their_reference or "").strip() or None
        summary = (summary or "").strip() or None
        if summary is not None and (len(summary) > MAX_SUMMARY or "\x00" in summary):
            raise RegisterError(f"a reply's summary is at most {MAX_SUMMARY} characters of "
                                "text (a few words on what it says; keep the reply in its file)")
        if unsatisfactory and their_reference is None:
            raise RegisterError("a reply found unsatisfactory is named by its number: give "
                                "its reference (--reference)")
        digest = size = None
        if file is not None:
            if len(file) > MAX_REPLY_FILE:
                raise RegisterError(f"a reply's file is at most {MAX_REPLY_FILE // 2**20} MiB "
                                    f"(this one is {len(file) / 2**20:.1f} MiB)")
            if not file.startswith(b"%PDF-"):
                raise RegisterError("a reply's file is a PDF (it does not begin with %PDF-)")
            digest, size = hashlib.sha256(file).hexdigest(), len(file)
        what = f"recording a reply to {reference}"
        with self._transaction(what, lock=_WRITES) as cursor:
            entry = self._lookup(cursor, reference, sender)
            if entry.cancelled is not None:
                raise RegisterError(f"{entry.reference} of {entry.sender} is cancelled "
                                    f"({entry.cancelled}): a cancelled note takes no reply")
            if received.isoformat() < entry.note_date:
                raise RegisterError(f"a reply to {entry.reference} cannot be received on "
                                    f"{received.isoformat()}, before the note's date "
                                    f"{entry.note_date}")
            if their_reference is not None:
                cursor.execute(self._sql("SELECT position FROM replies WHERE series = ? AND "
                                         "reference = ? AND their_reference = ?"),
                               (entry.series, entry.reference, their_reference))
                if cursor.fetchone() is not None:
                    raise RegisterError(f"the reply {their_reference} to {entry.reference} is "
                                        "recorded already (the register keeps it as it was "
                                        "recorded)")
            if file is not None:
                cursor.execute(self._sql("SELECT 1 FROM reply_files WHERE sha256 = ?"),
                               (digest,))
                if cursor.fetchone() is None:
                    cursor.execute(self._sql("INSERT INTO reply_files (sha256, size, content) "
                                             "VALUES (?, ?, ?)"), (digest, size, file))
            position, previous = self._head(cursor)
            fields: dict[str, Any] = {
                "series": entry.series, "reference": entry.reference,
                "received": received.isoformat(), "their_reference": their_reference,
                "summary": summary, "file_sha256": digest, "file_size": size,
                "unsatisfactory": int(unsatisfactory), "recorded_by": recorded_by,
                "recorded_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")}
            self._append(cursor, "reply", position + 1, previous, fields)
        logger.info("recorded a reply to %s (%s)", entry.reference, entry.series)
        return Reply(**{**fields, "unsatisfactory": bool(unsatisfactory)},
                     position=position + 1)

    def replies(self, reference: str, *, sender: str | None = None) -> list[Reply]:
        """The replies recorded to ``reference`` (of ``sender``), in the order recorded.

        :raises RegisterError: if no such note was issued, or two senders did.
        """
        with self._transaction(f"reading the replies to {reference}") as cursor:
            entry = self._lookup(cursor, reference, sender)
            cursor.execute(self._sql(f"SELECT {', '.join(_REPLIES)}, position FROM replies "
                                     "WHERE series = ? AND reference = ? ORDER BY position"),
                           (entry.series, entry.reference))
            rows = cursor.fetchall()
        return [_reply_of(row) for row in rows]

    def reply_file(self, sha256: str) -> bytes:
        """The file recorded with a reply, by its SHA-256.

        :raises RegisterError: if the register holds no such file.
        """
        with self._transaction("reading a reply's file") as cursor:
            cursor.execute(self._sql("SELECT content FROM reply_files WHERE sha256 = ?"),
                           (sha256,))
            row = cursor.fetchone()
        if row is None:
            raise RegisterError(f"the register {self._shown} holds no reply file {sha256!r}")
        return bytes(row[0])

    def history(self, case: Case) -> list[RecalledNote]:
        """The earlier notes the note of ``case`` recalls: the sender's issued
        notes (not cancelled) that protested its subject or an incident of
        its chronology, dated on or before it, with the replies received by
        its date; for a note of the register, only what was recorded before it."""
        with self._transaction("reading the notes a note recalls") as cursor:
            return self._history(cursor, case)

    def with_history(self, case: Case) -> Case:
        """``case`` whose note recalls :meth:`history`, unless its records give
        the notes it recalls (an issued note's records keep what it recalled)."""
        if case.note.recalled_notes:
            return case
        history = self.history(case)
        if not history:
            return case
        return replace(case, note=case.note.model_copy(update={"recalled_notes": history}))

    def _history(self, cursor: Any, case: Case) -> list[RecalledNote]:
        """:meth:`history`, read by index: the notes that protested one of the
        note's incidents (the history index), and only the replies to them."""
        note = case.note
        day = note.date.isoformat()
        incidents = list(dict.fromkeys((note.subject, *note.earlier)))
        cursor.execute(self._sql(
            "SELECT i.position, i.series, i.reference, i.note_date, i.subject, c.position, "
            "x.incident FROM issued_incidents x JOIN issued i ON i.series = x.series AND "
            "i.reference = x.reference LEFT JOIN cancelled c ON c.series = i.series AND "
            f"c.reference = i.reference WHERE x.incident IN ({', '.join('?' * len(incidents))})"
            " AND i.sender = ? AND i.note_date <= ? ORDER BY i.position"),
            (*incidents, note.sender, day))
        rows: dict[int, tuple[Any, ...]] = {}
        protests: dict[int, list[str]] = {}
        for row in cursor.fetchall():
            rows.setdefault(int(row[0]), row)
            protests.setdefault(int(row[0]), []).append(str(row[6]))
        notes = [IssuedNote(position, str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                            tuple(protests[position]), None if row[5] is None else int(row[5]))
                 for position, row in rows.items()]
        by_series: dict[str, list[str]] = {}
        for issued in notes:
            by_series.setdefault(issued.series, []).append(issued.reference)
        replies: list[ReplyRow] = []
        for series, references in by_series.items():
            for start in range(0, len(references), _INDEX_BATCH):
                chunk = references[start:start + _INDEX_BATCH]
                cursor.execute(self._sql(
                    "SELECT position, series, reference, received, their_reference, "
                    "unsatisfactory FROM replies WHERE series = ? AND reference IN "
                    f"({', '.join('?' * len(chunk))}) AND received <= ?"),
                    (series, *chunk, day))
                replies += [ReplyRow(int(row[0]), str(row[1]), str(row[2]), str(row[3]),
                                     row[4], bool(row[5])) for row in cursor.fetchall()]
        replies.sort(key=lambda reply: reply.position)
        return recalled(note.subject, note.date, note.earlier, note.reference, notes, replies)

    # Reading.

    def next_reference(self, case: Case) -> tuple[str, str, int]:
        """The reference, series and number :meth:`issue` would give the note
        of ``case`` now, without taking it (another issuer may take it first).

        :raises RecordError: as :meth:`issue`, if the note cannot be numbered.
        """
        note = case.note
        pattern, series = _numbering(case)
        with self._transaction(f"reading the next number of series {series}") as cursor:
            cursor.execute(self._sql("SELECT MAX(number) FROM issued WHERE series = ?"),
                           (series,))
            number = int(cursor.fetchone()[0] or 0) + 1
        reference = pattern.replace("{number}", str(number)).replace(
            "{year}", str(note.date.year))
        return reference, series, number

    def _lookup(self, cursor: Any, reference: str, sender: str | None) -> Entry:
        """The one entry of ``reference`` (of ``sender``).

        :raises RegisterError: if there is none, or several.
        """
        if sender is None:
            cursor.execute(self._sql(f"{_ENTRY} WHERE i.reference = ? ORDER BY i.position"),
                           (reference,))
        else:
            cursor.execute(self._sql(f"{_ENTRY} WHERE i.reference = ? AND i.sender = ? "
                                     "ORDER BY i.position"), (reference, sender))
        entries = [Entry(*row) for row in cursor.fetchall()]
        if not entries:
            of = f" of sender {sender!r}" if sender is not None else ""
            raise RegisterError(f"no issued note {reference!r}{of} in {self._shown}")
        if len(entries) > 1:
            if sender is None:
                senders = ", ".join(sorted({entry.sender for entry in entries}))
                raise RegisterError(
                    f"{reference!r} was issued by {len(entries)} senders ({senders}): say "
                    f"which (--sender, or sender=)")
            series = ", ".join(entry.series for entry in entries)
            raise RegisterError(f"{sender} issued {reference!r} in {len(entries)} series "
                                f"({series}); the register cannot tell them apart by reference")
        return entries[0]

    def show(self, reference: str, *, sender: str | None = None) -> Entry:
        """The entry of ``reference`` (of ``sender``, if two senders have it).

        :raises RegisterError: if no such note was issued, or two senders
            issued ``reference`` and ``sender`` is not given.
        """
        with self._transaction(f"looking up {reference}") as cursor:
            return self._lookup(cursor, reference, sender)

    def records(self, reference: str, *, sender: str | None = None) -> bytes:
        """The records ``reference`` was rendered from (they render to it again)."""
        with self._transaction(f"reading the records of {reference}") as cursor:
            entry = self._lookup(cursor, reference, sender)
            cursor.execute(self._sql("SELECT records FROM issued WHERE series = ? AND "
                                     "reference = ?"), (entry.series, entry.reference))
            return str(cursor.fetchone()[0]).encode("utf-8")

    def pdf(self, reference: str, options: RenderOptions | None = None, *,
            sender: str | None = None) -> tuple[Entry, bytes]:
        """The issued note ``reference`` rendered again from the records the
        register keeps (with ``options``: template folders, PDF variant — as
        it was issued), checked to be the very PDF issued.

        :raises RegisterError: if it renders to other bytes than were issued.
        :raises NotegenError: if the records no longer render.
        """
        entry = self.show(reference, sender=sender)
        records = self.records(reference, sender=entry.sender)
        pdf = render_pdf(load_case_data(records, f"{entry.reference} (register)"),
                         options=options)
        digest = hashlib.sha256(pdf).hexdigest()
        if digest != entry.pdf_sha256:
            raise RegisterError(
                f"{entry.reference} of {entry.sender} renders from its recorded records to "
                f"other bytes than were issued (sha256 {digest[:16]}…, issued "
                f"{entry.pdf_sha256[:16]}…): give the template folders and PDF options it was "
                "issued with, or the notegen, templates or fonts have changed since")
        return entry, pdf

    def find(self, *, subject: str | None = None, addressee: str | None = None,
             since: dt.date | None = None, until: dt.date | None = None,
             sender: str | None = None) -> list[Entry]:
        """Issued notes, oldest first, about ``subject``, to ``addressee``, of
        ``sender``, or dated between ``since`` and ``until`` (inclusive)."""
        conditions, values = [], []
        for column, value in (("i.subject", subject), ("i.addressee", addressee),
                              ("i.sender", sender)):
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
        with self._transaction("listing issued notes") as cursor:
            cursor.execute(self._sql(f"{_ENTRY} {where} ORDER BY i.position"), values)
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
        with self._transaction("looking up a PDF") as cursor:
            cursor.execute(self._sql(f"{_ENTRY} WHERE i.pdf_sha256 IN ({marks}) "
                                     "ORDER BY i.position"), sorted(digests))
            row = cursor.fetchone()
        if row is None:
            return None
        entry = Entry(*row)
        return entry, entry.pdf_sha256 == whole

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

    # Auditing.

    def audit(self) -> Audit:
        """Walk the log in order and check every link: positions 1, 2, 3…
        with none missing or repeated; each entry's chain value is the hash
        of the previous one and its own content; an issued note's records
        match their SHA-256; numbers run 1, 2, 3… per series; a cancellation
        follows the note it cancels, once. Report the first broken link."""
        with self._transaction("auditing its log") as cursor:
            cursor.execute(f"SELECT position, {', '.join(_COLUMNS)}, records, chain "
                           "FROM issued ORDER BY position")
            issued = [("issued", row) for row in cursor.fetchall()]
            cursor.execute(f"SELECT position, {', '.join(_CANCELLED)}, chain FROM cancelled "
                           "ORDER BY position")
            cancelled = [("cancelled", row) for row in cursor.fetchall()]
            cursor.execute(f"SELECT position, {', '.join(_REPLIES)}, chain FROM replies "
                           "ORDER BY position")
            replies = [("reply", row) for row in cursor.fetchall()]
            cursor.execute("SELECT sha256, size, content FROM reply_files")
            files = {str(row[0]): (int(row[1]), bytes(row[2])) for row in cursor.fetchall()}
            cursor.execute("SELECT series, reference, incident FROM issued_incidents")
            history: dict[tuple[str, str], set[str]] = {}
            for series, reference, incident in cursor.fetchall():
                history.setdefault((str(series), str(reference)), set()).add(str(incident))
        log = [_entry_of(kind, row) for kind, row in sorted(
            issued + cancelled + replies, key=lambda item: int(item[1][0]))]
        head, numbers = GENESIS, dict[str, int]()
        seen, cancels = set[tuple[str, str]](), set[tuple[str, str]]()
        for index, (kind, fields, records, chain) in enumerate(log):
            position = int(fields["position"])
            what = f"entry {position} ({kind} {fields['reference']} of series {fields['series']})"

            def broken(finding: str, at: int = position, what: str = what,
                       checked: int = index, good: str = head) -> Audit:
                return Audit(False, checked, good, f"the register {self._shown} is broken at "
                             f"{what}: {finding}", at)

            if position != index + 1:
                if position <= index:
                    return broken(f"position {position} appears twice in the log")
                missing = (f"entry {index + 1} is" if position == index + 2
                           else f"entries {index + 1} to {position - 1} are")
                return broken(f"{missing} missing from the log before it (removed after "
                              "being recorded)", index + 1)
            key = (str(fields["series"]), str(fields["reference"]))
            if kind == "issued":
                if hashlib.sha256(records or b"").hexdigest() != fields["records_sha256"]:
                    return broken("its records differ from those it was issued with (their "
                                  "SHA-256 is not its records_sha256)")
                if history.pop(key, set()) != set(protested((records or b"").decode("utf-8"))):
                    return broken("the history index does not hold the incidents its records "
                                  "protest (rows of issued_incidents were changed, added or "
                                  "removed)")
                expected = numbers.get(key[0], 0) + 1
                if fields["number"] != expected:
                    return broken(f"its number is {fields['number']}, but the next of its "
                                  f"series is {expected}")
                if key in seen:
                    return broken("its series has this reference already")
            elif kind == "reply":
                if key not in seen:
                    return broken("it answers a note the log does not hold before it")
                if key in cancels:
                    return broken("it answers a note cancelled before it")
                digest = fields["file_sha256"]
                if digest is not None:
                    size, content = files.get(str(digest), (-1, b""))
                    if hashlib.sha256(content).hexdigest() != digest \
                            or len(content) != fields["file_size"] or size != len(content):
                        return broken("its file is missing or differs from the one recorded "
                                      "with it (its SHA-256 or size is not the recorded one)")
            elif key not in seen:
                return broken("it cancels a note the log does not hold before it")
            elif key in cancels:
                return broken("it cancels the note a second time")
            expected_chain = link(head, kind, fields)
            if chain != expected_chain:
                after = log[index + 1] if index + 1 < len(log) else None
                if after is not None and after[3] == link(chain, after[0], after[1]):
                    finding = ("its content differs from what was chained when it was "
                               "recorded: one of its fields was changed since (the next "
                               "entry still builds on its recorded chain value)")
                else:
                    finding = ("its chain value does not follow from the entry before it and "
                               "its own content: the entry, or its chain value, was changed "
                               "or put in since")
                return broken(f"{finding}; chain {chain[:16]}…, expected "
                              f"{expected_chain[:16]}…")
            if kind == "issued":
                numbers[key[0]] = int(fields["number"])
                seen.add(key)
            elif kind == "cancelled":
                cancels.add(key)
            head = chain
        if history:
            series, reference = sorted(history)[0]
            return Audit(False, len(log), head, f"the register {self._shown} is broken: its "
                         f"history index names {reference} of series {series}, a note the "
                         "log does not hold", None)
        notes = len(issued)
        answers = (f", {len(replies)} repl{'y' if len(replies) == 1 else 'ies'}"
                   if replies else "")
        return Audit(True, len(log), head, (
            f"the register {self._shown} is intact: {len(log)} entries ({notes} issued, "
            f"{len(cancelled)} cancelled{answers}), every link of the chain holds; "
            f"head {head}"))

    def grant(self, role: str) -> None:
        """Let the PostgreSQL ``role`` use the register, and nothing more:
        SELECT and INSERT on the log, the replies' files and the history
        index, SELECT on the schema version. Run as the role owning the
        register (which migrated it).

        :raises RegisterError: on SQLite (no roles: guard the file itself),
            or if the database refuses.
        """
        if not self._postgres:
            raise RegisterError("an SQLite register has no roles: give the application "
                                "write access to its file and nothing else")
        from psycopg import sql

        tables = sql.SQL(", ").join(sql.Identifier(table) for table in _TABLES_V4)
        who = sql.Identifier(role)
        with self._transaction(f"granting {role} the use of it") as cursor:
            cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(tables, who))
            cursor.execute(sql.SQL("GRANT SELECT, INSERT ON issued, cancelled, replies, "
                                   "reply_files, issued_incidents TO {}").format(who))
            cursor.execute(sql.SQL("GRANT SELECT ON notegen_schema TO {}").format(who))
        logger.info("register %s: %s may select and insert", self._shown, role)



def _numbering(case: Case) -> tuple[str, str]:
    """The reference pattern and the series a note to issue is numbered in.

    :raises RecordError: if the sender's profile has no pattern, or the note
        already has a reference.
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
    pattern = sender.reference_pattern
    return pattern, f"{sender.id}:{pattern.replace('{year}', str(note.date.year))}"


def open_register(url: str | Path, *, wait: float = 30.0) -> Register:
    """Open (creating or migrating) the register at ``url``. A writer waits
    at most ``wait`` seconds for its turn (the ``register_wait`` setting).

    :raises RegisterError: if it cannot be opened, or stays busy ``wait`` seconds.
    """
    text = str(url)
    deadline = time.monotonic() + wait
    if text.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise RegisterError("a PostgreSQL register needs psycopg: install notegen with "
                                "its postgres extra") from None
        try:
            shared = psycopg.connect(text, autocommit=True,
                                     connect_timeout=max(2, round(min(wait, 30))))
        except psycopg.Error as exc:
            raise RegisterError(f"cannot open the register {_shown(text)}: "
                                f"{_plain(exc)}") from None
        return Register(text, shared, postgres=True, wait=wait)
    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    try:
        # Switching a new file to WAL takes SQLite's exclusive lock without
        # waiting for it: openers take turns, as writers do.
        with _writers_lock(path, str(path), "opening it", deadline):
            connection = sqlite3.connect(path, timeout=max(0.001, deadline - time.monotonic()),
                                         isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        if _is_busy(exc):
            raise _busy_error(str(path), "opening it", wait) from None
        raise RegisterError(f"cannot open the register {path}: {_plain(exc)}") from None
    return Register(str(path), connection, postgres=False, wait=wait)


@contextmanager
def _writers_lock(register: Path, shown: str, what: str, deadline: float) -> Iterator[None]:
    """SQLite: one writer (or first opener) at a time, in the order they
    came, waiting until ``deadline`` (``time.monotonic()``).

    Neither SQLite's lock nor a kernel file lock is fair: a writer issuing
    note after note takes the lock again before a woken waiter is scheduled,
    and on a busy CPU the others starve (8 writers waited past a minute). So
    writers queue first: each holds a locked ticket file, named by the time
    it came, in ``<register>.queue/``, and goes when no earlier ticket is
    left; a ticket whose owner died (its lock is free) is removed by the
    next in line. Then it takes the exclusive lock on ``<register>.lock``
    (which a writer killed mid-issue releases), and leaves the queue."""
    path = Path(f"{register}.lock")

    def refused(exc: OSError) -> RegisterError:
        return RegisterError(f"the register {shown} cannot take its writers' lock "
                             f"{path}: {exc.strerror or exc}")

    started = time.monotonic()
    noticed = False
    try:
        ticket = _take_ticket(Path(f"{register}.queue"))
    except OSError as exc:
        raise refused(exc) from None
    try:
        pause = 0.002
        while not ticket.first():
            if not noticed and time.monotonic() - started >= BUSY_NOTICE:
                _notice(shown, what, deadline)
                noticed = True
            if time.monotonic() >= deadline:
                raise _busy_error(shown, what, time.monotonic() - started)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held outside the queue (an older notegen)
            _wait_for_lock(descriptor, shown, what, deadline, noticed)  # closes it on failing
        except OSError:
            os.close(descriptor)
            raise
    except OSError as exc:
        raise refused(exc) from None
    finally:
        ticket.leave()
    try:
        yield
    finally:
        os.close(descriptor)  # releases the lock


@dataclass
class _Ticket:
    """A writer's place in the queue of an SQLite register."""

    queue: Path
    name: str
    descriptor: int

    def first(self) -> bool:
        """Whether no live ticket came before this one (dead ones are removed)."""
        earlier = sorted(name for name in os.listdir(self.queue)
                         if name < self.name and not name.startswith("."))
        for name in earlier:
            try:
                other = os.open(self.queue / name, os.O_RDWR)
            except FileNotFoundError:
                continue  # it left
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # its writer is alive and before us
            finally:
                os.close(other)  # (a lock it got is released with it)
            with suppress(FileNotFoundError):  # its writer died: take it out
                os.unlink(self.queue / name)
        return True

    def leave(self) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.queue / self.name)
        os.close(self.descriptor)


def _take_ticket(queue: Path) -> _Ticket:
    """A locked ticket in ``queue``, named by the time it was taken. It is
    locked under a hidden name and then renamed, so no one sees it unlocked."""
    queue.mkdir(exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid():010d}-{threading.get_ident():020d}"
    hidden = queue / f".{name}"
    descriptor = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    os.rename(hidden, queue / name)
    return _Ticket(queue, name, descriptor)


def _wait_for_lock(descriptor: int, shown: str, what: str, deadline: float,
                   noticed: bool = False) -> None:
    """Wait in the kernel's queue for the lock on ``descriptor`` until
    ``deadline``; on giving up, raise the busy :class:`RegisterError`."""
    got = threading.Event()
    settled = threading.Lock()
    state = {"abandoned": False, "error": ""}

    def take() -> None:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError as exc:
            state["error"] = exc.strerror or str(exc)
        with settled:
            if state["abandoned"]:
                os.close(descriptor)  # the waiter gave up: hand the lock on
                return
            got.set()

    started = time.monotonic()
    threading.Thread(target=take, name="notegen-register-lock", daemon=True).start()
    if not got.wait(max(0.0, min(BUSY_NOTICE, deadline - started))):
        if not noticed:
            _notice(shown, what, deadline)
        got.wait(max(0.0, deadline - time.monotonic()))
    with settled:
        if not got.is_set():
            state["abandoned"] = True
            raise _busy_error(shown, what, time.monotonic() - started)
    if state["error"]:
        os.close(descriptor)
        raise RegisterError(f"the register {shown} cannot take its writers' lock: "
                            f"{state['error']}")
