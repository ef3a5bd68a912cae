"""Which WeasyPrint settings cost the most on the worked case, warm, in one process.

    .venv/bin/python benchmarks/weasyprint_settings.py [--rounds N]

Each line renders the same note with one thing changed, in alternating
rounds with notegen's default output (PDF/A-3b, one FontConfiguration kept
for every render, as notegen keeps one): each side's median [min–max] and
the paired ratio changed/default, the median of the per-round ratios
(paired.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from paired import alternate, header, line

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", "--runs", dest="rounds", type=int, default=15)
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
        options.setdefault("font_config", shared)
        pdf: bytes = weasyprint.HTML(string=text, base_url=base).write_pdf(**options)
        return pdf

    def default() -> bytes:
        return render(pdf_variant="pdf/a-3b")

    variants: list[tuple[str, Callable[[], object]]] = [
        ("plain PDF", lambda: render()),
        ("without hyphenation (hyphens: manual)",
         lambda: render(html.replace("hyphens: auto;", "hyphens: manual;"),
                        pdf_variant="pdf/a-3b")),
        ("whole fonts embedded (no subsetting)",
         lambda: render(pdf_variant="pdf/a-3b", full_fonts=True)),
        ("uncompressed PDF", lambda: render(pdf_variant="pdf/a-3b", uncompressed_pdf=True)),
        ("a new FontConfiguration per render (WeasyPrint's default)",
         lambda: render(pdf_variant="pdf/a-3b", font_config=None)),
        ("layout only (render(), no write_pdf)",
         lambda: weasyprint.HTML(string=html, base_url=base).render(font_config=shared)),
        ("notegen.render_pdf (records, checks, everything)", lambda: notegen.render_pdf(case)),
    ]
    default()
    sys.stdout.write(header("against PDF/A-3b, fonts kept (notegen's default)", "default",
                            "changed", width=58) + "\n")
    for label, function in variants:
        result = alternate(default, function, rounds=args.rounds, warmup=1)
        sys.stdout.write(line(label, result, width=58) + "\n")


if __name__ == "__main__":
    main()
