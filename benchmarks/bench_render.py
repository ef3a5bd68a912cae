"""Time notegen against bare WeasyPrint on the same HTML, in one run, and
check the performance targets.

    .venv/bin/python benchmarks/bench_render.py [--runs N] [--batch N] [--renders N]

Prints, for the worked case, medians over the runs:
  (a) cold ``notegen render`` (PDF/A-3b with the records) as a new process,
      against a new process that only renders the same HTML with Jinja and
      WeasyPrint to PDF/A-3b (what any tool must at least pay);
  (b) warm: ``notegen.render_pdf`` in process against WeasyPrint on the same
      HTML in the same process, plain and PDF/A-3b;
  (c) ``notegen batch`` throughput on --batch copies of the case, -j 1 and -j 2;
  (d) ``notegen validate``, cold;
  (e) peak and current RSS over --renders warm renders (growth after the 50th);
  (f) the HTML preview, warm;
  (g) a cold ``notegen render`` against LibreOffice converting the same note
      from .docx, where LibreOffice is installed;
and what archiving adds: PDF/A, the records, a PAdES signature, verifying.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notegen import SigningKey

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"

# One FontConfiguration for every render, as notegen keeps one: WeasyPrint's
# default, a new one per render, keeps about 0.2 MiB of each for good.
BARE_RSS_SCRIPT = """
import os, sys, weasyprint
from weasyprint.text.fonts import FontConfiguration
html = open(sys.argv[1], encoding="utf-8").read()
fonts = FontConfiguration()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
for index in range(1, int(sys.argv[3]) + 1):
    weasyprint.HTML(string=html, base_url=sys.argv[2]).render(font_config=fonts).write_pdf(
        pdf_variant="pdf/a-3b")
    if index in (50, int(sys.argv[3])):
        print(rss())
