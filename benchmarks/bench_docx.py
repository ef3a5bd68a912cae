"""Time the editable Word document against the PDF for the worked case, in
one run, in process and warm, and give the size of each.

    .venv/bin/python benchmarks/bench_docx.py [--rounds N]

``notegen.render_docx`` and ``notegen.render_pdf`` (PDF/A-3b with the
records; laid out in its bounded child as always), each after one warm-up
render, for the note alone and with its courtesy translation, timed in
alternating rounds (paired.py, default 7): each one's median [min–max] and
the paired ratio PDF/DOCX, the median of the per-round ratios; and the size
of what each writes. A machine busy with other work slows both alike; the
figures are still only as quiet as the machine was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paired import alternate, header, line

import notegen
from notegen import RenderOptions

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", "--runs", dest="rounds", type=int, default=7)
    arguments = parser.parse_args()
    case = notegen.load_case(CASE)
    out = sys.stdout
    out.write(f"worked case {CASE.relative_to(ROOT)}, {arguments.rounds} alternating rounds "
              "of warm renders in process\n")
    out.write(header("(PDF: PDF/A-3b with the records)", "DOCX", "PDF") + "\n")
    sizes: list[str] = []
    for label, options in (("note", RenderOptions()),
                           ("note + translation (ru)", RenderOptions(translation="ru"))):
        def docx(options: RenderOptions = options) -> bytes:
            return notegen.render_docx(case, options=options)

        def pdf(options: RenderOptions = options) -> bytes:
            return notegen.render_pdf(case, options=options)

        result = alternate(docx, pdf, rounds=arguments.rounds, warmup=1)
        out.write(line(label, result, digits=0) + "\n")
        sizes.append(f"{label}: DOCX {len(docx()) / 1024:.1f} KiB, "
                     f"PDF {len(pdf()) / 1024:.1f} KiB")
    out.write("\n".join(sizes) + "\n")


if __name__ == "__main__":
    main()
