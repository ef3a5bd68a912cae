"""Reading a note back: its embedded records, its signatures, its PDF/A claim.

:func:`extract_record` gives the JSON records a PDF was rendered from.
:func:`verify_pdf` checks a PDF as an archivist would: each signature is
intact, valid and covers the whole file (and its signer is trusted, given
trust roots); the embedded records still render to exactly the bytes that
were signed; what PDF/A level it claims.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from ..errors import NotegenError, Problem, RecordError
from ..options import RenderOptions
from ..records.case import load_case_data
from ..render.pdf import RECORD_NAME, render_pdf
from ..version import __version__
from . import load_pyhanko, quiet_pyhanko

logger = logging.getLogger(__name__)


class Status(IntEnum):
    """The verdict on a PDF; its value is the exit code of ``notegen verify``.

    Only ``valid`` and ``unsigned`` say the file is unchanged, and
    ``unsigned`` only because its embedded records render to exactly its
    bytes; a file nothing can vouch for is ``unverifiable``, never
    ``unsigned``.
    """

    #: Signed; every signature intact, valid, covering the whole file and
    #: chaining to a trust root given; the file is the rendered note plus that
    #: signature, and its records (if embedded and made by this version of
    #: notegen) render to the signed bytes.
    valid = 0
    #: Not signed, but the file is exactly the bytes its embedded records
    #: render to: unchanged since it was rendered.
    unsigned = 3
    #: Changed since it was rendered or signed (a byte, an added update,
    #: records that render to other bytes, a signature container holding
    #: anything its signer did not write), or unreadable.
    tampered = 4
    #: Signed, intact and valid, but the signer is not vouched for: no trust
    #: root was given, so the signer was not checked (any self-signed key
    #: passes that far), or the given roots do not vouch for it.
    untrusted = 5
    #: Not signed, and nothing to compare it with (no embedded records, or
    #: made by another version of notegen, or so its Creator says): whether
    #: it was changed cannot be judged.
    unverifiable = 6


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
    #: The signature is cryptographically valid for them, and its container
    #: (the /Contents string) holds nothing the signer did not write: no
    #: padding other than zeros, strict DER, no unsigned attributes.
    valid: bool
    #: The signer (and the timestamp's authority, if any) chains to a trust
    #: root; ``None`` if none was given.
    trusted: bool | None
    #: Nothing was added to the file after this signature but further
    #: signatures and validation data (pyHanko's analysis of the updates).
    whole_file: bool
    #: Why it is not intact or valid, in plain sentences.
    problems: tuple[str, ...] = ()
    #: "B-B", "B-T" (with a timestamp) or "B-LT" (and validation data).
    level: str = "B-B"
    #: When the time-stamping authority says the signature existed (ISO 8601).
    timestamp: str | None = None
    #: The authority that says so (its certificate's subject).
    tsa: str | None = None
    #: What it covers, in words: "the whole file", or the file up to it with
    #: only further signatures or validation data added after.
    coverage: str = "the whole file"
    #: Why it is not trusted, in words; ``None`` if trusted or not checked.
    untrusted_because: str | None = None


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

    :raises NotegenError: if the PDF, or the records in it, cannot be read.
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
        raise _unreadable(exc) from None


def _unreadable(exc: Exception) -> NotegenError:
    """The error for a file that is not a readable PDF, in qpdf's words
    without the name of the in-memory stream it read."""
    reason = re.sub(r"^(stream )?<[^>]*>:\s*", "", str(exc)).strip()
    return NotegenError(f"not a readable PDF: {reason}" if reason else "not a readable PDF")


def verify_pdf(pdf: bytes, *, trust_roots: Sequence[bytes] = (),
               options: RenderOptions | None = None) -> Verification:
    """Check ``pdf``: its signatures, its embedded records, its PDF/A claim.

    ``trust_roots`` are PEM or DER certificates; without them the signer is
    not checked, and a signed note is at best :attr:`Status.untrusted`.
    ``options`` give the template folders the note was rendered with (the
    built-in ones by default).
    """
    findings: list[str] = []
    try:
        metadata = read_metadata(pdf)
        pdfa, creator = metadata.pdfa, metadata.creator
        signatures, updates = _signatures(pdf, trust_roots)
    except Exception as exc:  # whatever breaks reading it is the verdict on this file
        logger.debug("unreadable PDF", exc_info=True)
        reason = str(exc) if isinstance(exc, NotegenError) else str(_unreadable(exc))
        return Verification(Status.tampered, None, (), "not compared", None, (reason,))
    findings.append(f"claims {pdfa}" if pdfa else "claims no PDF/A level")
    if updates:
        findings.append(
            f"the file was changed by {updates} incremental update"
            f"{'s' if updates != 1 else ''} after it was written"
            + (", before it was signed" if signatures else ""))
    record, digest = _compare_record(pdf, bool(signatures) and not updates, pdfa, creator,
                                     options, findings)
    changed = bool(updates) or record == "differs"

    if not signatures:
        findings.append("not signed")
        if changed:
            status = Status.tampered
        elif record == "matches":
            status = Status.unsigned
        else:
            status = Status.unverifiable
            findings.append("nothing vouches for this file: whether it was changed cannot "
                            "be judged")
        return Verification(status, pdfa, (), record, digest, tuple(findings))
    broken = False
    for check in signatures:
        findings.append(
            f"signed by {check.signer}" + (f" ({check.reason})" if check.reason else "")
            + f": {'intact' if check.intact else 'CHANGED after signing'}, "
            f"{'valid' if check.valid else 'INVALID'}"
            + ("" if check.whole_file else ", but the file was extended after it")
            + ("" if check.trusted is None else
               ", trusted" if check.trusted else
               f", NOT trusted: {check.untrusted_because or 'not by the given roots'}")
            + f"; PAdES {check.level}"
            + (f", timestamp {check.timestamp} by {check.tsa}" if check.timestamp else "")
            + (f", signer's clock {check.signed_at}" if check.signed_at else "")
            + f"; covers {check.coverage}"
            + "".join(f"; {problem}" for problem in check.problems))
        broken |= not (check.intact and check.valid and check.whole_file)
    if broken or changed:
        status = Status.tampered
    elif not trust_roots:
        status = Status.untrusted
        findings.append("signer not checked: give --trust ROOT.pem")
    elif all(check.trusted for check in signatures):
        status = Status.valid
    else:
        status = Status.untrusted
    if record in ("absent", "not compared") and status is not Status.tampered:
        findings.append("the records were not compared: only the signature vouches for "
                        "the content")
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

    :raises NotegenError: if ``pdf`` cannot be read as a PDF.
    """
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            meta = document.open_metadata()
            part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
            title = document.docinfo.get("/Title")
            creator = str(document.docinfo.get("/Creator", ""))
    except pikepdf.PdfError as exc:
        raise _unreadable(exc) from None
    return Metadata(str(title) if title is not None else None,
                    f"PDF/A-{part}{conformance or ''}" if part else None, creator)


