from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from notegen import (
    RecordError,
    RenderOptions,
    SigningKey,
    Status,
    extract_record,
    load_case,
    render_pdf,
    sign_pdf,
    verify_pdf,
)
from notegen.render.pdf import RECORD_NAME

from .conftest import FIXTURES, ThrowawayKey


@pytest.fixture(scope="module")
def signed_pdf(worked_pdf: bytes, signing_key: ThrowawayKey) -> bytes:
    return sign_pdf(worked_pdf, SigningKey(signing_key.p12, signing_key.passphrase),
                    reason="Note Verbale No. 12/345/2025", location="Baku")


def test_the_pdf_is_pdfa_3b_with_an_output_intent(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        assert meta.get("dc:title") == "Note Verbale No. 12/345/2025"
        [intent] = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intent
        assert str(pdf.Root.Lang) == "en"


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_finds_no_structural_error(worked_pdf: bytes, signed_pdf: bytes,
                                        tmp_path: Path) -> None:
    for name, data in (("note.pdf", worked_pdf), ("signed.pdf", signed_pdf)):
        path = tmp_path / name
        path.write_bytes(data)
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No syntax or stream encoding errors found" in result.stdout


def test_the_records_are_embedded_as_the_source(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        assert list(pdf.attachments) == [RECORD_NAME]
        spec = pdf.Root.AF[0]
        assert spec.AFRelationship == "/Source"
        assert spec.EF.F.Subtype == "/application/json"
        # Fixed dates, from the note: the same input gives the same bytes.
        assert str(spec.EF.F.Params.CreationDate) == "D:20251114000000Z"
    records = json.loads(extract_record(worked_pdf))
    assert records["note"]["reference"] == "12/345/2025"
    assert records["profile"]["id"] == "az-mfa"
    assert {i["id"] for i in records["incidents"]} >= {"kyiv-2025-11-14", "kharkiv-2022-03-10"}


def test_extracted_records_validate_and_render_to_the_same_bytes(worked_pdf: bytes,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_bytes(extract_record(worked_pdf))
    assert render_pdf(load_case(path)) == worked_pdf


def test_the_records_carry_the_type_language_and_translation_rendered(worked_case,
                                                                      tmp_path: Path) -> None:
    options = RenderOptions(lang="ru", note_type=None, translation="az")
    pdf = render_pdf(worked_case, options=options)
    note = json.loads(extract_record(pdf))["note"]
    assert (note["language"], note["translation"]) == ("ru", "az")
    path = tmp_path / "records.json"
    path.write_bytes(extract_record(pdf))
    assert render_pdf(load_case(path)) == pdf
    assert verify_pdf(pdf).record == "matches"


@pytest.mark.logs
def test_variants_without_attachments_say_so(worked_case, caplog) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(pdf_variant="pdf/a-2b"))
    assert "pdf/a-2b allows no JSON attachment" in caplog.text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.open_metadata().get("pdfaid:part") == "2"
        assert not document.attachments
    with pytest.raises(RecordError, match=r"no embedded notegen-record\.json"):
        extract_record(pdf)
    assert verify_pdf(pdf).record == "absent"


def test_pdf_ua_is_tagged(worked_case) -> None:
    pdf = render_pdf(worked_case, options=RenderOptions(pdf_variant="pdf/ua-1"))
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert "/StructTreeRoot" in document.Root
        assert document.open_metadata().get("pdfuaid:part") == "1"
        assert RECORD_NAME in document.attachments


def test_a_signed_note_keeps_pdfa_and_its_records(worked_pdf: bytes, signed_pdf: bytes) -> None:
    # The signature is appended: the rendered bytes are untouched.
    assert signed_pdf.startswith(worked_pdf)
    with pikepdf.open(io.BytesIO(signed_pdf)) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        assert RECORD_NAME in pdf.attachments
        field = next(f for f in pdf.Root.AcroForm.Fields if f.FT == "/Sig")
        assert field.V.Name == "Desk Officer"
        assert field.V.Reason == "Note Verbale No. 12/345/2025"
        assert field.V.Location == "Baku"
        assert field.V.SubFilter == "/ETSI.CAdES.detached"
        # The stamp is visible on the last page, its font embedded.
        last = pdf.pages[-1]
        widget = next(a for a in last.Annots if a.get("/FT") == "/Sig" or a.get("/Parent"))
        assert float(widget.Rect[2]) - float(widget.Rect[0]) > 100
    text = subprocess.run(["pdftotext", "-", "-"], input=signed_pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "Digitally signed by Desk Officer" in text


def test_verify_a_valid_signed_note(signed_pdf: bytes, signing_key: ThrowawayKey) -> None:
    result = verify_pdf(signed_pdf, trust_roots=[signing_key.certificate_pem])
    assert result.status is Status.valid
    assert result.pdfa == "PDF/A-3B"
    assert result.record == "matches"
    [signature] = result.signatures
    assert (signature.signer, signature.intact, signature.valid, signature.trusted,
            signature.whole_file) == ("Desk Officer", True, True, True, True)
    # Without a trust root, trust is not judged; with another root, it fails.
    assert verify_pdf(signed_pdf).status is Status.valid
    assert verify_pdf(signed_pdf).signatures[0].trusted is None


def test_verify_an_untrusted_signer(signed_pdf: bytes, tmp_path_factory) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    other = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Someone Else")])
    import datetime as dt

    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(other.public_key()).serial_number(2).not_valid_before(now)
                   .not_valid_after(now + dt.timedelta(days=365))
                   .sign(other, hashes.SHA256()))
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    result = verify_pdf(signed_pdf, trust_roots=[pem])
    assert result.status is Status.untrusted
    assert result.signatures[0].intact


def test_verify_an_unsigned_note(worked_pdf: bytes) -> None:
    result = verify_pdf(worked_pdf)
    assert result.status is Status.unsigned
    assert result.record == "matches"
    assert result.signatures == ()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def test_a_changed_byte_anywhere_is_tampering(signed_pdf: bytes, worked_pdf: bytes) -> None:
    # Bytes spread over both files, and one inside the signature value itself.
    contents = signed_pdf.index(b"/Contents <") + len(b"/Contents <") + 40
    for pdf, extra in ((signed_pdf, [contents]), (worked_pdf, [])):
        for index in [*range(7, len(pdf), len(pdf) // 12), len(pdf) - 3, *extra]:
            result = verify_pdf(_flip(pdf, index))
            assert result.status is Status.tampered, (len(pdf), index, result.findings)


def test_damaged_records_are_tampering_not_absence(worked_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(worked_pdf)) as pdf:
        raw = pdf.attachments[RECORD_NAME].get_file().obj.read_raw_bytes()
    start = worked_pdf.index(raw)
    result = verify_pdf(_flip(worked_pdf, start))  # its zlib header
    assert result.status is Status.tampered
    assert result.record == "differs"
    assert any("the embedded records cannot be read" in finding for finding in result.findings)


def test_a_byte_added_after_signing_is_tampering(signed_pdf: bytes) -> None:
    result = verify_pdf(signed_pdf + b"%changed\n")
    assert result.status is Status.tampered
    assert "extended after it" in result.findings[-1]


def test_records_changed_and_re_embedded_are_caught(signed_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(signed_pdf)) as pdf:
        spec = pdf.attachments[RECORD_NAME]
        records = spec.get_file().read_bytes().replace(b"Iskander", b"Tochka")
        pdf.attachments[RECORD_NAME] = pikepdf.AttachedFileSpec(pdf, records,
                                                                filename=RECORD_NAME)
        out = io.BytesIO()
        pdf.save(out)
    result = verify_pdf(out.getvalue())
    assert result.status is Status.tampered


def test_a_wrong_passphrase_is_a_clear_error(worked_pdf: bytes, signing_key: ThrowawayKey) -> None:
    from notegen import RenderError

    with pytest.raises(RenderError, match="cannot read the signing key"):
        sign_pdf(worked_pdf, SigningKey(signing_key.p12, b"wrong"), reason="x")
    with pytest.raises(RenderError, match="cannot read the signing key"):
        sign_pdf(worked_pdf, SigningKey(FIXTURES / "minimal.json", None), reason="x")
