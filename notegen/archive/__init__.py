"""Stage 4: the rendered note kept and vouched for. PAdES signatures
(:mod:`.signing`), verification of a PDF against its embedded records
(:mod:`.verify`), and the register of issued notes (:mod:`.register`)."""

import contextlib
import importlib
import logging
import threading
import warnings
from collections.abc import Iterator

logger = logging.getLogger(__name__)

#: The loggers pyHanko and its certificate validator log to.
_PYHANKO = ("pyhanko", "pyhanko_certvalidator")


def load_pyhanko() -> None:
    """Import pyHanko's signing modules once, without the deprecation warning
    that cryptography ≥ 51 raises when pyHanko imports its DSA key type (pyHanko
    supports DSA keys; notegen's users have nothing to act on)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        for module in ("pyhanko.sign.signers", "pyhanko.sign.validation", "pyhanko.keys",
                       "pyhanko_certvalidator"):
            importlib.import_module(module)


class _Quiet(logging.Filter):
    """Keeps pyHanko's records off an embedder's stderr: its path-building
    tracebacks for a self-signed or untrusted signer, its notes on what it
    may not fetch. notegen's results say what was found; each record is
    logged again at DEBUG by ``notegen.archive``, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger.debug("pyHanko: %s", record.getMessage())
        return False


_QUIET = _Quiet()
#: How many calls need the filter now, and the lock guarding the count.
_quiet_users = 0
_quiet_lock = threading.Lock()


@contextlib.contextmanager
def quiet_pyhanko() -> Iterator[None]:
    """Drop every record pyHanko logs while signing or validating (logged
    again at DEBUG, without the traceback).

    The filter sits on every logger of pyHanko's that exists once its modules
    are imported (a filter on a parent logger does not see its children's
    records). It is one filter for the whole process, attached while any
    call needs it, so threads signing or verifying at once do not undo each
    other's; it is taken off when the last of them ends.
    """
    global _quiet_users
    load_pyhanko()
    with _quiet_lock:
        _quiet_users += 1
        _attach(add=True)
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if not _quiet_users:
                _attach(add=False)


def _attach(*, add: bool) -> None:
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in _PYHANKO:
            # Loggers made on the fly (pyHanko has some) get it on the next call.
            (logging.getLogger(name).addFilter if add
             else logging.getLogger(name).removeFilter)(_QUIET)