def _signatures(pdf: bytes, trust_roots: Sequence[bytes]
                ) -> tuple[list[SignatureCheck], int]:
    """Each signature, and how many incremental updates the file had before
    the first signature (or in all, if unsigned): a note as notegen writes it
    has none."""
    load_pyhanko()
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    roots = []
    for root in trust_roots:
        with tempfile.NamedTemporaryFile(suffix=".pem") as file:
            file.write(root)
            file.flush()
            roots.append(load_cert_from_pemder(file.name))  # type: ignore[no-untyped-call]
    with quiet_pyhanko():
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
        try:
            dss = DocumentSecurityStore.read_dss(reader)
            stored = {bytes(ref.get_object().data) for ref in dss.certs.values()}
        except (KeyError, ValueError, TypeError, AttributeError):
            stored = set()  # no DSS, or none pyHanko can read
        last = max((s.signed_revision for s in embedded), default=None)
        checks = [_check(pdf, signature, roots, stored, signature.signed_revision == last)
                  for signature in embedded]
        first = min((s.signed_revision for s in embedded), default=None)
        updates = (first if first is not None else reader.xrefs.total_revisions) - 1
    return checks, max(updates, 0)


def _check(pdf: bytes, embedded: Any, roots: list[Any], stored: set[bytes],
           last: bool) -> SignatureCheck:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    sig = embedded.sig_object
    name = str(sig["/Name"]) if sig.get("/Name") else None
    reason = str(sig["/Reason"]) if "/Reason" in sig else None
    location = str(sig["/Location"]) if "/Location" in sig else None
    try:
        status = validate_pdf_signature(
            embedded, ValidationContext(trust_roots=roots, allow_fetching=False))
    except Exception as exc:  # pyHanko raises many kinds on a damaged signature
        logger.debug("signature not validated", exc_info=True)
        return SignatureCheck(name or "an unknown signer", reason, location, None,
                              intact=False, valid=False, trusted=False if roots else None,
                              whole_file=False,
                              problems=(f"the signature cannot be validated: {exc}",),
                              coverage="nothing that could be checked")
    problems = list(_container_problems(pdf, embedded))
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        problems.append("its timestamp is not intact and valid")
    # After the last signature, only validation data (a DSS, a document
    # timestamp) may follow; after an earlier one, also further signatures.
    # Bytes after the last revision's %%EOF are no revision at all.
    allowed = {ModificationLevel.LTA_UPDATES}
    if not last:
        allowed |= {ModificationLevel.NONE, ModificationLevel.FORM_FILLING}
    if status.coverage is SignatureCoverageLevel.ENTIRE_FILE:
        whole, coverage = True, "the whole file"
    elif (status.coverage is SignatureCoverageLevel.ENTIRE_REVISION and status.docmdp_ok
          and status.modification_level in allowed
          and re.search(rb"%%EOF\r?\n?\Z", pdf[-16:])):
        whole = True
        coverage = ("the file up to it; only validation data was added after it"
                    if status.modification_level is ModificationLevel.LTA_UPDATES else
                    "the file up to it; only further signatures (and validation data) "
                    "were added after it")
    else:
        whole, coverage = False, "the file up to it; other changes were made after it"
    level = "B-B"
    if stamp is not None:
        level = "B-T"
        if status.signing_cert.dump() in stored:
            level = "B-LT"
    trusted: bool | None = None
    because = None
    if roots:
        trusted = bool(status.trusted) and (stamp is None or bool(stamp.trusted))
        if not status.trusted:
            because = _untrusted(status, "the signer")
        elif not trusted:
            because = _untrusted(stamp, "the timestamp's authority")
    return SignatureCheck(
        signer=name or status.signing_cert.subject.human_friendly,
        reason=reason, location=location,
        signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        intact=status.intact, valid=status.valid and not problems, trusted=trusted,
        whole_file=whole, problems=tuple(problems), level=level,
        timestamp=stamp.timestamp.isoformat() if stamp is not None else None,
        tsa=_common_name(stamp.signing_cert) if stamp is not None else None,
        coverage=coverage, untrusted_because=because)


