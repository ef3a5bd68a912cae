"""Writing output files so that a failure never leaves a partial one behind,
with the mode any new file gets (``0666`` less the umask)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import RenderError


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder,
    then rename it into place. Readers see the old file or the whole new one.
    The file gets the mode a new file gets: ``0666`` less the umask (the
    temporary file is made ``0600``, as every other program's output is not).

    :raises RenderError: if the file cannot be written.
    """
    target = Path(path)
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    return target


def _umask() -> int:
    """The process's umask: from Linux's ``/proc`` where it says, which
    leaves it alone, else by setting it and back."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # pragma: no cover (outside Linux)
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover
