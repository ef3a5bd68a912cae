"""The service's workers: uvicorn servers over one listening socket, each
replaced when its memory has grown too much, without dropping a request.

WeasyPrint keeps some memory of every render (10-20 KiB, inside Pango), so a
worker grows slowly. Rather than replace it after a number of requests
(which costs a warm-up every few hundred requests and, with uvicorn's
``limit_max_requests``, cuts its clients' keep-alive connections), each
worker measures its resident memory between requests against what it held
once warm (:class:`Recycling`). Past the settings' ``worker_growth_mb``:

1. the worker tells the supervisor, which starts its replacement;
2. once the replacement has warmed up and listens, the old worker stops
   accepting connections, answers what it has in hand with
   ``Connection: close`` (so a client opens its next connection to another
   worker instead of finding this one closed under it), and ends when its
   last connection has (idle ones at the keep-alive timeout, as always).

The socket is the supervisor's, shared by every worker: a connection made
while one worker is replaced is accepted by another (or waits in the
socket's backlog for the replacement).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)

_MIB = 1024 * 1024

#: What a worker exits with when it cannot start (its app would fail the
#: same way again): the supervisor then stops, as uvicorn's does.
STARTUP_FAILURE = 3


@dataclass(frozen=True)
class Recycling:
    """When a worker is replaced: once its resident memory has grown by more
    than ``growth_mb`` MiB over what it held when warm."""

    growth_mb: float

    def over(self, baseline: int, resident: int) -> bool:
        """Whether a worker that held ``baseline`` bytes when warm and holds
        ``resident`` now is to be replaced."""
        return resident - baseline > self.growth_mb * _MIB


def resident_bytes() -> int:
    """This process's resident memory, in bytes: the current figure where
    the system tells it (Linux), else the largest so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


#: How many requests a worker that is never idle serves between two
#: measurements of its memory.
_BUSY_CHECK = 50

#: How long a worker told to stop may take to finish its requests, in seconds.
_STOP_WAIT = 120

# What a worker and the supervisor say to each other over their pipe.
_READY, _OVER, _DRAIN = "ready", "over", "drain"

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_App = Callable[[_Scope, Callable[[], Awaitable[_Message]],
                 Callable[[_Message], Awaitable[None]]], Awaitable[None]]


class _Worker(uvicorn.Server):
    """One worker's server: it checks its memory between requests, and
    drains when the supervisor says its replacement is ready."""

    def __init__(self, config: uvicorn.Config, pipe: Connection, policy: Recycling) -> None:
        super().__init__(config)
        self.pipe = pipe
        self.policy = policy
        self.baseline: int | None = None
        self.checked = 0
        self.over = False
        self.draining = False
        self.supervisor = os.getppid()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.config.loaded:
            self.config.load()
        self.config.loaded_app = _closing(self.config.loaded_app, self)
        await super().startup(sockets)  # the app's lifespan warms it up first
        if self.started:
            self.baseline = resident_bytes()
            self.pipe.send(_READY)

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if counter % 10 == 0 and os.getppid() != self.supervisor:
            logger.error("worker %d: its supervisor has ended; so does it", os.getpid())
            return True
        if self.baseline is None:
            return False
        requests = self.server_state.total_requests
        # Between requests (a busy worker that never is: every so often).
        if not self.over and requests != self.checked and (
                not self.server_state.tasks or requests - self.checked >= _BUSY_CHECK):
            self.checked = requests
            resident = resident_bytes()
            if self.policy.over(self.baseline, resident):
                self.over = True
                self.pipe.send((_OVER, self.baseline, resident))
        if (self.over and not self.draining and self.pipe.poll()
                and self.pipe.recv() == _DRAIN):
            self.draining = True
            for server in self.servers:  # the other workers accept from now on
                server.close()
        return self.draining and not self.server_state.connections


