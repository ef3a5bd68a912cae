"""Time the editable Word document against the PDF for the worked case, in
one run, in process and warm, and give the size of each.

    .venv/bin/python benchmarks/bench_docx.py [--runs N]

Prints medians over the runs (default 7) of ``notegen.render_docx`` and
``notegen.render_pdf`` (PDF/A-3b with the records; laid out in its bounded
child as always), each after one warm-up render, for the note alone and
with its courtesy translation; and the size of what each writes. The two
are interleaved, so a machine busy with other work slows both alike; the
figures are still only as quiet as the machine was.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import notegen
from notegen import RenderOptions

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"


def timed(function: Callable[[], bytes]) -> tuple[float, bytes]:
    start = time.perf_counter()
    data = function()
    return time.perf_counter() - start, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    case = notegen.load_case(CASE)
    out = sys.stdout
    out.write(f"worked case {CASE.relative_to(ROOT)}, median of {arguments.runs} warm renders "
              "in process\n")
    out.write(f"{'':28} {'time':>9} {'size':>10}\n")
    for label, options in (("note", RenderOptions()),
                           ("note + translation (ru)", RenderOptions(translation="ru"))):
        renders: dict[str, Callable[[], bytes]] = {
            "PDF (PDF/A-3b, records)": functools.partial(notegen.render_pdf, case,
                                                         options=options),
            "DOCX": functools.partial(notegen.render_docx, case, options=options)}
        for render in renders.values():
            render()  # warm: imports, templates, fonts
        times: dict[str, list[float]] = {name: [] for name in renders}
        sizes: dict[str, int] = {}
        for _ in range(arguments.runs):
            for name, render in renders.items():  # interleaved: the same load for both
                seconds, data = timed(render)
                times[name].append(seconds)
                sizes[name] = len(data)
        out.write(f"{label}\n")
        for name in renders:
            out.write(f"  {name:26} {statistics.median(times[name]) * 1000:7.0f} ms "
                      f"{sizes[name] / 1024:7.1f} KiB\n")
        ratio = statistics.median(times["PDF (PDF/A-3b, records)"]) / statistics.median(
            times["DOCX"])
        out.write(f"  the DOCX renders {ratio:.1f} times as fast as the PDF\n")


if __name__ == "__main__":
    main()
