"""Typography per language, on every text of a rendered note: the records'
text, the catalogue's, and the template's own alike.

The rules are the catalogue's data (``typography:`` in
``catalogues/<lang>.yaml``) and CLDR's (month names, the digit grouping);
a language added from a folder writes its own. :func:`typeset_html` runs on
the HTML a template made, text nodes only (never a tag or an attribute, nor
the head: metadata is searched, not typeset), and:

- puts the language's spaces around punctuation (French narrow no-break
  spaces before ``; ! ?`` and inside « », a no-break space before ``:``),
  replacing a plain space or adding a missing one;
- writes the typographic apostrophe ("l’Ambassade");
- writes the words of ``sentence_case`` lower case inside a sentence and
  capitalised at the head of a line or sentence ("n° 45", "N° 12/345");
- applies the language's ``replace`` rules (French "l’article premier");
- keeps on one line what must not be split: a number and the label before
  it (``number_labels``: "статья 59", "l’article 48", "Rule 7"), a number and
  the unit, counted noun or month after it (``number_units`` and CLDR's month
  names: "50 метрах", "59-cu maddə", "2025-ci il", "6 h 15"), a whole date
  ("14 ноября 2025 года", "12 août 1949"), a word of ``no_break_after`` and
  the next ("№ 12", "в Киеве"), and the groups of a number in the locale's
  own grouping space ("12 500"); a number never binds to a conjunction or an
  arbitrary word ("8 and 18 August", "статьи 22 Венской");
- sets what ``superior`` matches as superior letters (French "1<sup>er</sup>");
- in the address and signature blocks, lets a title break only between its
  parts: never after a word of ``title_links`` ("de la", "of the"), never
  inside a name, nor before its last word; a break is allowed next to a
  lower-case word, and after a word ``title_break_after`` matches (the
  head of a title: "Послу", a genitive "Respublikasının");
- marks, in the running text (``<main>``), the words hyphenation must leave
  whole: names of two capitalised words or more, linked or not ("Российской
  Федерации", "Azərbaycan Respublikasının", "République d’Azerbaïdjan",
  "Fédération de Russie") and what a number holds together (dates,
  references, quantities), as ``<span class="unbroken">`` (the style sheet
  sets ``hyphens: none`` on it). A single capitalised word inside a
  sentence ("Посольства", "Kinjal") is a name too (``whole_names``, which a
  language may turn off); a capitalised word opening a sentence may be
  hyphenated like any other; a paragraph's last word is not; a name with a hyphen
  ("États-Unis") and a number with its suffix ("1-ci", "06:15-də") never
  break at the hyphen (``<span class="unbroken whole">``, ``white-space:
  nowrap``); the space before such a span stands in a box of its own
  (``<span class="space">``), and the space before any other span is its
  first character, so that a line ends at that space rather than at a
  hyphen earlier in the line (see :data:`SPACE`).
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from babel import Locale
from markupsafe import escape
from pydantic import BaseModel, ConfigDict, Field

NBSP = "\u00a0"
NNBSP = "\u202f"
_SPACES = " \u00a0\u202f"
#: The class of the spans that hyphenation leaves whole.
UNBROKEN = "unbroken"
#: ... and of those that do not break at a hyphen either ("1-ci", "États-Unis").
WHOLE = "whole"
#: The class of the box that holds the space before a span that does not
#: wrap (``whole``), alone: WeasyPrint counts a text's trailing space in its
#: width, and where a text fits but for that space and a span follows, it
#: ends the line at the first word it can hyphenate, stretching it ("8 and 18
#: August 2025, Odesa re-"). A box holding only the space has no word to
#: hyphenate. The space before a span that wraps is the span's first
#: character instead: the text before it then has no trailing space.
SPACE = "space"
#: The class of superior letters ("1<sup>er</sup>").
SUPERIOR = "superior"
#: The longest part of a title (in characters) kept on one line in a block.
TITLE_PART = 34
#: Tags that start a line: a word of ``sentence_case`` after one is at a head.
_BLOCKS = frozenset(["p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "div",
                     "header", "footer", "address", "br", "dt", "dd", "blockquote"])
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9]+)")


class TypographyRules(BaseModel):
    """The ``typography:`` section of a catalogue."""

    model_config = ConfigDict(extra="forbid")

    #: The space put before a mark: ``{";": "\u202f", ":": "\u00a0"}``.
    space_before: dict[str, str] = Field(default_factory=dict)
    #: The space put after a mark: ``{"«": "\u202f"}``.
    space_after: dict[str, str] = Field(default_factory=dict)
    #: The apostrophe a word's ``'`` becomes ("’").
    apostrophe: str | None = None
    #: Words kept with the word that follows them: ``[№, в, и]``.
    no_break_after: list[str] = Field(default_factory=list)
    #: Words written lower case inside a sentence, capitalised at its head: ``[n°]``.
    sentence_case: list[str] = Field(default_factory=list)
    #: Regular expressions and what they become, applied in order.
    replace: dict[str, str] = Field(default_factory=dict)
    #: Labels a number after them binds to: ``[статья, пункт, Rule]`` (a
    #: capitalised form is added).
    number_labels: list[str] = Field(default_factory=list)
    #: Words a number binds to the word after it: units, counted nouns, the
    #: year's word, labels written after a number (``[m, метрах, il, maddə]``);
    #: the month names are CLDR's.
    number_units: list[str] = Field(default_factory=list)
    #: Regular expressions whose match is set as superior letters: ``[(?<=\b1)er\b]``.
    superior: list[str] = Field(default_factory=list)
    #: A single capitalised word inside a sentence is not hyphenated either
    #: (a name: "Kinjal", "Посольства"). Running text is set ragged-right, so
    #: keeping names whole costs no rivers; false lets them be hyphenated.
    whole_names: bool = True
    #: Whether a date keeps its month and year on one line ("14 ноября
    #: 2025 года"); where the language's long words make justified lines
    #: loose, a date may break before its year, never between day and month.
    whole_dates: bool = True
    #: Words that, in an address or signature block, stay with the next: ``[de, la, of]``.
    title_links: list[str] = Field(default_factory=list)
    #: A word after which a title in a block may break, inside a name too.
    title_break_after: str | None = None


@dataclass(frozen=True)
class Typography:
    """The compiled rules of one language."""

    rules: TypographyRules = field(default_factory=TypographyRules)
    locale: Locale | None = None

    @cached_property
    def _no_break_after(self) -> re.Pattern[str] | None:
        words = self.rules.no_break_after
        if not words:
            return None
        alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
        return re.compile(rf"(?<![\w\u2019'])({alternatives})[ ](?=\S)")

    @cached_property
    def _label_number(self) -> re.Pattern[str] | None:
        labels = {form for word in self.rules.number_labels
                  for form in (word, word[:1].upper() + word[1:])}
        if not labels:
            return None
        return re.compile(rf"(?<!\w)({_alternatives(labels)})[ ](?=\d)")

    @cached_property
    def _months(self) -> list[str]:
        if self.locale is None:
            return []
        return [str(name) for name in self.locale.months["format"]["wide"].values()]

    @cached_property
    def _number_unit(self) -> re.Pattern[str] | None:
        units = set(self.rules.number_units)
        if not units and not self._months:
            return None
        # "50 metrах", "1er décembre", "2025-ci il": not "8 and", "22 Венской".
        # A month also in a case CLDR does not list: Azerbaijani "14 noyabra"
        # (dative), "13 noyabrı" (accusative) are the month with a suffix of
        # up to three letters (binding "4 maison" too is harmless).
        ahead = [f"(?:{_alternatives(units)})(?![\\w\\u2011-])"] if units else []
        if self._months:
            ahead.append(f"(?:{_alternatives(self._months)})[^\\W\\d_]{{0,3}}(?![\\w\\u2011-])")
        return re.compile(rf"(?<![\w.,])(\d[\d.,:/()]*(?:-[^\W\d_]+|er|re)?)[ ]"
                          rf"(?={'|'.join(ahead)})")

    @cached_property
    def _month_year(self) -> re.Pattern[str] | None:
        if not self._months or not self.rules.whole_dates:
            return None
        # A date stays whole: "14 ноября 2025 года", "12 août 1949".
        return re.compile(rf"(?<![\w])({_alternatives(self._months)})[ ](?=\d{{3,4}}(?!\d))")

    @cached_property
    def _superior(self) -> re.Pattern[str] | None:
        if not self.rules.superior:
            return None
        return re.compile("|".join(f"(?:{pattern})" for pattern in self.rules.superior))

    @cached_property
    def _group(self) -> re.Pattern[str] | None:
        if self.locale is None:
            return None
        separator = str(self.locale.number_symbols.get("latn", self.locale.number_symbols)
                        .get("group", ","))
        if separator not in _SPACES:
            return None  # a comma or a point groups digits anyway
        return re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])")

    @cached_property
    def _replace(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        return tuple((re.compile(pattern), target)
                     for pattern, target in self.rules.replace.items())

    def text(self, text: str, at_head: bool = True) -> str:
        """``text`` with the language's spaces, apostrophes, capitals and
        no-break spaces; ``at_head`` if it starts a line."""
        rules = self.rules
        if rules.apostrophe:
            text = re.sub(r"(?<=\w)'", rules.apostrophe, text)
        for mark, space in rules.space_before.items():
            mark_re = re.escape(mark)
            text = re.sub(rf"[ \u00a0\u202f]+(?={mark_re})", space, text)
            # A mark that follows a word directly and ends a clause gets its space.
            text = re.sub(rf"(?<=[\w)»\u2019.]){mark_re}(?=\s|$|<)", space + mark, text)
        for mark, space in rules.space_after.items():
            mark_re = re.escape(mark)
            text = re.sub(rf"(?<={mark_re})[ \u00a0\u202f]*(?=\S)", space, text)
        for word in rules.sentence_case:
            text = _sentence_case(text, word, at_head)
        for pattern, target in self._replace:
            text = pattern.sub(target, text)
        if self._group is not None:
            separator = str(self.locale.number_symbols.get("latn", self.locale.number_symbols)
                            .get("group", NBSP)) if self.locale is not None else NBSP
            text = self._group.sub(lambda m: re.sub(r"[ \u00a0\u202f]", separator,
                                                    m.group()), text)
        # A number and its label, unit, counted noun or month; a whole date.
        patterns: tuple[re.Pattern[str] | None, ...] = (
            self._label_number, self._number_unit, self._month_year)
        for binding in patterns:
            if binding is not None:
                text = binding.sub(rf"\1{NBSP}", text)
        text = re.sub(r"(?<=\b[^\W\d_]) (?=\d)", NBSP, text)  # "h 15"
        if self._no_break_after is not None:
            text = self._no_break_after.sub(rf"\1{NBSP}", text)
        return text

    def title(self, text: str) -> str:
        """``text``, a line of an address or signature block, with no-break
        spaces where a title must not break: after a link word, inside a name
        (capitalised words), before the last word."""
        words = text.split(" ")
        if len(words) < 2:
            return text
        links = set(self.rules.title_links)
        head = re.compile(self.rules.title_break_after) if self.rules.title_break_after \
            else None

        def lower(word: str) -> bool:
            initial = re.sub(r"^[^\W\d_]{1,2}['\u2019]", "", word)
            first = next((c for c in initial if c.isalpha()), "")
            return first.islower() and word not in links

        allowed = [word not in links and (lower(word) or lower(after)
                                          or bool(head and head.fullmatch(word)))
                   for word, after in itertools.pairwise(words)]
        # A part too long for the block's measure may break between any of
        # its words, a link's and the last two excepted.
        start = 0
        for end in range(len(words)):
            if end == len(words) - 1 or allowed[end]:
                if sum(len(word) + 1 for word in words[start:end + 1]) > TITLE_PART:
                    for gap in range(start, end):
                        allowed[gap] = words[gap] not in links
                start = end + 1
        allowed[-1] = False
        # Nor inside the name that ends it ("to the Republic / of Azerbaijan"
        # is a fault): its capitalised words, a single link between two of
        # them, as much as a part holds.
        first = len(words) - 1
        while first > 0:
            before = words[first - 1]
            if before in links:
                if first < 2 or words[first - 2] in links or lower(words[first - 2]):
                    break
                step = 2
            elif lower(before):
                break
            else:
                step = 1
            if sum(len(word) + 1 for word in words[first - step:]) > TITLE_PART:
                break
            first -= step
        for gap in range(first, len(words) - 1):
            allowed[gap] = False
        return "".join(word + (" " if ok else NBSP)
                       for word, ok in zip(words, [*allowed, False], strict=True)).rstrip(NBSP)

    def markup(self, text: str, running: bool, ends_block: bool = False) -> str:
        """``text`` (typeset) as HTML: escaped, its superior letters marked,
        and in running text the runs hyphenation leaves whole in spans (and,
        if ``text`` ends a paragraph or item, its last word); in a block,
        only what must not break at its hyphen."""
        if running:
            return _spans(text, self.rules.whole_names, self._superior, ends_block)
        out: list[str] = []
        position = 0
        for match in re.finditer(r"[^\s\u00a0]*\w-\w[^\s\u00a0]*", text):
            out.append(_superscript(text[position:match.start()], self._superior))
            out.append(f'<span class="{UNBROKEN} {WHOLE}">'
                       f'{_superscript(match.group(), self._superior)}</span>')
            position = match.end()
        out.append(_superscript(text[position:], self._superior))
        return "".join(out)


def _alternatives(words: set[str] | list[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


def _superscript(text: str, superior: re.Pattern[str] | None) -> str:
    """``text`` escaped, what ``superior`` matches in ``<sup>``."""
    if superior is None:
        return str(escape(text))
    out: list[str] = []
    position = 0
    for match in superior.finditer(text):
        out.append(str(escape(text[position:match.start()])))
        out.append(f'<sup class="{SUPERIOR}">{escape(match.group())}</sup>')
        position = match.end()
    out.append(str(escape(text[position:])))
    return "".join(out)


def _sentence_case(text: str, word: str, at_head: bool) -> str:
    lower, upper = word[:1].lower() + word[1:], word[:1].upper() + word[1:]

    def case(match: re.Match[str]) -> str:
        before = text[:match.start()].rstrip(_SPACES)
        head = (at_head and not before) or before.endswith((".", "!", "?"))
        return upper if head else lower

    return re.sub(rf"(?<!\w)(?:{re.escape(lower)}|{re.escape(upper)})(?!\w)", case, text)


#: A word that must stay whole: capitalised, or held to a number by no-break spaces.
_WORD = re.compile(r"[^\s\u00a0]+(?:\u00a0[^\s\u00a0]+)*")


#: A linking word inside a name ("Fédération de Russie", "Republic of
#: Azerbaijan"): short and lower case.
_LINK = re.compile(r"[^\W\d_A-Z]{1,3}")
#: A character a line may break after inside a word (Unicode's line breaking:
#: hyphens, dashes, a solidus): a run kept whole that holds one does not
#: wrap at all (``whole``); one that holds none keeps its no-break spaces
#: and needs only to be left unhyphenated.
_BREAKS_AFTER = re.compile("[-\u2010\u2012\u2013\u2014/]")
#: A number with a suffix after a hyphen ("1-ci", "06:15-də").
_SUFFIXED = re.compile(r"\d-\w")
#: An elided article or pronoun before a word ("d’", "l’", "qu’").
_ELISION = re.compile(r"^[^\W\d_]{1,2}['\u2019]")


def _kind(group: str, sentence_start: bool, whole_names: bool = False) -> str:
    """What ``group`` (words joined by no-break spaces) is to hyphenation:
    "number" (it holds a number: a date, a quantity, a reference), "name" (a
    capitalised word not merely opening a sentence, also after an elision:
    "d’Azerbaïdjan"), "link" (a short lower-case word that may join the
    words of a name), or "" (running words)."""
    if (NBSP in group and any(c.isdigit() for c in group)) or _SUFFIXED.search(group):
        return "number"
    for index, word in enumerate(group.split(NBSP)):
        initial = _ELISION.sub("", word)  # "d’", "l’", "qu’"
        first = next((c for c in initial if c.isalpha() or c.isdigit()), "")
        if first.isupper() and not (sentence_start and index == 0):
            return "name"
    if _LINK.fullmatch(group) and not group[0].isupper():
        return "link"
    return ""


def _whole(group: str, kind: str, whole_names: bool) -> bool:
    """Whether ``group``, alone, is kept whole: a number with its suffix, a
    name with a hyphen ("États-Unis"), any name where ``whole_names``."""
    return kind == "number" or (kind == "name" and (whole_names or bool(
        re.search(r"\w-\w", group))))


def _spans(text: str, whole_names: bool = False,
           superior: re.Pattern[str] | None = None, ends_block: bool = False) -> str:
    """``text`` escaped, with the runs hyphenation leaves whole in spans: what
    holds a number, and names of two capitalised words or more, linked or not
    ("Российской Федерации", "République d’Azerbaïdjan", "Fédération de
    Russie"); a single capitalised word ("Посольства") may be hyphenated
    like any other. Where ``text`` ends a paragraph or item, its last word
    is not hyphenated either: a paragraph does not end on a fragment
    ("under- / ground.", "instal- / lation.")."""
    groups = []  # (start, end, kind)
    for match in _WORD.finditer(text):
        # Whether it opens a sentence: the text before it, spaces left out,
        # is empty or ends with a full stop, a mark or a colon.
        last = match.start() - 1
        while last >= 0 and text[last].isspace():
            last -= 1
        opens = last < 0 or text[last] in ".!?:"
        groups.append((match.start(), match.end(), _kind(match.group(), opens)))
    runs: list[list[tuple[int, int, str]]] = []
    for group in groups:
        # Names join with their links; what holds a number stands alone.
        joined = bool(runs) and runs[-1][-1][2] in ("name", "link") \
            and group[2] in ("name", "link") and text[runs[-1][-1][1]:group[0]] == " "
        if joined:
            runs[-1].append(group)
        else:
            runs.append([group])
    spans: list[tuple[int, int, str]] = []  # (start, end, classes)
    for run in runs:
        while run and run[-1][2] == "link":
            run = run[:-1]
        while run and run[0][2] == "link":
            run = run[1:]
        kinds = [kind for _, _, kind in run]
        start, end = (run[0][0], run[-1][1]) if run else (0, 0)
        whole = len(run) == 1 and _whole(text[start:end], kinds[0], whole_names)
        if whole or kinds.count("name") >= 2:
            spans.append((start, end, f"{UNBROKEN} {WHOLE}" if whole and _BREAKS_AFTER.search(
                text[start:end]) else UNBROKEN))
    if ends_block and groups and (not spans or spans[-1][1] < groups[-1][1]):
        spans.append((groups[-1][0], groups[-1][1], UNBROKEN))
    out: list[str] = []
    position = 0
    for start, end, classes in _unglued(spans, groups, text):
        before = text[position:start]
        out.append(_superscript(before.removesuffix(" "), superior))
        space = " " if before.endswith(" ") else ""
        if space and WHOLE in classes:
            # A span that does not wrap cannot hold its break opportunity.
            out.append(f'<span class="{SPACE}"> </span>')
            space = ""
        # The space before a span that wraps opens it: the text before then
        # ends on a word, and the span starts as any text after an inline
        # element does. (A box of its own for each space, as before a span
        # that does not wrap, made WeasyPrint lay the note out about a
        # tenth slower: benchmarks/bench_markup.py.)
        out.append(f'<span class="{classes}">{space}'
                   f'{_superscript(text[start:end], superior)}</span>')
        position = end
    out.append(_superscript(text[position:], superior))
    return "".join(out)


def _unglued(spans: list[tuple[int, int, str]], groups: list[tuple[int, int, str]],
             text: str) -> list[tuple[int, int, str]]:
    """``spans``, each widened over the groups a no-break space glues to it
    ("l’incident ;", "« Kinjal »"): a span must start after a
    break opportunity, or WeasyPrint, finding it too wide for the line, ends
    the line at the first opportunity before it ("a) de / fournir …")."""
    found: list[tuple[int, int, str]] = []
    starts = [group_start for group_start, _, _ in groups]
    for start, end, classes in spans:
        floor = found[-1][1] if found else 0
        # Back over the groups before it, while glued (a group that is not
        # leaves every earlier one with a word between it and the span).
        for index in range(bisect.bisect_left(starts, start) - 1, -1, -1):
            group_start, group_end, _ = groups[index]
            if group_end >= start or group_start < floor \
                    or not _glued(text[group_end:start]):
                break
            start = group_start
        # On over the groups after it, while glued.
        for index in range(bisect.bisect_right(starts, end), len(groups)):
            group_start, group_end, _ = groups[index]
            if not _glued(text[end:group_start]):
                break
            end = group_end
        if found and start < found[-1][1]:
            start = found[-1][1]
        found.append((start, end, classes))
    return found


def _glued(between: str) -> bool:
    """Whether what stands ``between`` two groups glues them: no-break spaces
    only (or nothing), no plain space."""
    return between.strip(_SPACES) == "" and " " not in between


def _pieces(document: str) -> Iterator[tuple[str, bool]]:
    """The pieces of ``document``: (tag, True) or (text, False)."""
    for piece in _TAG.split(document):
        if piece:
            yield piece, piece.startswith("<")


def typeset_html(document: str, typography: Typography) -> str:
    """``document`` (a note's HTML) with its text typeset by ``typography``."""
    out: list[str] = []
    in_body = in_main = skip = False
    block = False  # in an address block or a signatory's name or title
    at_head = True
    pieces = list(_pieces(document))
    for index, (piece, is_tag) in enumerate(pieces):
        if is_tag:
            out.append(piece)
            name = _TAG_NAME.match(piece)
            tag = name.group(1).lower() if name else ""
            closing = piece.startswith("</")
            if tag == "body":
                in_body = not closing
            elif tag == "main":
                in_main = not closing
            elif tag in ("style", "script", "title"):
                skip = not closing
            elif closing and tag in ("address", "p"):
                block = False
            elif tag == "address" or (tag == "p" and "signatory" in piece):
                block = True
            if tag in _BLOCKS:
                at_head = True
            continue
        if not in_body or skip or not piece.strip():
            out.append(piece)
            continue
        text = typography.text(html.unescape(piece), at_head)
        if block:
            text = typography.title(text)
        at_head = False
        marked = typography.markup(text, running=in_main,
                                   ends_block=in_main and _ends_block(pieces, index + 1))
        if in_main and marked.endswith(" ") and _opens_inline(pieces, index + 1):
            # The template's own inline element ("<em>") gets the same box (SPACE).
            marked = f'{marked[:-1]}<span class="{SPACE}"> </span>'
        out.append(marked)
    return "".join(out)


def _opens_inline(pieces: list[tuple[str, bool]], index: int) -> bool:
    """Whether ``pieces[index]`` opens an inline element (a ``<span>``, not a block)."""
    if index >= len(pieces) or not pieces[index][1] or pieces[index][0].startswith("</"):
        return False
    name = _TAG_NAME.match(pieces[index][0])
    return name is not None and name.group(1).lower() not in _PARAGRAPH_ENDS


#: Tags that end a paragraph's text when they follow it ("</p>", "<ul>" in an item).
_PARAGRAPH_ENDS = _BLOCKS | {"ul", "ol", "table"}


def _ends_block(pieces: list[tuple[str, bool]], index: int) -> bool:
    """Whether the text before ``pieces[index]`` ends its paragraph or item:
    only closing inline tags stand between it and a block's tag."""
    for piece, is_tag in itertools.islice(pieces, index, None):  # no copy: linear
        if not is_tag:
            if piece.strip():
                return False
            continue
        name = _TAG_NAME.match(piece)
        tag = name.group(1).lower() if name else ""
        if tag in _PARAGRAPH_ENDS:
            return True
        if not piece.startswith("</"):
            return False
    return False
