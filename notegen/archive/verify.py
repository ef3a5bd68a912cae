"""Reading a note back: its embedded records, its signatures, its PDF/A claim.

:func:`extract_record` gives the JSON records a PDF was rendered from.
:func:`verify_pdf` checks a PDF as an archivist would: each signature is
intact, valid and covers the whole file (and its signer is trusted, given
trust roots); the embedded records still render to exactly the bytes that
were signed; what PDF/A level it claims.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from ..errors import NotegenError, Problem, RecordError
from ..options import RenderOptions
from ..records.case import load_case_data
from ..render.pdf import RECORD_NAME, render_pdf
from ..version import __version__

logger = logging.getLogger(__name__)


class Status(IntEnum):
    """The verdict on a PDF; its value is the exit code of ``notegen verify``."""

    #: Signed; every signature intact, valid and (given trust roots) trusted;
    #: the records render to the signed bytes.
    valid = 0
    #: Not signed; the records, if embedded, render to the same bytes.
    unsigned = 3
    #: Changed since it was rendered or signed, or unreadable.
    tampered = 4
    #: Signed and intact, but by a signer the given trust roots do not vouch for.
    untrusted = 5


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of the PDF, as pyHanko validated it."""

    signer: str
    reason: str | None
    location: str | None
    #: When the signer's machine says it signed (not a trusted time).
    signed_at: str | None
    #: The signed bytes are unchanged.
    intact: bool
    #: The signature is cryptographically valid for them.
    valid: bool
    #: The signer chains to a trust root; ``None`` if none was given.
    trusted: bool | None
    #: Nothing was added to the file after this signature.
    whole_file: bool


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_pdf` found."""

    status: Status
    #: e.g. "PDF/A-3B", or ``None`` if the PDF claims no PDF/A level.
    pdfa: str | None
    signatures: tuple[SignatureCheck, ...]
    #: "matches", "differs", "absent" or "not compared".
    record: str
    #: SHA-256 of the bytes notegen rendered (the file before any signature).
    rendered_sha256: str | None
    #: Plain sentences on what was found, in order.
    findings: tuple[str, ...]


def extract_record(pdf: bytes) -> bytes:
    """The JSON records embedded in ``pdf`` by :func:`~notegen.pdf.render_pdf`.

    :raises RecordError: if the PDF has none or cannot be read.
    """
    record = _read_record(pdf)
    if record is None:
        raise RecordError([Problem(f"the PDF has no embedded {RECORD_NAME}")])
    return record


def _read_record(pdf: bytes) -> bytes | None:
    """The embedded records, or None if ``pdf`` has none.

    :raises RecordError: if the PDF, or the records in it, cannot be read.
    """
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            attached = document.attachments.get(RECORD_NAME)
            if attached is None:
                return None
            data: bytes = attached.get_file().read_bytes()
            return data
    except pikepdf.PdfError as exc:
        raise RecordError([Problem(f"not a readable PDF: {exc}")]) from None


def verify_pdf(pdf: bytes, *, trust_roots: Sequence[bytes] = (),
               options: RenderOptions | None = None) -> Verification:
    """Check ``pdf``: its signatures, its embedded records, its PDF/A claim.

    ``trust_roots`` are PEM or DER certificates; without them, whether the
    signer is trusted is not judged. ``options`` give the template folders
    the note was rendered with (the built-in ones by default).
    """
    findings: list[str] = []
    try:
        metadata = read_metadata(pdf)
        pdfa, creator = metadata.pdfa, metadata.creator
        signatures = _signatures(pdf, trust_roots)
    except Exception as exc:  # whatever breaks reading it is the verdict on this file
        logger.debug("unreadable PDF", exc_info=True)
        return Verification(Status.tampered, None, (), "not compared", None,
                            (f"the file cannot be read as a PDF: {exc}",))
    findings.append(f"claims {pdfa}" if pdfa else "claims no PDF/A level")
    record, digest = _compare_record(pdf, bool(signatures), pdfa, creator, options, findings)

    if not signatures:
        findings.append("not signed")
        status = Status.tampered if record == "differs" else Status.unsigned
        return Verification(status, pdfa, (), record, digest, tuple(findings))
    status = Status.valid
    for check in signatures:
        findings.append(
            f"signed by {check.signer}" + (f" ({check.reason})" if check.reason else "")
            + f": {'intact' if check.intact else 'CHANGED after signing'}, "
            f"{'valid' if check.valid else 'INVALID'}"
            + ("" if check.whole_file else ", but the file was extended after it")
            + ("" if check.trusted is None else
               ", trusted" if check.trusted else ", NOT trusted by the given roots"))
        if not (check.intact and check.valid and check.whole_file):
            status = Status.tampered
        elif check.trusted is False and status is Status.valid:
            status = Status.untrusted
    if record == "differs":
        status = Status.tampered
    return Verification(status, pdfa, tuple(signatures), record, digest, tuple(findings))


@dataclass(frozen=True)
class Metadata:
    """What a PDF says of itself."""

    #: Its document title, e.g. "Note Verbale No. 12/346/2025".
    title: str | None
    #: e.g. "PDF/A-3B", or ``None`` if it claims no PDF/A level.
    pdfa: str | None
    #: The program that made it, e.g. "notegen 0.1.0".
    creator: str


def read_metadata(pdf: bytes) -> Metadata:
    """The title, PDF/A claim and creator ``pdf`` records.

    :raises RecordError: if ``pdf`` cannot be read as a PDF.
    """
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            meta = document.open_metadata()
            part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
            title = document.docinfo.get("/Title")
            creator = str(document.docinfo.get("/Creator", ""))
    except pikepdf.PdfError as exc:
        raise RecordError([Problem(f"not a readable PDF: {exc}")]) from None
    return Metadata(str(title) if title is not None else None,
                    f"PDF/A-{part}{conformance or ''}" if part else None, creator)


def _signatures(pdf: bytes, trust_roots: Sequence[bytes]) -> list[SignatureCheck]:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = []
    for root in trust_roots:
        with tempfile.NamedTemporaryFile(suffix=".pem") as file:
            file.write(root)
            file.flush()
            roots.append(load_cert_from_pemder(file.name))  # type: ignore[no-untyped-call]
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    checks = []
    for embedded in reader.embedded_signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        with _untrusted_is_expected(not roots):
            status = validate_pdf_signature(embedded, context)
        sig = embedded.sig_object
        checks.append(SignatureCheck(
            signer=str(sig.get("/Name") or status.signing_cert.subject.human_friendly),
            reason=str(sig["/Reason"]) if "/Reason" in sig else None,
            location=str(sig["/Location"]) if "/Location" in sig else None,
            signed_at=(status.signer_reported_dt.isoformat()
                       if status.signer_reported_dt else None),
            intact=status.intact, valid=status.valid,
            trusted=status.trusted if roots else None,
            whole_file=status.coverage is SignatureCoverageLevel.ENTIRE_FILE))
    return checks


class _DropUntrusted(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Validation error [cert context")


@contextlib.contextmanager
def _untrusted_is_expected(expected: bool) -> Iterator[None]:
    """Without trust roots no signer can be trusted, and pyHanko logs that with
    a traceback each time; drop those records while validating."""
    if not expected:
        yield
        return
    pyhanko_logger = logging.getLogger("pyhanko.sign.validation.generic_cms")
    quiet = _DropUntrusted()
    pyhanko_logger.addFilter(quiet)
    try:
        yield
    finally:
        pyhanko_logger.removeFilter(quiet)


def _compare_record(pdf: bytes, signed: bool, pdfa: str | None, creator: str,
                    options: RenderOptions | None, findings: list[str]
                    ) -> tuple[str, str | None]:
    """Re-render the embedded records and compare with the file: equal bytes,
    or, once signed, the first bytes (a signature is an incremental update)."""
    try:
        record = _read_record(pdf)
    except RecordError as exc:  # there, but damaged
        findings.append(f"the embedded records cannot be read: {exc.problems[0].message}")
        return "differs", None
    if record is None:
        findings.append("no embedded records")
        return "absent", None
    made_by = creator.removeprefix("notegen ").strip()
    if made_by != __version__:
        findings.append(f"records embedded; made by {creator or 'another program'}, so not "
                        f"re-rendered by notegen {__version__} for comparison")
        return "not compared", None
    options = options or RenderOptions()
    variant = _variant(pdfa)
    try:
        # Read from memory: the records may include no file of this machine.
        again = render_pdf(load_case_data(record, RECORD_NAME),
                           options=replace(options, pdf_variant=variant))
    except NotegenError as exc:
        findings.append(f"the embedded records no longer render: {exc}")
        return "differs", None
    digest = hashlib.sha256(again).hexdigest()
    if pdf.startswith(again) if signed else pdf == again:
        findings.append(f"the embedded records render to the {'signed ' if signed else ''}"
                        f"bytes (sha256 {digest})")
        return "matches", digest
    findings.append(f"the embedded records render to other bytes than the file's (sha256 "
                    f"{digest})")
    return "differs", None


def _variant(pdfa: str | None) -> str | None:
    match = re.fullmatch(r"PDF/A-(\d)([A-Z]?)", pdfa or "")
    return f"pdf/a-{match[1]}{match[2].lower()}" if match else None
