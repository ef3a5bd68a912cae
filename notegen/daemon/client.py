"""The client: how the command line hands a command to the daemon, starting
one if none answers, and manages it (``notegen daemon start|stop|status``).

The first try happens before the command line is loaded, in
:mod:`.handover`, which logs nothing and starts nothing. When it did not
hand the command over, the command line (its logging set up) calls
:func:`relay`, which says why, starts a daemon if none runs, and hands the
command over; when that cannot be done either, the command runs in the
command line's own process (logged, not an error).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DaemonError
from . import handover
from .handover import Outcome, exchange, outcome_of, run_request, streams_of
from .paths import log_path, safe_folder, socket_path
from .protocol import ProtocolError, decode_error

logger = logging.getLogger(__name__)

#: Seconds to wait for a daemon just started to listen.
START_SECONDS = 30.0
#: A log larger than this is started afresh when a daemon starts, in bytes.
_LOG_LIMIT = 1_000_000

__all__ = ["Outcome", "relay", "request", "spawn", "start", "status", "stop", "wait_for"]


def relay(command: str, argv: Sequence[str], environ: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> Outcome | None:
    """Run the command line ``argv`` (``command`` among them) in the daemon,
    starting one if none answers; ``None`` if that cannot be done (the
    reason logged), and then the caller runs it itself."""
    environ = dict(os.environ if environ is None else environ)
    try:
        folder = safe_folder(environ)
        request = run_request(command, argv, environ, str(cwd or Path.cwd()))
    except DaemonError as exc:
        logger.warning("%s; working in this process", exc)
        return None
    except OSError as exc:  # the current folder is gone
        logger.info("no daemon: %s", exc)
        return None
    for _ in range(2):
        try:
            answer = _ask(folder, request, environ, streams_of(command))
        except (DaemonError, OSError, ProtocolError) as exc:
            logger.info("no daemon (%s): working in this process", exc)
            return None
        if answer.get("stale"):
            logger.info("the daemon ran another notegen: starting a new one")
            _wait_gone(folder)
            continue
        outcome = outcome_of(answer)
        if outcome is not None:
            return outcome
        if answer.get("ok"):
            logger.info("the daemon's answer was malformed: working in this process")
        elif "error" in answer:
            logger.info("the daemon refused: %s; working in this process",
                        decode_error(answer["error"]))
        else:
            logger.info("the daemon failed (see %s): working in this process",
                        log_path(folder))
            logger.debug("%s", answer.get("bug"))
        return None
    return None


def _ask(folder: Path, request: dict[str, Any], environ: Mapping[str, str],
         streams: Sequence[int] = ()) -> dict[str, Any]:
    """The daemon's answer to ``request``, starting a daemon if none listens;
    ``streams`` passed with it (then the answer may take as long as the
    command runs: it shows its progress itself).

    :raises DaemonError: if a daemon started does not listen.
    """
    connection = handover.connect(socket_path(folder))
    if connection is None:
        connection = wait_for(folder, START_SECONDS, spawn(folder, environ))
        if connection is None:
            raise DaemonError(f"it did not start; see {log_path(folder)}")
    return exchange(connection, request, streams)


def wait_for(folder: Path, seconds: float, pid: int | None = None) -> socket.socket | None:
    """A connection to a daemon starting in ``folder``, once it listens;
    ``None`` if it does not within ``seconds``, or its process ``pid`` ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = handover.connect(socket_path(folder))
        if connection is not None:
            return connection
        if pid is not None and ended(pid):
            return None
        time.sleep(0.02)
    return None


def ended(pid: int) -> bool:
    """Whether this process's child ``pid`` ended (it is then reaped)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _wait_gone(folder: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and socket_path(folder).exists():
        time.sleep(0.02)


def spawn(folder: Path, environ: Mapping[str, str], idle_minutes: float | None = None) -> int:
    """Start a daemon for ``folder`` in the background, in a session of its
    own (it outlives this process, and a terminal's signals do not reach
    it); its output goes to its log. It runs ``notegen daemon start
    --foreground`` with ``environ`` in the current folder (whose settings
    give its idle time). Its process id."""
    log = log_path(folder)
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_LIMIT:
            log.unlink()
    command = [sys.executable, "-m", "notegen", "daemon", "start", "--foreground"]
    if idle_minutes is not None:
        command += ["--idle-minutes", str(idle_minutes)]
    child = os.fork()
    if child == 0:  # pragma: no cover (in the child)
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(null, 0)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.execve(sys.executable, command, dict(environ))
        finally:
            os._exit(127)
    logger.info("started a daemon (%s)", socket_path(folder))
    return child


def request(message: dict[str, Any], environ: Mapping[str, str] | None = None
            ) -> dict[str, Any] | None:
    """The answer of the running daemon to ``message``; ``None`` if none runs.

    :raises DaemonError: if the folder is unsafe, or the daemon refuses.
    """
    folder = safe_folder(environ, create=False) if _exists(environ) else None
    if folder is None:
        return None
    connection = handover.connect(socket_path(folder))
    if connection is None:
        return None
    try:
        answer = exchange(connection, message)
    except ProtocolError as exc:
        raise DaemonError(f"the daemon did not answer: {exc}") from None
    if not answer.get("ok") and "error" in answer:
        raise decode_error(answer["error"])
    return answer


def _exists(environ: Mapping[str, str] | None) -> bool:
    from .paths import folder_of

    return folder_of(environ).exists()


def status(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """What the running daemon says of itself, or ``None`` if none runs."""
    return request({"op": "status"}, environ)


def stop(environ: Mapping[str, str] | None = None, seconds: float = 10.0) -> bool:
    """Stop the running daemon and wait until it is gone; whether one ran."""
    if request({"op": "stop"}, environ) is None:
        return False
    _wait_gone(safe_folder(environ, create=False), seconds)
    return True


def start(environ: Mapping[str, str] | None = None, idle_minutes: float | None = None
          ) -> dict[str, Any]:
    """Start a daemon unless one runs; what it says of itself.

    :raises DaemonError: if the folder is unsafe or it does not start.
    """
    environ = dict(os.environ if environ is None else environ)
    running = status(environ)
    if running is not None:
        return running
    folder = safe_folder(environ)
    connection = wait_for(folder, START_SECONDS, spawn(folder, environ, idle_minutes))
    if connection is None:
        raise DaemonError(f"the daemon did not start; see {log_path(folder)}")
    connection.close()
    found = status(environ)
    if found is None:
        raise DaemonError(f"the daemon stopped at once; see {log_path(folder)}")
    return found
