"""The layout of a rendered note, measured in its PDF: no line stretches its
word spaces, no line is broken before what would fit on it, and no name is
hyphenated. The worked case, as a note verbale in its four languages, and
the second case in French (where a glued span broke a demand after "a) de"),
one render each.

The rules, and where they come from:

- A word space is at most twice the font's own space (:data:`K_SPACE`).
  Beyond that the eye sees holes and rivers; typesetting programs' default
  limits for justified text lie well below it. Running text is set
  ragged-right (``templates/static/note.css``), so its spaces are the
  font's; a line stretched across the measure is the fault this catches
  ("8 and 18 August 2025, Odesa re-" spread over a whole line).
- A line that does not end its paragraph or item leaves at most half of its
  measure empty (:data:`MAX_FREE`). Ragged-right text is hyphenated where a
  line would end more than a tenth of the measure short (the hyphenation
  zone), and the longest unit notegen holds together (a date with its
  year, a label with its number) is far shorter than half a line; a line
  emptier than that was broken early.
- A word hyphenated at a line's end is never a name's word: neither a
  capitalised word notegen marked ``unbroken`` in the running text nor a
  capitalised word of the records' names and places.
"""

from __future__ import annotations

import itertools
import re
import statistics
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from fontTools.ttLib import TTFont

from notegen import RenderOptions, load_case, render_html, render_pdf
from notegen.wording.typography import SPACE, Typography, TypographyRules, typeset_html

from .conftest import ROOT

#: (case folder, language): the renders measured.
RENDERS = (*(("az-kyiv-2025", lang) for lang in ("en", "ru", "fr", "az")),
           ("mx-quito-2024", "fr"))
STYLE = (ROOT / "templates" / "static" / "note.css").read_text(encoding="utf-8")


def _html_rule(name: str) -> float:
    """A number the style sheet's ``html`` rule sets (``font-size: 11.5pt``)."""
    rule = re.search(r"\nhtml \{(.*?)\}", STYLE, re.S)
    value = re.search(rf"{name}:\s*([\d.]+)", rule.group(1)) if rule else None
    assert value is not None, name
    return float(value.group(1))


#: The body's size and line height, as the style sheet sets them.
BODY_PT = _html_rule("font-size")
LINE_PT = BODY_PT * _html_rule("line-height")
#: The widest word space allowed, in the font's own spaces.
K_SPACE = 2.0
#: The largest part of its measure a line that does not end its paragraph leaves empty.
MAX_FREE = 0.5
#: A list item's marker ("1.", "a)", "iv.", "–"), which stands apart from its text.
_MARKER = re.compile(r"^(?:\d+|[a-zа-я]|[ivxlcIVXLC]+)[.)]$|^[–-]$")
#: The hyphen WeasyPrint sets at a break (U+2010), or a plain one.
_HYPHENS = ("\u2010", "-")


def space_width() -> float:
    """The width of the body font's space, in points."""
    font = TTFont(ROOT / "templates" / "static" / "fonts" / "NotoSerif-Regular.ttf")
    return float(font["hmtx"]["space"][0]) / float(font["head"].unitsPerEm) * BODY_PT


@dataclass(frozen=True)
class Line:
    page: int
    baseline: float
    words: tuple[tuple[float, float, str], ...]  # (left, right, text), left to right

    @property
    def text(self) -> str:
        return " ".join(word for _, _, word in self.words)


@dataclass(frozen=True)
class Page:
    number: int
    left: float   # the text's left and right edges
    right: float
    lines: tuple[Line, ...]


def pages(pdf: bytes) -> list[Page]:
    """The lines of ``pdf``, words put back together by their baseline
    (pdftotext splits a widely spaced line into blocks)."""
    xml = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True,
                         check=True).stdout.decode("utf-8")
    found = []
    for number, page in enumerate(re.findall(r"<page .*?</page>", xml, re.S), start=1):
        rows: dict[float, list[tuple[float, float, str]]] = {}
        for x0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                page):
            baseline = float(y1)
            key = next((row for row in rows if abs(row - baseline) < 1.0), baseline)
            rows.setdefault(key, []).append((float(x0), float(x1), _unescape(text)))
        lines = tuple(Line(number, y, tuple(sorted(rows[y]))) for y in sorted(rows))
        if lines:
            found.append(Page(number, min(line.words[0][0] for line in lines),
                              max(line.words[-1][1] for line in lines), lines))
    return found


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&quot;", '"').replace("&apos;", "'")