"""

MINIMAL_SCRIPT = """
import sys, jinja2, weasyprint
source = open(sys.argv[1], encoding="utf-8").read()
html = jinja2.Environment(autoescape=True).from_string(source).render()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3], pdf_variant="pdf/a-3b")
"""


def timings(*functions: Callable[[], object], runs: int) -> list[list[float]]:
    """The times of each function over ``runs`` rounds, run in turns (a, b,
    a, b, ...) so that a busy or drifting machine weighs on all alike."""
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, times in zip(functions, samples, strict=True):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    return samples


def medians(*functions: Callable[[], object], runs: int) -> list[float]:
    return [statistics.median(times) for times in timings(*functions, runs=runs)]


def median_time(function: Callable[[], object], runs: int) -> float:
    return medians(function, runs=runs)[0]


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, check=True, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--batch", type=int, default=200, help="notes in the batch runs")
    parser.add_argument("--renders", type=int, default=500, help="renders for the RSS check")
    args = parser.parse_args()

    # notegen from bytecode, as pip leaves any package it installs (an editable
    # install does not, and PYTHONDONTWRITEBYTECODE keeps Python from doing it).
    compileall.compile_dir(ROOT / "notegen", quiet=1)
    import notegen
    from notegen.template_folders import BUILTIN_FOLDER

    case = notegen.load_case(CASE)
    html = notegen.render_html(case)
    base_url = f"{BUILTIN_FOLDER.as_uri()}/"
    env = {**os.environ,
           "FONTCONFIG_FILE": str(BUILTIN_FOLDER / "static" / "fonts" / "fonts.conf")}
    notegen_bin = str(Path(sys.executable).with_name("notegen"))
    out = sys.stdout
    targets: list[tuple[str, bool, str]] = []

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        html_file = scratch / "note.html"
        html_file.write_text(html, encoding="utf-8")

        # (a) and (d): cold processes.
        def cold_notegen() -> None:
            run([notegen_bin, "render", str(CASE), "-o", str(scratch / "a.pdf")], env)

        def cold_minimal() -> None:
            run([sys.executable, "-c", MINIMAL_SCRIPT, str(html_file), base_url,
                 str(scratch / "b.pdf")], env)

        def cold_validate() -> None:
            run([notegen_bin, "validate", str(CASE)], env)

        cold_notegen()  # fill the fontconfig cache and the OS page cache once
        cold_minimal()
        cold_ng, cold_min = medians(cold_notegen, cold_minimal, runs=args.runs)
        validate = median_time(cold_validate, args.runs)

        # (e) for bare WeasyPrint: does its memory grow too?
        bare_rss = [int(line) for line in subprocess.run(
            [sys.executable, "-c", BARE_RSS_SCRIPT, str(html_file), base_url,
             str(args.renders)], check=True, env=env, capture_output=True,
            text=True).stdout.split()]

        # (c): batch throughput.
        cases = scratch / "cases"
        for index in range(args.batch):
            folder = cases / f"case-{index:03d}"
            shutil.copytree(CASE.parent, folder)
        shutil.copytree(ROOT / "seeds" / "profiles", scratch / "profiles")
        for note in cases.glob("*/note.yaml"):
            note.write_text(note.read_text(encoding="utf-8").replace(
                "../profiles/", "../../profiles/"), encoding="utf-8")

        def batch_run(jobs: int) -> Callable[[], None]:
            return lambda: run([notegen_bin, "batch", str(cases), "-o",
                                str(scratch / f"out-{jobs}"), "-j", str(jobs)], env)

        # The best of two rounds, in turns: the machine can slow a run down,
        # never speed it up.
        batch = {jobs: args.batch / min(times) for jobs, times in
                 zip((1, 2), timings(batch_run(1), batch_run(2), runs=2), strict=True)}

        # (g): LibreOffice, if installed.
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        libreoffice = None
        if soffice:
            run([soffice, "--headless", "--convert-to", "docx:MS Word 2007 XML",
                 "--outdir", str(scratch), str(html_file)], env)
            docx = scratch / "note.docx"
            libreoffice = median_time(lambda: run(
                [soffice, "--headless", "--convert-to", "pdf", "--outdir",
                 str(scratch / "lo"), str(docx)], env), max(3, args.runs // 2))

    # (b), (f): warm, in this process.
    os.environ.setdefault("FONTCONFIG_FILE", env["FONTCONFIG_FILE"])
    import weasyprint

    plain = notegen.RenderOptions(pdf_variant=None, embed_record=False)
    pdfa = notegen.RenderOptions(embed_record=False)
    runs = args.runs * 3

    def bare(**options: object) -> None:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf(**options)

    notegen.render_pdf(case)
    bare()
    warm_plain, warm_wp = medians(lambda: notegen.render_pdf(case, options=plain), bare,
                                  runs=runs)
    warm_pdfa, warm_wp_pdfa = medians(lambda: notegen.render_pdf(case, options=pdfa),
                                      lambda: bare(pdf_variant="pdf/a-3b"), runs=runs)
    warm_default = median_time(lambda: notegen.render_pdf(case), runs)
    preview = median_time(lambda: notegen.render_html(case), runs)

    with tempfile.TemporaryDirectory() as scratch_name:
        key = _throwaway_key(Path(scratch_name))
        pdf = notegen.render_pdf(case)
        signed = notegen.sign_pdf(pdf, key, reason="benchmark")
        signing = median_time(lambda: notegen.sign_pdf(notegen.render_pdf(case), key,
                                                       reason="benchmark"), args.runs)
        verifying = median_time(lambda: notegen.verify_pdf(signed), args.runs)

    # (e): memory over many warm renders.
    rss_at: dict[int, tuple[int, int]] = {}
    for index in range(1, args.renders + 1):
        notegen.render_pdf(notegen.load_case(CASE))
        if index in (50, args.renders):
            rss_at[index] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _rss_kb())

    out.write(f"{'':46} {'notegen':>9} {'baseline':>9} {'ratio':>6}\n")
    for label, ours, theirs in [
        ("(a) cold render vs Jinja+WeasyPrint script", cold_ng, cold_min),
        ("(b) warm render, plain PDF", warm_plain, warm_wp),
        ("(b) warm render, PDF/A-3b", warm_pdfa, warm_wp_pdfa),
    ]:
        out.write(f"{label:46} {ours * 1000:7.0f}ms {theirs * 1000:7.0f}ms "
                  f"{ours / theirs:6.2f}\n")
    if libreoffice is not None:
        out.write(f"{'(g) cold render vs LibreOffice .docx -> PDF':46} {cold_ng * 1000:7.0f}ms "
                  f"{libreoffice * 1000:7.0f}ms {cold_ng / libreoffice:6.2f}\n")
    else:
        out.write("(g) skipped: LibreOffice (soffice) is not installed\n")
    out.write(f"{'(c) batch, notes per second, -j 1 / -j 2':46} {batch[1]:9.1f} {batch[2]:9.1f} "
              f"{batch[2] / batch[1]:6.2f}\n")
    out.write(f"{'(d) notegen validate, cold':46} {validate * 1000:7.0f}ms\n")
    (peak_50, now_50), (peak_end, now_end) = rss_at[50], rss_at[args.renders]
    out.write(f"{'(e) RSS after 50 / ' + str(args.renders) + ' renders (MiB, peak)':46} "
              f"{peak_50 / 1024:9.1f} {peak_end / 1024:9.1f} {peak_end / peak_50:6.2f}\n")
    out.write(f"{'(e) RSS after 50 / ' + str(args.renders) + ' renders (MiB, now)':46} "
              f"{now_50 / 1024:9.1f} {now_end / 1024:9.1f} {now_end / now_50:6.2f}\n")
    out.write(f"{'(e) kept per render after the 50th (KiB, now)':46} "
              f"{(now_end - now_50) / (args.renders - 50):9.1f}\n")
    out.write(f"{'(e) the same for bare WeasyPrint, fonts kept':46} "
              f"{bare_rss[0] / 1024:9.1f} {bare_rss[1] / 1024:9.1f} "
              f"{bare_rss[1] / bare_rss[0]:6.2f}\n")
    out.write(f"{'(f) warm HTML preview':46} {preview * 1000:7.1f}ms\n")

    out.write(f"\n{'archiving, warm':46} {'time':>9} {'x plain':>9}\n")
    for label, seconds in [("plain PDF (baseline)", warm_plain), ("PDF/A-3b", warm_pdfa),
                           ("PDF/A-3b + records (the default)", warm_default),
                           ("default + PAdES signature", signing),
                           ("verify_pdf of the signed note", verifying)]:
        out.write(f"{label:46} {seconds * 1000:7.0f}ms {seconds / warm_plain:9.2f}\n")

    targets = [
        ("warm overhead over bare WeasyPrint <= 1.10", warm_pdfa / warm_wp_pdfa <= 1.10,
         f"{warm_pdfa / warm_wp_pdfa:.2f}"),
        ("cold render <= 1.10 x the minimal script", cold_ng / cold_min <= 1.10,
         f"{cold_ng / cold_min:.2f}"),
        ("warm HTML preview <= 30 ms", preview <= 0.030, f"{preview * 1000:.1f} ms"),
        ("batch -j 2 >= 1.8 x -j 1", batch[2] / batch[1] >= 1.8, f"{batch[2] / batch[1]:.2f}"),
        ("validate cold <= 0.3 s", validate <= 0.3, f"{validate:.2f} s"),
        ("peak RSS flat (<= 5% growth, render 50 to last)", peak_end / peak_50 <= 1.05,
         f"{(peak_end / peak_50 - 1) * 100:+.1f}%"),
    ]
    out.write(f"\n{'target':46} {'result':>9}\n")
    for label, met, figure in targets:
        out.write(f"{label:46} {figure:>9}  {'met' if met else 'MISSED'}\n")


def _rss_kb() -> int:
    """The resident set size now, in KiB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _throwaway_key(folder: Path) -> SigningKey:
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
