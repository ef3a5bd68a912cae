"""The daemon: the same bytes and messages as a render in process, a folder
no other user can reach, a fallback when it cannot be used, a thin client
without WeasyPrint or pydantic, and no daemon left behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen.cli import cli
from notegen.cli.common import NOTE_TYPES
from notegen.daemon import client, handover
from notegen.daemon.paths import safe_folder, socket_path
from notegen.daemon.protocol import decode_error, encode_error, receive_request, send
from notegen.errors import DaemonError, Location, Problem, RecordError, TemplateError
from notegen.records.models import NoteType

from .conftest import CHOSEN, SEED, Edit

NOTE = str(SEED / "note.yaml")


def test_errors_cross_as_their_kind_with_their_problems() -> None:
    problems = [Problem("must be a date", Location(Path("note.yaml"), 3, 7, "note.date")),
                Problem("unknown field")]
    for error in (RecordError(problems), TemplateError("bad", template="x.j2", line=4),
                  DaemonError("a malformed request")):
        back = decode_error(encode_error(error))
        assert type(back) is type(error)
        assert str(back) == str(error)
        assert back.problems == error.problems
    assert isinstance(decode_error({"kind": "os.system", "args": ["x"]}), Exception)


def test_the_note_types_of_the_command_line_are_the_models() -> None:
    assert tuple(t.value for t in NoteType) == NOTE_TYPES


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A runtime folder of the test's own (short: a socket path is limited),
    the daemon allowed, the cache off; any daemon started is stopped."""
    folder = tempfile.mkdtemp(prefix="ng-", dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
    monkeypatch.delenv("NOTEGEN_NO_DAEMON")
    environ = dict(os.environ)
    try:
        yield environ
    finally:
        found = None
        with contextlib.suppress(DaemonError):
            found = client.status(environ)
        if found is not None:
            client.stop(environ)
            _gone(int(found["pid"]))
        subprocess.run(["rm", "-rf", folder], check=False)


def _gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # a child of this process: reaped
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return False


def _spare(environ: dict[str, str], seconds: float = 120.0) -> tuple[int, int]:
    """The daemon's spare bounded child, once ready: its process id and the
    renders it ran."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = client.status(environ)
        if found is not None and found.get("spare") is not None:
            return int(found["spare"]["pid"]), int(found["spare"]["renders"])
        time.sleep(0.05)
    raise AssertionError("the daemon has no spare child ready")


def _notegen(*args: str, environ: dict[str, str], cwd: Path | None = None
             ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "notegen", *args], env=environ,
                          capture_output=True, cwd=cwd, timeout=300, check=False)


@pytest.mark.slow
def test_the_daemon_gives_the_same_bytes_and_messages(
        runtime: dict[str, str], tmp_path: Path, worked_pdf: bytes, edit_seed: Edit) -> None:
    result = _notegen("daemon", "start", environ=runtime)
    assert result.returncode == 0, result.stderr
    folder = Path(runtime["XDG_RUNTIME_DIR"]) / "notegen"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert socket_path(folder).stat().st_mode & 0o777 == 0o600
    for number, mask in enumerate((0o022, 0o077)):
        target = tmp_path / f"note{number}.pdf"
        result = subprocess.run(
            [sys.executable, "-m", "notegen", "render", NOTE, "-o", str(target)], env=runtime,
            capture_output=True, timeout=300, check=False, umask=mask)
        assert result.returncode == 0, result.stderr
        assert target.read_bytes() == worked_pdf
        assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # the client's umask
        assert result.stderr.decode() == f"wrote {target}\n"
    found = client.status(runtime)
    assert found is not None
    assert found["requests"] == 2  # both were rendered by the daemon
    # The bounded child of each render is kept for the next: the next render
    # runs in it, to the same bytes.
    pid, renders = _spare(runtime)
    target = tmp_path / "note-in-the-spare.pdf"
    result = _notegen("render", NOTE, "--no-cache", "-o", str(target), environ=runtime)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == worked_pdf
    assert _spare(runtime) == (pid, renders + 1)
    # A broken case: the same exit code and located problems as in process.
    broken = edit_seed("note.yaml", "date: ", "date: not-a-date-")
    by_daemon = _notegen("validate", str(broken), environ=runtime)
    in_process = _notegen("validate", "--no-daemon", str(broken), environ=runtime)
    assert by_daemon.returncode == in_process.returncode == 1
    assert by_daemon.stderr == in_process.stderr
    assert b"note.yaml:15:5: incidents[0].date:" in by_daemon.stderr
    as_json = _notegen("validate", "--json", str(broken), environ=runtime)
    assert as_json.stdout == _notegen("validate", "--json", "--no-daemon", str(broken),
                                      environ=runtime).stdout
    found = client.status(runtime)
    assert found is not None
    assert found["requests"] == 5
    spare, _ = _spare(runtime)
    assert client.stop(runtime)
    assert _gone(int(found["pid"]))
    assert not socket_path(folder).exists()
    assert _gone(spare, 10)  # it ends with the daemon


@pytest.mark.slow
def test_render_starts_a_daemon_on_demand_which_ends_when_idle(
        runtime: dict[str, str], tmp_path: Path, worked_pdf: bytes) -> None:
    runtime["NOTEGEN_DAEMON_IDLE_MINUTES"] = "0.05"  # 3 s
    target = tmp_path / "note.pdf"
    result = _notegen("render", NOTE, "-o", str(target), environ=runtime)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == worked_pdf
    found = client.status(runtime)
    assert found is not None
    assert found["idle_seconds"] == pytest.approx(3.0)
    assert _gone(int(found["pid"]), 120)
    assert client.status(runtime) is None


@pytest.mark.slow
def test_the_hand_over_imports_only_what_it_needs(
        runtime: dict[str, str], tmp_path: Path) -> None:
    assert _notegen("daemon", "start", environ=runtime).returncode == 0
    report = tmp_path / "modules.txt"
    script = (
        "import atexit, sys\n"
        "def report():\n"
        f"    open({str(report)!r}, 'w').write(' '.join(sorted(sys.modules)))\n"
        "atexit.register(report)\n"
        "from notegen.cli import main\n"
        f"sys.argv = ['notegen', 'validate', {NOTE!r}]\n"
        "main()\n")
    result = subprocess.run([sys.executable, "-c", script], env=runtime, capture_output=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"{NOTE}: valid\n{CHOSEN}"
    modules = set(report.read_text().split())
    assert "notegen.daemon.handover" in modules
    # Handed over before the command line is loaded: not even click, nor
    # the client that starts a daemon and logs, nor notegen's errors.
    assert not {"weasyprint", "pydantic", "yaml", "jinja2", "click", "notegen.cli.group",
                "notegen.daemon.client", "notegen.errors", "tomllib", "tempfile", "logging",
                "typing", "pathlib", "dataclasses", "hashlib", "base64"} & modules


def test_help_imports_only_the_command_line() -> None:
    script = ("import sys\nfrom click.testing import CliRunner\nfrom notegen.cli import cli\n"
              "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
              "print(' '.join(sorted(sys.modules)))\n")
    modules = set(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                 check=True, timeout=120).stdout.decode().split())
    assert "notegen.cli" in modules
    assert not {"weasyprint", "pydantic", "yaml", "jinja2", "notegen.records"} & modules


@pytest.mark.logs
def test_a_folder_others_may_write_is_refused_and_the_command_runs_here(
        runtime: dict[str, str], runner: CliRunner, caplog: pytest.LogCaptureFixture) -> None:
    folder = Path(runtime["XDG_RUNTIME_DIR"]) / "notegen"
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    with pytest.raises(DaemonError, match="others may write"):
        safe_folder(runtime)
    assert client.relay("validate", ["validate", NOTE], runtime) is None
    assert any("others may write" in r.getMessage() for r in caplog.records)
    result = runner.invoke(cli, ["validate", NOTE])
    assert result.exit_code == 0, result.output
    assert "others may write" in result.stderr
    assert not socket_path(folder).exists()  # no daemon was started there
    # The command as run: the hand-over passes quietly, the command line
    # says it once.
    command = _notegen("validate", NOTE, environ=runtime)
    assert command.returncode == 0, command.stderr
    assert command.stderr.decode().count("others may write") == 1
    assert not socket_path(folder).exists()
    folder.chmod(0o700)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder away takes root")
@pytest.mark.logs
def test_a_folder_of_another_user_is_refused(runtime: dict[str, str]) -> None:
    folder = Path(runtime["XDG_RUNTIME_DIR"]) / "notegen"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(DaemonError, match="belongs to another user"):
        safe_folder(runtime)
    assert client.relay("render", ["render", NOTE], runtime) is None


def test_a_link_is_refused(runtime: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (Path(runtime["XDG_RUNTIME_DIR"]) / "notegen").symlink_to(target)
    with pytest.raises(DaemonError, match="not a folder"):
        safe_folder(runtime)


@pytest.mark.parametrize(("args", "environ", "expected"), [
    (["render", NOTE], {}, True),
    (["validate", NOTE], {}, True),
    (["render", "--no-daemon", NOTE], {}, False),
    (["render", NOTE], {"NOTEGEN_NO_DAEMON": "1"}, False),
    (["render", NOTE], {"NOTEGEN_NO_DAEMON": "0"}, True),
    (["render", NOTE], {"NOTEGEN_DAEMON": "false"}, False),
    (["render", "-"], {}, False),
    (["render", NOTE, "-o", "-"], {}, False),
    (["render", NOTE, "--sign", "key.p12"], {}, False),
    (["sign", NOTE], {}, False),
    (["batch", "cases", "-o", "out"], {}, True),
    (["batch", "cases", "-o", "out", "--no-daemon"], {}, False),
])
def test_what_is_handed_over(args: list[str], environ: dict[str, str], expected: bool,
                             tmp_path: Path) -> None:
    assert handover.wanted(args[0], args, environ, tmp_path) is expected


def test_daemon_false_in_the_settings_keeps_the_work_here(tmp_path: Path) -> None:
    (tmp_path / "notegen.toml").write_text("[notegen]\ndaemon = false\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert not handover.wanted("render", ["render", NOTE], {}, tmp_path / "sub")


@pytest.mark.slow
def test_a_daemon_that_cannot_start_falls_back(runtime: dict[str, str], tmp_path: Path,
                                               worked_pdf: bytes) -> None:
    folder = safe_folder(runtime)
    target = tmp_path / "note.pdf"
    with open(folder / "daemon.lock", "a+b") as lock:  # as if a daemon held the folder
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = _notegen("-v", "render", NOTE, "-o", str(target), environ=runtime)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == worked_pdf
    assert b"working in this process" in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.slow
def test_a_template_edited_between_renders_is_read_again(
        runtime: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "ministry"
    folder.mkdir()
    template = folder / "note_verbale.html.j2"

    def write(title: str) -> None:
        template.write_text("{% extends 'builtin/note_verbale.html.j2' %}"
                            f"{{% block document_title %}}{title}{{% endblock %}}",
                            encoding="utf-8")

    def title(target: Path) -> str:
        import pikepdf

        with pikepdf.open(target) as pdf:
            return str(pdf.open_metadata().get("dc:title"))

    runtime["NOTEGEN_CACHE"] = "0"
    for number, name in enumerate(["First title", "First title", "Second title"]):
        write(name)
        target = tmp_path / f"note{number}.pdf"
        result = _notegen("render", NOTE, "--template-dir", str(folder), "-o", str(target),
                          environ=runtime)
        assert result.returncode == 0, result.stderr
        assert title(target) == name
        _spare(runtime)  # forked with the templates as they were: the edit must reach it
    found = client.status(runtime)
    assert found is not None
    assert found["requests"] == 3


def test_the_public_api_is_whole_when_imported_lazily() -> None:
    import notegen

    assert set(notegen._LAZY) <= set(notegen.__all__)
    assert set(notegen.__all__) <= set(dir(notegen))
    for name in notegen.__all__:
        assert getattr(notegen, name) is not None
    with pytest.raises(AttributeError):
        _ = notegen.no_such_name


def test_a_request_passes_the_client_streams(tmp_path: Path) -> None:
    # The descriptors passed with a frame reach the other side as the same
    # open files: what is written through them lands in the client's file.
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    log = tmp_path / "stderr.txt"
    with ours, theirs, log.open("wb") as stream:
        send(ours, {"op": "run", "argv": ["batch"]}, [stream.fileno()])
        send(ours, {"op": "status"})
        message, streams = receive_request(theirs)
        assert message == {"op": "run", "argv": ["batch"]}
        assert len(streams) == 1
        os.write(streams[0], b"progress\n")
        os.close(streams[0])
        assert receive_request(theirs) == ({"op": "status"}, [])
    assert log.read_bytes() == b"progress\n"


def _cases(folder: Path, good: int, broken: bool = False) -> Path:
    """``good`` copies of the worked case under ``folder / "cases"`` (and one
    whose incident has a date that does not exist, if ``broken``), naming
    the one catalogue beside them."""
    shutil.copytree(SEED.parent / "profiles", folder / "profiles")
    shutil.copytree(SEED.parent / "az-mfa-catalogue", folder / "az-mfa-catalogue")
    names = [f"good{number}" for number in range(good)] + (["broken"] if broken else [])
    for name in names:
        shutil.copytree(SEED, folder / "cases" / name)
        note = folder / "cases" / name / "note.yaml"
        text = note.read_text(encoding="utf-8").replace(
            "catalogue: ../", "catalogue: ../../").replace("- ../profiles/", "- ../../profiles/")
        if name == "broken":
            text = text.replace("    date: 2025-11-14\n", "    date: 2025-13-14\n", 1)
        note.write_text(text, encoding="utf-8")
    return folder / "cases"


def _warm_daemon(runtime: dict[str, str]) -> None:
    result = _notegen("daemon", "start", environ=runtime)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 120
    while not (client.status(runtime) or {}).get("warm"):
        assert time.monotonic() < deadline, "the daemon did not warm up"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_batch_runs_in_a_process_forked_from_the_daemon(
        runtime: dict[str, str], tmp_path: Path, worked_pdf: bytes) -> None:
    # The batch runs in a process of its own, forked warm from the daemon,
    # and says what it does on the client's own standard error: the same
    # notes, the same located error and exit code as in process.
    cases = _cases(tmp_path, 2, broken=True)
    _warm_daemon(runtime)
    by_daemon = _notegen("batch", str(cases), "-o", str(tmp_path / "by-daemon"), "-j", "2",
                         environ=runtime)
    found = client.status(runtime)
    assert found is not None
    assert found["requests"] == 1
    in_process = _notegen("batch", str(cases), "-o", str(tmp_path / "here"), "-j", "2",
                          "--no-daemon", environ=runtime)
    assert by_daemon.returncode == in_process.returncode == 1
    assert by_daemon.stdout == in_process.stdout == b""

    def lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
        return [line.split(", in ")[0] for line in result.stderr.decode().splitlines()]

    assert lines(by_daemon) == lines(in_process)
    assert "2 rendered, 1 failed" in lines(by_daemon)
    assert any("broken/note.yaml: the records have 1 problem" in line
               for line in lines(by_daemon))
    for name in ("good0", "good1"):
        assert (tmp_path / "by-daemon" / name / "note.pdf").read_bytes() == worked_pdf
    assert not (tmp_path / "by-daemon" / "broken").exists() or not list(
        (tmp_path / "by-daemon" / "broken").iterdir())


@pytest.mark.slow
def test_a_batch_whose_client_goes_stops(runtime: dict[str, str], tmp_path: Path) -> None:
    # Ctrl-C on the client: the process running the batch, its workers and
    # their renders end at once; no note is left half written.
    count = 12
    cases = _cases(tmp_path, count)
    _warm_daemon(runtime)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "notegen", "batch", str(cases), "-o",
                                str(out), "-j", "2"], env=runtime, stderr=subprocess.PIPE)
    assert process.stderr is not None
    assert process.stderr.read(len(b"Rendering")) == b"Rendering"  # the batch has begun
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    process.stderr.close()
    time.sleep(3)
    made = sorted(out.rglob("*"))
    time.sleep(3)
    assert sorted(out.rglob("*")) == made  # nothing renders any more
    notes = [path for path in made if path.suffix == ".pdf"]
    assert len(notes) < count
    for note in notes:  # each whole (a note being written stays a hidden temporary file)
        assert note.read_bytes().startswith(b"%PDF-")
        assert note.read_bytes().rstrip().endswith(b"%%EOF")
