"""The hand-over: what the ``notegen`` command runs first, to give a command
to a running daemon before anything else is loaded.

A command the daemon runs (``render``, ``validate``, ``batch``) goes
straight to the daemon of this user if one listens and :func:`wanted` says
so; what it wrote comes back and is written here, and its exit status is
this process's. Nothing is logged and nothing is started here: whenever the
hand-over does not happen (no daemon, an unsafe folder, a refusal, another
notegen running there), :func:`hand_over` returns ``None`` and the command
line loads itself and does what :mod:`.client` does, with its logging set
up, starting a daemon if need be.

Light on purpose, since every such command pays for it: it loads the
standard library's :mod:`json`, :mod:`socket` and :mod:`struct` (through
:mod:`.protocol`) and what Python loads at start, nothing else of notegen
than this package, its version and paths: neither click, WeasyPrint,
pydantic, :mod:`logging` nor notegen's errors (``tests/test_daemon.py``
checks it).
"""

from __future__ import annotations

import os
import socket
import sys

from . import APART, COMMANDS
from .paths import SOCKET, folder_name, folder_problem
from .protocol import ProtocolError, from_text, identity, receive, send

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

#: Seconds to wait for the answer to a request (a render is bounded by its
#: own time limit, 60 s by default).
ANSWER_SECONDS = 900.0
#: Values of ``NOTEGEN_DAEMON`` that turn the daemon off.
_OFF = ("0", "false", "no", "off")

#: Set once a daemon was asked and did not run the command (it refused, or
#: failed): the command then runs in this process, without asking again.
_declined = False


class Outcome:
    """What a command run by the daemon did: its exit ``status`` and what
    it wrote to standard output and error."""

    __slots__ = ("status", "stderr", "stdout")

    def __init__(self, status: int, stdout: bytes, stderr: bytes) -> None:
        self.status = status
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"Outcome(status={self.status}, stdout={self.stdout!r}, stderr={self.stderr!r})"

    def replay(self) -> None:
        """Write what the command wrote to this process's standard output
        and error."""
        for stream, data in ((sys.stdout, self.stdout), (sys.stderr, self.stderr)):
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()


def wanted(command: str, args: Sequence[str], environ: Mapping[str, str] | None = None,
           cwd: str | os.PathLike[str] | None = None) -> bool:
    """Whether to hand ``command`` with ``args`` (the command line after
    ``notegen``) to the daemon: not for ``--no-daemon``,
    ``NOTEGEN_NO_DAEMON``, ``NOTEGEN_DAEMON=0`` or ``daemon = false`` in
    ``notegen.toml``, nor for what needs this process's terminal or pipes
    (``-`` as a case or output, ``--sign`` and its passphrase prompt)."""
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
    return _setting(os.fspath(cwd) if cwd is not None else os.getcwd()) is not False


def _setting(cwd: str) -> object:
    """``daemon`` in the ``notegen.toml`` that applies in ``cwd`` (the first
    in it or a parent), or ``None``; a file that cannot be read says nothing
    here (the command reports it)."""
    folder = os.path.abspath(cwd)
    while True:
        path = os.path.join(folder, "notegen.toml")
        if os.path.isfile(path):
            import tomllib  # (only here: most folders have no settings file)

            try:
                with open(path, encoding="utf-8") as file:
                    table = tomllib.loads(file.read()).get("notegen", {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return None
            return table.get("daemon") if isinstance(table, dict) else None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def run_request(command: str, argv: Sequence[str], environ: Mapping[str, str], cwd: str
                ) -> dict[str, Any]:
    """The request to run the command line ``argv`` (``command`` among them)
    in ``cwd`` with ``environ``, as this process would."""
    mask = os.umask(0o077)  # (read by setting it)
    os.umask(mask)
    return {"op": "run", "command": command, "argv": list(argv), "cwd": cwd,
            "env": dict(environ), "umask": mask, "identity": identity(environ)}


def streams_of(command: str) -> tuple[int, ...]:
    """The standard streams a request to run ``command`` passes along: those
    of this process for a command run apart (:data:`APART`)."""
    return (0, 1, 2) if command in APART else ()


def hand_over(argv: Sequence[str]) -> int | None:
    """Run the command line ``argv`` (after ``notegen``) in a running daemon
    if it starts with a command the daemon runs and :func:`wanted` says so;
    what the command wrote is written to this process's standard output
    and error, and its exit status returned. ``None`` if it was not run
    there, for whatever reason: the command line then decides again, with
    its logging set up (:func:`notegen.daemon.client.relay`).
    """
    if not argv or argv[0] not in COMMANDS or not wanted(argv[0], argv[1:]):
        return None
    environ = dict(os.environ)
    folder = folder_name(environ)
    if folder_problem(folder) is not None:
        return None
    try:
        request = run_request(argv[0], argv, environ, os.getcwd())
        connection = connect(os.path.join(folder, SOCKET))
        if connection is None:
            return None
        answer = exchange(connection, request, streams_of(argv[0]))
    except (OSError, ProtocolError):
        return None
    if answer.get("stale"):
        return None  # (it stops: the command line starts a new one)
    outcome = outcome_of(answer)
    if outcome is None:
        return None
    outcome.replay()
    return outcome.status


def connect(path: str | os.PathLike[str], timeout: float = 5.0) -> socket.socket | None:
    """A connection to the daemon's socket at ``path``, or ``None`` if none
    listens there."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(os.fspath(path))
    except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
        connection.close()
        return None
    except OSError:
        connection.close()
        raise
    return connection


def exchange(connection: socket.socket, request: dict[str, Any], streams: Sequence[int] = ()
             ) -> dict[str, Any]:
    """Send ``request`` on ``connection`` (with ``streams``: then the answer
    may take as long as the command runs, which shows its progress itself)
    and return the answer; the connection is closed.

    :raises OSError: if the connection fails or times out.
    :raises ProtocolError: if the answer is not a frame.
    """
    with connection:
        connection.settimeout(ANSWER_SECONDS)
        send(connection, request, streams)
        if streams:
            connection.settimeout(None)
        return receive(connection)


def outcome_of(answer: Mapping[str, Any]) -> Outcome | None:
    """The outcome a daemon's ``answer`` (not a stale one) reports; ``None``
    if it did not run the command (it refused, failed or answered
    malformed), and then no daemon is asked again in this process."""
    global _declined
    if answer.get("ok"):
        try:
            return Outcome(int(answer["exit"]), from_text(answer["stdout"]),
                           from_text(answer["stderr"]))
        except (KeyError, TypeError, ValueError, ProtocolError):
            pass
    _declined = True
    return None
