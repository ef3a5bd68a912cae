"""Signing a rendered note: PAdES signatures applied with pyHanko.

Each signature is an incremental update, so the bytes notegen rendered stay
the first bytes of the signed file, unchanged; PDF/A identification and the
embedded records are kept. A note may be signed again (a countersignature by
another officer): each signature gets a field of its own and signs the file
with every signature before it. Each shows the signer's name, the reason and
the place in a stamp in the top margin of the last page (the second beside
the first; further ones on the pages before), drawn with the bundled font
(embedded, as PDF/A requires), and carries them in the signature dictionary
that PDF readers list.

The key is a PKCS#12 file (:class:`SigningKey`) or a key on a smart card or
HSM reached through its PKCS#11 module (:class:`Pkcs11Key`). The signature
is PAdES B-B; with a time-stamping authority, B-T (an RFC 3161 timestamp of
the signature); B-LT adds the certificates (and any revocation data) that
validate the signer and the timestamp up to a trusted root, in the file's
document security store.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import RenderError
from ..template_folders import builtin
from . import load_pyhanko, quiet_pyhanko

logger = logging.getLogger(__name__)

#: The name of the first signature field notegen creates; further ones are
#: numbered: ``NotegenSignature2``, ``NotegenSignature3``…
FIELD_NAME = "NotegenSignature"
#: The stamp's font, a bundled one (embedded, as PDF/A requires).
_FONT = "NotoSerif-Regular.ttf"
#: Where stamps stand: in the top margin, 6 to 58 points from the page's top
#: edge (the note's margin is 22 mm, 62 points), in two columns from the
#: text's left edge (85 points, 30 mm) to its right edge (57 points, 20 mm,
#: from the page's right edge) with 11 points between them.
_TOP, _BOTTOM, _LEFT, _RIGHT, _GAP = 6, 58, 85, 57, 11


class Level(StrEnum):
    """How much a PAdES signature carries for validating it later."""

    #: The signature, the signer's certificate and the signing time the
    #: signer's clock gave.
    B_B = "b-b"
    #: And an RFC 3161 timestamp of the signature by a time-stamping
    #: authority: proof that it existed at that time.
    B_T = "b-t"
    #: And the certificates (and revocation data, where the chain has any)
    #: validating the signer and the timestamp up to a trusted root, so it
    #: can be validated when they are no longer to be had.
    B_LT = "b-lt"


@dataclass(frozen=True)
class SigningKey:
    """A PKCS#12 file (``.p12``/``.pfx``) holding the key and certificate.

    ``passphrase`` is the file's passphrase, as text (UTF-8) or bytes;
    ``None`` for a file without one.
    """

    path: Path
    passphrase: str | bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # a str is welcome too

    def needs_passphrase(self) -> bool:
        """Whether the file is a PKCS#12 file that opens only with a
        passphrase (so one must be asked for, if none was given)."""
        try:
            _load_pkcs12(_read(self.path), None, self.path)
        except _NoPassphrase:
            return True
        except RenderError:
            return False  # unreadable, or no PKCS#12: signing says so
        return False


@dataclass(frozen=True)
class Pkcs11Key:
    """A key on a smart card or HSM, used through its PKCS#11 module.

    ``module`` is the module's shared library (e.g.
    ``/usr/lib/softhsm/libsofthsm2.so``); ``token_label`` the token's label;
    ``key_label`` the private key's label, and ``cert_label`` that of its
    certificate on the token (default: the key's). ``pin`` is the user PIN,
    or ``None`` for a token that asks for it itself (a PIN pad).
    """

    module: Path
    token_label: str
    key_label: str
    pin: str | None = None
    cert_label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "module", Path(self.module))  # a str is welcome too


def sign_pdf(pdf: bytes, key: SigningKey | Pkcs11Key, *, reason: str,
             location: str | None = None, name: str | None = None, tsa: str | None = None,
             level: Level | str | None = None, trust_roots: Sequence[bytes] = ()) -> bytes:
    """``pdf`` with a PAdES signature by ``key`` added (after any it has).

    ``name`` defaults to the certificate's subject common name. ``tsa`` is
    an RFC 3161 time-stamping authority's URL; ``level`` defaults to B-T
    with one, B-B without. B-LT needs ``tsa`` and ``trust_roots`` (PEM or
    DER certificates) to which the signer's and the authority's certificates
    chain.

    :raises RenderError: if the key cannot be used, the timestamp not had,
        the chain not built for B-LT, or the PDF cannot be signed.
    """
    wanted = Level(level) if level is not None else Level.B_T if tsa else Level.B_B
    if wanted is not Level.B_B and not tsa:
        raise RenderError(f"a PAdES {wanted.value.upper()} signature needs a timestamp: give "
                          "the URL of a time-stamping authority (tsa)")
    if wanted is Level.B_LT and not trust_roots:
        raise RenderError("a PAdES B-LT signature embeds the chain of the signer's and the "
                          "timestamp's certificates up to a trusted root: give the trust roots")
    # Imported before the logs are quieted, so that their loggers exist.
    load_pyhanko()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    with quiet_pyhanko(), _signer(key) as signer:
        certificate = signer.signing_cert
        signer_name = name or certificate.subject.native.get("common_name") or \
            certificate.subject.human_friendly
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            field_name, spec = _new_field(writer)
            fields.append_signature_field(writer, spec)
            lt = wanted is Level.B_LT
            metadata = signers.PdfSignatureMetadata(
                field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES,
                md_algorithm="sha256", reason=reason, location=location, name=signer_name,
                embed_validation_info=lt,
                validation_context=ValidationContext(
                    trust_roots=_certificates(trust_roots), allow_fetching=False)
                if lt else None)
            timestamper = HTTPTimeStamper(tsa, timeout=10) if tsa else None
            signed = signers.PdfSigner(
                metadata, signer, timestamper=timestamper, stamp_style=_stamp_style()
            ).sign_pdf(writer, appearance_text_params={
                "signer": signer_name, "reason": reason,
                "place": f"{location}, " if location else ""})
        except TimestampRequestError as exc:
            cause = exc.__cause__ or exc.__context__
            raise RenderError(f"cannot get a timestamp from {tsa}: {exc}"
                              + (f" ({cause})" if cause else "")) from None
        except (PathBuildingError, PathValidationError) as exc:
            raise RenderError(f"cannot embed validation data (PAdES B-LT): {_chain(exc)}") \
                from None
        except SigningError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, PathBuildingError | PathValidationError):
                raise RenderError(f"cannot embed validation data (PAdES B-LT): "
                                  f"{_chain(cause)}") from None
            raise RenderError(f"cannot sign the PDF: {exc}") from exc
        except (OSError, TimeoutError) as exc:  # the authority could not be reached
            raise RenderError(f"cannot get a timestamp from {tsa}: "
                              f"{exc.strerror or exc or type(exc).__name__}") from None
        except (PdfError, KeyError, ValueError) as exc:
            raise RenderError(f"cannot sign the PDF: {exc}") from exc
    logger.info("signed by %s as %s (PAdES %s)", signer_name, field_name,
                wanted.value.upper())
    return bytes(signed.getbuffer())


def _chain(exc: Exception) -> str:
    return ("the signer's or the timestamp's certificate does not chain to a trust root "
            f"given ({exc})")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RenderError(f"cannot read the signing key {path}: "
                          f"{exc.strerror or exc}") from None


class _NoPassphrase(RenderError):
    """A PKCS#12 file that needs a passphrase, and none was given."""


def _load_pkcs12(data: bytes, passphrase: str | bytes | None, path: Path) -> Any:
    """pyHanko's signer for the PKCS#12 ``data``; "no passphrase given",
    "wrong passphrase" and "not a PKCS#12 file" told apart."""
    from asn1crypto import pkcs12  # type: ignore[import-untyped]
    load_pyhanko()
    from pyhanko.sign import signers

    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    try:
        return signers.SimpleSigner.load_pkcs12_data(data, (), passphrase=secret)
    except ValueError:
        pass
    try:
        pkcs12.Pfx.load(data, strict=True).native  # noqa: B018 - parses it, or raises
    except (ValueError, TypeError, KeyError):
        raise RenderError(f"cannot read the signing key {path}: not a PKCS#12 file (.p12, "
                          ".pfx)") from None
    if secret is None:
        raise _NoPassphrase(f"cannot read the signing key {path}: it is protected by a "
                            "passphrase, and no passphrase was given")
    raise RenderError(f"cannot read the signing key {path}: wrong passphrase (or the file "
                      "holds no key and certificate)")


@contextlib.contextmanager
def _signer(key: SigningKey | Pkcs11Key) -> Iterator[Any]:
    """pyHanko's signer for ``key``; a PKCS#11 session is closed after."""
    if isinstance(key, SigningKey):
        yield _load_pkcs12(_read(key.path), key.passphrase, key.path)
        return
    from pkcs11.exceptions import PinIncorrect, PinLenRange, PKCS11Error
    load_pyhanko()
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    where = f"token {key.token_label!r} (PKCS#11 module {key.module})"
    try:
        session = pkcs11.open_pkcs11_session(
            str(key.module), token_criteria=TokenCriteria(label=key.token_label),
            user_pin=key.pin)
    except (PinIncorrect, PinLenRange):
        raise RenderError(f"cannot open {where}: wrong PIN") from None
    except (PKCS11Error, OSError, RuntimeError) as exc:
        raise RenderError(f"cannot open {where}: "
                          f"{exc or type(exc).__name__}") from None
    try:
        signer = pkcs11.PKCS11Signer(session, key_label=key.key_label,
                                     cert_label=key.cert_label or key.key_label)
        try:
            certificate = signer.signing_cert
        except PKCS11Error as exc:
            raise RenderError(f"cannot use key {key.key_label!r} on {where}: {exc}") from None
        # Tokens commonly sign EC keys only with the raw mechanism (the
        # digest made here): SoftHSM2 and most smart cards.
        signer.use_raw_mechanism = certificate.public_key.algorithm == "ec"
        yield signer
    finally:
        session.close()


def _certificates(blobs: Sequence[bytes]) -> list[Any]:
    """asn1crypto certificates from PEM or DER bytes."""
    from asn1crypto import pem, x509

    found = []
    for blob in blobs:
        ders = [der for _, _, der in pem.unarmor(blob, multiple=True)] \
            if pem.detect(blob) else [blob]
        found += [x509.Certificate.load(der) for der in ders]
    return found


def _new_field(writer: Any) -> tuple[str, Any]:
    """A new signature field: the first of ``NotegenSignature``,
    ``NotegenSignature2``… not taken, with its stamp in the first free place
    (see :data:`_TOP`) on the last page, then the pages before it; an
    invisible field if every place is taken."""
    load_pyhanko()
    from pyhanko.sign import fields

    taken = {name for name, _, _ in fields.enumerate_sig_fields(writer)}
    field_name = next(name for number in range(1, len(taken) + 2)
                      if (name := FIELD_NAME if number == 1 else f"{FIELD_NAME}{number}")
                      not in taken)
    pages = int(writer.root["/Pages"]["/Count"])
    for index in reversed(range(pages)):
        page = writer.find_page_for_modification(index)[0].get_object()
        x0, _, x1, y1 = (float(n) for n in page["/MediaBox"])
        occupied = [tuple(float(n) for n in annotation.get_object()["/Rect"])
                    for annotation in page.get("/Annots", ())
                    if "/Rect" in annotation.get_object()]
        middle = (x0 + _LEFT + x1 - _RIGHT) / 2
        for left, right in ((x0 + _LEFT, middle - _GAP / 2), (middle + _GAP / 2, x1 - _RIGHT)):
            box = (round(left), round(y1 - _BOTTOM), round(right), round(y1 - _TOP))
            if not any(_overlap(box, other) for other in occupied):
                return field_name, fields.SigFieldSpec(field_name, on_page=index, box=box)
    logger.info("no free place for another signature's stamp: %s is invisible", field_name)
    return field_name, fields.SigFieldSpec(field_name)


def _overlap(one: tuple[float, ...], other: tuple[float, ...]) -> bool:
    left, bottom = max(one[0], min(other[0], other[2])), max(one[1], min(other[1], other[3]))
    right, top = min(one[2], max(other[0], other[2])), min(one[3], max(other[1], other[3]))
    return left < right and bottom < top


def _stamp_style() -> Any:
    load_pyhanko()
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text="Digitally signed by %(signer)s\n%(reason)s\n%(place)s%(ts)s",
        text_box_style=TextBoxStyle(font=_font_factory(), font_size=8),
        background=None, border_width=0, timestamp_format="%Y-%m-%d %H:%M:%S %Z")


def _font_factory() -> Any:
    """pyHanko's font factory for the bundled font, read into memory: its own
    opens the file and never closes it."""
    load_pyhanko()
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    class InMemory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
            return GlyphAccumulator(writer=writer, font_size=self.font_size,
                                    font_handle=io.BytesIO(Path(self.font_file).read_bytes()),
                                    obj_stream=obj_stream)

    return InMemory(str(builtin().font(_FONT)))
