"""Drafts of a note, wherever they are kept: a case file, a PDF notegen
rendered (its embedded records), or an issued note of the register; and the
redline between two of them (:func:`diff_notes`).

:func:`load_draft` tells which a source is: ``register:REF`` is the issued
note ``REF`` of the register; an existing file is a PDF if it begins like
one, else a case file (YAML or JSON); any other name, given a register, is
looked up in it as a reference.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import NotegenError, RecordError, RegisterError
from ..options import RenderOptions
from ..records.case import Case, load_case, load_case_data
from ..records.reading import read_bytes
from ..render.pdf import RECORD_NAME
from ..render.redline import Redline, redline
from .register import Register, open_register
from .verify import extract_record

logger = logging.getLogger(__name__)

#: What names an issued note of the register as a draft: ``register:REF``.
REGISTER_PREFIX = "register:"
#: The largest PDF read for its records, in bytes (a note is well under 1 MB).
MAX_PDF_BYTES = 64 * 1024 * 1024
#: How a PDF begins (within its first KiB, as readers allow).
_PDF_MAGIC = b"%PDF-"


def load_draft(source: str | Path, *, register: str | Path | Register | None = None) -> Case:
    """The case a draft holds: ``source`` is ``register:REF`` (the records
    the register keeps for the issued note REF), a PDF rendered by notegen
    (the records embedded in it), or a case file; a name that is no file is
    a register reference if a ``register`` is given.

    :raises NotegenError: for a PDF without notegen's records, a reference
        the register does not have, or records that do not validate.
    """
    text = str(source)
    if text.startswith(REGISTER_PREFIX):
        return _from_register(text[len(REGISTER_PREFIX):], register, text)
    path = Path(source)
    if not path.exists() and register is not None:
        return _from_register(text, register, text)
    if _is_pdf(path):
        return _from_pdf(path)
    return load_case(path)


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return _PDF_MAGIC in stream.read(1024)
    except OSError:
        return False  # reported by the case reader, in its words


def _from_pdf(path: Path) -> Case:
    pdf = read_bytes(path, limit=MAX_PDF_BYTES)
    try:
        records = extract_record(pdf)
    except RecordError:
        raise NotegenError(
            f"{path} is a PDF without the records notegen embeds ({RECORD_NAME}): it was not "
            "rendered by notegen, or rendered without them; compare the case files it was "
            "made from instead") from None
    except NotegenError as exc:
        raise NotegenError(f"{path}: {exc}") from None
    logger.debug("%s: read the records embedded in it", path)
    return load_case_data(records, f"{path} (embedded records)")


def _from_register(reference: str, register: str | Path | Register | None,
                   given: str) -> Case:
    if not reference.strip():
        raise NotegenError(f"{given!r} names no reference: write register:REF, e.g. "
                           "register:12/345/2025")
    if register is None:
        raise NotegenError(f"{given} is an issued note of the register, but no register "
                           "was given")
    if isinstance(register, Register):
        records = register.records(reference)
    else:
        with _open(register) as opened:
            records = opened.records(reference)
    return load_case_data(records, f"{reference} (register)")


def diff_notes(old: Case | str | Path, new: Case | str | Path,
               options: RenderOptions | None = None, *,
               register: str | Path | Register | None = None,
               wait: float = 30.0) -> Redline:
    """The redline between two drafts of a note: each a :class:`Case`, a
    case file, a PDF notegen rendered, or ``register:REF`` (an issued note
    of ``register``, an existing one; opened for the comparison, a writer
    waits at most ``wait`` seconds). Both are rendered with ``options`` (a language given
    there renders both in it; without one, both drafts must be in the same
    language). ``Redline.changed`` says whether they differ; write it with
    :func:`~notegen.render.redline.redline_bytes`.

    :raises NotegenError: if a draft cannot be read or rendered, or the
        drafts are in different languages and ``options`` name none.
    """
    opened: Register | None = None
    try:
        if register is not None and not isinstance(register, Register) and any(
                _needs_register(source, register) for source in (old, new)):
            opened = _open(register, wait)
            register = opened
        cases = [source if isinstance(source, Case) else load_draft(source, register=register)
                 for source in (old, new)]
    finally:
        if opened is not None:
            opened.close()
    labels = [_label(source) for source in (old, new)]
    return redline(cases[0], cases[1], options, old_label=labels[0], new_label=labels[1])


def _open(url: str | Path, wait: float = 30.0) -> Register:
    """The register at ``url``, which must exist: reading a draft from it
    never creates one (an SQLite file that is not there is an error).

    :raises RegisterError: if there is none, or it cannot be opened.
    """
    text = str(url)
    if not text.startswith(("postgresql://", "postgres://")):
        path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
        if not path.is_file():
            raise RegisterError(f"no register at {path}: there is no such file")
    return open_register(url, wait=wait)


def _needs_register(source: Case | str | Path, register: object) -> bool:
    if isinstance(source, Case):
        return False
    return str(source).startswith(REGISTER_PREFIX) or (
        register is not None and not Path(source).exists())


def _label(source: Case | str | Path) -> str:
    if isinstance(source, Case):
        paths = source.source_paths
        return str(paths[0]) if paths else "case"
    return str(source)
