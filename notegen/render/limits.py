"""Running untrusted template code within bounds of time and memory.

Jinja's sandbox keeps a template from reaching Python objects, but not from
looping for ever or building a string of gigabytes. :func:`run_bounded` runs
a function in a forked child whose address space is capped, waits for it a
limited time, and turns overrunning either bound into a
:class:`~notegen.errors.TemplateError`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from ..errors import NotegenError, TemplateError

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


def run_bounded(function: Callable[..., Result], arguments: tuple[Any, ...], *,
                seconds: float, memory_mb: int) -> Result:
    """``function(*arguments)``, in a child process given ``seconds`` and
    ``memory_mb`` MiB more memory than it starts with.

    A :class:`~notegen.errors.NotegenError` the function raises is raised
    here again, of the same kind and with the same problems.

    :raises TemplateError: if the child takes longer or needs more memory.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, function, arguments, memory_mb),
                            daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise TemplateError(f"the template was stopped after {seconds:g} s: does a loop "
                                "never end?")
        kind, value = receive.recv()
    except EOFError:
        raise TemplateError(f"the template was stopped: it needed more than {memory_mb} MiB "
                            "of memory") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if kind == "done":
        result: Result = value
        return result
    if kind == "memory":
        raise TemplateError(f"the template was stopped: it needed more than {memory_mb} MiB "
                            "of memory")
    raise value  # the child's NotegenError, with its kind and problems


def _child(send: Connection, function: Callable[..., Any], arguments: tuple[Any, ...],
           memory_mb: int) -> None:
    size = _address_space()
    if size is not None:
        limit = size + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        send.send(("done", function(*arguments)))
    except MemoryError:
        send.send(("memory", None))
    except NotegenError as exc:  # pickled whole: kind, message, problems
        send.send(("error", exc))
    finally:
        send.close()
        os._exit(0)  # leave no cleanup of the parent's state to a copy of it


def _address_space() -> int | None:
    """This process's virtual memory size in bytes, where Linux tells it."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
