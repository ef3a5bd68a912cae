"""A spare bounded child, forked and rehearsed while nobody waits (issue 22):
the render handed to it is the render a fresh child would make, within the
same bounds, in the process's environment, folder, umask and log level of
the moment it is handed over."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from notegen import Case, RenderError, TemplateError, render_pdf
from notegen.render import limits
from notegen.render.pdf import rehearse

#: Seconds a spare may take to rehearse nothing, on a busy machine.
READY_SECONDS = 60.0


@pytest.fixture(autouse=True)
def no_spare_left() -> Iterator[None]:
    yield
    limits.drop_spare()


def _ready_spare(rehearsal: Callable[[], object] = lambda: None) -> int:
    """Fork a spare and wait until it has rehearsed: its process id."""
    limits.keep_spare(rehearsal)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        pid = limits.spare()
        if pid is not None:
            return pid
        time.sleep(0.01)
    raise AssertionError("the spare child did not get ready")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _dead(pid: int) -> bool:
    """Whether ``pid`` ended (a zombie until reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _where_am_i() -> tuple[int, str | None, str, int, int]:
    mask = os.umask(0)
    os.umask(mask)
    return (os.getpid(), os.environ.get("NOTEGEN_SPARE_TEST"), os.getcwd(), mask,
            logging.getLogger().level)


def _pid() -> int:
    return os.getpid()


def _warn() -> int:
    logging.getLogger("notegen.render.test").warning("said in the child")
    return os.getpid()


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def test_work_handed_to_the_spare_sees_the_parent_as_it_is_now(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _ready_spare()
    # All changed after the spare was forked: it must see them as they are now.
    monkeypatch.setenv("NOTEGEN_SPARE_TEST", "now")
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    mask = os.umask(0o027)
    try:
        seen = limits.run_bounded(_where_am_i, (), seconds=30, memory_mb=256)
    finally:
        os.umask(mask)
        root.setLevel(level)
    assert seen == (pid, "now", str(tmp_path), 0o027, logging.ERROR)
    assert limits.spare() is None  # used: the next render forks, or a new spare
    assert _gone(pid)


def test_a_spare_still_rehearsing_is_not_waited_for() -> None:
    limits.keep_spare(lambda: time.sleep(300))
    busy = limits._spare
    assert busy is not None
    began = time.monotonic()
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) != busy.pid
    assert time.monotonic() - began < 30
    assert limits.spare() is None  # still rehearsing, still kept
    assert limits._spare is busy
    limits.drop_spare()
    assert _gone(busy.pid)


def test_work_that_does_not_pickle_runs_in_a_fresh_child() -> None:
    pid = _ready_spare()
    other = limits.run_bounded(lambda: os.getpid(), (), seconds=30, memory_mb=256)
    assert other not in (pid, os.getpid())
    assert limits.spare() == pid  # kept for the next render


def test_a_spare_that_died_is_replaced_by_a_fresh_child() -> None:
    pid = _ready_spare()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not _dead(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    other = limits.run_bounded(_pid, (), seconds=30, memory_mb=256)
    assert other not in (pid, os.getpid())
    assert limits._spare is None


def test_the_time_bound_holds_in_the_spare() -> None:
    _ready_spare()
    began = time.monotonic()
    with pytest.raises(TemplateError, match=r"the template was stopped after 1 s"):
        limits.run_bounded(time.sleep, (60,), seconds=1, memory_mb=256)
    assert time.monotonic() - began < 20


def test_the_memory_bound_holds_in_the_spare() -> None:
    _ready_spare()
    with pytest.raises((TemplateError, RenderError), match=r"more than 64 MiB"):
        limits.run_bounded(_allocate, (2048,), seconds=30, memory_mb=64)


@pytest.mark.logs
def test_what_the_spare_logs_reaches_the_parent(caplog: pytest.LogCaptureFixture) -> None:
    pid = _ready_spare()
    with caplog.at_level(logging.WARNING):
        assert limits.run_bounded(_warn, (), seconds=30, memory_mb=256) == pid
    assert [record.getMessage() for record in caplog.records
            if record.name == "notegen.render.test"] == ["said in the child"]


def test_a_forked_process_forgets_its_parent_s_spare() -> None:
    _ready_spare()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (in the child)
        os.write(write, b"none" if limits._spare is None else b"kept")
        os._exit(0)
    os.close(write)
    assert os.read(read, 4) == b"none"
    os.close(read)
    os.waitpid(child, 0)
    assert limits.spare() is not None  # still the parent's


@pytest.mark.slow
def test_a_note_rendered_in_a_rehearsed_spare_is_the_same_bytes(
        worked_case: Case, worked_pdf: bytes) -> None:
    pid = _ready_spare(rehearse)
    assert render_pdf(worked_case) == worked_pdf
    assert _gone(pid) or limits.spare() != pid  # it was the spare that rendered
