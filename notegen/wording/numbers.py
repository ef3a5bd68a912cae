"""Numbers, counts, dates and times as a language writes them, from CLDR
(through Babel) and the catalogue's data; no word of any language is here.

- A **series of dates** shares what its dates share: "8 and 18 August 2025",
  "30 July and 2 August 2025", «8 и 18 августа 2025 года». The catalogue's
  date pattern is cut around its day and its year fields, so any CLDR
  pattern (day first or month first) collapses the same way.
- A **day** may have a word of its own: ``date.day.1: "1er"`` (French).
- A **time** follows ``time_pattern`` (an LDML pattern; CLDR's short time
  by default), with ``time_pattern_on_the_hour`` for a full hour: French
  "1 h", "6 h 15". Its case endings (``number_suffixes``) follow the vowel
  harmony of the number as spoken: Azerbaijani "06:15-də" ("on beş"),
  used as ``{time.loc}``.
- A **count** is a number in the locale's digits and grouping ("12 500")
  with the words that agree with it: the phrase ``count.<what>`` in the
  variant for the number's CLDR plural category (``.one``, ``.few``,
  ``.many``, ``.other``) or for the number itself (``.=1``).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import DateTimeFormat, format_time, tokenize_pattern
from babel.lists import format_list
from babel.numbers import format_decimal

if TYPE_CHECKING:
    from .catalogue import Catalogue

#: The no-break space, which keeps the words of a date on one line.
NBSP = "\u00a0"
#: Marks, while a series is built, the spaces a line may break at ("and").
_BREAK = "\x00"
#: The plural categories CLDR names.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")

Token = tuple[str, object]


class Counted(str):
    """Text standing for ``amount`` things: a count ("3 blessés") or a series
    of dates. A phrase with plural variants (``key.one``, ``key.other``, …) is
    chosen by the amount of the first such value it is given."""

    amount: int

    def __new__(cls, text: str, amount: int) -> Counted:
        counted = super().__new__(cls, text)
        counted.amount = amount
        return counted

    def __reduce__(self) -> tuple[type[Counted], tuple[str, int]]:
        # (pickled: to a render's spare child)
        return Counted, (str(self), self.amount)


def plural_keys(key: str, count: int, category: str) -> tuple[str, ...]:
    """The keys a phrase for ``count`` things is looked up by, best first:
    the number itself, its plural category, the plain key, then ``other``."""
    return (f"{key}.={count}", f"{key}.{category}", key, f"{key}.other")


def number(value: int, catalogue: Catalogue) -> str:
    """``value`` in the locale's digits and grouping: "12,500", "12 500"."""
    return format_decimal(value, locale=catalogue.locale)


def count(what: str, value: int, catalogue: Catalogue) -> Counted:
    """``value`` things of kind ``what``, in the words of ``count.<what>``
    that agree with it ("1 blessé", "3 blessés", "2 человека"), or the bare
    number if the catalogue has no such phrase."""
    digits = number(value, catalogue).replace(" ", NBSP)
    category = catalogue.locale.plural_form(value)
    for key in plural_keys(f"count.{what}", value, category):
        if catalogue.key(key) is not None:
            # A number and the word it counts stay on one line.
            text = catalogue.phrase(key, count=digits)
            return Counted(text.replace(f"{digits} ", f"{digits}{NBSP}"), value)
    return Counted(digits, value)


def _pattern(catalogue: Catalogue) -> list[Token]:
    pattern = catalogue.date_pattern
    if pattern in ("short", "medium", "long", "full"):
        pattern = catalogue.locale.date_formats[pattern].pattern
    return list(tokenize_pattern(pattern))


def _field_at(tokens: Sequence[Token], letters: str) -> int | None:
    for index, (kind, value) in enumerate(tokens):
        if kind == "field" and isinstance(value, tuple) and value[0] in letters:
            return index
    return None


def _format(tokens: Sequence[Token], value: dt.date, catalogue: Catalogue) -> str:
    fields = DateTimeFormat(value, locale=catalogue.locale)
    words = []
    for index, (kind, token) in enumerate(tokens):
        if kind == "chars":
            # The first space before the year is where a date may break.
            if _before_year(tokens, index):
                token = str(token).replace(" ", _BREAK, 1)
            words.append(str(token))
        else:
            assert isinstance(token, tuple)
            letter, width = token
            if letter == "d":
                words.append(day(value, catalogue))
            else:
                words.append(fields[letter * width])
    return "".join(words)


def _before_year(tokens: Sequence[Token], index: int) -> bool:
    if index > 0 and tokens[index - 1][0] == "chars":
        return False  # not the first of the characters before the field
    for kind, token in tokens[index + 1:]:
        if kind == "field":
            return isinstance(token, tuple) and token[0] in "yY"
    return False


def day(value: dt.date, catalogue: Catalogue) -> str:
    """The day of the month as a date writes it: "1er" in French (the
    catalogue's ``date.day.<n>``), else the digits."""
    own = catalogue.phrases.get(f"date.day.{value.day}")
    return own if own is not None else str(value.day)


