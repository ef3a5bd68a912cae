"""The thin client: what the command line runs to hand a command to the
daemon, starting the daemon if none answers.

It imports the standard library, notegen's errors and this package, and
nothing else of notegen: neither click, WeasyPrint nor pydantic.
:func:`hand_over` runs first, before the command line is even loaded: a
command line that starts with a command the daemon runs goes straight to a
running daemon. Starting one, global options, and every answer but a
good one are left to the command line, which calls :func:`relay`.

Whether to hand a command over is decided from its arguments as given, the
environment and ``notegen.toml`` (read here with :mod:`tomllib`, the daemon
validating the settings as usual): not for ``--no-daemon``,
``NOTEGEN_NO_DAEMON``, ``daemon = false``, nor for what needs this
process's terminal or pipes (``-`` as a case or output, ``--sign`` and its
passphrase prompt).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import APART, COMMANDS
from .paths import DaemonError, log_path, safe_folder, socket_path
from .protocol import ProtocolError, decode_error, from_text, identity, receive, send

logger = logging.getLogger(__name__)

#: Seconds to wait for a daemon just started to listen.
START_SECONDS = 30.0
#: Seconds to wait for the answer to a request (a render is bounded by its
#: own time limit, 60 s by default).
ANSWER_SECONDS = 900.0
#: A log larger than this is started afresh when a daemon starts, in bytes.
_LOG_LIMIT = 1_000_000
#: Values of ``NOTEGEN_DAEMON`` that turn the daemon off.
_OFF = ("0", "false", "no", "off")

#: Set once a daemon was asked and did not run the command (it refused, or
#: failed): the command then runs in this process, without asking again.
_declined = False


@dataclass(frozen=True)
class Outcome:
    """What a command run by the daemon did."""

    status: int
    stdout: bytes
    stderr: bytes

    def replay(self) -> None:
        """Write what the command wrote to this process's standard output
        and error."""
        for stream, data in ((sys.stdout, self.stdout), (sys.stderr, self.stderr)):
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()


def wanted(command: str, args: Sequence[str], environ: Mapping[str, str] | None = None,
           cwd: Path | None = None) -> bool:
    """Whether to hand ``command`` with ``args`` (the command line after
    ``notegen``) to the daemon."""
    environ = os.environ if environ is None else environ
    if command not in COMMANDS or _declined:
        return False
    if environ.get("NOTEGEN_NO_DAEMON", "").strip() not in ("", "0"):
        return False
    if environ.get("NOTEGEN_DAEMON", "").strip().lower() in _OFF:
        return False
    if any(arg in ("-", "--no-daemon", "--sign")
           or arg.startswith(("--sign=", "-o-", "--output=-"))
           for arg in args):
        return False
    return _setting(cwd or Path.cwd()) is not False


def _setting(cwd: Path) -> object:
    """``daemon`` in the ``notegen.toml`` that applies in ``cwd`` (the first
    in it or a parent), or ``None``; a file that cannot be read says nothing
    here (the command reports it)."""
    for folder in (cwd, *cwd.parents):
        path = folder / "notegen.toml"
        if path.is_file():
            import tomllib  # (only here: most folders have no settings file)

            try:
                table = tomllib.loads(path.read_text(encoding="utf-8")).get("notegen", {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return None
            return table.get("daemon") if isinstance(table, dict) else None
    return None


def hand_over(argv: Sequence[str]) -> int | None:
    """Run the command line ``argv`` (after ``notegen``) in a running daemon
    if it starts with a command the daemon runs and :func:`wanted` says so;
    what the command wrote is written to this process's standard output
    and error, and its exit status returned. ``None`` if it was not run
    there: no daemon runs, or it did not run the command (the command line
    then does what :func:`relay` does, with its logging set up).

    Runs before the command line is loaded (``notegen render`` through the
    daemon never imports click).
    """
    if not argv or argv[0] not in COMMANDS or not wanted(argv[0], argv[1:]):
        return None
    outcome = relay(argv[0], argv, start=False)
    if outcome is None:
        return None
    outcome.replay()
    return outcome.status


def relay(command: str, argv: Sequence[str], environ: Mapping[str, str] | None = None,
          cwd: Path | None = None, *, start: bool = True) -> Outcome | None:
    """Run the command line ``argv`` (``command`` among them) in the daemon,
    starting one if none answers (unless not ``start``); ``None`` if that
    cannot be done (the reason logged), and then the caller runs it itself."""
    global _declined
    environ = dict(os.environ if environ is None else environ)
    try:
        folder = safe_folder(environ)
        directory = str(cwd or Path.cwd())
    except DaemonError as exc:
        logger.warning("%s; working in this process", exc)
        return None
    except OSError as exc:  # the current folder is gone
        logger.info("no daemon: %s", exc)
        return None
    mask = os.umask(0o077)  # (read by setting it)
    os.umask(mask)
    request = {"op": "run", "command": command, "argv": list(argv), "cwd": directory,
               "env": environ, "umask": mask, "identity": identity(environ)}
    streams = (0, 1, 2) if command in APART else ()
    for _ in range(2):
        try:
            answer = _ask(folder, request, environ, streams, start=start)
        except (DaemonError, OSError, ProtocolError) as exc:
            logger.info("no daemon (%s): working in this process", exc)
            return None
        if answer.get("stale") and not start:
            return None  # (it stops: the command line starts a new one)
        if answer.get("stale"):
            logger.info("the daemon ran another notegen: starting a new one")
            _wait_gone(folder)
            continue
        if answer.get("ok"):
            try:
                return Outcome(int(answer["exit"]), from_text(answer["stdout"]),
                               from_text(answer["stderr"]))
            except (KeyError, TypeError, ValueError, ProtocolError) as exc:
                logger.info("the daemon's answer was malformed (%s): working in this "
                            "process", exc)
                _declined = True
                return None
        _declined = True
        if "error" in answer:
            logger.info("the daemon refused: %s; working in this process",
                        decode_error(answer["error"]))
        else:
            logger.info("the daemon failed (see %s): working in this process",
                        log_path(folder))
            logger.debug("%s", answer.get("bug"))
        return None
    return None


def _ask(folder: Path, request: dict[str, Any], environ: Mapping[str, str],
         streams: Sequence[int] = (), *, start: bool = True) -> dict[str, Any]:
    """The daemon's answer to ``request``, starting a daemon if none listens
    (unless not ``start``); ``streams`` passed with it (then the answer may
    take as long as the command runs: it shows its progress itself).

    :raises DaemonError: if no daemon listens, or one started does not.
    """
    connection = connect(folder)
    if connection is None and not start:
        raise DaemonError("none runs")
    if connection is None:
        connection = wait_for(folder, START_SECONDS, spawn(folder, environ))
        if connection is None:
            raise DaemonError(f"it did not start; see {log_path(folder)}")
    with connection:
        connection.settimeout(ANSWER_SECONDS)
        send(connection, request, streams)
        if streams:
            connection.settimeout(None)
        return receive(connection)


def connect(folder: Path, timeout: float = 5.0) -> socket.socket | None:
    """A connection to the daemon of ``folder``, or ``None`` if none listens."""
    path = socket_path(folder)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
        connection.close()
        return None
    except OSError:
        connection.close()
        raise
    return connection


def wait_for(folder: Path, seconds: float, pid: int | None = None) -> socket.socket | None:
    """A connection to a daemon starting in ``folder``, once it listens;
    ``None`` if it does not within ``seconds``, or its process ``pid`` ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = connect(folder)
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
    connection = connect(folder)
    if connection is None:
        return None
    with connection:
        connection.settimeout(ANSWER_SECONDS)
        try:
            send(connection, message)
            answer = receive(connection)
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
