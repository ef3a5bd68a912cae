"""What this notegen is: its version, recorded in every PDF it makes, and a
stamp of its own files.

Light on purpose (the standard library's :mod:`hashlib` and :mod:`os`
only): the daemon's client tells its identity from here before it hands a
command over.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import cache

__version__ = "0.1.0"

#: The folder of notegen's own files.
PACKAGE = os.path.dirname(os.path.abspath(__file__))


def package_files() -> Iterator[str]:
    """notegen's own files, in a fixed order (compiled bytecode left out)."""
    for root, directories, files in os.walk(PACKAGE):
        directories[:] = sorted(d for d in directories if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(root, name)


def _stamp_now() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in package_files():
        try:
            info = os.stat(path)
        except OSError:
            continue
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@cache
def code_stamp() -> str:
    """A stamp of notegen's own files (names, sizes, modification times) as
    they were when this process first asked (the output cache asks when it
    is imported, with notegen's first modules): a checkout that changed is
    another notegen, even at the same version. A long-running process (the
    daemon, a service worker) keeps the stamp of the code it runs, not of
    the files on disk now; and the output cache keeps nothing once the
    files have changed under it, since the code it runs may then be part
    old, part new."""
    return _stamp_now()


def code_changed() -> bool:
    """Whether notegen's files on disk differ from the code this process
    stamped (a ``stat`` per file, some milliseconds)."""
    return _stamp_now() != code_stamp()
