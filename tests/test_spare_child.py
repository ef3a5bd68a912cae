"""Bounded children kept for the renders to come (issue 22): the daemon and
the batch workers hand each render to a child that has rendered before (or
rehearsed), whose memory is its own already. The render is the render a new
child would make, within the same bounds, in the process's environment,
folder, umask and log level of the moment it is handed over."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from notegen import Case, RenderError, RenderOptions, TemplateError, render_html, render_pdf
from notegen.render import limits
from notegen.render.pdf import rehearse

#: Seconds a spare may take to get ready, on a busy machine.
READY_SECONDS = 60.0


@pytest.fixture(autouse=True)
def no_spare_left() -> Iterator[None]:
    yield
    limits.stop_keeping_spares()


def _ready_spare(rehearsal: Callable[[], object] = lambda: None) -> int:
    """Keep spares, fork one and wait until it has rehearsed: its process id."""
    limits.keep_spares(rehearsal)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        found = limits.spare()
        if found is not None:
            return found.pid
        time.sleep(0.01)
    raise AssertionError("the spare child did not get ready")


def _dead(pid: int) -> bool:
    """Whether ``pid`` ended (a zombie until reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _ends(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _dead(pid):
            return True
        time.sleep(0.01)
    return False


def _where_am_i() -> tuple[int, str | None, str, int, int]:
    mask = os.umask(0)
    os.umask(mask)
    return (os.getpid(), os.environ.get("NOTEGEN_SPARE_TEST"), os.getcwd(), mask,
            logging.getLogger().level)


def _pid() -> int:
    return os.getpid()


def _refuse() -> None:
    raise RenderError("a located problem of the note")


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
    assert limits.spare() == limits.SpareChild(pid, 1)  # kept for the next render
    monkeypatch.delenv("NOTEGEN_SPARE_TEST")
    assert limits.run_bounded(_where_am_i, (), seconds=30, memory_mb=256)[:3] == (
        pid, None, str(tmp_path))  # the environment as it is now, again


def test_a_child_that_rendered_renders_the_next_and_one_that_failed_does_not() -> None:
    limits.keep_spares()
    first = limits.run_bounded(_pid, (), seconds=30, memory_mb=256)
    assert first != os.getpid()
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) == first
    with pytest.raises(RenderError, match="a located problem"):
        limits.run_bounded(_refuse, (), seconds=30, memory_mb=256)
    assert limits.spare() == limits.SpareChild(first, 3)  # a located error keeps it
    with pytest.raises(TemplateError, match=r"stopped after 1 s"):
        limits.run_bounded(time.sleep, (60,), seconds=1, memory_mb=256)
    assert _ends(first)  # stopped: a child that overran is not kept
    assert limits.spare() is None
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) not in (first, os.getpid())


def test_a_kept_child_ends_after_its_share_of_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "RENDERS_PER_CHILD", 2)
    limits.keep_spares()
    first = limits.run_bounded(_pid, (), seconds=30, memory_mb=256)
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) == first
    assert limits.spare() is None
    assert _ends(first)
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) != first


def test_a_spare_still_rehearsing_is_not_waited_for() -> None:
    limits.keep_spares(lambda: time.sleep(10))
    busy = limits._spare
    assert busy is not None
    began = time.monotonic()
    assert limits.run_bounded(_pid, (), seconds=30, memory_mb=256) != busy.pid
    assert time.monotonic() - began < 10
    assert limits.spare() is None  # still rehearsing, still kept
    assert limits._spare is busy
    limits.drop_spare()  # let go while it rehearses: it ends once it has
    assert _ends(busy.pid)


def test_work_that_does_not_pickle_runs_in_a_child_of_its_own() -> None:
    pid = _ready_spare()
    other = limits.run_bounded(lambda: os.getpid(), (), seconds=30, memory_mb=256)
    assert other not in (pid, os.getpid())
    assert _ends(other)
    assert limits.spare() == limits.SpareChild(pid, 0)  # kept for the next render


class _RebuiltNowhere:
    """Pickles, but cannot be unpickled: as work a kept child cannot take."""

    def __reduce__(self) -> tuple[Callable[[], object], tuple[()]]:
        return _cannot_rebuild, ()


def _cannot_rebuild() -> object:
    raise ValueError("not here")


def _pid_with(_: object) -> int:
    return os.getpid()


def test_work_a_kept_child_cannot_take_runs_in_a_child_of_its_own() -> None:
    pid = _ready_spare()
    other = limits.run_bounded(_pid_with, (_RebuiltNowhere(),), seconds=30, memory_mb=256)
    assert other not in (pid, os.getpid())
    assert _ends(pid)  # it said so and ended


def test_a_spare_that_died_is_replaced() -> None:
    pid = _ready_spare()
    os.kill(pid, signal.SIGKILL)
    assert _ends(pid)
    other = limits.run_bounded(_pid, (), seconds=30, memory_mb=256)
    assert other not in (pid, os.getpid())
    assert limits.spare() == limits.SpareChild(other, 1)


def test_the_time_bound_holds_in_the_spare() -> None:
    pid = _ready_spare()
    began = time.monotonic()
    with pytest.raises(TemplateError, match=r"the template was stopped after 1 s"):
        limits.run_bounded(time.sleep, (60,), seconds=1, memory_mb=256)
    assert time.monotonic() - began < 20
    assert _ends(pid)


@pytest.mark.parametrize("renders_before", [0, 1])
def test_the_memory_bound_holds_in_the_spare(renders_before: int) -> None:
    _ready_spare()
    for _ in range(renders_before):  # the bound is set again for each render
        limits.run_bounded(_allocate, (32,), seconds=30, memory_mb=64)
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
def test_notes_rendered_one_after_another_in_a_kept_child_are_the_same_bytes(
        worked_case: Case, worked_pdf: bytes) -> None:
    russian = RenderOptions(lang="ru")
    expected_russian = render_pdf(worked_case, options=russian)  # in a child of its own
    pid = _ready_spare(rehearse)
    assert render_pdf(worked_case) == worked_pdf
    assert render_pdf(worked_case, options=russian) == expected_russian
    assert render_pdf(worked_case) == worked_pdf
    assert limits.spare() == limits.SpareChild(pid, 3)  # all three, in the rehearsed spare


def test_a_kept_child_reads_a_template_edited_since_its_last_render(
        tmp_path: Path, worked_case: Case) -> None:
    folder = tmp_path / "ministry"
    folder.mkdir()
    template = folder / "note_verbale.html.j2"
    options = RenderOptions(template_dirs=(folder,))
    limits.keep_spares()
    for number, title in enumerate(["First title", "First title", "Second title"]):
        template.write_text("{% extends 'builtin/note_verbale.html.j2' %}"
                            f"{{% block document_title %}}{title}{{% endblock %}}",
                            encoding="utf-8")
        html = render_html(worked_case, options)  # a ministry's template: in a child
        assert f"<title>{title}</title>" in html
        found = limits.spare()
        assert found is not None
        assert found.renders == number + 1  # one child, kept