def _closing(app: _App, worker: _Worker) -> _App:
    """``app``, its answers saying ``Connection: close`` once ``worker`` drains."""

    async def closing(scope: _Scope, receive: Callable[[], Awaitable[_Message]],
                      send: Callable[[_Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def sending(message: _Message) -> None:
            if message["type"] == "http.response.start" and worker.draining:
                message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
            await send(message)

        await app(scope, receive, sending)

    return closing


def _work(config: uvicorn.Config, sockets: list[socket.socket], pipe: Connection,
          policy: Recycling) -> None:
    """A worker process: serve on ``sockets`` until told to stop or replaced."""
    config.configure_logging()
    worker = _Worker(config, pipe, policy)
    worker.run(sockets=sockets)
    if not worker.started:
        sys.exit(STARTUP_FAILURE)


@dataclass
class _Child:
    process: BaseProcess
    pipe: Connection
    ready: bool = False
    #: The worker this one replaces, until it is ready.
    replacing: _Child | None = None
    retiring: bool = False


class Supervisor:
    """Runs ``workers`` workers of ``config`` on one socket, and replaces
    each that :class:`Recycling` says has grown too much, or that ends."""

    def __init__(self, config: uvicorn.Config, workers: int, policy: Recycling) -> None:
        self.config = config
        self.workers = workers
        self.policy = policy
        self.children: list[_Child] = []
        self.stopping = False
        self.failed = False
        self._context = multiprocessing.get_context("spawn")

    def _start(self, sockets: list[socket.socket], replacing: _Child | None = None) -> _Child:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_work, name="notegen-worker",
                                        args=(self.config, sockets, theirs, self.policy))
        process.start()
        theirs.close()
        child = _Child(process, ours, replacing=replacing)
        self.children.append(child)
        return child

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; the exit status (1 if a worker
        could not start)."""
        sock = self.config.bind_socket()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT,
                                                                    signal.SIGTERM)}
        try:
            for _ in range(self.workers):
                self._start([sock])
            while not self.stopping and not self.failed:
                self._step([sock])
        finally:
            for child in self.children:
                if child.process.is_alive() and child.process.pid is not None:
                    os.kill(child.process.pid, signal.SIGTERM)  # uvicorn ends gracefully
            for child in self.children:
                child.process.join(_STOP_WAIT)
                if child.process.is_alive():
                    logger.error("worker %s did not finish within %d s: killed",
                                 child.process.pid, _STOP_WAIT)
                    child.process.kill()
                    child.process.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            sock.close()
        return 1 if self.failed else 0

    def _step(self, sockets: list[socket.socket]) -> None:
        """Wait for a worker to say something or end, and act on it."""
        waited: dict[Any, _Child] = {}
        for child in self.children:
            waited[child.pipe] = child
            waited[child.process.sentinel] = child
        for event in wait(list(waited), timeout=0.5):
            child = waited[event]
            if child not in self.children:
                continue
            if event is child.pipe:
                self._heard(child, sockets)
            elif not child.process.is_alive():
                self._ended(child, sockets)

    def _heard(self, child: _Child, sockets: list[socket.socket]) -> None:
        try:
            message = child.pipe.recv()
        except (EOFError, OSError):
            return
        if message == _READY:
            child.ready = True
            if child.replacing is not None:
                old, child.replacing = child.replacing, None
                logger.warning("worker %s is ready: worker %s finishes what it has in hand "
                               "and ends", child.process.pid, old.process.pid)
                old.retiring = True
                with contextlib.suppress(OSError):  # it has ended already
                    old.pipe.send(_DRAIN)
        elif (isinstance(message, tuple) and message[0] == _OVER and not child.retiring
              and not self.stopping):
            _, baseline, resident = message
            logger.warning("worker %s holds %.1f MiB, %.1f MiB more than when it was warm "
                           "(worker_growth_mb: %g): starting its replacement",
                           child.process.pid, resident / _MIB, (resident - baseline) / _MIB,
                           self.policy.growth_mb)
            self._start(sockets, replacing=child)

    def _ended(self, child: _Child, sockets: list[socket.socket]) -> None:
        self.children.remove(child)
        child.pipe.close()
        if child.retiring or self.stopping:
            logger.info("worker %s ended", child.process.pid)
            return
        if not child.ready:
            if child.replacing is not None:  # the worker it was to replace serves on
                logger.error("a worker to replace worker %s could not start (exit status "
                             "%s): worker %s serves on", child.replacing.process.pid,
                             child.process.exitcode, child.replacing.process.pid)
                return
            logger.error("a worker could not start (exit status %s): stopping",
                         child.process.exitcode)
            self.failed = True
            return
        logger.error("worker %s ended (exit status %s): starting another",
                     child.process.pid, child.process.exitcode)
        replacement = next((c for c in self.children if c.replacing is child), None)
        if replacement is not None:  # its replacement is on its way already
            replacement.replacing = None
        else:
            self._start(sockets)
