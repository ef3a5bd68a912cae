"""How loose the justified lines of a note are: the widest gap between two
words, per page, and the 95th percentile over all gaps of justified lines.

A justified line that cannot hyphenate stretches its spaces: "rivers" of
white run down the page. This renders the worked case (or reads PDFs) and
measures each line from ``pdftotext -bbox-layout`` word boxes. A line counts
as justified when it spans (nearly) the full measure of its block and is not
a block's last line; gaps are in points and in ems of the body size (11.5 pt;
a normal space is about 0.25 em). Run it alone, not while tests run::

    .venv/bin/python benchmarks/measure_spacing.py [--lang ru az] [--type note_verbale ...]
    .venv/bin/python benchmarks/measure_spacing.py --pdf some.pdf other.pdf
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

CASE = Path(__file__).resolve().parent.parent / "seeds" / "az-kyiv-2025" / "note.yaml"
BODY_PT = 11.5
_NS = "{http://www.w3.org/1999/xhtml}"
#: The right page margin of the built-in style (20 mm).
RIGHT_MARGIN_PT = 20 / 25.4 * 72
#: A gap wider than this parts two blocks (reference and date line), not two words.
COLUMN_GAP_PT = 5 * BODY_PT


@dataclass(frozen=True)
class PageGaps:
    page: int
    lines: int
    widest: float
    gaps: tuple[float, ...]


def measure(pdf: Path) -> list[PageGaps]:
    """The gaps between words on the justified lines of each page of ``pdf``.

    pdftotext splits a widely spaced line into blocks of its own, so words
    are put back into lines by their baseline. A line is justified when it
    ends at the right edge of the text (``RIGHT``); a paragraph's last line,
    set ragged, does not."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    root = ET.fromstring(xml)
    found = []
    for number, page in enumerate(root.iter(f"{_NS}page"), start=1):
        right = float(page.get("width", 0)) - RIGHT_MARGIN_PT
        rows: dict[int, list[tuple[float, float]]] = {}
        for word in page.iter(f"{_NS}word"):
            baseline = round(float(word.get("yMax", 0)))
            rows.setdefault(baseline, []).append((float(word.get("xMin", 0)),
                                                  float(word.get("xMax", 0))))
        gaps: list[float] = []
        lines = 0
        for row in rows.values():
            row.sort()
            if len(row) < 3 or abs(row[-1][1] - right) > 1.5:
                continue
            spaces = [b[0] - a[1] for a, b in itertools.pairwise(row)]
            if max(spaces) > COLUMN_GAP_PT:  # two blocks side by side, not one line
                continue
            lines += 1
            gaps.extend(spaces)
        found.append(PageGaps(number, lines, max(gaps, default=0.0), tuple(gaps)))
    return found


def report(label: str, pages: list[PageGaps]) -> str:
    every = [gap for page in pages for gap in page.gaps]
    p95 = statistics.quantiles(every, n=20)[-1] if len(every) > 1 else 0.0
    per_page = "  ".join(f"p{p.page}: {p.widest:5.1f} pt ({p.widest / BODY_PT:.2f} em, "
                         f"{p.lines} lines)" for p in pages)
    median = statistics.median(every or [0.0])
    loose = sum(1 for gap in every if gap > BODY_PT)
    return (f"{label:38} {per_page}  | p95 {p95:4.1f} pt, median {median:.1f} pt, "
            f"{loose} gaps > 1 em")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", nargs="*", default=["ru", "az"])
    parser.add_argument("--type", nargs="*", default=["note_verbale", "first_person_note",
                                                      "aide_memoire"])
    parser.add_argument("--pdf", nargs="*", type=Path, default=[])
    parser.add_argument("--keep", type=Path, help="keep the rendered PDFs in this folder")
    parser.add_argument("--unhyphenated", action="store_true",
                        help="also render with the style of before (justified, hyphens: "
                        "manual), for a before/after on the same text")
    args = parser.parse_args()
    if args.pdf:
        for pdf in args.pdf:
            sys.stdout.write(report(pdf.name, measure(pdf)) + "\n")
        return
    import notegen
    from notegen.records.models import NoteType

    case = notegen.load_case(CASE)
    folder = args.keep or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    styles: list[tuple[str, tuple[Path, ...]]] = [("", ())]
    if args.unhyphenated:
        before = folder / "unhyphenated"
        (before / "static").mkdir(parents=True, exist_ok=True)
        style = (CASE.parent.parent.parent / "templates" / "static" / "note.css").read_text(
            encoding="utf-8")
        (before / "static" / "note.css").write_text(
            style.replace("hyphens: auto;", "hyphens: manual;"), encoding="utf-8")
        styles.insert(0, ("unhyphenated ", (before,)))
    for lang in args.lang:
        for note_type in args.type:
            for label, folders in styles:
                target = folder / f"{label.strip() or 'hyphenated'}-{lang}-{note_type}.pdf"
                notegen.render_pdf(case, target, options=notegen.RenderOptions(
                    lang=lang, note_type=NoteType(note_type), template_dirs=folders))
                sys.stdout.write(report(f"{label}{lang} {note_type}", measure(target)) + "\n")


if __name__ == "__main__":
    main()
