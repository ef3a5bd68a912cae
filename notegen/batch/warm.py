"""Imported by the batch's fork server before it forks any worker: importing
this module warms that process up, so every worker forked from it starts
warm.

A worker forked from a process that has only imported WeasyPrint still pays
for its first note what a cold command does, less the imports: the
templates compiled, the phrase and legal catalogues read, the fonts found
and loaded, WeasyPrint's first layout. Here the server does that once, by
rendering the worked case with the built-in templates
(:func:`notegen.render.pdf.warm_up`), and freezes what it holds, so that
neither the workers nor the bounded children of their renders walk it in
each garbage collection. Nothing it renders is written.

:mod:`multiprocessing`'s fork server imports the modules it is told to
preload and carries on if one cannot be imported; this module stops no
batch either: what does not warm up is logged, and each note then loads what
it needs itself.
"""

from __future__ import annotations

import gc
import logging
import time

from ..errors import NotegenError
from ..render.pdf import warm_up
from ..template_folders import builtin

logger = logging.getLogger(__name__)


def warm_server() -> None:
    """Render once in this process, with the built-in templates, and freeze
    what that loaded."""
    began = time.perf_counter()
    try:
        warm_up(builtin())
    except (NotegenError, OSError) as exc:
        logger.info("the batch's workers start cold: %s", exc)
    gc.freeze()
    logger.debug("batch server warm in %.2f s", time.perf_counter() - began)


warm_server()