def centred(line: Line, page: Page) -> bool:
    """A centred line (a heading, the signatory's name): free on both sides alike."""
    before, after = line.words[0][0] - page.left, page.right - line.words[-1][1]
    return before > 5 and abs(before - after) < 3


def continued(page: Page) -> Iterator[tuple[Line, Line]]:
    """Pairs of lines of one paragraph or item: one line height apart, the
    second not opening a list item with its marker."""
    for line, after in itertools.pairwise(page.lines):
        if abs(after.baseline - line.baseline - LINE_PT) < 0.6 \
                and not _MARKER.match(after.words[0][2]):
            yield line, after


#: (case folder, language, its PDF's pages, its HTML).
Rendered = tuple[str, str, list[Page], str]


@pytest.fixture(scope="module", params=RENDERS, ids=["-".join(render) for render in RENDERS])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    folder, lang = request.param
    case = load_case(ROOT / "seeds" / folder / "note.yaml")
    options = RenderOptions(lang=lang)
    return folder, lang, pages(render_pdf(case, options=options)), render_html(case, options)


# -- 1. no line stretches its spaces ------------------------------------------

def test_no_line_stretches_its_word_spaces(rendered: Rendered) -> None:
    _, _, found, _ = rendered
    space = space_width()
    measured = 0
    for page in found:
        for line in page.lines:
            words = line.words[1:] if _MARKER.match(line.words[0][2]) else line.words
            if len(words) < 3 or centred(line, page):
                continue  # a letter-spaced heading is centred
            gaps = [b[0] - a[1] for a, b in itertools.pairwise(words)]
            measured += 1
            # The median: a reference and a date set apart on one line have
            # one wide gap between them, a stretched line has all its gaps wide.
            assert statistics.median(gaps) <= K_SPACE * space, (
                f"page {page.number}: spaces of {statistics.median(gaps) / space:.1f} "
                f"spaces in {line.text!r}")
    assert measured > 30  # the body lines of a note of two pages at least


# -- 2. no line is broken before what fits on it -------------------------------

def test_no_line_is_broken_early(rendered: Rendered) -> None:
    _, _, found, _ = rendered
    for page in found:
        for line, after in continued(page):
            if centred(line, page):
                continue
            measure = page.right - after.words[0][0]
            free = page.right - line.words[-1][1]
            assert free <= MAX_FREE * measure, (
                f"page {page.number}: {line.text!r} leaves {free / measure:.0%} of the line "
                f"empty before {after.text!r}")
            if line.words[-1][2].endswith(_HYPHENS):
                # Nor is a word hyphenated whose rest would have fitted whole.
                rest = after.words[0][1] - after.words[0][0]
                assert free < rest, (f"page {page.number}: {line.text!r} hyphenated, "
                                     f"though {after.words[0][2]!r} fits")


# -- 3. no name is hyphenated --------------------------------------------------

def record_names(folder: str, lang: str) -> set[str]:
    """The capitalised words of a case's names and places in ``lang``."""
    words: set[str] = set()

    def walk(node: object, named: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                key = str(key)
                if named and key == lang and isinstance(value, str):
                    walk(value, True)
                else:
                    walk(value, named or key.split(".")[0] in ("name", "short_name", "place"))
        elif isinstance(node, list):
            for item in node:
                walk(item, named)
        elif isinstance(node, str) and named:
            words.update(word for word in re.findall(r"\w+", node) if word[0].isupper())

    for path in (ROOT / "seeds" / folder).glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), False)
    return words


