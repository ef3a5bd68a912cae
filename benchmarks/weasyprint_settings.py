"""Which WeasyPrint settings cost the most on the worked case, warm, in one process.

    .venv/bin/python benchmarks/weasyprint_settings.py [--runs N]

Each line renders the same note with one thing changed and prints the median
time and its ratio to the first line (notegen's default output).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_ms(function: Callable[[], object], runs: int) -> float:
    function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("FONTCONFIG_FILE",
                          str(ROOT / "templates" / "static" / "fonts" / "fonts.conf"))
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    import notegen
    from notegen.template_folders import BUILTIN_FOLDER

    case = notegen.load_case(ROOT / "seeds" / "az-kyiv-2025" / "note.yaml")
    html = notegen.render_html(case)
    base = f"{BUILTIN_FOLDER.as_uri()}/"
    shared = FontConfiguration()

    def render(text: str = html, **options: object) -> bytes:
        pdf: bytes = weasyprint.HTML(string=text, base_url=base).write_pdf(**options)
        return pdf

    variants: list[tuple[str, Callable[[], object]]] = [
        ("PDF/A-3b (notegen's default, without the records)",
         lambda: render(pdf_variant="pdf/a-3b")),
        ("plain PDF", lambda: render()),
        ("without hyphenation (hyphens: manual)",
         lambda: render(html.replace("hyphens: auto;", "hyphens: manual;"),
                        pdf_variant="pdf/a-3b")),
        ("whole fonts embedded (no subsetting)",
         lambda: render(pdf_variant="pdf/a-3b", full_fonts=True)),
        ("uncompressed PDF", lambda: render(pdf_variant="pdf/a-3b", uncompressed_pdf=True)),
        ("one FontConfiguration for all renders",
         lambda: render(pdf_variant="pdf/a-3b", font_config=shared)),
        ("layout only (render(), no write_pdf)",
         lambda: weasyprint.HTML(string=html, base_url=base).render()),
        ("notegen.render_pdf (records, checks, everything)", lambda: notegen.render_pdf(case)),
    ]
    first = None
    for label, function in variants:
        ms = median_ms(function, args.runs)
        first = first or ms
        sys.stdout.write(f"{label:52} {ms:7.1f} ms {ms / first:6.2f}\n")


if __name__ == "__main__":
    main()
