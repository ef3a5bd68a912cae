from __future__ import annotations

import io
import json
import logging
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
    result = verify_pdf(pdf)
    assert result.record == "absent"
    # Nothing to compare it with: not "unsigned" (which says the records match).
    assert result.status is Status.unverifiable
    assert "whether it was changed cannot be judged" in result.findings[-1]


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
    assert "signer not checked" not in " ".join(result.findings)


def test_without_trust_roots_a_signed_note_is_untrusted_and_says_so(signed_pdf: bytes) -> None:
    # Any self-signed key passes the cryptographic checks: without a root to
    # check the signer against, "valid" would vouch for whoever made a key.
    result = verify_pdf(signed_pdf)
    assert result.status is Status.untrusted
    [signature] = result.signatures
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, None)
    assert "signer not checked: give --trust ROOT.pem" in result.findings
    assert result.record == "matches"


def test_the_verify_command_says_what_each_exit_code_means(runner, signed_pdf: bytes,
                                                           tmp_path: Path) -> None:
    from notegen.cli import cli

    help_text = " ".join(runner.invoke(cli, ["verify", "--help"]).output.split())
    for phrase in ("0: signed", "3: not signed", "4: changed", "5: signed",
                   "6: not signed", "not checked"):
        assert phrase in help_text, phrase
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    result = runner.invoke(cli, ["verify", str(path)])
    assert result.exit_code == 5, result.output
    assert "signer not checked: give --trust ROOT.pem" in result.output
    assert result.output.endswith(f"{path}: untrusted\n")


def test_the_verdicts_and_their_exit_codes() -> None:
    assert {s.name: s.value for s in Status} == {
        "valid": 0, "unsigned": 3, "tampered": 4, "untrusted": 5, "unverifiable": 6}


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


def _updated(pdf: bytes, *, creator: str | None = None, content: bytes | None = None,
             drop_records: bool = False) -> bytes:
    """``pdf`` with an incremental update appended, as any PDF editor writes one."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if creator is not None:
        info = writer.trailer["/Info"]
        info["/Creator"] = generic.TextStringObject(creator)
        writer.update_container(info)
    if content is not None:
        page_ref = writer.root["/Pages"]["/Kids"][0]
        page = page_ref.get_object()
        stream = writer.add_object(generic.StreamObject(stream_data=content))
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), stream]) \
            if not isinstance(page.raw_get("/Contents"), generic.ArrayObject) \
            else generic.ArrayObject([*page.raw_get("/Contents"), stream])
        writer.update_container(page)
    if drop_records:
        del writer.root["/Names"]
        del writer.root["/AF"]
        writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _rewritten(pdf: bytes, *, creator: str | None = None, drop_records: bool = False) -> bytes:
    """``pdf`` saved anew (as pikepdf or qpdf would) with the changes given."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        if creator is not None:
            document.docinfo["/Creator"] = creator
        if drop_records:
            del document.attachments[RECORD_NAME]
            if "/AF" in document.Root:
                del document.Root.AF
        out = io.BytesIO()
        document.save(out, static_id=True)
    return out.getvalue()


_MARK = b"q BT /F1 24 Tf 72 72 Td (FORGED) Tj ET Q"


