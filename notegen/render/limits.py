"""Running a render within bounds of time and memory.

Jinja's sandbox keeps a template from reaching Python objects, but not from
looping for ever or building a string of gigabytes; WeasyPrint has no bound
at all: 100,000 pages, a table of 400,000 cells or an SVG ``<use>`` bomb lay
out for minutes in gigabytes. :func:`run_bounded` runs a function in a forked
child whose address space is capped, waits for it a limited time, and turns
overrunning either bound into an error that says which bound was hit, in
which stage, and how to allow more.

The child tells the parent which stage it is in (:func:`stage`): running
out of time or memory while a template runs is the template's fault (a
:class:`~notegen.errors.TemplateError`), while laying out or writing the PDF
a :class:`~notegen.errors.RenderError`. Its log records are handed to the
parent's loggers, so a warning logged in the child is seen as if the render
had run in the parent. A bounded function that calls :func:`run_bounded`
again (a PDF render renders its HTML) runs it in the same child, under the
same bounds.

The child is forked, so it starts with whatever the parent has loaded and
warmed (WeasyPrint, the fonts, the templates); what it loads itself is lost
when it exits. A caller that renders many times should warm the parent
first (:func:`notegen.render.pdf.warm_up`).

A fork is cheap, but the child then copies every page of the parent's
memory it writes to (Python writes to an object whenever it uses it): some
7,000 pages, 30-40 ms of a 250 ms render. A process that renders again and
again (the daemon, a batch worker, ``watch --pdf``) keeps its children
instead (:func:`keep_spares`): a child that finished its work waits for the
next, whose function and arguments are handed to it pickled, with the
process's environment, folder, umask and log level of the moment and the
digest of the template folders the work reads (a child forgets what it
loaded of files that changed since: :func:`on_files_changed`). Its memory is
its own copy already. The bounds are set again for each render, and a child
that overran one is not kept. The daemon also forks one while it waits and
lets it rehearse a render; it drops it (:func:`drop_spare`) when what the
child holds from it may be stale.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import logging
import os
import pickle
import re
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from ..errors import NotegenError, RenderError, TemplateError
from ..template_folders import TemplateFolders

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

#: How many characters of a URL or of user text a message quotes.
QUOTE_LIMIT = 200

#: How many log records a child hands to the parent; the rest are counted.
LOG_RECORD_LIMIT = 200


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, with "…" where it was cut: for
    quoting a URL or user text in a message (a ``data:`` URL may be 40 MB)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shorten_quotes(text: str, limit: int = 5 * QUOTE_LIMIT) -> str:
    """``text`` with each run of more than :data:`QUOTE_LIMIT` characters
    without a space (a URL) shortened, and the whole cut to ``limit``: for a
    message that quotes URLs among words that must stay."""
    if len(text) > QUOTE_LIMIT:
        text = _LONG_RUN.sub(lambda match: shorten(match.group()), text)
    return shorten(text, limit)


_LONG_RUN = re.compile(rf"\S{{{QUOTE_LIMIT + 1},}}")


class Stage(enum.StrEnum):
    """What a bounded render is doing: the fault of overrunning a bound."""

    #: Wording the note and running its template.
    template = "running the template"
    #: WeasyPrint laying out the pages.
    layout = "laying out the note"
    #: WeasyPrint writing the PDF.
    pdf = "writing the PDF"


#: Where the settings for each bound are, for the messages.
SETTINGS = {"time": "time_limit (notegen.toml) or NOTEGEN_TIME_LIMIT",
            "memory": "memory_limit_mb (notegen.toml) or NOTEGEN_MEMORY_LIMIT_MB",
            "pages": "page_limit (notegen.toml) or NOTEGEN_PAGE_LIMIT"}


@dataclass(frozen=True)
class Usage:
    """What the last bounded child took (for the log and the tests)."""

    seconds: float
    #: The child's resident memory when it started (the parent's, at fork).
    start_mib: float
    #: Its address space then; the memory bound lets it grow by the limit.
    start_address_mib: float
    #: Its highest resident memory: at most ``start_address_mib`` and the
    #: limit (it may first use memory the parent had reserved, not used).
    peak_mib: float


#: Set in a bounded child: the pipe to its parent, while it works.
_parent: Connection | None = None
#: Whether this process is a bounded child.
_child_process = False
#: What the last bounded child took, in the parent.
last_usage: Usage | None = None
#: Callables a bounded child runs as it ends (:func:`at_child_exit`).
_at_exit: list[Callable[[], object]] = []
#: Callables that forget what a process loaded of template files
#: (:func:`on_files_changed`).
_forgetters: list[Callable[[], object]] = []
#: In a kept child: the digest of each template-folder stack as it last
#: worked with it.
_worked_with: dict[TemplateFolders, str] = {}


@dataclass
class _Spare:
    """A bounded child waiting for work (:func:`keep_spares`)."""

    pid: int
    #: Where its work is sent.
    jobs: Connection
    #: What it says: "ready" once rehearsed, then as any bounded child.
    said: Connection
    ready: bool = field(default=False)
    #: The renders handed to it so far.
    renders: int = field(default=0)


@dataclass(frozen=True)
class SpareChild:
    """The spare child of this process, as :func:`spare` tells it."""

    pid: int
    #: The renders it has run (none, if it only rehearsed).
    renders: int


#: Whether this process keeps its bounded children for later work.
_keeping = False
#: The child waiting for the next render, in the process that forked it.
_spare: _Spare | None = None
_spare_lock = threading.Lock()
#: Renders a kept child runs before it ends: WeasyPrint keeps 10-20 KiB of
#: each, so it grows by 2 MiB at most.
RENDERS_PER_CHILD = 100
#: Seconds between a waiting spare's checks that its parent still runs.
_SPARE_CHECK = 1.0
#: Children let go of, not yet reaped.
_ending: set[int] = set()


def keep_spares(rehearse: Callable[[], object] | None = None) -> None:
    """From now on, keep each bounded child that finished its work (a
    result, or a located error) waiting for the next :func:`run_bounded` of
    this process, up to :data:`RENDERS_PER_CHILD` renders: the pages of
    memory a render writes to are its own copies already. With
    ``rehearse`` (a render, thrown away), also fork one now, unless one
    waits, that runs it first. For a process that renders again and again
    (the daemon, a batch worker); never in a bounded child. A spare ends
    when this process ends, or drops it (:func:`drop_spare`)."""
    global _keeping, _spare
    if _child_process:
        return
    _keeping = True
    if rehearse is None:
        return
    with _spare_lock:
        if _spare is None:
            _spare = _fork_spare(rehearse)
            logger.debug("spare bounded child %d forked", _spare.pid)


def spare() -> SpareChild | None:
    """The spare child, once it is ready for work (a rehearsed one has
    rehearsed); ``None`` if there is none, or it is still rehearsing."""
    global _spare
    with _spare_lock:
        current = _spare
        if current is None:
            return None
        try:
            return SpareChild(current.pid, current.renders) if _ready(current) else None
        except (EOFError, OSError):
            _spare = None
    _end(current)
    return None


def stop_keeping_spares() -> None:
    """Keep bounded children no longer (:func:`keep_spares`), and let the
    spare go."""
    global _keeping
    _keeping = False
    drop_spare()


def drop_spare() -> None:
    """End the spare child, if one waits: what it has in memory may no
    longer be what a render here would read (template files changed), or
    this process is done."""
    global _spare
    with _spare_lock:
        current, _spare = _spare, None
    if current is not None:
        _end(current)


def on_files_changed(forget: Callable[[], object]) -> None:
    """Have a kept child call ``forget`` before it works with template
    folders whose files changed since it last did (compiled templates,
    loaded fonts: what a process keeps of them)."""
    _forgetters.append(forget)


def at_child_exit(callback: Callable[[], object]) -> None:
    """In a bounded child, run ``callback`` as the child ends (not after
    each render: a kept child renders again)."""
    _at_exit.append(callback)


def _fork_spare(rehearse: Callable[[], object] | None) -> _Spare:
    jobs_out, jobs_in = Pipe(duplex=False)
    said_out, said_in = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the spare; its coverage is not collected)
        try:
            jobs_in.close()
            said_out.close()
            _serve(jobs_out, said_in, rehearse)
        finally:
            os._exit(0)  # (never back into the parent's code)
    jobs_out.close()
    said_in.close()
    return _Spare(pid, jobs_in, said_out)


def _ready(child: _Spare) -> bool:
    """Whether ``child`` has rehearsed.

    :raises EOFError: if it died.
    """
    if not child.ready and child.said.poll(0):
        if child.said.recv() != ("ready", None):
            raise EOFError
        child.ready = True
    return child.ready


def _end(child: _Spare) -> None:
    """Let ``child`` go: it finds its pipes closed (once rehearsed, if it
    rehearses), ends by itself doing what it must as it ends, and is reaped
    later."""
    child.jobs.close()
    child.said.close()
    _ending.add(child.pid)
    _reap_ended()


def _reap_ended() -> None:
    """Reap the children let go of that have ended."""
    for pid in list(_ending):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:
            pass
        _ending.discard(pid)


def _keep(child: _Spare) -> None:
    """Keep ``child`` for the next render (or end it, if another waits)."""
    global _spare
    with _spare_lock:
        if _spare is None:
            _spare = child
            return
    _end(child)


def _forget_spare() -> None:
    """In a process just forked: the spare is its parent's, not its own."""
    global _spare
    current, _spare = _spare, None
    if current is not None:
        current.jobs.close()
        current.said.close()
    _ending.clear()