def test_no_name_is_hyphenated(rendered: Rendered) -> None:
    folder, lang, found, html = rendered
    main = html[html.index("<main>"):]
    protected = {word for span in re.findall(r'<span class="unbroken[^"]*">(.*?)</span>', main)
                 for word in re.findall(r"\w+", span) if word[0].isupper()}
    names = record_names(folder, lang)
    assert names
    assert protected
    for page in found:
        for line, after in continued(page):
            if not line.words[-1][2].endswith(_HYPHENS):
                continue
            head = re.findall(r"\w+", line.words[-1][2])[-1]
            word = head + re.findall(r"\w+", after.words[0][2])[0]
            assert word not in protected | names, (
                f"page {page.number}: the name {word!r} is hyphenated: {line.text!r}")


# -- 4. the rules in the markup -----------------------------------------------

def test_no_text_ends_on_a_space_before_a_kept_run() -> None:
    # WeasyPrint counts a text's trailing space in its width; where a text
    # fits but for it and a span follows, it ended the line at the first
    # word it could hyphenate ("Odesa re-"). The space before a run that
    # wraps opens the run; before one that does not (whole), it stands in a
    # box of its own, which has no word to hyphenate.
    typography = Typography(TypographyRules())
    marked = typography.markup("an oil depot of SOCAR, the State Oil Company", running=True)
    assert marked == 'an oil depot of<span class="unbroken"> SOCAR, the State Oil Company</span>'
    marked = typography.markup("came down about 35\u00a0steps from", running=True)
    assert 'about<span class="unbroken"> 35\u00a0steps</span> from' in marked
    marked = typography.markup("struck on 8\u201318\u00a0August at night", running=True)
    assert (f'on<span class="{SPACE}"> </span>'
            '<span class="unbroken whole">8\u201318\u00a0August</span> at') in marked
    html = typeset_html('<body><main><p>the missile <em>Kinzhal</em> fell</p></main></body>',
                        typography)
    assert f'missile<span class="{SPACE}"> </span><em>' in html


def test_a_kept_run_takes_what_a_no_break_space_glues_to_it() -> None:
    # A span right after a no-break space has no break opportunity before
    # it; too wide for the line, WeasyPrint ended the line at the first
    # opportunity instead ("a) de / fournir des explications …").
    typography = Typography(TypographyRules())
    marked = typography.markup("les circonstances de l’incident\u202f;", running=True,
                               ends_block=True)
    assert marked.endswith('<span class="unbroken"> l’incident\u202f;</span>')
    marked = typography.markup("le missile «\u202fKinjal\u202f» est tombé", running=True)
    assert '<span class="unbroken"> «\u202fKinjal\u202f»</span>' in marked


def test_a_paragraph_does_not_end_on_a_hyphenated_fragment() -> None:
    typography = Typography(TypographyRules())
    html = typeset_html("<body><main><p>the munition was found some way underground.</p>"
                        "<ol><li>damaging the installation;</li></ol>"
                        "<p>it fell <em>near</em> the building</p></main></body>", typography)
    assert '<span class="unbroken"> underground.</span></p>' in html
    assert '<span class="unbroken"> installation;</span></li>' in html
    assert '<span class="unbroken"> building</span></p>' in html
    # Only a paragraph's last word: the words before it may still be hyphenated.
    assert '<span class="unbroken">munition' not in html
    assert '<span class="unbroken">near' not in html


def test_a_single_name_is_kept_whole_unless_the_language_allows_it() -> None:
    kept = Typography(TypographyRules()).markup("fell near Kharkiv today", running=True)
    assert kept == 'fell near<span class="unbroken"> Kharkiv</span> today'
    # A capitalised word opening a sentence is no name.
    opening = Typography(TypographyRules()).markup("Attacks are prohibited", running=True)
    assert "unbroken" not in opening
    free = Typography(TypographyRules(whole_names=False)).markup("near Kharkiv today",
                                                                running=True)
    assert "unbroken" not in free


def test_running_text_is_set_ragged_right() -> None:
    rule = re.search(r"\nmain p, main li \{(.*?)\}", STYLE, re.S)
    assert rule is not None
    assert "text-align: left;" in rule.group(1)
    assert "hyphenate-limit-zone: 10%;" in rule.group(1)
    assert not re.search(r"text-align:\s*justify", STYLE.split("/*")[0] + "".join(
        part.split("*/", 1)[-1] for part in STYLE.split("/*")[1:]))