@pytest.mark.parametrize(("alteration", "expected"), [
    # Records removed, the file saved anew: nothing is left to compare with.
    ("records removed, file rewritten", Status.unverifiable),
    ("records removed by an incremental update", Status.tampered),
    ("bytes appended", Status.tampered),
    ("content changed by an update, the records kept", Status.tampered),
    ("content changed and the Creator set to another version by an update",
     Status.tampered),
    ("Creator changed to another version, file rewritten", Status.unverifiable),
    ("Creator changed to another program, file rewritten", Status.unverifiable),
])
def test_an_altered_unsigned_note_is_never_reported_unsigned(worked_pdf: bytes, alteration: str,
                                                             expected: Status) -> None:
    altered = {
        "records removed, file rewritten": lambda p: _rewritten(p, drop_records=True),
        "records removed by an incremental update": lambda p: _updated(p, drop_records=True),
        "bytes appended": lambda p: p + b"%% a comment\n",
        "content changed by an update, the records kept": lambda p: _updated(p, content=_MARK),
        "content changed and the Creator set to another version by an update":
            lambda p: _updated(p, content=_MARK, creator="notegen 0.0.1"),
        "Creator changed to another version, file rewritten":
            lambda p: _rewritten(p, creator="notegen 0.0.9"),
        "Creator changed to another program, file rewritten":
            lambda p: _rewritten(p, creator="ForgeryTool 1"),
    }[alteration](worked_pdf)
    assert altered != worked_pdf
    result = verify_pdf(altered)
    assert result.status is expected, result.findings
    assert result.record != "matches"
    assert "not signed" in result.findings


def test_records_not_compared_are_said_to_be_so(worked_pdf: bytes) -> None:
    result = verify_pdf(_rewritten(worked_pdf, creator="notegen 0.0.9"))
    assert result.record == "not compared"
    assert any("notegen 0.0.9" in finding and "not compared" in finding
               for finding in result.findings)
    assert "whether it was changed cannot be judged" in result.findings[-1]


def test_an_update_made_before_signing_is_tampering(worked_pdf: bytes,
                                                    signing_key: ThrowawayKey) -> None:
    # The rendered bytes are still the first bytes, but the signer signed a
    # changed note: the records do not render to what was signed.
    changed = _updated(worked_pdf, content=_MARK)
    signed = sign_pdf(changed, SigningKey(signing_key.p12, signing_key.passphrase), reason="x")
    assert signed.startswith(worked_pdf)
    result = verify_pdf(signed, trust_roots=[signing_key.certificate_pem])
    assert result.signatures[0].intact
    assert result.signatures[0].valid
    assert result.status is Status.tampered, result.findings
    assert result.record == "differs"
    assert any("1 incremental update after it was written, before it was signed" in finding
               for finding in result.findings)


