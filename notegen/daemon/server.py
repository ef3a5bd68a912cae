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
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import logging
import os
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import NotegenError
from .paths import DaemonError, lock_path, socket_path
from .protocol import ProtocolError, encode_error, identity, receive, send, to_text

logger = logging.getLogger(__name__)

#: What runs a command line: its arguments in, its exit status out.
Runner = Callable[[list[str]], int]

#: Seconds a starting daemon waits for another to let go of the folder.
_LOCK_WAIT = 5.0
#: Seconds a client may take to send its request.
_READ_TIMEOUT = 30.0
#: The commands a client may hand over.
COMMANDS = frozenset({"render", "validate"})


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

    def serve(self, ready: Callable[[], None] | None = None) -> None:
        """Listen and answer until idle, stopped or stale.

        :raises DaemonError: if another daemon holds the folder.
        """
        with self._locked(), self._listening() as listener:
            os.environ["NOTEGEN_NO_DAEMON"] = "1"  # the commands it runs run here
            from ..render.pdf import isolate_fonts

            isolate_fonts()  # once, before any request: as a command does
            logger.info("listening on %s (pid %d, ends after %.0f s idle)",
                        socket_path(self.folder), os.getpid(), self.idle)
            if ready is not None:
                ready()
            last = time.monotonic()
            while not self.stopping:
                left = self.idle - (time.monotonic() - last)
                listener.settimeout(max(0.05, left) if self.warm else 0.2)
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
                last = time.monotonic()
        logger.info("stopped after %d request(s)", self.requests)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(lock_path(self.folder), "a+b") as lock:
            deadline = time.monotonic() + _LOCK_WAIT
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
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

    def _answer(self, connection: socket.socket) -> None:
        peer = _peer_uid(connection)
        if peer is not None and peer != os.getuid():
            logger.warning("refused a connection from uid %d", peer)
            return
        connection.settimeout(_READ_TIMEOUT)
        try:
            request = receive(connection)
        except (OSError, ProtocolError, struct.error) as exc:
            logger.info("a request could not be read: %s", exc)
            return
        operation = request.get("op")
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
            else:
                answer = self._run(request)
        else:
            answer = {"ok": False, "error": encode_error(DaemonError(
                f"unknown request {operation!r}"))}
        connection.settimeout(None)
        try:
            send(connection, answer)
        except OSError as exc:
            logger.info("the client left before its answer: %s", exc)

    def status(self) -> dict[str, Any]:
        """What ``notegen daemon status`` shows."""
        return {"ok": True, "pid": os.getpid(), "socket": str(socket_path(self.folder)),
                "started": self.started, "uptime": time.time() - self.started,
                "requests": self.requests, "idle_seconds": self.idle, "warm": self.warm,
                "version": self.identity["version"]}

    def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        argv, cwd, environ = request.get("argv"), request.get("cwd"), request.get("env")
        if not (isinstance(argv, list) and all(isinstance(arg, str) for arg in argv)
                and isinstance(cwd, str) and isinstance(environ, dict)
                and all(isinstance(k, str) and isinstance(v, str)
                        for k, v in environ.items())):
            return {"ok": False, "error": encode_error(DaemonError("a malformed request"))}
        command = request.get("command")
        if command not in COMMANDS or command not in argv:
            return {"ok": False, "error": encode_error(DaemonError(
                f"the daemon does not run {command!r}"))}
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


def _peer_uid(connection: socket.socket) -> int | None:
    """The user of the process at the other end, where the system says."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return int(uid)


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


def _refresh() -> None:
    """Forget what this process compiled and loaded of template folders
    whose files changed since the last request."""
    from ..render import html, pdf
    from ..render.cache import changed_stacks
    from ..template_folders import builtin

    changed = changed_stacks([builtin(), *pdf._warm])
    if changed:
        logger.info("template files changed in %s: read again",
                    ", ".join(str(folder) for stack in changed for folder in stack.user)
                    or "the built-in folder")
        html.forget_templates()
        pdf._font_configuration.cache_clear()
        pdf._warm.clear()
