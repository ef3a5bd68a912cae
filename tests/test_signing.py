"""Signing with the keys ministries use: passphrases, countersignatures,
PKCS#11 tokens (SoftHSM2), timestamps (PAdES B-T) from a TSA on loopback,
validation data (B-LT), and pyHanko kept quiet for embedders."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from notegen import RenderError, Status, verify_pdf
from notegen.archive import load_pyhanko
from notegen.archive.signing import Level, Pkcs11Key, SigningKey, sign_pdf
from notegen.cli import cli

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
#: The time the loopback TSA puts in every timestamp.
STAMPED = dt.datetime(2025, 11, 15, 9, 30, tzinfo=dt.UTC)
PASSPHRASE = "pass phrase ünicode"


@dataclass(frozen=True)
class Pki:
    """A throwaway root, an officer and a second officer under it, and a TSA."""

    folder: Path
    root_pem: bytes
    officer: Path          # PKCS#12, PASSPHRASE
    second: Path           # PKCS#12, PASSPHRASE
    no_usage: Path         # PKCS#12 whose certificate lacks key usage, PASSPHRASE
    tsa_key: object
    tsa_cert: object

    @property
    def root(self) -> Path:
        path = self.folder / "root.pem"
        path.write_bytes(self.root_pem)
        return path


def _usage(**granted: bool):
    from cryptography import x509

    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: granted.get(name, False) for name in names})


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(name("Test Root")).issuer_name(name("Test Root"))
            .public_key(root_key.public_key()).serial_number(1).not_valid_before(START)
            .not_valid_after(START + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .sign(root_key, hashes.SHA256()))

    def leaf(common: str, key, *extensions):
        builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(root.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(START).not_valid_after(START + dt.timedelta(days=3650)))
        for extension in extensions:
            builder = builder.add_extension(extension, critical=True)
        return builder.sign(root_key, hashes.SHA256())

    folder = tmp_path_factory.mktemp("pki")
    files = {}
    for file, common, usage in (("officer.p12", "Desk Officer", True),
                                ("second.p12", "Second Officer", True),
                                ("no-usage.p12", "Careless Officer", False)):
        key = ec.generate_private_key(ec.SECP256R1())
        extensions = [_usage(digital_signature=True, content_commitment=True)] if usage else \
            [_usage(key_encipherment=True)]
        files[file] = folder / file
        files[file].write_bytes(pkcs12.serialize_key_and_certificates(
            b"officer", key, leaf(common, key, *extensions), [root],
            serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = leaf("Loopback TSA", tsa_key,
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                    _usage(digital_signature=True, content_commitment=True))
    return Pki(folder, root.public_bytes(serialization.Encoding.PEM), files["officer.p12"],
               files["second.p12"], files["no-usage.p12"], tsa_key, tsa_cert)


@pytest.fixture(scope="module")
def tsa(pki: Pki) -> Iterator[str]:
    """An RFC 3161 time-stamping authority on loopback (pyHanko's test
    stamper behind stdlib http.server); its URL."""
    from asn1crypto import keys, tsp, x509
    from cryptography.hazmat.primitives import serialization

    load_pyhanko()  # pyHanko without cryptography's DSA warning
    from pyhanko.sign.timestamps import DummyTimeStamper

    stamper = DummyTimeStamper(
        x509.Certificate.load(pki.tsa_cert.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(pki.tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        fixed_dt=STAMPED)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsr"
    finally:
        server.shutdown()
        server.server_close()


# Passphrases.

def test_a_passphrase_is_text_or_bytes(worked_pdf: bytes, pki: Pki) -> None:
    for passphrase in (PASSPHRASE, PASSPHRASE.encode("utf-8")):
        signed = sign_pdf(worked_pdf, SigningKey(pki.officer, passphrase), reason="x")
        assert verify_pdf(signed, trust_roots=[pki.root_pem]).status is Status.valid


def test_no_passphrase_and_a_wrong_one_are_different_errors(worked_pdf: bytes, pki: Pki) -> None:
    assert SigningKey(pki.officer).needs_passphrase()
    with pytest.raises(RenderError, match="protected by a passphrase, and no passphrase was "
                                          "given"):
        sign_pdf(worked_pdf, SigningKey(pki.officer), reason="x")
    with pytest.raises(RenderError, match="wrong passphrase"):
        sign_pdf(worked_pdf, SigningKey(pki.officer, "wrong"), reason="x")
    with pytest.raises(RenderError, match="not a PKCS#12 file"):
        sign_pdf(worked_pdf, SigningKey(pki.root, "x"), reason="x")


def test_the_command_asks_for_the_passphrase_on_a_terminal_only(runner, worked_pdf: bytes,
                                                                 pki: Pki, tmp_path: Path,
                                                                 monkeypatch) -> None:
    note = tmp_path / "note.pdf"
    note.write_bytes(worked_pdf)
    out = tmp_path / "signed.pdf"
    arguments = ["sign", str(note), "--key", str(pki.officer), "-o", str(out)]
    # Not a terminal, nothing in the environment: a usage error, nothing written.
    result = runner.invoke(cli, arguments, env={"NOTEGEN_KEY_PASSPHRASE": None})
    assert result.exit_code == 2, result.output
    assert "no passphrase of" in result.stderr
    assert "set NOTEGEN_KEY_PASSPHRASE" in result.stderr
    assert not out.exists()
    monkeypatch.setattr("notegen.cli.signatures._on_terminal", lambda: True)
    wrong = runner.invoke(cli, arguments, input="nope\n", env={"NOTEGEN_KEY_PASSPHRASE": None})
    assert wrong.exit_code == 1
    assert "wrong passphrase" in wrong.stderr
    assert not out.exists()
    asked = runner.invoke(cli, arguments, input=f"{PASSPHRASE}\n",
                          env={"NOTEGEN_KEY_PASSPHRASE": None})
    assert asked.exit_code == 0, asked.output
    assert "Passphrase of" in asked.stderr
    assert PASSPHRASE not in asked.output  # hidden input is not echoed
    assert verify_pdf(out.read_bytes(), trust_roots=[pki.root_pem]).status is Status.valid


# Countersignatures.

def _stamps(pdf: bytes) -> list[tuple[int, list[float]]]:
    """(page index, rectangle) of each signature widget."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for index, page in enumerate(document.pages):
            for annotation in page.get("/Annots", []):
                if annotation.get("/FT") == "/Sig":
                    found.append((index, [float(n) for n in annotation.Rect]))
    return found