def _common_name(certificate: Any) -> str:
    name: str = certificate.subject.native.get("common_name") or \
        certificate.subject.human_friendly
    return name


def _untrusted(status: Any, who: str) -> str:
    """Why pyHanko did not trust ``status``'s signer, in words: a missing
    key usage is not a missing root."""
    certificate = status.signing_cert
    required = set(getattr(type(status), "key_usage", set()) or ())
    usage = certificate.key_usage_value
    granted = set(usage.native) if usage is not None else set()
    if required - granted:
        wanted = " and ".join(sorted(required - granted))
        return (f"{who}'s certificate ({_common_name(certificate)}) does not allow signing: "
                f"its key usage lacks {wanted}")
    extended = getattr(type(status), "extd_key_usage", None)
    if extended:
        value = certificate.extended_key_usage_value
        if value is None or not set(extended) <= set(value.native):
            return (f"{who}'s certificate ({_common_name(certificate)}) is not for that use: "
                    f"its extended key usage lacks {' and '.join(sorted(extended))}")
    indication = getattr(status, "trust_problem_indic", None)
    if indication is not None and "NO_CERTIFICATE_CHAIN_FOUND" in str(indication):
        return f"{who} ({_common_name(certificate)}) does not chain to a root given"
    if indication is not None and "EXPIRED" in str(indication):
        return f"{who}'s certificate ({_common_name(certificate)}) has expired"
    if indication is not None and "REVOKED" in str(indication):
        return f"{who}'s certificate ({_common_name(certificate)}) is revoked"
    return (f"{who} ({_common_name(certificate)}) is not vouched for by the roots given"
            + (f" ({str(indication).rsplit('.', 1)[-1].lower().replace('_', ' ')})"
               if indication is not None else ""))


