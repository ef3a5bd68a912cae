"""Time notegen against bare WeasyPrint on the same HTML, in one run, and
check the performance targets.

    .venv/bin/python benchmarks/bench_render.py [--rounds N] [--batch N] [--renders N]

Prints, for the worked case, each comparison as a pair timed in alternating
rounds (paired.py): each side's median [min–max] and the paired ratio, the
median of the per-round ratios [min–max]:
  (a) cold ``notegen render --no-daemon --no-cache`` (PDF/A-3b with the
      records) as a new process, against a new process that only renders
      the same HTML with Jinja and WeasyPrint to PDF/A-3b (what any tool must
      at least pay); in wall time and in the CPU time the process used
      (which a busy machine inflates far less), as (g);
  (b) warm: ``notegen.render_pdf`` in process against WeasyPrint on the same
      HTML in the same process, keeping one FontConfiguration as notegen
      does (a new one per render would load every font again), plain and
      PDF/A-3b;
  (c) ``notegen batch`` of --batch copies of the case, -j 1 against -j 2;
  (d) ``notegen validate --no-daemon``, cold;
  (e) peak and current RSS over --renders warm renders (growth after the 50th);
  (f) the HTML preview, warm;
  (g) a cold ``notegen render`` against LibreOffice converting the same note
      from .docx, where LibreOffice is installed;
and what archiving adds to a plain render, each paired with it: PDF/A, the
records, a PAdES signature, verifying. A short run to see that it works:
``--rounds 2 --batch 4 --renders 60``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from paired import Pair, alternate, alternate_clocks, children_cpu, header, line, measure, spread

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


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, check=True, env=env, capture_output=True)


def _single(label: str, samples: tuple[float, ...], digits: int = 0) -> str:
    figures = spread(samples).scaled(1000)
    return (f"{label:46} {figures.median:.{digits}f}ms "
            f"[{figures.low:.{digits}f}–{figures.high:.{digits}f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", "--runs", dest="rounds", type=int, default=11,
                        help="alternating rounds per cold pair (warm pairs run 3x as many)")
    parser.add_argument("--batch", type=int, default=200, help="notes in the batch runs")
    parser.add_argument("--renders", type=int, default=500,
                        help="renders for the RSS check (more than 50)")
    args = parser.parse_args()
    if args.renders <= 50:
        parser.error("--renders must be more than 50 (growth is measured after the 50th)")

    # notegen from bytecode, as pip leaves any package it installs (an editable
    # install does not, and PYTHONDONTWRITEBYTECODE keeps Python from doing it).
    compileall.compile_dir(ROOT / "notegen", quiet=1)
    import notegen
    from notegen.template_folders import BUILTIN_FOLDER

    case = notegen.load_case(CASE)
    html = notegen.render_html(case)
    base_url = f"{BUILTIN_FOLDER.as_uri()}/"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTEGEN_")}
    env["FONTCONFIG_FILE"] = str(BUILTIN_FOLDER / "static" / "fonts" / "fonts.conf")
    notegen_bin = str(Path(sys.executable).with_name("notegen"))
    out = sys.stdout
    rounds = args.rounds

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env["XDG_CACHE_HOME"] = str(scratch / "cache")
        html_file = scratch / "note.html"
        html_file.write_text(html, encoding="utf-8")

        # (a) and (d): cold processes, rendering (no daemon, no cache).
        def cold_notegen() -> None:
            run([notegen_bin, "render", "--no-daemon", "--no-cache", str(CASE), "-o",
                 str(scratch / "a.pdf")], env)

        def cold_minimal() -> None:
            run([sys.executable, "-c", MINIMAL_SCRIPT, str(html_file), base_url,
                 str(scratch / "b.pdf")], env)

        def cold_validate() -> None:
            run([notegen_bin, "validate", "--no-daemon", str(CASE)], env)

        # The warm-up round fills the fontconfig cache and the OS page cache.
        cold, cold_cpu = alternate_clocks(cold_minimal, cold_notegen, rounds=rounds, warmup=1,
                                          clocks=(time.perf_counter, children_cpu))
        validate = measure(cold_validate, rounds=rounds, warmup=1)

        # (e) for bare WeasyPrint: does its memory grow too?
        bare_rss = [int(value) for value in subprocess.run(
            [sys.executable, "-c", BARE_RSS_SCRIPT, str(html_file), base_url,
             str(args.renders)], check=True, env=env, capture_output=True,
            text=True).stdout.split()]

        # (c): batch, -j 1 against -j 2, two rounds in turns.
        # Copies of the case one folder deeper than the seeds they name
        # (profiles, the catalogue): their paths lead one folder further up.
        cases = scratch / "cases"
        shutil.copytree(ROOT / "seeds", scratch / "seeds")
        for index in range(args.batch):
            folder = cases / f"case-{index:03d}"
            shutil.copytree(CASE.parent, folder)
            note = folder / CASE.name
            note.write_text(note.read_text(encoding="utf-8").replace("../", "../../seeds/"),
                            encoding="utf-8")

        def batch_run(jobs: int) -> Callable[[], None]:
            return lambda: run([notegen_bin, "batch", str(cases), "-o",
                                str(scratch / f"out-{jobs}"), "-j", str(jobs)], env)

        batch = alternate(batch_run(1), batch_run(2), rounds=2)

        # (g): LibreOffice, if installed.
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        libreoffice: list[Pair] | None = None
        if soffice:
            run([soffice, "--headless", "--convert-to", "docx:MS Word 2007 XML",
                 "--outdir", str(scratch), str(html_file)], env)
            docx = scratch / "note.docx"
            libreoffice = alternate_clocks(lambda: run(
                [soffice, "--headless", "--convert-to", "pdf", "--outdir",
                 str(scratch / "lo"), str(docx)], env), cold_notegen,
                rounds=max(3, rounds // 2), warmup=1, clocks=(time.perf_counter, children_cpu))

    # (b), (f): warm, in this process.
    os.environ.setdefault("FONTCONFIG_FILE", env["FONTCONFIG_FILE"])
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    plain = notegen.RenderOptions(pdf_variant=None, embed_record=False)
    pdfa = notegen.RenderOptions(embed_record=False)
    warm_rounds = rounds * 3
    fonts = FontConfiguration()  # kept, as notegen keeps its own

    def bare(**options: object) -> None:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf(font_config=fonts,
                                                                  **options)

    def render(options: notegen.RenderOptions | None = None) -> Callable[[], object]:
        return lambda: notegen.render_pdf(case, options=options)

    warm_plain = alternate(bare, render(plain), rounds=warm_rounds, warmup=2)
    warm_pdfa = alternate(lambda: bare(pdf_variant="pdf/a-3b"), render(pdfa),
                          rounds=warm_rounds, warmup=2)
    preview = measure(lambda: notegen.render_html(case), rounds=warm_rounds, warmup=2)

    # What archiving adds, each paired with a plain render.
    archiving: list[tuple[str, Pair]] = [
        ("PDF/A-3b", alternate(render(plain), render(pdfa), rounds=warm_rounds)),
        ("PDF/A-3b + records (the default)",
         alternate(render(plain), render(), rounds=warm_rounds)),
    ]
    records = alternate(render(pdfa), render(), rounds=warm_rounds)
    with tempfile.TemporaryDirectory() as scratch_name:
        key = _throwaway_key(Path(scratch_name))
        signed = notegen.sign_pdf(notegen.render_pdf(case), key, reason="benchmark")
        archiving.append(("default + PAdES signature", alternate(
            render(plain), lambda: notegen.sign_pdf(notegen.render_pdf(case), key,
                                                    reason="benchmark"), rounds=rounds)))
        archiving.append(("verify_pdf of the signed note", alternate(
            render(plain), lambda: notegen.verify_pdf(signed), rounds=rounds)))

    # (e): memory over many warm renders.
    rss_at: dict[int, tuple[int, int]] = {}
    for index in range(1, args.renders + 1):
        notegen.render_pdf(notegen.load_case(CASE))
        if index in (50, args.renders):
            rss_at[index] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _rss_kb())

    out.write(f"{rounds} rounds cold, {warm_rounds} warm, alternating; "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}\n\n")
    out.write(header("", "baseline", "notegen") + "\n")
    out.write(line("(a) cold render vs Jinja+WeasyPrint script", cold, digits=0) + "\n")
    out.write(line("(a)   its CPU time (user + system)", cold_cpu, digits=0) + "\n")
    out.write(line("(b) warm, plain PDF (WeasyPrint: fonts kept)", warm_plain) + "\n")
    out.write(line("(b) warm, PDF/A-3b (WeasyPrint: fonts kept)", warm_pdfa) + "\n")
    if libreoffice is not None:
        out.write(line("(g) cold render vs LibreOffice .docx -> PDF", libreoffice[0],
                       digits=0) + "\n")
        out.write(line("(g)   its CPU time (user + system)", libreoffice[1], digits=0) + "\n")
    else:
        out.write("(g) skipped: LibreOffice (soffice) is not installed\n")
    out.write(line(f"(c) batch of {args.batch}: -j 1 (left), -j 2 (right)", batch,
                   unit="s", scale=1.0, digits=2) + "\n")
    speedup = 1 / batch.ratio.median
    throughput = [args.batch / seconds for seconds in batch.b]
    out.write(f"{'(c) -j 2: notes per second, speed-up over -j 1':46} "
              f"{spread(throughput).median:.1f}/s, {speedup:.2f}x\n")
    out.write(_single("(d) notegen validate --no-daemon, cold", validate) + "\n")
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
    out.write(_single("(f) warm HTML preview", preview, digits=1) + "\n")

    out.write("\n" + header("archiving, warm", "plain PDF", "this") + "\n")
    for label, result in archiving:
        out.write(line(label, result) + "\n")
    out.write(line("the records alone (left: PDF/A-3b)", records) + "\n")

    warm_ratio = warm_pdfa.ratio.median
    cold_ratio = cold.ratio.median
    preview_ms = spread(preview).median * 1000
    validate_s = spread(validate).median
    targets = [
        ("warm overhead over bare WeasyPrint <= 1.10", warm_ratio <= 1.10, f"{warm_ratio:.2f}"),
        ("cold render <= 1.10 x the minimal script", cold_ratio <= 1.10, f"{cold_ratio:.2f}"),
        ("warm HTML preview <= 30 ms", preview_ms <= 30, f"{preview_ms:.1f} ms"),
        ("batch -j 2 >= 1.8 x -j 1", speedup >= 1.8, f"{speedup:.2f}"),
        ("validate cold <= 0.25 s", validate_s <= 0.25, f"{validate_s:.2f} s"),
        ("peak RSS flat (<= 5% growth, render 50 to last)", peak_end / peak_50 <= 1.05,
         f"{(peak_end / peak_50 - 1) * 100:+.1f}%"),
    ]
    out.write(f"\n{'target (paired medians)':46} {'result':>9}\n")
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