def test_a_countersignature_is_a_further_update_and_each_is_reported(
        worked_pdf: bytes, pki: Pki) -> None:
    first = sign_pdf(worked_pdf, SigningKey(pki.officer, PASSPHRASE), reason="Note")
    second = sign_pdf(first, SigningKey(pki.second, PASSPHRASE), reason="Countersigned")
    third = sign_pdf(second, SigningKey(pki.officer, PASSPHRASE), reason="Third")
    assert third.startswith(second)
    assert second.startswith(first)
    result = verify_pdf(third, trust_roots=[pki.root_pem])
    assert result.status is Status.valid, result.findings
    assert result.record == "matches"
    assert [s.signer for s in result.signatures] == ["Desk Officer", "Second Officer",
                                                     "Desk Officer"]
    assert [s.whole_file for s in result.signatures] == [True, True, True]
    assert result.signatures[-1].coverage == "the whole file"
    assert "only further signatures" in result.signatures[0].coverage
    with pikepdf.open(io.BytesIO(third)) as document:
        assert document.open_metadata().get("pdfaid:part") == "3"
        names = [str(f.T) for f in document.Root.AcroForm.Fields if f.get("/FT") == "/Sig"]
    assert names == ["NotegenSignature", "NotegenSignature2", "NotegenSignature3"]
    # Two stamps side by side on the last page, the third on the page before;
    # no two overlap.
    stamps = _stamps(third)
    last = len(pikepdf.open(io.BytesIO(third)).pages) - 1
    assert sorted(page for page, _ in stamps) == [last - 1, last, last]
    on_last = sorted(rect for page, rect in stamps if page == last)
    assert on_last[0][2] < on_last[1][0]  # the first ends before the second begins
    # A change after the countersignature still breaks it.
    assert verify_pdf(third + b"%x\n").status is Status.tampered


# Timestamps and validation data.

def test_a_timestamp_makes_it_b_t(worked_pdf: bytes, pki: Pki, tsa: str) -> None:
    signed = sign_pdf(worked_pdf, SigningKey(pki.officer, PASSPHRASE), reason="x", tsa=tsa)
    result = verify_pdf(signed, trust_roots=[pki.root_pem])
    assert result.status is Status.valid, result.findings
    [signature] = result.signatures
    assert (signature.level, signature.timestamp, signature.tsa) == (
        "B-T", STAMPED.isoformat(), "Loopback TSA")
    assert f"PAdES B-T, timestamp {STAMPED.isoformat()} by Loopback TSA" in \
        " ".join(result.findings)


