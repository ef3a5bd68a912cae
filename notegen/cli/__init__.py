"""The ``notegen`` command: a thin layer over the public API.

Errors caused by input end the process with exit code 1 and a located
message on stderr; usage errors exit with 2 (click's convention). Anything
else is a bug and shows its traceback.

:func:`main` first offers the command line to a running daemon
(:func:`notegen.daemon.handover.hand_over`), which loads only a little of
the standard library and of the daemon's package; the command line itself (click, the
group in :mod:`.group`, the command's module) is loaded only when the
command runs here.
"""

from __future__ import annotations

import sys

from ..daemon import COMMANDS as COMMANDS_OF_THE_DAEMON

TYPE_CHECKING = False  # (typing is not loaded: the hand-over does without it)
if TYPE_CHECKING:
    from typing import Any

    from .group import COMMANDS, cli

__all__ = ["COMMANDS", "cli", "main"]


def main() -> None:
    """Entry point of the ``notegen`` console script."""
    if sys.argv[1:2] and sys.argv[1] in COMMANDS_OF_THE_DAEMON:
        from ..daemon.handover import hand_over

        status = hand_over(sys.argv[1:])
        if status is not None:
            sys.exit(status)
    from .group import main as run_here

    run_here()


def __getattr__(name: str) -> Any:
    # ``cli`` (the click group) and ``COMMANDS``, loaded when first asked for.
    if name in ("cli", "COMMANDS"):
        from . import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
