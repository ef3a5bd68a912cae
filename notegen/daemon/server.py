"""The daemon: a warm process that runs the command line's work, one
request at a time, on a Unix socket of its user.

A request to run is the command line as given (its arguments), the folder
it was given in and its environment; the daemon runs the same
command-line code (the ``runner`` it is made with) in that folder and
environment, and answers with what it wrote to standard output and
standard error and its exit code. It reads the files the command names
itself, as the same user. Renders are still bounded in forked children
(:mod:`notegen.render.limits`), which start with what the daemon has loaded.

The daemon answers only a peer of its own user (``SO_PEERCRED``), ends
after ``idle`` seconds without a request, and ends at once when a client
runs another notegen (another version, Python or edited files: the client
then starts a new one). Between requests it notices when a file of the
template folders it has rendered with changed and forgets what it compiled
and loaded of them.

It keeps its bounded children (:func:`notegen.render.limits.keep_spares`):
a child that rendered waits for the next render, and one is forked and
rehearsed while the daemon is idle if none waits. A render then runs in a
child whose memory is its own already, without the 30-40 ms a new child
spends copying the memory a render writes to. The spare is dropped when
template files change, and ends with the daemon.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import logging
import os
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DaemonError, NotegenError
from . import APART, COMMANDS
from .paths import lock_path, socket_path
from .protocol import (
    STREAMS,
    ProtocolError,
    encode_error,
    identity,
    receive_request,
    send,
    to_text,
)

logger = logging.getLogger(__name__)

#: What runs a command line: its arguments in, its exit status out.
Runner = Callable[[list[str]], int]

#: Seconds a starting daemon waits for another to let go of the folder.
_LOCK_WAIT = 5.0
#: Seconds a client may take to send its request.
_READ_TIMEOUT = 30.0


class Server:
    """A daemon in ``folder`` (checked by the caller), running requests with
    ``runner``, ending after ``idle`` seconds without one; ``preload`` is
    called once, the first time it has nothing to do."""

    def __init__(self, folder: Path, runner: Runner, idle: float,
                 preload: Callable[[], object] | None = None) -> None:
        self.folder = folder
        self.runner = runner
        #: Loads what the runner needs, while no one waits.
        self.preload = preload
        self.idle = idle
        self.identity = identity(os.environ)  # before anything changes the environment
        self.started = time.time()
        self.requests = 0
        self.stopping = False
        self.warm = False
        #: Processes running a command apart (:data:`APART`), not yet reaped.
        self.apart: set[int] = set()
        self._listener: socket.socket | None = None
        self._lock: int | None = None

    def serve(self, ready: Callable[[], None] | None = None) -> None:
        """Listen and answer until idle, stopped or stale.

        :raises DaemonError: if another daemon holds the folder.
        """
        with self._locked(), self._listening() as listener:
            self._listener = listener
            os.environ["NOTEGEN_NO_DAEMON"] = "1"  # the commands it runs run here
            from ..render.pdf import isolate_fonts

            isolate_fonts()  # once, before any request: as a command does
            logger.info("listening on %s (pid %d, ends after %.0f s idle)",
                        socket_path(self.folder), os.getpid(), self.idle)
            if ready is not None:
                ready()
            last = time.monotonic()
            while not self.stopping:
                self._reap()
                left = self.idle - (time.monotonic() - last)
                # Awake at least each second while requests run apart: to reap them.
                listener.settimeout(max(0.05, min(left, 1.0) if self.apart else left)
                                    if self.warm else 0.2)
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    if not self.warm:
                        self._warm_up()
                    elif time.monotonic() - last >= self.idle:
                        logger.info("no request for %.0f s: stopping", self.idle)
                        break
                    continue
                with connection:
                    self._answer(connection)
                if not self.stopping:
                    _keep_spare()
                last = time.monotonic()
        _drop_spare()
        logger.info("stopped after %d request(s)", self.requests)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(lock_path(self.folder), "a+b") as lock:
            deadline = time.monotonic() + _LOCK_WAIT
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._lock = lock.fileno()
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DaemonError(f"a daemon runs already in {self.folder}") from None
                    time.sleep(0.05)
            yield

    @contextlib.contextmanager
    def _listening(self) -> Iterator[socket.socket]:
        path = socket_path(self.folder)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a daemon that died: the lock is ours
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        mask = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(mask)
        os.chmod(path, 0o600)
        inode = os.stat(path).st_ino
        listener.listen(64)
        try:
            yield listener
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    path.unlink()

    def _warm_up(self) -> None:
        """Load, while no one waits, what renders need (WeasyPrint, the
        command line, the built-in templates and fonts)."""
        self.warm = True
        began = time.perf_counter()
        try:
            from ..render.cache import folder_digest
            from ..render.pdf import warm_up
            from ..template_folders import builtin

            warm_up()
            folder_digest(builtin())  # what later requests compare with
            if self.preload is not None:
                self.preload()
        except NotegenError as exc:
            logger.info("no warm-up: %s", exc)
        gc.freeze()
        logger.info("warm in %.2f s", time.perf_counter() - began)
        _keep_spare()

    def _answer(self, connection: socket.socket) -> None:
        peer = _peer_uid(connection)
        if peer is not None and peer != os.getuid():
            logger.warning("refused a connection from uid %d", peer)
            return
        connection.settimeout(_READ_TIMEOUT)
        try:
            request, streams = receive_request(connection)
        except (OSError, ProtocolError, struct.error) as exc:
            logger.info("a request could not be read: %s", exc)
            return
        try:
            answer = self._handle(connection, request, streams)
        finally:
            for stream in streams:
                os.close(stream)
        if answer is None:
            return  # a process of its own answers
        connection.settimeout(None)
        try:
            send(connection, answer)
        except OSError as exc:
            logger.info("the client left before its answer: %s", exc)

    def _handle(self, connection: socket.socket, request: dict[str, Any], streams: list[int]
                ) -> dict[str, Any] | None:
        """The answer to ``request``; ``None`` if a process forked for it
        answers."""
        operation = request.get("op")
        answer: dict[str, Any] | None
        if operation == "status":
            answer = self.status()
        elif operation == "stop":
            self.stopping = True
            answer = {"ok": True}
        elif operation == "run":
            if request.get("identity") != self.identity:
                logger.info("a client runs another notegen: stopping")
                self.stopping = True
                answer = {"ok": False, "stale": True}
            elif request.get("command") in APART and len(streams) == STREAMS:
                answer = self._run_apart(connection, request, streams)
            else:
                answer = self._run(request)
        else:
            answer = {"ok": False, "error": encode_error(DaemonError(
                f"unknown request {operation!r}"))}
        return answer

    def _run_apart(self, connection: socket.socket, request: dict[str, Any],
                   streams: list[int]) -> dict[str, Any] | None:
        """Run ``request`` in a process forked from this one (warm as it is),
        writing to the client's ``streams``; that process answers with the
        exit code, so here there is nothing to answer (``None``)."""
        refused = _refusal(request)
        if refused is not None:
            return refused
        self.requests += 1
        child = os.fork()
        if child:
            self.apart.add(child)
            logger.info("request %d: %s in %s, in process %d", self.requests,
                        request["command"], request["cwd"], child)
            return None
        status, answer = 1, None  # pragma: no cover (in the child, which ends by os._exit)
        try:
            self._leave_daemon()
            os.setpgid(0, 0)  # its workers and renders: one group, ended together
            _end_with_client(connection)
            for target, stream in enumerate(streams):
                os.dup2(stream, target)
            mask = request.get("umask")
            with _inside(request["cwd"], request["env"], mask if isinstance(mask, int)
                         else None):
                _refresh()
                status = self.runner(request["argv"])
            answer = {"ok": True, "exit": status, "stdout": "", "stderr": ""}
        except OSError as exc:
            answer = {"ok": False, "error": encode_error(DaemonError(
                f"cannot work in {request['cwd']}: {exc.strerror or exc}"))}
        except BaseException:  # a bug: the client runs the command itself and shows it
            answer = {"ok": False, "bug": traceback.format_exc()}
        finally:
            with contextlib.suppress(BaseException):
                for written in (sys.stdout, sys.stderr):
                    written.flush()
                signal.signal(signal.SIGIO, signal.SIG_IGN)
                connection.settimeout(None)
                send(connection, answer or {"ok": False, "bug": "no answer"})
            os._exit(0)

    def _leave_daemon(self) -> None:
        """In a process forked to run a request: let go of what makes the
        daemon (its socket, its lock), so that a new daemon may start while
        this one works."""
        if self._listener is not None:
            self._listener.close()
        if self._lock is not None:
            os.close(self._lock)

    def _reap(self) -> None:
        """Reap the processes of requests run apart that have ended."""
        for child in list(self.apart):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(child, os.WNOHANG)[0] == 0:
                    continue
            self.apart.discard(child)

    def status(self) -> dict[str, Any]:
        """What ``notegen daemon status`` shows."""
        return {"ok": True, "pid": os.getpid(), "socket": str(socket_path(self.folder)),
                "started": self.started, "uptime": time.time() - self.started,
                "requests": self.requests, "idle_seconds": self.idle, "warm": self.warm,
                "spare": _spare(),
                "version": self.identity["version"]}

    def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        refused = _refusal(request)
        if refused is not None:
            return refused
        argv, cwd, environ, command = (request["argv"], request["cwd"], request["env"],
                                       request["command"])
        self.requests += 1
        began = time.perf_counter()
        output, errors = io.BytesIO(), io.BytesIO()
        try:
            mask = request.get("umask")
            with _inside(cwd, environ, mask if isinstance(mask, int) else None), \
                    _captured(output, errors):
                _refresh()
                status = self.runner(argv)
        except OSError as exc:  # the folder is gone, or cannot be entered
            return {"ok": False, "error": encode_error(DaemonError(
                f"cannot work in {cwd}: {exc.strerror or exc}"))}
        except Exception:  # a bug: the client runs the command itself and shows it
            logger.exception("request %d failed", self.requests)
            return {"ok": False, "bug": traceback.format_exc()}
        logger.info("request %d: %s in %s, exit %d, %.3f s", self.requests, command, cwd,
                    status, time.perf_counter() - began)
        return {"ok": True, "exit": status, "stdout": to_text(output.getvalue()),
                "stderr": to_text(errors.getvalue())}


def _refusal(request: dict[str, Any]) -> dict[str, Any] | None:
    """The answer refusing a malformed ``request`` to run, or ``None``."""
    argv, cwd, environ = request.get("argv"), request.get("cwd"), request.get("env")
    if not (isinstance(argv, list) and all(isinstance(arg, str) for arg in argv)
            and isinstance(cwd, str) and isinstance(environ, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in environ.items())):
        return {"ok": False, "error": encode_error(DaemonError("a malformed request"))}
    command = request.get("command")
    if command not in COMMANDS or command not in argv:
        return {"ok": False, "error": encode_error(DaemonError(
            f"the daemon does not run {command!r}"))}
    return None


def _peer_uid(connection: socket.socket) -> int | None:
    """The user of the process at the other end, where the system says."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return int(uid)


