from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import notegen
from notegen import RecordError, RegisterError, RenderOptions, load_case, open_register
from notegen.cli import cli

from .conftest import ROOT, free_port

FAST = RenderOptions(pdf_variant=None, embed_record=False)


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    """The second case (a draft, numbered from the Secretariat's profile)."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path / "seeds" / "mx-quito-2024" / "note.yaml"


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of our own on loopback, for the session."""
    found = shutil.which("initdb") or next(iter(sorted(glob.glob(
        "/usr/lib/postgresql/*/bin/initdb"))), None)
    if found is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh installs it)")
    bin_dir = Path(found).resolve().parent
    folder = Path(tempfile.mkdtemp(prefix="notegen-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    try:
        subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A",
                        "trust", "-U", "notegen", "--no-sync"], check=True,
                       capture_output=True)
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l",
                        str(folder / "log"), "-w", "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        pytest.skip(f"PostgreSQL could not start: {exc} {log[-500:]}")
    try:
        yield f"postgresql://notegen@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m",
                        "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def register_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "register.db")
    url: str = request.getfixturevalue("postgres")
    with open_register(url) as register:  # a fresh database per test
        name = f"t{time.monotonic_ns()}"
        register._connection.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_issue_numbers_renders_and_records(draft: Path, register_url: str,
                                           tmp_path: Path) -> None:
    case = load_case(draft)
    with open_register(register_url) as register:
        first, pdf = register.issue(case, FAST, issued_by="officer")
        second, _ = register.issue(case, FAST, issued_by="officer")
        assert (first.reference, second.reference) == ("SRE/1/2024", "SRE/2/2024")
        assert (first.sender, first.addressee) == ("mx-sre", "ec-embassy-mexico")
        assert (first.subject, first.language) == ("quito-2024-04-05", "en")
        assert len(first.pdf_sha256) == len(first.records_sha256) == 64
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode()
        assert "No. SRE/1/2024" in text
        # The recorded records render to the recorded PDF again.
        records = tmp_path / "records.json"
        records.write_bytes(register.records("SRE/1/2024"))
        assert notegen.render_pdf(load_case(records), options=FAST) == pdf
        assert register.identify(pdf) == (first, True)
        assert register.identify(pdf + b"%extra\n") == (first, False)
        assert register.identify(pdf[:-10]) is None


def test_cancelled_numbers_stay_taken_and_nothing_is_changed(draft: Path,
                                                             register_url: str) -> None:
    case = load_case(draft)
    with open_register(register_url) as register:
        register.issue(case, FAST, issued_by="officer")
        register.cancel("SRE/1/2024", reason="sent to the wrong embassy", cancelled_by="head")
        assert register.show("SRE/1/2024").cancelled == "sent to the wrong embassy"
        with pytest.raises(RegisterError, match="cancelled already"):
            register.cancel("SRE/1/2024", reason="again", cancelled_by="head")
        with pytest.raises(RegisterError, match="no issued note"):
            register.cancel("SRE/9/2024", reason="x", cancelled_by="head")
        assert register.issue(case, FAST, issued_by="officer")[0].reference == "SRE/2/2024"
        for statement in ("UPDATE issued SET issued_by = 'someone else'", "DELETE FROM issued",
                          "DELETE FROM cancelled"):
            with pytest.raises(Exception, match="append-only"):
                register._connection.execute(statement)


def test_find_by_incident_addressee_and_dates(draft: Path, register_url: str) -> None:
    case = load_case(draft)
    with open_register(register_url) as register:
        register.issue(case, FAST, issued_by="officer")
        import datetime as dt

        assert len(register.find(subject="quito-2024-04-05")) == 1
        assert register.find(subject="elsewhere") == []
        assert len(register.find(addressee="ec-embassy-mexico",
                                 since=dt.date(2024, 4, 1), until=dt.date(2024, 4, 30))) == 1
        assert register.find(since=dt.date(2024, 5, 1)) == []