def test_b_lt_embeds_the_chain_and_fails_clearly_without_one(worked_pdf: bytes, pki: Pki,
                                                             tsa: str) -> None:
    key = SigningKey(pki.officer, PASSPHRASE)
    signed = sign_pdf(worked_pdf, key, reason="x", tsa=tsa, level=Level.B_LT,
                      trust_roots=[pki.root_pem])
    result = verify_pdf(signed, trust_roots=[pki.root_pem])
    assert result.status is Status.valid, result.findings
    assert result.signatures[0].level == "B-LT"
    assert "only validation data was added" in result.signatures[0].coverage
    with pikepdf.open(io.BytesIO(signed)) as document:
        assert "/DSS" in document.Root
    # A root the chain does not reach: said, and nothing signed.
    stranger = SigningKey(pki.officer, PASSPHRASE)
    from cryptography.hazmat.primitives import serialization

    with pytest.raises(RenderError, match=r"cannot embed validation data \(PAdES B-LT\): the "
                                          r"signer's or the timestamp's certificate does not "
                                          r"chain to a trust root given"):
        sign_pdf(worked_pdf, stranger, reason="x", tsa=tsa, level="b-lt",
                 trust_roots=[pki.tsa_cert.public_bytes(serialization.Encoding.PEM)])
    with pytest.raises(RenderError, match="needs a timestamp"):
        sign_pdf(worked_pdf, key, reason="x", level="b-t")
    with pytest.raises(RenderError, match="give the trust roots"):
        sign_pdf(worked_pdf, key, reason="x", tsa=tsa, level="b-lt")


def test_an_unreachable_tsa_is_a_clear_error(worked_pdf: bytes, pki: Pki) -> None:
    from .conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(RenderError, match=f"cannot get a timestamp from {url}"):
        sign_pdf(worked_pdf, SigningKey(pki.officer, PASSPHRASE), reason="x", tsa=url)


def test_untrusted_says_why(worked_pdf: bytes, pki: Pki, tsa: str) -> None:
    careless = sign_pdf(worked_pdf, SigningKey(pki.no_usage, PASSPHRASE), reason="x")
    result = verify_pdf(careless, trust_roots=[pki.root_pem])
    assert result.status is Status.untrusted
    assert result.signatures[0].untrusted_because == (
        "the signer's certificate (Careless Officer) does not allow signing: its key usage "
        "lacks non_repudiation")
    from cryptography.hazmat.primitives import serialization

    # Trusting only the TSA's certificate: the signer chains to no root given.
    other = verify_pdf(sign_pdf(worked_pdf, SigningKey(pki.officer, PASSPHRASE), reason="x"),
                       trust_roots=[pki.tsa_cert.public_bytes(serialization.Encoding.PEM)])
    assert other.status is Status.untrusted
    assert "Desk Officer" in other.signatures[0].untrusted_because
    assert "does not allow signing" not in other.signatures[0].untrusted_because


def test_the_commands_sign_at_b_t_and_verify_reports_as_json(runner, worked_pdf: bytes,
                                                             pki: Pki, tsa: str,
                                                             tmp_path: Path) -> None:
    note = tmp_path / "note.pdf"
    note.write_bytes(worked_pdf)
    env = {"NOTEGEN_KEY_PASSPHRASE": PASSPHRASE}
    result = runner.invoke(cli, ["sign", str(note), "--key", str(pki.officer), "--tsa", tsa,
                                 "--level", "b-lt", "--trust", str(pki.root)], env=env)
    assert result.exit_code == 0, result.output
    signed = tmp_path / "note-signed.pdf"
    again = runner.invoke(cli, ["sign", str(signed), "--key", str(pki.second), "-o",
                                str(tmp_path / "both.pdf")], env=env)
    assert again.exit_code == 0, again.output
    report = runner.invoke(cli, ["verify", str(tmp_path / "both.pdf"), "--trust",
                                 str(pki.root), "--json"])
    assert report.exit_code == 0, report.output
    found = json.loads(report.stdout)
    assert (found["status"], found["exit_code"]) == ("valid", 0)
    assert [(s["signer"], s["level"], s["trusted"]) for s in found["signatures"]] == [
        ("Desk Officer", "B-LT", True), ("Second Officer", "B-B", True)]
    assert found["signatures"][0]["timestamp"] == STAMPED.isoformat()
    misuse = runner.invoke(cli, ["sign", str(note), "--key", str(pki.officer), "--level",
                                 "b-t"], env={**env, "NOTEGEN_TSA": None})
    assert misuse.exit_code == 2
    assert "--level b-t needs a timestamp: give --tsa URL" in misuse.stderr


# PKCS#11.

