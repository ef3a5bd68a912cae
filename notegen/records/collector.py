"""The garbage collector held off while records are read and worded.

Reading a case allocates many small objects that all survive (parse nodes,
dicts, models); each allocation burst triggers a collection, and the older
generations' collections walk every object alive, the case read so far
included, so that validation grew faster than the records (issue 22). The
records hold no reference cycles; what they allocate is freed by reference
counting, and a case is bounded (:data:`~notegen.records.case.MAX_CASE_BYTES`),
so holding the collector off for one load or one wording costs no memory
that is not freed at once, and each is linear in the records again.

:func:`paused` is re-entrant and leaves the collector as it found it: a
caller that disabled it itself keeps it disabled. In a threaded server a
pause is process-wide: another thread's cycles wait for the pause to end.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Hold the garbage collector off for the block (if it was on), and turn
    it on again however the block ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