os.register_at_fork(after_in_child=_forget_spare)


def _hand_over(function: Callable[..., Any], arguments: tuple[Any, ...], memory_mb: int,
               reads: TemplateFolders | None) -> _Spare | None:
    """The child ``function(*arguments)`` was handed to: the spare if one is
    ready, else (in a process that keeps its children) a new one; ``None``
    to fork as for one render only (no children are kept, or the work does
    not pickle). With the work goes the digest of the template folders it
    ``reads``: a kept child that worked with other files forgets what it
    loaded of them first."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None:
        try:
            ready = _ready(child)
        except (EOFError, OSError):  # it died
            _end(child)
            child, ready = None, False
        if child is not None and not ready:
            _keep(child)  # still rehearsing: not waited for
            child = None
    if child is None and not _keeping:
        return None
    try:
        mask = os.umask(0o077)  # (read by setting it)
        os.umask(mask)
        from .cache import folder_digest  # (only for a kept child: a one-render fork needs none)

        files = None if reads is None else (reads, folder_digest(reads))
        context = (dict(os.environ), os.getcwd(), mask, logging.getLogger().level, files)
        work = pickle.dumps((function, arguments, memory_mb, context), pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, OSError) as exc:
        logger.debug("not for a kept child (%s): forking", exc)
        if child is not None:
            _keep(child)
        return None
    for current in (child, None):
        current = current or _fork_spare(None)
        try:
            current.jobs.send_bytes(work)
        except OSError:  # it died
            _end(current)
            continue
        current.renders += 1
        return current
    return None


def _before_work_with(folders: TemplateFolders, digest: str
                      ) -> None:  # pragma: no cover (runs in a kept child)
    """In a kept child: forget what it loaded of template files if those of
    ``folders`` (now ``digest``) changed since it last worked with them."""
    if _worked_with.get(folders, digest) != digest:
        logger.debug("template files changed in %s: read again", folders)
        for forget in _forgetters:
            forget()
        _worked_with.clear()
    _worked_with[folders] = digest


def _serve(jobs: Connection, said: Connection, rehearse: Callable[[], object] | None
           ) -> None:  # pragma: no cover (runs in the spare)
    """A kept child: rehearse, say it is ready, then do the work handed to it
    as a bounded child would, in the folder, environment, umask and log
    level its parent had when it handed the work over; again, until a
    render ends otherwise than with a result or a located error."""
    global _child_process
    _child_process = True
    try:
        gc.freeze()  # (what the parent had: the collector leaves it be)
        if rehearse is not None:
            logging.disable(logging.CRITICAL)  # (a rehearsal: nobody asked)
            try:
                rehearse()
            finally:
                logging.disable(logging.NOTSET)
        said.send(("ready", None))
        parent = os.getppid()
        for _ in range(RENDERS_PER_CHILD):
            while not jobs.poll(_SPARE_CHECK):
                if os.getppid() != parent:
                    return
            work = jobs.recv_bytes()
            try:
                function, arguments, memory_mb, context = pickle.loads(work)
                environ, cwd, mask, level, files = context
                os.environ.clear()
                os.environ.update(environ)
                os.chdir(cwd)
                os.umask(mask)
                logging.getLogger().setLevel(level)
                if files is not None:
                    _before_work_with(*files)
            except Exception as exc:  # the parent forks a child of its own for it
                said.send(("refused", f"{type(exc).__name__}: {shorten(str(exc))}"))
                return
            if _work(said, function, arguments, memory_mb, kept=True) not in ("done", "error"):
                return
    except BaseException:
        pass
    finally:
        _exit()


def inside() -> bool:
    """Whether this process is a bounded child (a spare one too)."""
    return _child_process


def stage(current: Stage) -> None:
    """Tell the parent that the render is now in ``current`` (nothing
    outside a bounded child)."""
    if _parent is not None:
        _parent.send(("stage", current))


def run_bounded(function: Callable[..., Result], arguments: tuple[Any, ...], *,
                seconds: float, memory_mb: int, start: Stage = Stage.template,
                reads: TemplateFolders | None = None) -> Result:
    """``function(*arguments)``, in a child process given ``seconds`` and
    ``memory_mb`` MiB more memory than it starts with; in this process if it
    is itself a bounded child (the bounds already apply). ``reads``: the
    template folders whose files the work reads (a child kept from earlier
    work reads them again if they changed).

    A :class:`~notegen.errors.NotegenError` the function raises is raised
    here again, of the same kind and with the same problems; any other
    exception too, with the child's traceback as a note.

    :raises TemplateError: if the child takes longer or needs more memory
        while in :attr:`Stage.template` (``start``, until it says otherwise).
    :raises RenderError: if it does so in a later stage, or dies.
    """
    if _child_process:
        return function(*arguments)
    try:
        return _bounded(function, arguments, seconds, memory_mb, start, reads, keep=True)
    except _Refused as refused:  # a kept child could not take the work: a new one can
        logger.debug("a kept child could not take the work (%s): forking", refused)
        return _bounded(function, arguments, seconds, memory_mb, start, reads, keep=False)


class _Refused(Exception):
    """A kept child could not take the work handed to it (it did not
    unpickle there)."""


def _bounded(function: Callable[..., Result], arguments: tuple[Any, ...], seconds: float,
             memory_mb: int, start: Stage, reads: TemplateFolders | None, *, keep: bool
             ) -> Result:
    global last_usage
    _reap_ended()
    start_mib = _resident_mib()
    start_address_mib = (_address_space() or 0) / 2**20
    began = time.monotonic()
    kept = _hand_over(function, arguments, memory_mb, reads) if keep else None
    if kept is not None:
        pid, receive = kept.pid, kept.said
    else:
        receive, send = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child; its coverage is not collected)
            receive.close()
            _child(send, function, arguments, memory_mb)
        send.close()
    current = start
    outcome: tuple[str, Any] = ("died", None)
    waiting = True
    forwarded = dropped = 0
    peak_kib = 0
    status = 0
    try:
        deadline = began + seconds
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not receive.poll(remaining):
                os.kill(pid, signal.SIGKILL)
                outcome = ("time", None)
                waiting = False
                continue
            try:
                kind, value = receive.recv()
            except EOFError:
                waiting = False
                continue
            if kind == "stage":
                current = value
            elif kind == "log":
                forwarded, dropped = _relay(value, forwarded, dropped)
            elif kind == "peak":
                peak_kib = value
            elif kind != "ready":  # (a new kept child says so before its work)
                outcome = (kind, value)
                waiting = False
    finally:
        if (kept is not None and outcome[0] in ("done", "error")
                and kept.renders < RENDERS_PER_CHILD):
            kept.ready = True
            _keep(kept)
        else:
            receive.close()
            if kept is not None:
                kept.jobs.close()
            status, usage = _reap(pid)
            peak_kib = max(peak_kib, usage.ru_maxrss)
        last_usage = Usage(time.monotonic() - began, start_mib, start_address_mib,
                           max(start_mib, peak_kib / 1024))
        logger.debug("bounded child %d: %.3f s, %.0f MiB at start (address space %.0f MiB), "
                     "%.0f MiB at most", pid, last_usage.seconds, last_usage.start_mib,
                     last_usage.start_address_mib, last_usage.peak_mib)
    if dropped:
        logger.warning("%d more messages of the render were left out", dropped)
    kind, value = outcome
    if kind == "done":
        result: Result = value
        return result
    if kind == "refused":
        raise _Refused(value)
    if kind in ("error", "raise"):
        # The child's NotegenError, with its kind and problems; or a bug's.
        assert isinstance(value, BaseException)
        raise value
    if kind == "time":
        raise _overrun(current, f"was stopped after {seconds:g} s", "time",
                       _TIME_HINTS[current])
    if kind == "recursion":
        raise _overrun(current, "was stopped: the document nests too deeply "
                       f"({shorten(str(value))})", None, "")
    if kind == "memory":
        raise _overrun(current, f"was stopped: it needed more than {memory_mb} MiB of memory",
                       "memory", _MEMORY_HINTS[current])
    # The child died without a word: the memory bound makes C code abort.
    how = (f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}")
    raise _overrun(current, f"was stopped ({how}): it probably needed more than {memory_mb} "
                   "MiB of memory", "memory", _MEMORY_HINTS[current])


_TIME_HINTS = {
    Stage.template: "does a loop never end, or is a text of the records very long?",
    Stage.layout: "is the note very long, or a table, an image or the nesting of its "
                  "elements very large?",
    Stage.pdf: "is the note very long?",
}
_MEMORY_HINTS = {
    Stage.template: "does the template build huge strings, or is a text of the records "
                    "very long?",
    Stage.layout: "is the note very long, or a table, an image or the nesting of its "
                  "elements very large?",
    Stage.pdf: "is the note very long?",
}


def _overrun(current: Stage, what: str, bound: str | None, hint: str) -> NotegenError:
    subject = "the template" if current is Stage.template else current.value
    message = f"{subject} {what}"
    if hint:
        message += f": {hint}"
    if bound is not None:
        message += f" (a note needs far less; to allow more, set {SETTINGS[bound]})"
    kind = TemplateError if current is Stage.template else RenderError
    return kind(message)


def _relay(record: dict[str, Any], forwarded: int, dropped: int) -> tuple[int, int]:
    """Hand a child's log record to this process's loggers."""
    if forwarded >= LOG_RECORD_LIMIT:
        return forwarded, dropped + 1
    entry = logging.makeLogRecord(record)
    logging.getLogger(entry.name).handle(entry)
    return forwarded + 1, dropped


def _reap(pid: int) -> tuple[int, resource.struct_rusage]:
    """Wait for the child; its exit status (negative: the signal that ended
    it) and resource usage."""
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
        except InterruptedError:  # pragma: no cover
            continue
        return os.waitstatus_to_exitcode(status), usage


class _Forward(logging.Handler):
    """In the child: send each log record to the parent, made picklable."""

    def __init__(self, send: Connection) -> None:
        super().__init__(logging.NOTSET)
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if isinstance(record.args, tuple):
                record.args = tuple(shorten_quotes(arg) if isinstance(arg, str) else arg
                                    for arg in record.args)
            message = shorten_quotes(record.getMessage(), 10 * QUOTE_LIMIT)
            if record.exc_info:
                message += "\n" + shorten("".join(traceback.format_exception(
                    *record.exc_info)), 20 * QUOTE_LIMIT)
            state = dict(record.__dict__, msg=message, args=None, exc_info=None,
                         exc_text=None)
            self.send.send(("log", {key: value for key, value in state.items()
                                    if _picklable(value)}))
        except Exception:  # pragma: no cover (a log record is never worth a render)
            self.handleError(record)


def _picklable(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, tuple))


def _child(send: Connection, function: Callable[..., Any], arguments: tuple[Any, ...],
           memory_mb: int) -> None:  # pragma: no cover (runs in the child)
    """A bounded child forked for one render."""
    try:
        _work(send, function, arguments, memory_mb, kept=False)
    finally:
        try:
            send.close()
        finally:
            _exit()


def _work(send: Connection, function: Callable[..., Any], arguments: tuple[Any, ...],
          memory_mb: int, *, kept: bool) -> str:  # pragma: no cover (runs in the child)
    """Run ``function(*arguments)`` as a bounded child and send its outcome
    to the parent: what kind it was. A ``kept`` child bounds only its soft
    limit of memory (set again for each render), and says first how much
    memory it has used at most (its parent does not wait for it to end)."""
    global _parent, _child_process
    _parent, _child_process = send, True
    # What the parent had loaded stays shared: the collector does not walk it.
    gc.freeze()
    root = logging.getLogger()
    root.handlers = [_Forward(send)]
    size = _address_space()
    if size is not None:
        limit = size + memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1] if kept else limit
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    message: tuple[str, Any]
    try:
        message = ("done", function(*arguments))
    except MemoryError:
        message = ("memory", None)
    except NotegenError as exc:  # pickled whole: kind, message, problems
        message = ("error", exc)
    except RecursionError as exc:
        message = ("recursion", str(exc))
    except BaseException as exc:  # a bug: raised in the parent, with its traceback
        message = ("raise", _portable(exc))
    if kept:
        send.send(("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    try:
        send.send(message)
    except MemoryError:
        message = ("memory", None)
        send.send(message)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        message = ("raise", _portable(exc))
        send.send(message)
    return message[0]


def _exit() -> None:  # pragma: no cover (runs in the child)
    """End a bounded child: what it was asked to do as it ends, then out,
    leaving no cleanup of the parent's state to a copy of it."""
    try:
        for callback in _at_exit:
            with contextlib.suppress(Exception):
                callback()
    finally:
        os._exit(0)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles, else a RuntimeError with its text; with the
    child's traceback as a note either way."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {shorten(str(exc), 4 * QUOTE_LIMIT)}")
    exc.add_note(f"in the bounded child process:\n{text}")
    return exc


def _resident_mib() -> float:
    """This process's resident memory in MiB, where Linux tells it."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _address_space() -> int | None:
    """This process's virtual memory size in bytes, where Linux tells it."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
