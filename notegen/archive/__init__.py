"""Stage 4: the rendered note kept and vouched for. PAdES signatures
(:mod:`.signing`), verification of a PDF against its embedded records
(:mod:`.verify`), and the register of issued notes (:mod:`.register`)."""

import importlib
import warnings


def load_pyhanko() -> None:
    """Import pyHanko's signing modules once, without the deprecation warning
    that cryptography ≥ 51 raises when pyHanko imports its DSA key type (pyHanko
    supports DSA keys; notegen's users have nothing to act on)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        for module in ("pyhanko.sign.signers", "pyhanko.sign.validation", "pyhanko.keys"):
            importlib.import_module(module)
