from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import RenderOptions, render_pdf
from notegen.batch import Outcome, find_cases, run_batch
from notegen.cli import cli

from .conftest import ROOT, SEED


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """Three cases in a folder of their own: two good, one broken."""
    folder = tmp_path / "cases"
    shutil.copytree(ROOT / "seeds" / "profiles", tmp_path / "profiles")
    for name in ("first", "second", "broken"):
        shutil.copytree(SEED, folder / name)
        shutil.copytree(SEED.parent / "az-mfa-catalogue", folder / name / "catalogue")
        note = folder / name / "note.yaml"
        note.write_text(note.read_text(encoding="utf-8").replace(
            "../profiles/", "../../profiles/").replace(
            "catalogue: ../az-mfa-catalogue", "catalogue: catalogue"), encoding="utf-8")
    broken = folder / "broken" / "catalogue" / "incidents.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "date: 2024-01-02", "date: 2024-13-02"), encoding="utf-8")
    return folder


def test_cases_are_the_files_holding_a_note(cases: Path) -> None:
    base, found = find_cases(cases)
    assert base == cases
    assert [p.relative_to(cases).as_posix() for p in found] == [
        "broken/note.yaml", "first/note.yaml", "second/note.yaml"]
    _, by_glob = find_cases(str(cases / "f*" / "note.yaml"))
    assert [p.parent.name for p in by_glob] == ["first"]


def test_a_bad_case_does_not_stop_the_others(cases: Path, tmp_path: Path,
                                             worked_pdf: bytes) -> None:
    base, found = find_cases(cases)
    seen: list[Outcome] = []
    outcomes = run_batch(found, base, tmp_path / "out", jobs=2, progress=seen.append)
    assert len(seen) == 3
    failed = [o for o in outcomes if o.error]
    assert [o.case.parent.name for o in failed] == ["broken"]
    assert failed[0].error is not None
    assert "incidents.yaml:" in failed[0].error
    assert "incidents[1].date" in failed[0].error
    assert not (tmp_path / "out" / "broken" / "note.pdf").exists()
    # A note rendered in a worker is the note rendered alone, byte for byte.
    first = tmp_path / "out" / "first" / "note.pdf"
    assert first.read_bytes() == render_pdf(__import__("notegen").load_case(
        cases / "first" / "note.yaml"))
    assert first.read_bytes() == worked_pdf


def test_the_command_reports_and_exits_1(cases: Path, tmp_path: Path,
                                         runner: CliRunner) -> None:
    result = runner.invoke(cli, ["batch", str(cases), "-o", str(tmp_path / "out"), "-j", "2",
                                 "--format", "html"])
    assert result.exit_code == 1
    assert "2 rendered, 1 failed" in result.stderr
    assert "broken/note.yaml: the records have 1 problem" in result.stderr
    assert (tmp_path / "out" / "second" / "note.html").read_text().startswith("<!DOCTYPE html>")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(cli, ["batch", str(empty), "-o", str(tmp_path / "x")]).exit_code == 2


def test_workers_bound_every_render(cases: Path, tmp_path: Path) -> None:
    # A template that makes 100,000 pages is stopped at the page limit in a
    # worker as in the command, and leaves no file; the batch goes on.
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "note_verbale.html.j2").write_text(
        '{% extends "builtin/note_verbale.html.j2" %}{% block footer %}'
        "<p style='font-size:200pt'>{{ 'word ' * 900000 }}</p>{% endblock %}",
        encoding="utf-8")
    base, found = find_cases(cases)
    good = [case for case in found if case.parent.name != "broken"]
    options = RenderOptions(template_dirs=(folder,), page_limit=5, time_limit=20)
    outcomes = run_batch(good, base, tmp_path / "out", options, jobs=2)
    assert [o.error is not None and "more than 5 pages" in o.error for o in outcomes] == [
        True, True]
    assert all(o.seconds < 20 for o in outcomes)
    assert not list((tmp_path / "out").rglob("*.pdf"))


def _worker_state() -> tuple[set[str | None], bool, int, int]:
    """What a worker holds before it renders anything: the languages it is
    warm for, whether the built-in templates are compiled, how many objects
    the garbage collector leaves alone, and how many renders it has run."""
    import gc

    from notegen.render import pdf
    from notegen.template_folders import builtin

    return set(pdf._languages), builtin() in pdf._warm, gc.get_freeze_count(), pdf._renders


def test_workers_start_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every worker, and so its first note, starts from a server that has
    # rendered the worked case (in its language) and frozen what it holds.
    import notegen.batch

    monkeypatch.setattr(notegen.batch, "warm_here", lambda: False)  # (this process may be)
    with notegen.batch.workers(2, RenderOptions()) as pool:
        assert pool.submit(os.getppid).result() != os.getpid()  # forked by the server
        states = [pool.submit(_worker_state).result() for _ in range(4)]
    for languages, templates, frozen, renders in states:
        assert {None, "en"} <= languages
        assert templates
        assert frozen > 10_000
        assert renders == 0  # nothing rendered in the worker itself: it was forked warm


def test_a_warm_process_forks_its_workers_itself(cases: Path, tmp_path: Path,
                                                worked_pdf: bytes) -> None:
    # A process that is warm and runs no other thread (the daemon) forks
    # the workers itself: they start with what it holds, and render the
    # same bytes. Another thread, and it cannot.
    import threading

    import notegen.batch
    from notegen.render.pdf import warm_up

    warm_up()
    if threading.active_count() > 1:
        pytest.skip("another test left a thread running in this process")
    assert notegen.batch.warm_here()
    with notegen.batch.workers(2, RenderOptions()) as pool:
        assert pool.submit(os.getppid).result() == os.getpid()  # forked from here
        assert {None, "en"} <= pool.submit(_worker_state).result()[0]
    base, found = find_cases(cases)
    outcomes = run_batch([case for case in found if case.parent.name == "first"], base,
                         tmp_path / "out", jobs=2)
    assert outcomes[0].output is not None
    assert outcomes[0].output.read_bytes() == worked_pdf
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not notegen.batch.warm_here()
    finally:
        stop.set()
        thread.join()


def test_one_worker_or_two_make_the_same_bytes(cases: Path, tmp_path: Path) -> None:
    base, found = find_cases(cases)
    good = [case for case in found if case.parent.name != "broken"]
    alone = run_batch(good, base, tmp_path / "j1", jobs=1)
    pooled = run_batch(good, base, tmp_path / "j2", jobs=2)
    assert [o.output for o in alone] == [tmp_path / "j1" / n / "note.pdf"
                                         for n in ("first", "second")]
    assert [o.output for o in pooled] == [tmp_path / "j2" / n / "note.pdf"
                                          for n in ("first", "second")]
    assert [o.output.read_bytes() for o in alone if o.output] == [
        o.output.read_bytes() for o in pooled if o.output]