def test_a_note_with_a_number_or_without_a_pattern_is_refused(draft: Path,
                                                              tmp_path: Path) -> None:
    with open_register(tmp_path / "r.db") as register:
        with pytest.raises(RecordError, match="already has a reference"):
            register.issue(load_case(ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"), FAST,
                           issued_by="x")
        profile = draft.parent.parent / "profiles" / "mx-sre.yaml"
        profile.write_text(profile.read_text().replace('reference_pattern: "SRE/{number}/{year}"',
                                                       ""))
        with pytest.raises(RecordError, match="give it a reference_pattern"):
            register.issue(load_case(draft), FAST, issued_by="x")
        assert register.find() == []


ISSUER = """
import sys, notegen
from notegen import open_register
case = notegen.load_case(sys.argv[2])
options = notegen.RenderOptions(pdf_variant=None, embed_record=False)
with open_register(sys.argv[1]) as register:
    for _ in range(int(sys.argv[3])):
        register.issue(case, options, issued_by=sys.argv[4])
"""


@pytest.mark.slow
def test_eight_processes_issue_four_hundred_distinct_numbers(draft: Path,
                                                             register_url: str) -> None:
    with open_register(register_url):
        pass  # migrate once before the race
    workers = [subprocess.Popen([sys.executable, "-c", ISSUER, register_url, str(draft), "50",
                                 f"worker-{index}"]) for index in range(8)]
    assert [worker.wait(timeout=600) for worker in workers] == [0] * 8
    with open_register(register_url) as register:
        numbers = sorted(entry.number for entry in register.find())
    assert numbers == list(range(1, 401))


@pytest.mark.slow
def test_a_killed_issue_leaves_no_gap_and_no_duplicate(draft: Path, register_url: str) -> None:
    with open_register(register_url):
        pass
    for delay in (0.9, 1.7, 2.6):
        worker = subprocess.Popen([sys.executable, "-c", ISSUER, register_url, str(draft), "1000",
                                   "doomed"])
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)  # kill -9, most likely mid-render, lock held
        worker.wait()
    with open_register(register_url) as register:
        numbers = [entry.number for entry in register.find()]
        assert numbers == list(range(1, len(numbers) + 1))
        entry, _ = register.issue(load_case(draft), FAST, issued_by="after")
        assert entry.number == len(numbers) + 1


