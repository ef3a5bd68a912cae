"""Time notegen against bare WeasyPrint on the same HTML, in one run.

    .venv/bin/python benchmarks/bench_render.py [--runs N]

Prints, for the worked case:
  * cold: ``notegen render`` as a new process, against a new process that only
    runs WeasyPrint on the same HTML (what any tool must at least pay);
  * warm: ``notegen.render_pdf`` in a warm process, against WeasyPrint's
    ``HTML(...).write_pdf()`` on the same HTML in the same process;
  * warm HTML preview (``render_html``).
Medians over the runs, and the ratios notegen / bare.
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
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3])
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

    def warm_notegen() -> None:
        notegen.render_pdf(case)

    def warm_bare() -> None:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf()

    warm_notegen()
    warm_bare()
    warm_ng = median_time(warm_notegen, args.runs * 3)
    warm_wp = median_time(warm_bare, args.runs * 3)
    preview = median_time(lambda: notegen.render_html(case), args.runs * 3)

    rows = [
        ("cold: notegen render (new process)", cold_ng, cold_wp),
        ("warm: notegen.render_pdf (in process)", warm_ng, warm_wp),
    ]
    out = sys.stdout
    out.write(f"{'':40} {'notegen':>9} {'bare WP':>9} {'ratio':>6}\n")
    for label, ours, bare in rows:
        out.write(f"{label:40} {ours * 1000:7.0f}ms {bare * 1000:7.0f}ms {ours / bare:6.2f}\n")
    out.write(f"{'warm: render_html preview':40} {preview * 1000:7.1f}ms\n")


if __name__ == "__main__":
    main()
