"""Many notes at once: a folder (or glob) of cases rendered by worker processes.

Workers are forked from a server process that has already imported notegen
and WeasyPrint and rendered a note (:mod:`.warm`), so each starts warm: the
Jinja environment, the phrase and legal catalogues, the fonts and
WeasyPrint's first-use setup are loaded once, before any worker exists, and
a worker's first note costs what its tenth does. WeasyPrint's memory grows
with every render (bare WeasyPrint too, by about 0.15 MiB a note), so each
worker is replaced after
:data:`TASKS_PER_WORKER` notes. One bad case is reported with its located
error and does not stop the others.

Each note is rendered, as everywhere, in a child of its worker bounded in
time, memory and pages (``RenderOptions.time_limit``, ``memory_limit_mb``,
``page_limit``): a case that would lay out for minutes is stopped with its
error, and the worker goes on with the next. A child that rendered its note
renders the worker's next one (up to 100), so its memory is its own
already; one that was stopped is not kept. A batch with template folders,
a language or a translation of its own warms each worker for them as it
starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import glob
import logging
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import NotegenError, RecordError
from ..options import RenderOptions
from ..records.case import load_case
from ..records.reading import read_file
from ..render.atomic import write_atomic
from ..render.html import render_html

logger = logging.getLogger(__name__)

_SUFFIXES = (".yaml", ".yml", ".json")

#: Notes a worker renders before a fresh one replaces it: WeasyPrint keeps
#: 10-20 KiB of every render (inside Pango), so a worker grows by 10 MiB at
#: most; a replacement costs a new process its first, slower render.
TASKS_PER_WORKER = 500

#: The module the workers' server imports before it forks them: importing it
#: warms the server up.
WARM_MODULE = "notegen.batch.warm"


def find_cases(source: str | Path) -> tuple[Path, list[Path]]:
    """The case files of ``source`` (a folder, searched recursively, or a
    glob pattern), and the folder their output paths are relative to.

    In a folder, a case file is a YAML or JSON file that holds a ``note``;
    the files it includes are not cases themselves.
    """
    path = Path(source)
    if path.is_dir():
        candidates = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES)
        return path, [p for p in candidates if _holds_note(p)]
    files = sorted(Path(name) for name in glob.glob(str(source), recursive=True))
    files = [p for p in files if p.is_file()]
    base = Path(os.path.commonpath([p.parent.resolve() for p in files])) if files else Path()
    return base, [p.resolve() for p in files]


def _holds_note(path: Path) -> bool:
    try:
        data = read_file(path).data
    except RecordError:
        return True  # not readable: let the render report where and why
    return isinstance(data, dict) and "note" in data


@dataclass(frozen=True)
class Outcome:
    """What became of one case."""

    case: Path
    output: Path | None
    #: The located error, for a case that failed.
    error: str | None
    seconds: float


def _render_one(case_file: Path, target: Path, options: RenderOptions, fmt: str) -> Outcome:
    start = time.perf_counter()
    try:
        case = load_case(case_file)
        if fmt == "html":
            write_atomic(target, render_html(case, options).encode("utf-8"))
        elif fmt == "docx":
            from ..render.docx import render_docx

            render_docx(case, target, options)
        else:
            from ..render.pdf import render_pdf

            render_pdf(case, target, options)
    except NotegenError as exc:
        return Outcome(case_file, None, str(exc), time.perf_counter() - start)
    return Outcome(case_file, target, None, time.perf_counter() - start)


def run_batch(cases: Sequence[Path], base: Path, out_folder: Path,
              options: RenderOptions | None = None, *, jobs: int | None = None,
              fmt: str = "pdf", progress: Callable[[Outcome], None] | None = None
              ) -> list[Outcome]:
    """Render every case into ``out_folder`` (keeping their paths relative to
    ``base``) with ``jobs`` worker processes (default: one per core).

    ``progress`` is called with each outcome as it comes in. The outcomes
    are returned in the order of ``cases``.
    """
    options = options or RenderOptions()
    jobs = jobs or os.cpu_count() or 1
    targets = {case: _target(case, base, out_folder, fmt) for case in cases}
    for target in set(targets.values()):
        target.parent.mkdir(parents=True, exist_ok=True)
    outcomes: dict[Path, Outcome] = {}
    if jobs == 1 or len(cases) <= 1:
        for case in cases:
            outcomes[case] = _render_one(case, targets[case], options, fmt)
            if progress:
                progress(outcomes[case])
        return [outcomes[case] for case in cases]
    share = jobs * TASKS_PER_WORKER
    for first in range(0, len(cases), share):  # a pool per share: its workers then end
        with workers(jobs, options) as pool:
            # Absolute paths: a worker works in the folder its server started in.
            futures = {pool.submit(_render_one, case.resolve(), targets[case].resolve(),
                                   options, fmt): case for case in cases[first:first + share]}
            for future in as_completed(futures):
                case = futures[future]
                outcome = dataclasses.replace(future.result(), case=case, output=(
                    targets[case] if future.result().output is not None else None))
                outcomes[case] = outcome
                if progress:
                    progress(outcome)
    return [outcomes[case] for case in cases]


@contextlib.contextmanager
def workers(jobs: int, options: RenderOptions) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` worker processes for rendering with ``options``,
    each starting warm: forked from this process if it is warm already and
    runs no other thread (the daemon, :func:`warm_here`), else from the
    batch's server (:mod:`.warm`)."""
    from ..render.pdf import isolate_fonts

    isolate_fonts()  # before the server starts: the workers inherit its environment
    if warm_here():
        # Forked as this process is: its folder, environment and warm state.
        # (The fork start method replaces no worker: run_batch gives a pool
        # jobs × TASKS_PER_WORKER notes, then starts another.)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(
                "fork"), initializer=_start_worker, initargs=(options,)) as pool:
            yield pool
        return
    context = multiprocessing.get_context("forkserver")
    # The server imports notegen and WeasyPrint and renders a note before it
    # forks the first worker; a server this process started for an earlier
    # batch is warm already. It also runs the main script once (a console
    # script imports the command line), which each worker would run again.
    context.set_forkserver_preload(["__main__", WARM_MODULE])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                             initargs=(options,), max_tasks_per_child=TASKS_PER_WORKER
                             ) as pool:
        yield pool