def _contents(pdf: bytes) -> tuple[int, int]:
    """Where the signature's /Contents hex string is: the gap in its byte range."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        field = next(f for f in document.Root.AcroForm.Fields if f.FT == "/Sig")
        _, start, end, _ = (int(n) for n in field.V.ByteRange)
    assert pdf[start:start + 1] == b"<"
    assert pdf[end - 1:end] == b">"
    return start, end


def test_every_byte_flip_in_the_signature_container_is_tampering(
        signed_pdf: bytes, caplog: pytest.LogCaptureFixture) -> None:
    # The /Contents string is the one part of the file the signature cannot
    # cover: the CMS (with its unsigned parts) and the zero padding after it.
    start, end = _contents(signed_pdf)
    der_end = signed_pdf.index(b"00000000", start)  # where the padding begins (about)
    dictionary = signed_pdf.rindex(b"obj", 0, start)
    stop = signed_pdf.index(b"endobj", end)
    # 200 positions: 150 over the hex string, 10 of them in the padding for
    # sure, 40 over the rest of the signature dictionary.
    positions = sorted({*range(start, end, (end - start) // 150),
                        *range(der_end, end, max((end - der_end) // 10, 1)), end - 2,
                        *range(dictionary, start, max((start - dictionary) // 20, 1)),
                        *range(end, stop, max((stop - end) // 20, 1))})
    assert len(positions) >= 190
    missed = [(index, verify_pdf(_flip(signed_pdf, index)).findings) for index in positions
              if verify_pdf(_flip(signed_pdf, index)).status is not Status.tampered]
    assert not missed
    # pyHanko's tracebacks stay off stderr.
    assert not [r for r in caplog.records if r.name.startswith("pyhanko")
                and r.levelno >= logging.WARNING]


def test_a_hex_digit_in_another_case_is_tampering(signed_pdf: bytes) -> None:
    start, end = _contents(signed_pdf)
    letter = next(i for i in range(start + 1, end) if signed_pdf[i:i + 1] in b"ABCDEF")
    swapped = signed_pdf[:letter] + signed_pdf[letter:letter + 1].lower() + \
        signed_pdf[letter + 1:]
    assert verify_pdf(swapped).status is Status.tampered


def _with_container(pdf: bytes, edit) -> bytes:
    """``pdf`` with its CMS replaced by ``edit(cms)``, padded to the same length."""
    from asn1crypto import cms

    start, end = _contents(pdf)
    contents = bytes.fromhex(pdf[start + 1:end - 1].decode())
    info = cms.ContentInfo.load(contents.rstrip(b"\0") + b"\0" * 4)  # tolerant of the tail
    der = edit(info).dump(force=True)
    hexed = der.hex().upper().encode().ljust(end - start - 2, b"0")
    assert len(hexed) == end - start - 2
    return pdf[:start + 1] + hexed + pdf[end - 1:]


def test_an_added_unsigned_attribute_is_tampering(signed_pdf: bytes,
                                                  signing_key: ThrowawayKey) -> None:
    from asn1crypto import cms

    def add_attribute(info: cms.ContentInfo) -> cms.ContentInfo:
        signer = info["content"]["signer_infos"][0]
        signer["unsigned_attrs"] = cms.CMSAttributes([cms.CMSAttribute({
            "type": "signing_time", "values": [cms.Time({"utc_time": "200101000000Z"})]})])
        return info

    forged = _with_container(signed_pdf, add_attribute)
    result = verify_pdf(forged, trust_roots=[signing_key.certificate_pem])
    assert result.status is Status.tampered, result.findings
    assert "unsigned attributes" in " ".join(result.signatures[0].problems)
    # The same container unchanged passes: the edit is what is caught.
    same = _with_container(signed_pdf, lambda info: info)
    assert verify_pdf(same, trust_roots=[signing_key.certificate_pem]).status is Status.valid


def test_a_damaged_signature_is_invalid_and_pyhanko_prints_no_traceback(
        signed_pdf: bytes, caplog: pytest.LogCaptureFixture) -> None:
    from asn1crypto import cms

    def other_algorithm(info: cms.ContentInfo) -> cms.ContentInfo:
        signer = info["content"]["signer_infos"][0]
        signer["signature_algorithm"] = {"algorithm": "sha384_ecdsa"}
        return info

    with caplog.at_level(logging.DEBUG):
        result = verify_pdf(_with_container(signed_pdf, other_algorithm))
    assert result.status is Status.tampered
    [signature] = result.signatures
    assert not signature.valid
    assert not any("cannot be read as a PDF" in finding for finding in result.findings)
    # pyHanko logs a traceback for it: kept off stderr, said once at DEBUG.
    assert not [r for r in caplog.records if r.name.startswith("pyhanko")]
    assert any(r.name == "notegen.archive" and "pyHanko" in r.getMessage()
               for r in caplog.records)


def test_the_verify_command_prints_no_traceback_in_a_fresh_process(signed_pdf: bytes,
                                                                   tmp_path: Path) -> None:
    # The first verify of a process, when pyHanko's modules are not yet loaded:
    # its "self-signed" traceback and a damaged signature's stay off stderr.
    import sys

    start, _ = _contents(signed_pdf)
    for name, data in (("signed.pdf", signed_pdf), ("flipped.pdf", _flip(signed_pdf, start + 9))):
        path = tmp_path / name
        path.write_bytes(data)
        result = subprocess.run([sys.executable, "-c", "from notegen.cli import main; main()",
                                 "verify", str(path)], capture_output=True, text=True,
                                check=False)
        assert result.returncode in (4, 5), result.stdout
        assert result.stderr == "", result.stderr
