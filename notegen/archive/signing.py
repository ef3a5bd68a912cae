"""Signing a rendered note: a PAdES signature applied with pyHanko.

The signature is an incremental update, so the bytes notegen rendered stay
the first bytes of the signed file, unchanged; PDF/A identification and the
embedded records are kept. The signature shows the signer's name, the reason
and the place in a stamp in the top margin of the last page, drawn with the
bundled font (embedded, as PDF/A requires), and carries them in the
signature dictionary that PDF readers list.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RenderError
from ..template_folders import builtin
from . import load_pyhanko

logger = logging.getLogger(__name__)

#: The signature field notegen creates.
FIELD_NAME = "NotegenSignature"
#: The stamp's font, a bundled one (embedded, as PDF/A requires).
_FONT = "NotoSerif-Regular.ttf"
#: Where the stamp stands: inside the top margin of the last page, in points
#: from the page's left edge and top edge.
_STAMP = (85, 6, 400, 58)


@dataclass(frozen=True)
class SigningKey:
    """A PKCS#12 file (``.p12``/``.pfx``) holding the key and certificate."""

    path: Path
    passphrase: bytes | None = None


def sign_pdf(pdf: bytes, key: SigningKey, *, reason: str, location: str | None = None,
             name: str | None = None) -> bytes:
    """``pdf`` with a PAdES signature by ``key``.

    ``name`` defaults to the certificate's subject common name.

    :raises RenderError: if the key cannot be read or the PDF cannot be signed.
    """
    load_pyhanko()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.stamp import TextStampStyle

    try:
        signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(key.path), passphrase=key.passphrase)
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot read the signing key {key.path}: {exc}") from None
    if signer is None:
        raise RenderError(f"cannot read the signing key {key.path}: wrong passphrase, or "
                          "not a PKCS#12 file with a key and a certificate")
    certificate = signer.signing_cert
    signer_name = name or certificate.subject.native.get("common_name") or \
        certificate.subject.human_friendly
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        page = writer.root["/Pages"]
        last = int(page["/Count"]) - 1
        page_object = writer.find_page_for_modification(last)[0]  # type: ignore[no-untyped-call]
        height = int(page_object.get_object()["/MediaBox"][3])
        left, top, right, bottom = _STAMP
        fields.append_signature_field(writer, fields.SigFieldSpec(
            FIELD_NAME, on_page=last, box=(left, height - bottom, right, height - top)))
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256", reason=reason, location=location, name=signer_name)
        stamp = TextStampStyle(
            stamp_text="Digitally signed by %(signer)s\n%(reason)s\n%(place)s%(ts)s",
            text_box_style=TextBoxStyle(font=_font_factory(), font_size=8),
            background=None, border_width=0, timestamp_format="%Y-%m-%d %H:%M:%S %Z")
        signed = signers.PdfSigner(metadata, signer, stamp_style=stamp).sign_pdf(
            writer, appearance_text_params={"signer": signer_name, "reason": reason,
                                            "place": f"{location}, " if location else ""})
    except (PdfError, SigningError, KeyError, ValueError) as exc:
        raise RenderError(f"cannot sign the PDF: {exc}") from exc
    logger.info("signed by %s", signer_name)
    return bytes(signed.getbuffer())


def _font_factory() -> Any:
    """pyHanko's font factory for the bundled font, read into memory: its own
    opens the file and never closes it."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    class InMemory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
            return GlyphAccumulator(writer=writer, font_size=self.font_size,
                                    font_handle=io.BytesIO(Path(self.font_file).read_bytes()),
                                    obj_stream=obj_stream)

    return InMemory(str(builtin().font(_FONT)))
