"""Where the daemon lives, per user: its folder, socket, lock and log.

The folder is ``$XDG_RUNTIME_DIR/notegen`` where the session has a runtime
folder (owned by the user, 0700, cleared at logout), else
``/tmp/notegen-<uid>``. notegen makes it 0700; a folder that is not a real
folder (a symlink), belongs to another user or may be written by others is
refused, since whoever controls the folder controls the socket a client
talks to.

Light on purpose (:mod:`os` and :mod:`stat`, which every Python has loaded
when it starts): the client's hand-over works with the names as text
(:func:`folder_name`, :func:`folder_problem`, :data:`SOCKET`); the rest of
notegen with :class:`~pathlib.Path`.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: The longest path a Unix socket may have on Linux (sun_path, less its NUL).
_SOCKET_PATH_LIMIT = 107
#: The name of the daemon's socket in its folder.
SOCKET = "daemon.sock"


def folder_name(environ: Mapping[str, str] | None = None) -> str:
    """The daemon's folder for the user running this process, as text."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return os.path.join(runtime, "notegen")
    import tempfile  # (only here: the client's start-up does without it)

    return os.path.join(tempfile.gettempdir(), f"notegen-{os.getuid()}")


def folder_of(environ: Mapping[str, str] | None = None) -> Path:
    """The daemon's folder for the user running this process."""
    from pathlib import Path

    return Path(folder_name(environ))


def safe_folder(environ: Mapping[str, str] | None = None, *, create: bool = True) -> Path:
    """The daemon's folder, made (0700) if missing and ``create``.

    :raises DaemonError: if it is not a folder of its own (a symlink, a
        file), belongs to another user, may be written by its group or by
        others, is missing (and not ``create``), or its socket's path would
        be too long.
    """
    from ..errors import DaemonError  # (only here: the hand-over does without it)

    folder = folder_of(environ)
    if create:
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise DaemonError(f"cannot make the daemon's folder {folder}: "
                              f"{exc.strerror or exc}") from None
    check_folder(folder)
    if len(os.fsencode(socket_path(folder))) > _SOCKET_PATH_LIMIT:
        raise DaemonError(f"the daemon's socket path in {folder} is too long for a Unix "
                          "socket")
    return folder


def check_folder(folder: Path) -> None:
    """Refuse ``folder`` unless it is a real folder of this user that no one
    else may write.

    :raises DaemonError: saying why.
    """
    problem = folder_problem(folder)
    if problem is not None:
        from ..errors import DaemonError  # (only here: the hand-over does without it)

        raise DaemonError(problem)


def folder_problem(folder: str | Path) -> str | None:
    """Why ``folder`` is refused as the daemon's (:func:`check_folder`), or
    ``None``."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return f"no daemon folder {folder}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return f"the daemon's folder {folder} is not a folder (a link or a file): refused"
    if info.st_uid != os.getuid():
        return f"the daemon's folder {folder} belongs to another user (uid {info.st_uid}): refused"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"others may write to the daemon's folder {folder} "
                f"(mode {stat.S_IMODE(info.st_mode):o}): refused; make it 0700")
    return None


def socket_path(folder: Path) -> Path:
    """The socket the daemon listens on."""
    return folder / SOCKET


def lock_path(folder: Path) -> Path:
    """The file the running daemon holds locked (one daemon per folder)."""
    return folder / "daemon.lock"


def log_path(folder: Path) -> Path:
    """The daemon's log."""
    return folder / "daemon.log"