def _end_with_client(connection: socket.socket) -> None:
    """End this process and its group (workers, renders) when the client at
    the other end of ``connection`` goes (Ctrl-C): the kernel signals SIGIO
    when the connection, which carries nothing more, ends. Ended at once,
    as a command stopped by Ctrl-C is: a note being written is left as a
    temporary file, never as a partial note."""

    def gone(*_: object) -> None:
        try:
            if connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        os.killpg(0, signal.SIGKILL)  # (multiprocessing's helpers ignore SIGTERM)

    connection.settimeout(None)  # (with a timeout, a peek would wait for data)
    signal.signal(signal.SIGIO, gone)
    fcntl.fcntl(connection, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(connection, fcntl.F_SETFL, fcntl.fcntl(connection, fcntl.F_GETFL) | os.O_ASYNC)
    gone()  # the client may have gone already


@contextlib.contextmanager
def _inside(cwd: str, environ: dict[str, str], mask: int | None) -> Iterator[None]:
    """Work in ``cwd`` with ``environ`` (what the daemon's own start fixed,
    the fonts, kept) and the client's umask ``mask`` (its files get the
    mode the client's would), then go back."""
    saved = dict(os.environ)
    before = os.getcwd()
    os.chdir(cwd)
    saved_mask = os.umask(0o077 if mask is None else mask & 0o777)
    os.environ.clear()
    os.environ.update(environ)
    for name in ("FONTCONFIG_FILE", "NOTEGEN_NO_DAEMON"):
        if name in saved:
            os.environ[name] = saved[name]
    try:
        yield
    finally:
        fonts = os.environ.get("FONTCONFIG_FILE")  # set by the first render: kept
        os.environ.clear()
        os.environ.update(saved)
        if fonts is not None:
            os.environ["FONTCONFIG_FILE"] = fonts
        os.umask(saved_mask)
        os.chdir(before)


@contextlib.contextmanager
def _captured(output: io.BytesIO, errors: io.BytesIO) -> Iterator[None]:
    """Standard output and error into ``output`` and ``errors``, standard
    input empty; logging's handlers as they were, afterwards."""
    streams = sys.stdin, sys.stdout, sys.stderr
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    wrappers = [
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8"),
        io.TextIOWrapper(output, encoding="utf-8", write_through=True),
        io.TextIOWrapper(errors, encoding="utf-8", write_through=True)]
    sys.stdin, sys.stdout, sys.stderr = wrappers
    try:
        yield
    finally:
        for wrapper in wrappers:
            with contextlib.suppress(ValueError):
                wrapper.flush()
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        sys.stdin, sys.stdout, sys.stderr = streams
        for wrapper in wrappers:
            with contextlib.suppress(ValueError):
                wrapper.detach()  # (io.TextIOWrapper would close our buffers)


def _keep_spare() -> None:
    """Keep the bounded children that rendered for the next render; and,
    unless one waits, fork a spare one, rehearsed."""
    from ..render.limits import keep_spares
    from ..render.pdf import rehearse

    keep_spares(rehearse)


def _drop_spare() -> None:
    from ..render.limits import drop_spare

    drop_spare()


def _spare() -> dict[str, int] | None:
    """The spare bounded child, once ready: its process id, and the renders
    it ran (none if it only rehearsed)."""
    from ..render.limits import spare

    found = spare()
    return None if found is None else {"pid": found.pid, "renders": found.renders}


def _refresh() -> None:
    """Forget what this process compiled and loaded of template folders
    whose files changed since the last request (and the spare child, which
    has them too)."""
    from ..render import html, pdf
    from ..render.cache import changed_stacks
    from ..template_folders import builtin

    changed = changed_stacks([builtin(), *pdf._warm])
    if changed:
        _drop_spare()
        logger.info("template files changed in %s: read again",
                    ", ".join(str(folder) for stack in changed for folder in stack.user)
                    or "the built-in folder")
        html.forget_templates()
        pdf._font_configuration.cache_clear()
        pdf._warm.clear()