def _container_problems(pdf: bytes, embedded: Any) -> Iterator[str]:
    """What in the signature's /Contents, which the signature cannot cover,
    differs from what a signer writes: one hex string in one case, the
    DER-encoded CMS, then only zeros; strict DER that re-encodes to the same
    bytes; the digest algorithms of its signers listed and no others; the
    versions RFC 5652 prescribes; no CRLs and no unsigned attributes (notegen
    writes none)."""
    from asn1crypto import cms, parser  # type: ignore[import-untyped]

    byte_range = [int(n) for n in embedded.sig_object["/ByteRange"]]
    if len(byte_range) != 4 or byte_range[0] != 0:
        yield "its byte range is not the whole file but the signature"
        return
    gap = pdf[byte_range[1]:byte_range[2]]
    if not re.fullmatch(rb"<(?:[0-9A-F]*|[0-9a-f]*)>", gap):
        yield "its /Contents is not one hex string of one case"
        return
    contents = bytes.fromhex(gap[1:-1].decode("ascii"))
    if contents != bytes(embedded.pkcs7_content):
        yield "its /Contents is not the string the byte range leaves out"
        return
    try:
        _, _, _, header, body, trailer = parser.parse(contents)
        der = contents[:len(header) + len(body) + len(trailer)]
        info = cms.ContentInfo.load(der, strict=True)
        info.native  # noqa: B018 - parses every value, raising on a malformed one
        again = cms.ContentInfo.load(der).dump(force=True)
    except (ValueError, TypeError, KeyError) as exc:
        yield f"its CMS cannot be read: {exc}"
        return
    if contents[len(der):].strip(b"\0"):
        yield "its /Contents holds bytes other than zeros after the CMS"
    if again != der:
        yield "its CMS is not strict DER"
    signed_data = info["content"]
    signers = list(signed_data["signer_infos"])
    algorithms = {signer["digest_algorithm"].dump() for signer in signers}
    if sorted(a.dump() for a in signed_data["digest_algorithms"]) != sorted(algorithms):
        yield "its list of digest algorithms is not that of its signers"
    if any(signer["digest_algorithm"]["parameters"].native is not None for signer in signers):
        yield "its digest algorithm carries parameters"
    if signed_data["version"].native != "v1" or any(
            signer["version"].native != ("v1" if signer["sid"].name == "issuer_and_serial_number"
                                         else "v3") for signer in signers):
        yield "its versions are not those RFC 5652 prescribes"
    if signed_data["crls"].native:
        yield "it carries revocation lists notegen does not write"
    # The one unsigned attribute notegen writes: the timestamp of a PAdES
    # B-T signature (validated with it).
    if any(attribute["type"].native != "signature_time_stamp_token"
           for signer in signers for attribute in (signer["unsigned_attrs"] or ())):
        yield "it carries unsigned attributes notegen does not write"


def _compare_record(pdf: bytes, signed: bool, pdfa: str | None, creator: str,
                    options: RenderOptions | None, findings: list[str]
                    ) -> tuple[str, str | None]:
    """Re-render the embedded records and compare with the file: equal bytes,
    or, once signed, the first bytes (a signature is an incremental update)."""
    try:
        record = _read_record(pdf)
    except NotegenError as exc:  # there, but damaged
        findings.append(f"the embedded records cannot be read: {exc}")
        return "differs", None
    if record is None:
        findings.append("no embedded records")
        return "absent", None
    made_by = creator.removeprefix("notegen ").strip()
    if made_by != __version__:
        findings.append(f"records embedded, but the file says it was made by "
                        f"{creator or 'another program'}, not notegen {__version__} (a file "
                        "can say so falsely): only the same version renders them to the same "
                        "bytes, so they were not compared")
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