def test_the_commands(draft: Path, tmp_path: Path, runner: CliRunner,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    database = str(tmp_path / "register.db")
    result = runner.invoke(cli, ["issue", str(draft), "--register", database,
                                 "--issued-by", "officer"])
    assert result.exit_code == 0, result.output
    assert "issued SRE/1/2024" in result.stderr
    issued = tmp_path / "SRE-1-2024.pdf"
    assert issued.exists()
    monkeypatch.setenv("NOTEGEN_REGISTER", database)
    listing = runner.invoke(cli, ["register", "list"])
    assert listing.exit_code == 0
    assert listing.stdout.startswith("SRE/1/2024       2024-04-06  ec-embassy-mexico")
    assert "officer" in runner.invoke(cli, ["register", "show", "SRE/1/2024"]).stdout
    found = runner.invoke(cli, ["register", "find", "--incident", "quito-2024-04-05", "--json"])
    assert '"reference": "SRE/1/2024"' in found.stdout
    verified = runner.invoke(cli, ["register", "verify", str(issued)])
    assert verified.exit_code == 0
    assert "issued note SRE/1/2024 of 2024-04-06, issued by officer" in verified.stdout
    altered = tmp_path / "altered.pdf"
    data = issued.read_bytes()
    altered.write_bytes(data[:500] + bytes([data[500] ^ 1]) + data[501:])
    assert runner.invoke(cli, ["register", "verify", str(altered)]).exit_code == 4
    altered.write_bytes(data + b"% appended\n")
    appended = runner.invoke(cli, ["register", "verify", str(altered)])
    assert appended.exit_code == 4
    assert "not an intact signature" in appended.stdout
    cancel = runner.invoke(cli, ["register", "cancel", "SRE/1/2024", "--reason", "duplicate"])
    assert cancel.exit_code == 0
    assert "CANCELLED: duplicate" in runner.invoke(cli, ["register", "list"]).stdout
    # A preview never takes a number.
    assert runner.invoke(cli, ["render", str(draft), "-o", str(tmp_path / "p.pdf")]).exit_code == 0
    assert len(runner.invoke(cli, ["register", "list"]).stdout.splitlines()) == 1
    monkeypatch.delenv("NOTEGEN_REGISTER")
    assert runner.invoke(cli, ["register", "list"]).exit_code == 2


# Issue 14, items 6 and 7: append-only against the database's own users, a
# hash chain, references per series, concurrent first opens, no number
# without its PDF, database errors as RegisterError.

NEXT_POSITION = ("(SELECT MAX(position) FROM (SELECT position FROM issued UNION ALL "
                 "SELECT position FROM cancelled) AS log) + 1")
ISSUED = ("position", "series", "number", "reference", "note_date", "sender", "addressee",
          "subject", "language", "note_type", "pdf_sha256", "records_sha256", "records",
          "issued_by", "issued_at", "chain")
CANCELLED = ("position", "series", "reference", "reason", "cancelled_by", "cancelled_at",
             "chain")


def copy_of(table: str, where: str, verb: str = "INSERT INTO", tail: str = "",
            **changes: str) -> str:
    """An insert of a copy of a row of ``table``, with some columns changed
    (SQL expressions)."""
    columns = ISSUED if table == "issued" else CANCELLED
    values = ", ".join(changes.get(column, column) for column in columns)
    return f"{verb} {table} SELECT {values} FROM {table} WHERE {where}{tail}"


def hostile_writes(postgres: bool) -> list[str]:
    """Every kind of write a user of the database could try on the log."""
    first = "number = 1"
    writes = [
        "UPDATE issued SET pdf_sha256 = records_sha256",
        "UPDATE cancelled SET reason = 'nothing happened'",
        "UPDATE notegen_schema SET version = 1",
        "DELETE FROM issued WHERE number = 2",
        "DELETE FROM cancelled",
        "DELETE FROM notegen_schema",
        # A gap: the next position, but number 5 after 2.
        copy_of("issued", first, position=NEXT_POSITION, number="5",
                reference="'SRE/5/2024'"),
        # A number again, a reference again, a position again.
        copy_of("issued", first, position=NEXT_POSITION, reference="'SRE/9/2024'"),
        copy_of("issued", first, position=NEXT_POSITION, number="3"),
        copy_of("issued", first, number="3", reference="'SRE/3/2024'"),
        copy_of("issued", first, position="NULL", number="3", reference="'SRE/3/2024'"),
        # An upsert rewriting an issued note, a second cancellation, a
        # cancellation of a note never issued.
        copy_of("issued", first, tail=" ON CONFLICT (series, number) DO UPDATE SET "
                "pdf_sha256 = excluded.records_sha256"),
        copy_of("cancelled", "TRUE", position=NEXT_POSITION, reason="'another reason'"),
        copy_of("cancelled", "TRUE", position=NEXT_POSITION, reference="'SRE/7/2024'"),
        "INSERT INTO notegen_schema (version) VALUES (1)",
    ]
    if postgres:
        writes += ["TRUNCATE issued CASCADE", "TRUNCATE cancelled", "TRUNCATE notegen_schema"]
    else:  # REPLACE deletes the conflicting row without firing DELETE triggers
        writes += [
            copy_of("issued", first, verb="REPLACE INTO", pdf_sha256="records_sha256"),
            copy_of("issued", first, verb="INSERT OR REPLACE INTO",
                    records="'{}'", records_sha256="pdf_sha256"),
            copy_of("cancelled", "TRUE", verb="REPLACE INTO", reason="'another reason'"),
            copy_of("issued", "number = 2", verb="INSERT OR IGNORE INTO",
                    position=NEXT_POSITION, number="3"),
        ]
    return writes


def test_the_log_refuses_every_kind_of_write(draft: Path, register_url: str) -> None:
    """Issue 14 item 6: REPLACE, upserts, gaps, duplicates, TRUNCATE — each
    refused by the database itself, and nothing changes."""
    case = load_case(draft)
    with open_register(register_url) as register:
        register.issue(case, FAST, issued_by="officer")
        register.issue(case, FAST, issued_by="officer")
        register.cancel("SRE/2/2024", reason="sent twice", cancelled_by="head")
        before = register.find()
        writes = hostile_writes(register._postgres)
        for statement in writes:
            with pytest.raises(Exception, match="append-only") as refused:
                register._connection.execute(statement)
            assert "append-only" in str(refused.value), statement
        assert register.find() == before
        assert register.show("SRE/2/2024").cancelled == "sent twice"
        assert register.audit().intact
        assert register.issue(case, FAST, issued_by="officer")[0].number == 3
    assert len(writes) == (18 if register._postgres else 19)


def tamper(register_url: str, *statements: str) -> None:
    """Change the log behind the guards' back, as only the file's owner
    (SQLite) or a superuser (PostgreSQL) can."""
    if register_url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(register_url, autocommit=True) as connection:
            connection.execute("SET session_replication_role = replica")  # no triggers
            for statement in statements:
                connection.execute(statement)
        return
    import sqlite3

    file = sqlite3.connect(register_url, isolation_level=None)
    try:  # drop the triggers, change the log, put the triggers back
        file.execute("BEGIN")
        triggers = file.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            file.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            file.execute(statement)
        for _, sql in triggers:
            file.execute(sql)
        file.execute("COMMIT")
    finally:
        file.close()


def test_the_audit_finds_the_first_broken_link(draft: Path, register_url: str,
                                               runner: CliRunner) -> None:
    """Issue 14 item 6: a hash chain over the log; `register audit` names the
    entry and what differs (exit 4), and says intact otherwise (exit 0)."""
    case = load_case(draft)
    with open_register(register_url) as register:
        register.issue(case, FAST, issued_by="officer")  # position 1
        register.issue(case, FAST, issued_by="officer")  # 2
        register.cancel("SRE/2/2024", reason="sent twice", cancelled_by="head")  # 3
        register.issue(case, FAST, issued_by="officer")  # 4
        intact = register.audit()
    assert (intact.intact, intact.entries, intact.position) == (True, 4, None)
    audit = runner.invoke(cli, ["register", "audit", "--register", register_url])
    assert audit.exit_code == 0, audit.output
    assert "intact: 4 entries (3 issued, 1 cancelled)" in audit.stdout
    assert intact.head in audit.stdout

    def audited() -> notegen.archive.register.Audit:
        with open_register(register_url) as register:
            return register.audit()

    tamper(register_url, "UPDATE issued SET issued_by = 'someone else' WHERE number = 2")
    found = audited()
    assert (found.intact, found.position, found.entries) == (False, 2, 1)
    assert "broken at entry 2 (issued SRE/2/2024 of series mx-sre:SRE/{number}/2024): its " \
           "content differs from what was chained" in found.finding
    audit = runner.invoke(cli, ["register", "audit", "--register", register_url])
    assert audit.exit_code == 4
    assert "broken at entry 2 (issued SRE/2/2024" in audit.stdout
    tamper(register_url, "UPDATE issued SET issued_by = 'officer' WHERE number = 2")
    assert audited().intact

    tamper(register_url, "UPDATE issued SET records = records || ' ' WHERE number = 3")
    found = audited()
    assert found.position == 4
    assert "entry 4 (issued SRE/3/2024" in found.finding
    assert "its records differ from those it was issued with" in found.finding
    tamper(register_url, "UPDATE issued SET records = rtrim(records) WHERE number = 3")

    tamper(register_url, "UPDATE cancelled SET reason = 'nothing happened'")
    assert "entry 3 (cancelled SRE/2/2024" in audited().finding
    tamper(register_url, "UPDATE cancelled SET reason = 'sent twice'")
    assert audited().intact

    tamper(register_url, "DELETE FROM cancelled")
    found = audited()
    assert found.position == 3
    assert "entry 3 is missing from the log" in found.finding


@pytest.fixture
def roles(postgres: str) -> tuple[str, str]:
    """A fresh database owned by an owner role, and an application role: the
    URLs to connect as each."""
    import psycopg

    suffix = time.monotonic_ns()
    owner, app, database = f"owner{suffix}", f"app{suffix}", f"least{suffix}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN")
        admin.execute(f"CREATE ROLE {app} LOGIN")
        admin.execute(f"CREATE DATABASE {database} OWNER {owner}")
    base = postgres.rsplit("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{owner}@{base}/{database}", f"postgresql://{app}@{base}/{database}"


def test_the_application_role_may_only_select_and_insert(draft: Path, roles: tuple[str, str],
                                                         runner: CliRunner,
                                                         tmp_path: Path) -> None:
    """Issue 14 item 6, least privilege: migrated as the owner, used as the
    application role, which cannot change, delete, truncate or unguard the log."""
    import psycopg

    owner, app = roles
    with pytest.raises(RegisterError, match="only the role owning the register may"):
        open_register(app)  # a new register: only its owner creates it
    migrated = runner.invoke(cli, ["register", "migrate", "--register", owner, "--grant",
                                   app.split("//", 1)[1].split("@", 1)[0]])
    assert migrated.exit_code == 0, migrated.output
    issued = runner.invoke(cli, ["issue", str(draft), "--register", app, "--issued-by", "app",
                                 "-o", str(tmp_path / "note.pdf")])
    assert issued.exit_code == 0, issued.output
    case = load_case(draft)
    with open_register(app) as register:
        assert register.issue(case, FAST, issued_by="app")[0].reference == "SRE/2/2024"
        register.cancel("SRE/2/2024", reason="sent twice", cancelled_by="app")
        assert register.audit().intact
    refused = 0
    with psycopg.connect(app, autocommit=True) as connection:
        for statement in ("UPDATE issued SET issued_by = 'x'", "DELETE FROM issued",
                          "DELETE FROM cancelled", "TRUNCATE issued CASCADE",
                          "TRUNCATE cancelled", "UPDATE notegen_schema SET version = 9",
                          "INSERT INTO notegen_schema (version) VALUES (3)",
                          "ALTER TABLE issued DISABLE TRIGGER ALL",
                          "ALTER TABLE issued DISABLE TRIGGER issued_insert_guard",
                          "ALTER TABLE cancelled DISABLE TRIGGER cancelled_refuse",
                          "SET session_replication_role = replica",
                          "DROP TRIGGER issued_refuse ON issued", "DROP TABLE cancelled",
                          "CREATE TRIGGER mine BEFORE INSERT ON issued FOR EACH ROW "
                          "EXECUTE FUNCTION notegen_refuse()",
                          "CREATE OR REPLACE FUNCTION notegen_refuse() RETURNS trigger AS "
                          "$$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql",
                          copy_of("issued", "number = 1", position=NEXT_POSITION, number="5",
                                  reference="'SRE/5/2024'")):
            with pytest.raises(psycopg.Error, match=r"permission denied|must be owner|"
                                                    r"append-only") as error:
                connection.execute(statement)
            refused += 1
            assert "append-only" in str(error.value) or statement.startswith(
                ("UPDATE", "DELETE", "TRUNCATE", "INSERT INTO notegen_schema", "ALTER", "SET",
                 "DROP", "CREATE")), statement
        connection.execute("GRANT UPDATE ON issued TO PUBLIC")  # grants nothing: not its own
        with pytest.raises(psycopg.Error, match="permission denied"):
            connection.execute("UPDATE issued SET issued_by = 'x'")
    assert refused == 16
    with open_register(app) as register:
        assert [entry.number for entry in register.find()] == [1, 2]
        assert register.audit().intact


def test_a_version_1_register_is_migrated_in_place(draft: Path, register_url: str,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 6: a register of schema 1 opens, becomes schema 2, keeps
    its notes and their cancellation, and gets its chain."""
    from notegen.archive import register as module

    case = load_case(draft)
    with open_register(tmp_path / "donor.db") as donor:  # notes as schema 1 recorded them
        notes = [donor.issue(case, FAST, issued_by="officer") for _ in range(2)]
        records = [donor.records(entry.reference) for entry, _ in notes]
    with monkeypatch.context() as patched:
        patched.setattr(module, "_MIGRATIONS", module._MIGRATIONS[:1])
        with open_register(register_url) as old:
            for (entry, _), recorded in zip(notes, records, strict=True):
                columns = [*vars(entry)][:-1]
                values = [getattr(entry, column) for column in columns]
                marks = ", ".join(["?"] * (len(columns) + 1))
                old._connection.execute(old._sql(
                    f"INSERT INTO issued ({', '.join(columns)}, records) VALUES ({marks})"),
                    (*values, recorded.decode()))
            old._connection.execute(old._sql(
                "INSERT INTO cancelled (reference, reason, cancelled_by, cancelled_at) "
                "VALUES (?, ?, ?, ?)"), ("SRE/1/2024", "wrong embassy", "head",
                                         "2024-04-07T10:00:00+00:00"))
    with open_register(register_url) as register:
        kept = register.find()
        assert [entry.reference for entry in kept] == ["SRE/1/2024", "SRE/2/2024"]
        assert kept[0] == replace(notes[0][0], cancelled="wrong embassy")
        assert kept[1] == notes[1][0]
        audit = register.audit()
        assert (audit.intact, audit.entries) == (True, 3)
        assert register.check(notes[1][1]).issued
        assert register.pdf("SRE/2/2024", FAST)[1] == notes[1][1]
        assert register.issue(case, FAST, issued_by="officer")[0].reference == "SRE/3/2024"
        with register._transaction("reading") as cursor:
            cursor.execute("SELECT version FROM notegen_schema ORDER BY version")
            assert [row[0] for row in cursor.fetchall()] == [1, 2, 3, 4]
        with pytest.raises(Exception, match="append-only"):
            register._connection.execute("DELETE FROM cancelled")


def second_sender(draft: Path) -> Path:
    """A note of another sender, whose profile has the same reference pattern."""
    profiles = draft.parent.parent / "profiles"
    (profiles / "mx-dgc.yaml").write_text(
        (profiles / "mx-sre.yaml").read_text().replace("id: mx-sre", "id: mx-dgc"))
    note = draft.with_name("other.yaml")
    note.write_text(draft.read_text().replace("../profiles/mx-sre.yaml", "../profiles/mx-dgc.yaml")
                    .replace("sender: mx-sre", "sender: mx-dgc"))
    return note


def test_two_senders_with_the_same_pattern_each_have_their_series(
        draft: Path, register_url: str, runner: CliRunner) -> None:
    """Issue 14 item 7: references are unique per series; a lookup of a
    reference two senders share needs the sender."""
    other = load_case(second_sender(draft))
    with open_register(register_url) as register:
        mine, _ = register.issue(load_case(draft), FAST, issued_by="officer")
        theirs, _ = register.issue(other, FAST, issued_by="consul")
        assert mine.reference == theirs.reference == "SRE/1/2024"
        assert (mine.sender, theirs.sender) == ("mx-sre", "mx-dgc")
        assert register.issue(other, FAST, issued_by="consul")[0].reference == "SRE/2/2024"
        with pytest.raises(RegisterError, match=r"'SRE/1/2024' was issued by 2 senders "
                                                r"\(mx-dgc, mx-sre\): say which"):
            register.show("SRE/1/2024")
        with pytest.raises(RegisterError, match="2 senders"):
            register.cancel("SRE/1/2024", reason="x", cancelled_by="head")
        assert register.show("SRE/1/2024", sender="mx-dgc") == theirs
        assert register.show("SRE/2/2024").sender == "mx-dgc"
        register.cancel("SRE/1/2024", reason="wrong desk", cancelled_by="head", sender="mx-dgc")
        assert register.show("SRE/1/2024", sender="mx-sre").cancelled is None
        assert register.show("SRE/1/2024", sender="mx-dgc").cancelled == "wrong desk"
        assert register.records("SRE/1/2024", sender="mx-dgc") != register.records(
            "SRE/1/2024", sender="mx-sre")
        with pytest.raises(RegisterError, match="no issued note 'SRE/2/2024' of sender"):
            register.show("SRE/2/2024", sender="mx-sre")
        assert register.audit().intact
    shown = runner.invoke(cli, ["register", "show", "SRE/1/2024", "--register", register_url])
    assert shown.exit_code == 1
    assert "was issued by 2 senders (mx-dgc, mx-sre)" in shown.stderr
    shown = runner.invoke(cli, ["register", "show", "SRE/1/2024", "--register", register_url,
                                "--sender", "mx-sre"])
    assert shown.exit_code == 0
    assert '"issued_by": "officer"' in shown.stdout


OPENER = """
import sys, time
from notegen import open_register
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
with open_register(sys.argv[1]) as register:
    register.find()
"""


@pytest.mark.slow
def test_eight_processes_open_a_new_register_at_once(register_url: str) -> None:
    """Issue 14 item 7: concurrent first opens migrate once, and none fails."""
    start = time.time() + 3  # all eight wait, then open at the same moment
    workers = [subprocess.Popen([sys.executable, "-c", OPENER, register_url, str(start)],
                                stderr=subprocess.PIPE) for _ in range(8)]
    errors = [worker.communicate(timeout=120)[1].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 8, errors
    with open_register(register_url) as register, register._transaction("reading") as cursor:
        cursor.execute("SELECT version FROM notegen_schema ORDER BY version")
        assert [row[0] for row in cursor.fetchall()] == [1, 2, 3, 4]


def test_no_number_is_taken_for_an_output_that_cannot_be_written(
        draft: Path, tmp_path: Path, runner: CliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 7: the output is checked before a number is taken; if
    the write fails after all, the error names the number taken and how to
    get the PDF back, which `register pdf` does."""
    monkeypatch.chdir(tmp_path)
    database = str(tmp_path / "register.db")
    monkeypatch.setenv("NOTEGEN_REGISTER", database)
    (tmp_path / "folder.pdf").mkdir()
    for output, says, code in ((tmp_path / "missing" / "note.pdf", "does not exist", 1),
                               (tmp_path / "folder.pdf", "is a directory", 2)):
        result = runner.invoke(cli, ["issue", str(draft), "-o", str(output)])
        assert result.exit_code == code, result.output
        assert says in result.stderr
        assert "Traceback" not in result.output
    with open_register(database) as register:
        assert register.find() == []  # no number taken

    import notegen.cli.registry

    def fails(path: Path, data: bytes) -> Path:
        raise notegen.RenderError(f"cannot write {path}: No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(notegen.cli.registry, "write_atomic", fails)
        result = runner.invoke(cli, ["issue", str(draft), "-o", str(tmp_path / "note.pdf")])
    assert result.exit_code == 1, result.output
    assert ("SRE/1/2024 is issued (number 1 of series mx-sre:SRE/{number}/2024 is taken and "
            "recorded), but its PDF could not be written") in result.stderr
    assert "No space left on device" in result.stderr
    assert "notegen register pdf SRE/1/2024 --sender mx-sre -o FILE" in result.stderr
    assert not (tmp_path / "note.pdf").exists()
    again = runner.invoke(cli, ["register", "pdf", "SRE/1/2024", "--sender", "mx-sre", "-o",
                                str(tmp_path / "again.pdf")])
    assert again.exit_code == 0, again.output
    with open_register(database) as register:
        entry = register.show("SRE/1/2024")
        assert register.check((tmp_path / "again.pdf").read_bytes()).issued
    assert hashlib.sha256((tmp_path / "again.pdf").read_bytes()).hexdigest() == entry.pdf_sha256
    assert "sha256 " + entry.pdf_sha256 in again.stderr
    assert runner.invoke(cli, ["register", "pdf", "SRE/1/2024", "-o",
                               str(tmp_path / "missing" / "x.pdf")]).exit_code == 1


def test_a_pdf_rendered_again_must_be_the_one_issued(draft: Path, tmp_path: Path) -> None:
    with open_register(tmp_path / "r.db") as register:
        entry, pdf = register.issue(load_case(draft), FAST, issued_by="officer")
        assert register.pdf("SRE/1/2024", FAST) == (entry, pdf)
        with pytest.raises(RegisterError, match="renders from its recorded records to other "
                                                "bytes than were issued"):
            register.pdf("SRE/1/2024")  # PDF/A, not the plain PDF issued


def test_database_errors_are_register_errors(draft: Path, register_url: str,
                                            tmp_path: Path) -> None:
    """Issue 14 item 7: a database error is a located RegisterError, never a
    traceback."""
    register = open_register(register_url)
    try:
        if register._postgres:
            import psycopg

            with psycopg.connect(register_url, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)",
                              (register._connection.info.backend_pid,))
        else:
            import sqlite3

            with sqlite3.connect(register_url) as file:
                file.execute("DROP TABLE cancelled")  # the file's owner may do anything
        with pytest.raises(RegisterError, match=r"the register .* refused listing issued notes"):
            register.find()
        with pytest.raises(RegisterError, match="refused issuing a note of series mx-sre"):
            register.issue(load_case(draft), FAST, issued_by="officer")
    finally:
        with contextlib.suppress(RegisterError):
            register.close()
    garbage = tmp_path / "not-a-register.db"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(RegisterError, match=r"not-a-register\.db"):
        open_register(garbage)
