"""What notegen's typography markup costs WeasyPrint.

The typography (``notegen/wording/typography.py``) marks, in the running
text, what hyphenation must leave whole (names, dates, a paragraph's last
word) with spans; WeasyPrint lays out each span as an inline box of its own,
with a Pango layout for each piece of text, so the spans cost layout time
apart from the words. This benchmark lays out and writes (PDF/A-3b) the
worked case's note in each language, warm, in one process, as notegen does
(its fonts, its fetcher, one font configuration kept), three ways in turns:

- ``now``: the HTML notegen makes;
- ``no spans``: the same HTML with the typography's spans taken out, their
  text kept: the floor for these words, which no markup can go below (the
  lines may break otherwise there: it is a measure, not a note);
- ``base``: with ``--base TREE`` (another checkout, e.g. ``git worktree add
  /tmp/markup-base <commit>``), the HTML that tree's notegen makes, laid
  out here by the same WeasyPrint.

Each figure is the median over the rounds with its spread (min-max); each
ratio the median of the per-round ratios (:mod:`paired`)::

    .venv/bin/python benchmarks/bench_markup.py [--rounds 9] [--base TREE]

Run it alone: on a machine shared with other work the figures mislead.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from paired import alternate_values, header, line, pair

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"
LANGUAGES = ("en", "ru", "az", "fr")

#: Writes the note's HTML in a language with the notegen of the tree it runs in.
_HTML = """
import sys
import notegen
from notegen.options import RenderOptions
case = notegen.load_case(sys.argv[1])
sys.stdout.write(notegen.render_html(case, RenderOptions(lang=sys.argv[2])))
"""

#: The typography's spans (and only theirs), with what they hold.
_SPANS = re.compile(r'<span class="(?:unbroken(?: whole)?|space)">(.*?)</span>', re.DOTALL)


def _base_html(tree: Path, lang: str) -> str:
    environ = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run([sys.executable, "-c", _HTML, str(CASE), lang], env=environ,
                            capture_output=True, text=True, check=True, cwd=tree)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--base", type=Path, help="a source tree to compare against")
    args = parser.parse_args()

    import notegen
    from notegen.options import RenderOptions, settle
    from notegen.render import pdf
    from notegen.render.fetcher import TemplateAssetFetcher

    case = notegen.load_case(CASE)
    options = settle(case, RenderOptions())
    pdf.warm_up(options.folders, options)
    weasyprint = pdf.load_weasyprint()
    fonts = pdf._font_configuration(options.folders)
    fetcher = TemplateAssetFetcher(options.folders)
    base_url = f"{options.folders.first.as_uri()}/"
    gc.freeze()

    def laid_out(html: str) -> Callable[[], float]:
        def run() -> float:
            began = time.perf_counter()
            document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher
                                       ).render(font_config=fonts, pdf_variant="pdf/a-3b")
            document.write_pdf(pdf_variant="pdf/a-3b")
            return time.perf_counter() - began
        return run

    sys.stdout.write(f"{args.rounds} rounds, paired, median [min–max]; machine: "
                     f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}\n")
    for lang in LANGUAGES:
        now = notegen.render_html(case, RenderOptions(lang=lang))
        sides = {"now": now, "no spans": _SPANS.sub(r"\1", now)}
        if args.base:
            sides["base"] = _base_html(args.base.resolve(), lang)
        counts = {name: len(_SPANS.findall(html)) for name, html in sides.items()}
        times = dict(zip(sides, alternate_values(*(laid_out(html) for html in sides.values()),
                                                 rounds=args.rounds, warmup=1), strict=True))
        sys.stdout.write(f"\n{lang}: typography spans "
                         + ", ".join(f"{name} {count}" for name, count in counts.items())
                         + "\n")
        sys.stdout.write(header("  layout and PDF/A-3b, warm", "now", "other") + "\n")
        for name in sides:
            if name != "now":
                sys.stdout.write(line(f"  {name}", pair(times["now"], times[name])) + "\n")


if __name__ == "__main__":
    main()
