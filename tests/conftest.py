from __future__ import annotations

import datetime as dt
import http.server
import logging
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import notegen

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "az-kyiv-2025"
#: The Ministry's incident catalogue the worked case names (its States, parties,
#: premises and earlier incidents), relative to the case's folder, as the note names it.
CATALOGUE = "../az-mfa-catalogue"
#: How the worked case gives its earlier incidents (a rule), and the list the
#: rule chooses as the note listed it by hand, for tests of a hand-written list.
EARLIER_RULE = "".join(line + "\n" for line in [
    "  earlier:                       # `notegen validate` lists what the rule chooses:",
    "    rule:                        # the catalogue's incidents before this one",
    "      attributed_to: addressee   # attributed to the addressee's State",
    "      struck: sender             # that struck Azerbaijan's premises (SOCAR's too)",
    "      since: 2022-02-24          # since the full-scale invasion"])
EARLIER_LIST = ("  earlier:\n    - kharkiv-2022-03-10\n    - kyiv-2024-01-02\n"
                "    - kyiv-2025-08-28\n    - odesa-2025-08\n")
#: What `validate` says of the worked case after "valid": what its rule chose.
CHOSEN = ("  earlier incidents, as its rule chose them (4): kharkiv-2022-03-10, "
          "kyiv-2024-01-02, odesa-2025-08, kyiv-2025-08-28\n")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "logs: the test expects warnings to be logged (it "
                            "checks them with caplog)")


@pytest.fixture(autouse=True)
def no_daemon_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in the test's process (no daemon left behind) and render
    anew (a test that breaks a render must see it break): tests of the
    daemon and the cache turn them on themselves."""
    monkeypatch.setenv("NOTEGEN_NO_DAEMON", "1")
    monkeypatch.setenv("NOTEGEN_CACHE", "0")


@pytest.fixture(autouse=True)
def no_unexpected_logs(request: pytest.FixtureRequest,
                       caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test during which notegen logged a warning it did not expect:
    a warning is something a user must act on, so none may pass unnoticed.
    A test that expects some is marked ``logs`` and checks them itself."""
    yield
    if request.node.get_closest_marker("logs") is not None:
        return
    unexpected = [f"{record.name}: {record.getMessage()}"
                  for record in caplog.get_records("call")
                  if record.levelno >= logging.WARNING and record.name.startswith("notegen")]
    assert not unexpected, f"unexpected warnings: {unexpected}"


@pytest.fixture(scope="session")
def worked_case() -> notegen.Case:
    return notegen.load_case(SEED / "note.yaml")


@pytest.fixture(scope="session")
def worked_pdf(worked_case: notegen.Case) -> bytes:
    return notegen.render_pdf(worked_case)


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the worked case's folder (with the profiles beside it)."""
    seeds = Path(shutil.copytree(SEED.parent, tmp_path / "seeds"))
    return seeds / SEED.name


Edit = Callable[[str, str, str], Path]


@pytest.fixture
def edit_seed(seed_copy: Path) -> Edit:
    """Replace text in one file of a copy of the worked case; return the note path."""

    def edit(file: str, old: str, new: str) -> Path:
        path = seed_copy / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return seed_copy / "note.yaml"

    return edit


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def line_of(path: Path, marker: str) -> int:
    """The 1-based line of the first occurrence of ``marker`` in ``path``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in {path}")


@dataclass(frozen=True)
class ThrowawayKey:
    """A throwaway self-signed signing key, made offline for the tests."""

    p12: Path
    passphrase: bytes
    certificate_pem: bytes


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Desk Officer"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Ministry")])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("key")
    passphrase = b"correct horse"
    p12 = folder / "officer.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"officer", key, certificate, None,
        serialization.BestAvailableEncryption(passphrase)))
    return ThrowawayKey(p12, passphrase, certificate.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"body{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pdf_text(pdf: bytes) -> str:
    """The text of ``pdf`` by pdftotext (-raw keeps the order it was written
    in, whatever the word spacing)."""
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True,
                            check=True)
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Text with hyphenation at line ends undone and every run of spaces (no-break
    ones too) made one space; a hyphen of the text itself ("2025-ci") stays."""
    text = re.sub(r"(\w)[\u2010-]\n(\D)", r"\1\2", text)
    return " ".join(text.replace("-\n", "-").split())
