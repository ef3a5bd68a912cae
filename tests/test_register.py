from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
