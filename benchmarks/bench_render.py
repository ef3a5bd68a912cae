"""Time notegen against bare WeasyPrint on the same HTML, in one run.

    .venv/bin/python benchmarks/bench_render.py [--runs N]

Prints, for the worked case:
  * cold: ``notegen render`` (PDF/A-3b with the records) as a new process,
    against a new process that only runs WeasyPrint on the same HTML to
    PDF/A-3b (what any tool must at least pay);
  * warm: ``notegen.render_pdf`` in a warm process, against WeasyPrint's
    ``HTML(...).write_pdf()`` on the same HTML in the same process;
  * warm HTML preview (``render_html``);
  * what archiving adds, warm, as ratios to a plain notegen render in the same
    run: PDF/A-3b, the embedded records, a PAdES signature (throwaway key),
    and ``verify_pdf`` (which re-renders the records).
Medians over the runs, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"

BARE_SCRIPT = """
import sys, weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3], pdf_variant="pdf/a-3b")
"""


def median_time(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import notegen
    from notegen.templating import BUILTIN_FOLDER

    case = notegen.load_case(CASE)
    html = notegen.render_html(case)
    base_url = f"{BUILTIN_FOLDER.as_uri()}/"
    env = {**os.environ,
           "FONTCONFIG_FILE": str(BUILTIN_FOLDER / "static" / "fonts" / "fonts.conf")}

    with tempfile.TemporaryDirectory() as scratch:
        html_file = Path(scratch) / "note.html"
        html_file.write_text(html, encoding="utf-8")
        notegen_bin = Path(sys.executable).with_name("notegen")

        def cold_notegen() -> None:
            subprocess.run([str(notegen_bin), "render", str(CASE), "-o",
                            f"{scratch}/a.pdf"], check=True, env=env, capture_output=True)

        def cold_bare() -> None:
            subprocess.run([sys.executable, "-c", BARE_SCRIPT, str(html_file), base_url,
                            f"{scratch}/b.pdf"], check=True, env=env, capture_output=True)

        cold_notegen()  # fill the fontconfig cache and the OS page cache once
        cold_bare()
        cold_ng = median_time(cold_notegen, args.runs)
        cold_wp = median_time(cold_bare, args.runs)

    os.environ.setdefault("FONTCONFIG_FILE", env["FONTCONFIG_FILE"])
    import weasyprint

    plain = notegen.RenderOptions(pdf_variant=None, embed_record=False)
    pdfa = notegen.RenderOptions(embed_record=False)
    runs = args.runs * 3

    def bare(**options: object) -> None:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf(**options)

    notegen.render_pdf(case)
    bare()
    warm_plain = median_time(lambda: notegen.render_pdf(case, options=plain), runs)
    warm_wp = median_time(bare, runs)
    warm_pdfa = median_time(lambda: notegen.render_pdf(case, options=pdfa), runs)
    warm_wp_pdfa = median_time(lambda: bare(pdf_variant="pdf/a-3b"), runs)
    warm_default = median_time(lambda: notegen.render_pdf(case), runs)
    preview = median_time(lambda: notegen.render_html(case), runs)

    with tempfile.TemporaryDirectory() as scratch:
        key = _throwaway_key(Path(scratch))
        pdf = notegen.render_pdf(case)
        notegen.sign_pdf(pdf, key, reason="benchmark")
        signing = median_time(lambda: notegen.sign_pdf(notegen.render_pdf(case), key,
                                                       reason="benchmark"), args.runs)
        signed = notegen.sign_pdf(pdf, key, reason="benchmark")
        verifying = median_time(lambda: notegen.verify_pdf(signed), args.runs)

    out = sys.stdout
    out.write(f"{'':44} {'notegen':>9} {'bare WP':>9} {'ratio':>6}\n")
    for label, ours, theirs in [
        ("cold: notegen render (new process)", cold_ng, cold_wp),
        ("warm: plain PDF", warm_plain, warm_wp),
        ("warm: PDF/A-3b", warm_pdfa, warm_wp_pdfa),
    ]:
        out.write(f"{label:44} {ours * 1000:7.0f}ms {theirs * 1000:7.0f}ms "
                  f"{ours / theirs:6.2f}\n")
    out.write(f"{'warm: render_html preview':44} {preview * 1000:7.1f}ms\n")
    out.write(f"\n{'archiving, warm':44} {'time':>9} {'x plain':>9}\n")
    for label, seconds in [("plain PDF (baseline)", warm_plain), ("PDF/A-3b", warm_pdfa),
                           ("PDF/A-3b + records (the default)", warm_default),
                           ("default + PAdES signature", signing),
                           ("verify_pdf of the signed note", verifying)]:
        out.write(f"{label:44} {seconds * 1000:7.0f}ms {seconds / warm_plain:9.2f}\n")


def _throwaway_key(folder: Path) -> object:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    import notegen

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Benchmark")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    path = folder / "key.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"benchmark", key, certificate, None, serialization.NoEncryption()))
    return notegen.SigningKey(path)


if __name__ == "__main__":
    main()
