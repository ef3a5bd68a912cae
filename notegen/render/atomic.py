"""Writing output files so that a failure never leaves a partial one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import RenderError


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder,
    then rename it into place. Readers see the old file or the whole new one.

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
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    return target