def warm_here() -> bool:
    """Whether workers may be forked from this process as it is: it has
    rendered already (:func:`~notegen.render.pdf.warm_up`), and runs no other
    thread (a fork copies only the calling one, and a lock another held
    stays locked in the child)."""
    from ..render.pdf import is_warm

    return threading.active_count() == 1 and is_warm()


def _start_worker(options: RenderOptions) -> None:
    """A worker's start: warm for the batch's own template folders, language
    and translation (the server warmed it for the built-in ones), keep the
    garbage collector off what it inherited, and keep the bounded child of
    each note for the next (:func:`~notegen.render.limits.keep_spares`: a
    note then costs no new child copying the worker's memory), letting it go
    when the worker ends."""
    from ..render.limits import keep_spares, stop_keeping_spares
    from ..render.pdf import warm_up

    keep_spares()
    multiprocessing.util.Finalize(None, stop_keeping_spares, exitpriority=10)
    if options.folders.user or options.lang or options.translation:
        try:
            warm_up(options.folders, options)
        except (NotegenError, OSError) as exc:  # each note then reports its own problem
            logger.debug("worker not warmed for %s: %s", options.folders, exc)
    gc.freeze()


def _target(case: Path, base: Path, out_folder: Path, fmt: str) -> Path:
    try:
        relative = case.resolve().relative_to(base.resolve())
    except ValueError:
        relative = Path(case.name)
    return out_folder / relative.with_suffix(f".{fmt}")


def summary(outcomes: Sequence[Outcome], seconds: float) -> Iterator[str]:
    """Lines telling how the batch went."""
    failed = [outcome for outcome in outcomes if outcome.error]
    done = len(outcomes) - len(failed)
    for outcome in failed:
        yield f"{outcome.case}: {outcome.error}"
    rate = len(outcomes) / seconds if seconds else 0.0
    yield (f"{done} rendered, {len(failed)} failed, in {seconds:.1f} s "
           f"({rate:.1f} notes/s)")
