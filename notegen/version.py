"""What this notegen is: its version, recorded in every PDF it makes, and a
listing of its own files.

Light on purpose (the standard library's :mod:`os` only, which every Python
has loaded when it starts): the daemon's client tells its identity from
here before it hands a command over, and pays nothing to import it.
"""

from __future__ import annotations

import os
from functools import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__version__ = "0.1.0"

#: The folder of notegen's own files.
PACKAGE = os.path.dirname(os.path.abspath(__file__))

#: A listing of files: each one's path, size and modification time (ns).
Listing = tuple[tuple[str, int, int], ...]


def package_files() -> Iterator[str]:
    """notegen's own files, in a fixed order (compiled bytecode left out)."""
    for root, directories, files in os.walk(PACKAGE):
        directories[:] = sorted(d for d in directories if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(root, name)


def _listing_now() -> Listing:
    listed = []
    for path in package_files():
        try:
            info = os.stat(path)
        except OSError:
            continue
        listed.append((path, info.st_size, info.st_mtime_ns))
    return tuple(listed)


@cache
def code_listing() -> Listing:
    """notegen's own files (names, sizes, modification times) as they were
    when this process first asked (the output cache asks when it is
    imported, with notegen's first modules): a checkout that changed is
    another notegen, even at the same version. A long-running process (the
    daemon, a service worker) keeps the listing of the code it runs, not of
    the files on disk now; and the output cache keeps nothing once the
    files have changed under it, since the code it runs may then be part
    old, part new."""
    return _listing_now()


@cache
def code_stamp() -> str:
    """A digest of :func:`code_listing` and the version: what output cache
    keys hold of notegen's code."""
    import hashlib  # (only here: the client compares listings, not digests)

    digest = hashlib.sha256(__version__.encode())
    for path, size, modified in code_listing():
        digest.update(f"{path}\0{size}\0{modified}\0".encode())
    return digest.hexdigest()


def code_changed() -> bool:
    """Whether notegen's files on disk differ from the code this process
    listed (a ``stat`` per file, some milliseconds)."""
    return _listing_now() != code_listing()