def _split(tokens: list[Token], letters: str) -> tuple[list[Token], list[Token], list[Token]]:
    """``tokens`` cut into what comes before the field of ``letters`` (with the
    separator that leads to it), the field with what only it owns, and what
    follows; e.g. "d MMMM" | " y 'года'" for the year."""
    at = _field_at(tokens, letters)
    if at is None:
        return tokens, [], []
    start = at
    while start > 0 and tokens[start - 1][0] == "chars":
        start -= 1
    end = at + 1
    while end < len(tokens) and tokens[end][0] == "chars":
        end += 1
    if end == len(tokens):  # the field ends the pattern: it owns what leads to it
        return tokens[:start], tokens[start:], []
    if start == 0:  # it starts the pattern: it owns what follows it
        return [], tokens[:end], tokens[end:]
    return tokens[:at], tokens[at:at + 1], tokens[at + 1:]


def _join(items: Sequence[str], catalogue: Catalogue) -> str:
    # The words of each item never break; the list's own spaces may.
    text = format_list([item.replace(" ", NBSP) for item in items], locale=catalogue.locale)
    return text.replace(" ", _BREAK)


def dates(values: Sequence[dt.date], catalogue: Catalogue,
          words: Callable[[str, int], str]) -> Counted:
    """``values`` in words, sharing what they share: "8 and 18 August 2025".

    ``words(text, year)`` adds what the catalogue's ``date.words`` phrase
    adds to a date (Azerbaijani "2025-ci il")."""
    tokens = _pattern(catalogue)
    parts = []
    for year, same_year in itertools.groupby(values, key=lambda d: d.year):
        in_year = list(same_year)
        head, year_part, tail = _split(tokens, "yY")
        separable = not (head and tail and year_part)
        if not separable or len(in_year) == 1:
            texts = [words(_format(tokens, d, catalogue), d.year) for d in in_year]
            parts.append(_join(texts, catalogue) if len(texts) > 1 else texts[0])
            continue
        rest = head or tail
        months: list[str] = []
        for _, same_month in itertools.groupby(in_year, key=lambda d: d.month):
            in_month = list(same_month)
            before, day_part, after = _split(rest, "d")
            if len(in_month) == 1 or not day_part:
                months.extend(_format(rest, d, catalogue) for d in in_month)
                continue
            at = _field_at(day_part, "d") or 0
            first = in_month[0]
            days = _join([day(d, catalogue) for d in in_month], catalogue)
            months.append(_format(before, first, catalogue)
                          + _format(day_part[:at], first, catalogue) + days
                          + _format(day_part[at + 1:], first, catalogue)
                          + _format(after, first, catalogue))
        series = _join(months, catalogue) if len(months) > 1 else months[0]
        shared = _format(year_part, in_year[0], catalogue)
        text = series + shared if head else shared + series
        parts.append(words(text, year))
    text = _join(parts, catalogue) if len(parts) > 1 else parts[0]
    # A line may break between the month and the year ("14 ноября /
    # 2025 года"), never between the day and the month, nor inside the year.
    text = month_before_year(catalogue.locale).sub(rf"\1{_BREAK}", text.replace(NBSP, " "))
    return Counted(text.replace(" ", NBSP).replace(_BREAK, " "), len(values))


@functools.lru_cache(maxsize=64)
def month_before_year(locale: Locale) -> re.Pattern[str]:
    """A month's name (CLDR's, every form) and the space before a number
    after it: where a date may break between lines."""
    names: set[str] = set()
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            names.update(str(name).rstrip(".") for name in locale.months[context][width].values())
    alternatives = "|".join(sorted((re.escape(n) for n in names if len(n) > 2),
                                   key=len, reverse=True))
    return re.compile(rf"(?<!\w)((?:{alternatives})\.?)[ \u00a0](?=\d)", re.IGNORECASE)


def time(value: str, catalogue: Catalogue) -> tuple[str, dict[str, str]]:
    """A time given as "HH:MM", as the language writes it ("01:00", "1 h",
    "6 h 15"), and its case endings (``number_suffixes``) as forms."""
    hours, minutes = (int(part) for part in value.split(":"))
    moment = dt.time(hours, minutes)
    pattern = ((catalogue.time_pattern_on_the_hour if minutes == 0 else None)
               or catalogue.time_pattern or catalogue.locale.time_formats["short"].pattern)
    text = format_time(moment, pattern, locale=catalogue.locale).replace(" ", NBSP)
    return text, suffixed(text, minutes or hours, catalogue)


def suffixed(text: str, spoken: int, catalogue: Catalogue) -> dict[str, str]:
    """``text`` (a number written in digits, read as ``spoken``) with each case
    ending of ``number_suffixes``, chosen by the last vowel of the number as
    spoken: "06:15" read "on beş" takes "-də"."""
    if not catalogue.number_suffixes:
        return {}
    from num2words import num2words  # only the languages that need it

    said = num2words(spoken, lang=catalogue.locale.language)
    forms = {}
    for case, endings in catalogue.number_suffixes.items():
        last = next((letter for letter in reversed(said.lower()) if letter in endings), None)
        if last is not None:
            forms[case] = text + endings[last]
    return forms