@pytest.fixture(scope="module")
def softhsm(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Pkcs11Key]:
    """A SoftHSM2 token of its own holding the second officer's key and
    certificate; SOFTHSM2_CONF points at it while the module's tests run."""
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed (apt-get install softhsm2)")
    module = Path("/usr/lib/softhsm/libsofthsm2.so")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "officer-card",
                        "--pin", "4321", "--so-pin", "87654321"], check=True,
                       capture_output=True)
        import pkcs11
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
        from pkcs11 import Attribute
        from pkcs11.util.ec import decode_ec_private_key
        from pkcs11.util.x509 import decode_x509_certificate

        key, certificate, _ = pkcs12.load_key_and_certificates(pki.second.read_bytes(),
                                                               PASSPHRASE.encode())
        token = pkcs11.lib(str(module)).get_token(token_label="officer-card")
        with token.open(rw=True, user_pin="4321") as session:
            private = decode_ec_private_key(key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption()))
            private.update({Attribute.TOKEN: True, Attribute.LABEL: "signing",
                            Attribute.ID: b"\x01", Attribute.SIGN: True,
                            Attribute.PRIVATE: True})
            session.create_object(private)
            cert = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
            cert.update({Attribute.TOKEN: True, Attribute.LABEL: "signing",
                         Attribute.ID: b"\x01"})
            session.create_object(cert)
        yield Pkcs11Key(module, "officer-card", "signing", "4321")
    finally:
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


def test_sign_with_a_key_on_a_pkcs11_token(worked_pdf: bytes, pki: Pki, softhsm: Pkcs11Key,
                                           tsa: str) -> None:
    signed = sign_pdf(worked_pdf, softhsm, reason="Countersigned", tsa=tsa)
    result = verify_pdf(signed, trust_roots=[pki.root_pem])
    assert result.status is Status.valid, result.findings
    assert (result.signatures[0].signer, result.signatures[0].level) == ("Second Officer", "B-T")
    from dataclasses import replace

    with pytest.raises(RenderError, match="wrong PIN"):
        sign_pdf(worked_pdf, replace(softhsm, pin="0000"), reason="x")
    with pytest.raises(RenderError, match="cannot open token 'no-such-card'"):
        sign_pdf(worked_pdf, replace(softhsm, token_label="no-such-card"), reason="x")
    with pytest.raises(RenderError, match="cannot use key 'missing'"):
        sign_pdf(worked_pdf, replace(softhsm, key_label="missing"), reason="x")


def test_the_sign_command_with_pkcs11(runner, worked_pdf: bytes, pki: Pki, softhsm: Pkcs11Key,
                                      tmp_path: Path) -> None:
    note = tmp_path / "note.pdf"
    note.write_bytes(worked_pdf)
    arguments = ["sign", str(note), "--pkcs11-module", str(softhsm.module), "--token-label",
                 softhsm.token_label, "--key-label", softhsm.key_label]
    no_pin = runner.invoke(cli, arguments, env={"NOTEGEN_PKCS11_PIN": None})
    assert no_pin.exit_code == 2
    assert "no PIN of token officer-card given: set NOTEGEN_PKCS11_PIN" in no_pin.stderr
    result = runner.invoke(cli, arguments, env={"NOTEGEN_PKCS11_PIN": "4321"})
    assert result.exit_code == 0, result.output
    verified = runner.invoke(cli, ["verify", str(tmp_path / "note-signed.pdf"), "--trust",
                                   str(pki.root)])
    assert verified.exit_code == 0, verified.output
    assert "signed by Second Officer" in verified.stdout


# Quiet for embedders.

@pytest.mark.slow
def test_an_embedder_sees_nothing_of_pyhanko_on_stderr(worked_pdf: bytes, pki: Pki, tsa: str,
                                                       tmp_path: Path) -> None:
    note = tmp_path / "note.pdf"
    note.write_bytes(worked_pdf)
    (tmp_path / "root.pem").write_bytes(pki.root_pem)
    script = (
        "import sys; from pathlib import Path; import notegen\n"
        "pdf = Path(sys.argv[1]).read_bytes(); root = Path(sys.argv[3]).read_bytes()\n"
        "key = notegen.SigningKey(sys.argv[2], sys.argv[5])\n"
        "signed = notegen.sign_pdf(pdf, key, reason='x', tsa=sys.argv[4], level='b-lt',\n"
        "                          trust_roots=[root])\n"
        "assert notegen.verify_pdf(signed).status is notegen.Status.untrusted\n"
        "assert notegen.verify_pdf(signed, trust_roots=[root]).status is notegen.Status.valid\n"
        "assert notegen.verify_pdf(signed[:-900] + signed[-899:]).status is "
        "notegen.Status.tampered\n")
    result = subprocess.run([sys.executable, "-c", script, str(note), str(pki.officer),
                             str(tmp_path / "root.pem"), tsa, PASSPHRASE],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
