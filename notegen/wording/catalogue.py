"""Phrase catalogues: every fixed wording of a note, per language.

A catalogue is a YAML file ``catalogues/<lang>.yaml`` in a template folder. It
names the Babel locale used for dates, lists and numbers, and holds the
phrases keyed by name. A key may be prefixed by a note type
(``first_person_note.narrative``); that variant wins for notes of the type.

Placeholders are ``{name}``, or ``{name.case}`` for another grammatical case of
a name (``{addressee.dat}``: the dative, which Russian and Azerbaijani
formulae need); the records supply the forms. ``{name.bare}`` is the name
without the article the catalogue lists under ``articles`` ("Ambassade …"
for "l'Ambassade …"), unless the records give that form.

Words that agree with the gender of a name or person are a choice,
``{counterpart:masculine=Уважаемый|feminine=Уважаемая}``: the branch of the
gender of ``counterpart`` (a person's ``gender``, female or male, is
feminine or masculine; a party's or State's is given per language). When the
records do not give the gender a phrase needs, that is a located error.

Text in ``[brackets]`` is kept only when every placeholder in it has a value:
``"and[, {reply},] has the honour"`` names the note answered only in a reply.

A value that starts with a comma joins the word before it: a French clause
", dès avril 2022, la partie …" after "que {text}" gives "que, dès avril 2022".

Nothing else in braces is interpreted, so a catalogue cannot reach into
Python objects. Every form and gender one phrase lacks is reported at once.
"""

from __future__ import annotations

import copyreg
import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import parse_pattern
from babel.lists import format_list
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Location, Problem, RecordError, TemplateError
from ..records.reading import read_data_file
from ..template_folders import LANGUAGE_CODE, TemplateFolders
from . import numbers
from .numbers import Counted, plural_keys
from .typography import Typography, TypographyRules


def _locale_by_name(locale: Locale) -> tuple[type[Locale], tuple[str | None, ...]]:
    return Locale, (locale.language, locale.territory, locale.script, locale.variant,
                    locale.modifier)


# A catalogue is pickled to a render's bounded child (a spare one, forked
# before the render was asked for): Babel would pickle a locale with all its
# data (180 KB, 8 ms to load back); by name, the child finds the data it has.
copyreg.pickle(Locale, _locale_by_name)

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?:\.([a-z]+))?\}")
#: ``{name:masculine=…|feminine=…}``: words that agree with the gender of ``name``.
_CHOICE = re.compile(r"\{([a-z_][a-z0-9_]*):([a-z]+=[^|{}\[\]]*(?:\|[a-z]+=[^|{}\[\]]*)*)\}")
#: A space before a comma, which a value opening with its comma leaves.
_SPACE_BEFORE_COMMA = re.compile(r" +(?=,)")
#: ``[…]``: text kept only when every placeholder in it has a value.
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
#: The grammatical genders a choice may name.
GENDERS = ("masculine", "feminine", "neuter")
_WORD = re.compile(r"\w+")
#: A word, with the apostrophe of an elision after it ("j'", "m’").
_WORD_AND_APOSTROPHE = re.compile(r"\w+['\u2019]?")
_VOWELS = "aeiouàâäéèêëîïôöûùüAEIOUÀÂÄÉÈÊËÎÏÔÖÛÙÜ"

#: The no-break space, which keeps the words of a date on one line.
NBSP = "\u00a0"


class Name(str):
    """A name as running text uses it, which also knows its other grammatical
    cases (``forms``, e.g. ``{"dat": "Посольству …"}``) and where they are
    written, to point there when one is missing."""

    forms: Mapping[str, str]
    field: str
    where: Location | None
    #: Its grammatical gender in the note's language (masculine, feminine,
    #: neuter), or ``None`` if the records do not give it.
    gender: str | None
    #: What to add to the records when a phrase needs the gender, and where.
    gender_hint: str
    gender_where: Location | None

    def __new__(cls, text: str, forms: Mapping[str, str] | None = None, field: str = "name",
                where: Location | None = None, gender: str | None = None,
                gender_hint: str = "gender", gender_where: Location | None = None) -> Name:
        name = super().__new__(cls, text)
        name.forms = dict(forms or {})
        name.field = field
        name.where = where
        name.gender = gender
        name.gender_hint = gender_hint
        name.gender_where = gender_where
        return name


class _CatalogueFile(BaseModel):
    """One catalogue file. A file in a user's folder may give only what it
    changes: it lies over the same language's file in the folders after it."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = None
    locale: str | None = None
    date_pattern: str | None = None
    phrases: dict[str, str] = Field(default_factory=dict)
    first_person: list[str] | None = None
    first_person_exceptions: list[str] | None = None
    elisions: dict[str, str] | None = None
    articles: list[str] | None = None
    time_pattern: str | None = None
    time_pattern_on_the_hour: str | None = None
    number_suffixes: dict[str, dict[str, str]] | None = None
    typography: TypographyRules | None = None


@dataclass(frozen=True)
class Catalogue:
    """The phrases of one language, and how it writes dates and lists."""

    lang: str
    language: str
    locale: Locale
    date_pattern: str
    phrases: Mapping[str, str]
    path: Path
    #: Words that give away a first-person voice ("I", "we", "our"…).
    first_person: frozenset[str] = frozenset()
    #: Phrases in which such a word is not a pronoun ("Protocol I").
    first_person_exceptions: tuple[str, ...] = ()
    #: Words elided before a vowel once a phrase is filled (French "que " → "qu'").
    elisions: tuple[tuple[re.Pattern[str], str], ...] = ()
    #: The note type whose variants of phrases win (``"first_person_note"``).
    variant: str = ""
    #: Articles a name may start with, which ``{name.bare}`` drops ("l'", "le ").
    articles: tuple[str, ...] = ()
    #: How a time is written, an LDML pattern ("H' h 'mm"); CLDR's short time if
    #: ``None``; and on the full hour ("H' h'").
    time_pattern: str | None = None
    time_pattern_on_the_hour: str | None = None
    #: Case endings of a number written in digits, by the last letter of the
    #: number as spoken that the ending table names: ``{"loc": {"ı": "-da", …}}``.
    number_suffixes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: The language's typography, applied to the rendered note's text.
    typography: Typography = field(default_factory=Typography)

    def key(self, key: str) -> str | None:
        """The key actually used for ``key``: the variant's, the plain one, or ``None``."""
        for candidate in (f"{self.variant}.{key}", key) if self.variant else (key,):
            if candidate in self.phrases:
                return candidate
        return None

    def phrase(self, key: str, **values: object) -> str:
        """The phrase ``key`` with its ``{placeholders}`` filled from ``values``.

        :raises TemplateError: if the catalogue lacks the phrase or a value.
        :raises RecordError: if a name lacks the grammatical case a phrase asks for.
        """
        found = self._chosen(key, values)
        if found is None:
            raise TemplateError(f"the {self.language} catalogue has no phrase {key!r}",
                                template=str(self.path))

        problems: list[Problem] = []

        def given(name: str) -> object:
            if name not in values:
                raise TemplateError(f"phrase {found!r} uses {{{name}}}, which is not given "
                                    "here", template=str(self.path))
            return values[name]

        def optional(match: re.Match[str]) -> str:
            names = [m.group(1) for pattern in (_PLACEHOLDER, _CHOICE)
                     for m in pattern.finditer(match.group(1))]
            return match.group(1) if all(str(given(name)) for name in names) else ""

        def choose(match: re.Match[str]) -> str:
            name, choices = match.groups()
            branches = dict(choice.split("=", 1) for choice in choices.split("|"))
            unknown = sorted(set(branches) - set(GENDERS))
            if unknown:
                raise TemplateError(f"phrase {found!r} chooses by {', '.join(unknown)}; a "
                                    f"choice names {', '.join(GENDERS)}",
                                    template=str(self.path))
            value = given(name)
            gender = value.gender if isinstance(value, Name) else None
            if gender is None:
                hint = value.gender_hint if isinstance(value, Name) else "gender"
                problems.append(Problem(
                    f"the {self.language} phrase {found!r} agrees with the gender of "
                    f"{str(value)!r}: give it {hint}",
                    value.gender_where if isinstance(value, Name) and value.gender_where
                    else Location()))
                return ""
            if gender not in branches:
                raise TemplateError(f"phrase {found!r} has no {gender} form in its choice by "
                                    f"{{{name}}}", template=str(self.path))
            return branches[gender]

        def fill(match: re.Match[str]) -> str:
            name, case = match.groups()
            value = given(name)
            if case is None:
                return str(value)
            if isinstance(value, Name) and case in value.forms:
                return value.forms[case]
            if case == "bare":
                return self.bare(str(value))
            field = value.field if isinstance(value, Name) else name
            problems.append(Problem(
                f"the {self.language} phrase {found!r} needs the {case!r} form of "
                f"{str(value)!r}: add it as forms: {{{self.lang}: {{{field}.{case}: …}}}}",
                value.where if isinstance(value, Name) and value.where else Location()))
            return ""

        text = _OPTIONAL.sub(optional, self.phrases[found])
        text = _CHOICE.sub(choose, text)
        text = _PLACEHOLDER.sub(fill, text)
        text = _SPACE_BEFORE_COMMA.sub("", text)
        if problems:
            raise RecordError(problems)
        for pattern, elided in self.elisions:
            text = pattern.sub(elided, text)
        return text

    def _chosen(self, key: str, values: Mapping[str, object]) -> str | None:
        """The key used for ``key`` given ``values``: with a count among them
        (:class:`~.numbers.Counted`: a count, a series of dates), the variant
        for that many (``key.=1``, ``key.one``, ``key.few``…) if there is one."""
        counted = next((v for v in values.values() if isinstance(v, Counted)), None)
        if counted is not None:
            category = self.locale.plural_form(counted.amount)
            for candidate in plural_keys(key, counted.amount, category):
                if (found := self.key(candidate)) is not None:
                    return found
        return self.key(key)

    def date(self, value: dt.date) -> str:
        """``value`` in words, e.g. "14 November 2025", "14 noyabr 2025-ci il".

        Babel writes the pattern (months in their grammatical case); a
        ``date.words`` phrase may add what CLDR lacks, from ``{date}``,
        ``{year}`` and ``{year_ordinal}`` (the year as an ordinal numeral,
        e.g. Azerbaijani "2025-ci"); ``date.day.<n>`` is a day's own word
        (French "1er"). A date is never split between lines.
        """
        return str(self.dates([value]))

    def dates(self, values: Sequence[dt.date]) -> Counted:
        """``values`` (in order) in words, sharing the month and year they share:
        "8 and 18 August 2025", "30 July and 2 August 2025"; counted, so a
        phrase can agree with a series (Azerbaijani "tarixlərində")."""
        return numbers.dates(values, self, self._date_words)

    def _date_words(self, words: str, year: int) -> str:
        phrase = self.phrases.get("date.words")
        if phrase is None:
            return words
        ordinal = ""
        if "{year_ordinal}" in phrase:
            from num2words import num2words  # only the languages that need it

            ordinal = num2words(year, lang=self.locale.language, to="ordinal_num")
        return self.phrase("date.words", date=words, year=year, year_ordinal=ordinal)

    def time(self, value: str) -> Name:
        """A time given as "HH:MM" as the language writes it ("01:00", French
        "6 h 15"), with its case endings as forms (``{time.loc}``: "06:15-də")."""
        text, forms = numbers.time(value, self)
        return Name(text, forms, "time")

    def number(self, value: int) -> str:
        """``value`` in the locale's digits and grouping: "12,500", "12 500"."""
        return numbers.number(value, self)

    def count(self, what: str, value: int) -> Counted:
        """``value`` things of kind ``what`` in words that agree with the number
        (``count.<what>`` and its plural variants): "1 blessé", "5 человек"."""
        return numbers.count(what, value, self)

    def bare(self, name: str) -> str:
        """``name`` without the article it starts with, if the catalogue lists
        it (French "l'Ambassade de …" → "Ambassade de …" in an address block)."""
        for article in self.articles:
            if name[:len(article)].casefold() == article.casefold() \
                    and len(name) > len(article):
                return capitalize_first(name[len(article):], self.locale.language)
        return name

    def first_person_words(self, text: str) -> list[str]:
        """The words of ``text`` that are first-person pronouns in this language.

        A listed word ending in an apostrophe is an elision and counts only
        with its apostrophe (French "j'", "m'"), never as a word of its own:
        "200 m" (metres) is no pronoun.
        """
        for exception in self.first_person_exceptions:
            text = text.replace(exception, " ")
        found = []
        for match in _WORD_AND_APOSTROPHE.finditer(text):
            word = match.group(0).replace("\u2019", "'")
            # "we'll": the word before an apostrophe that is no listed elision.
            for candidate in dict.fromkeys((word, word.rstrip("'"))):
                # A listed word, or it capitalised at the start of a sentence:
                # "We" counts, "US" (the country) does not.
                if candidate in self.first_person or (
                        candidate[1:] == candidate[1:].lower()
                        and candidate.lower() in self.first_person):
                    found.append(candidate)
                    break
        return found

    def with_phrases(self, overrides: Mapping[str, str], variant: str | None = None) -> Catalogue:
        """This catalogue with ``overrides`` replacing phrases, and, if given, ``variant``."""
        return replace(self, phrases={**self.phrases, **overrides},
                       variant=self.variant if variant is None else variant)

    def join(self, items: Sequence[str]) -> str:
        """``items`` as a list in running text: "a, b and c"."""
        return format_list(list(items), locale=self.locale) if items else ""

    def sentence(self, text: str) -> str:
        """``text`` with its first letter capitalised as the language does it."""
        return capitalize_first(text, self.locale.language)


def capitalize_first(text: str, lang: str) -> str:
    """``text`` with only its first letter made upper case, the way ``lang`` does
    it (Azerbaijani and Turkish dotted i becomes İ)."""
    if not text:
        return text
    first = text[0]
    if first == "i" and lang.split("_")[0] in ("az", "tr"):
        return "İ" + text[1:]
    return first.upper() + text[1:]


def load_catalogue(lang: str, folders: TemplateFolders) -> Catalogue | None:
    """The catalogue of ``lang``: every folder's ``catalogues/<lang>.yaml``, the
    earlier folders' phrases over the later ones'; ``None`` if no folder has one.

    :raises TemplateError: if a catalogue file is invalid, or together they
        do not name the language and its Babel locale.
    """
    # The language becomes part of a file name: accept language codes only.
    if not LANGUAGE_CODE.fullmatch(lang):
        return None
    found = tuple((path, path.stat().st_mtime_ns)
                  for path in folders.each(f"catalogues/{lang}.yaml"))
    return _merge_catalogue(lang, found) if found else None


@functools.lru_cache(maxsize=32)
def _merge_catalogue(lang: str, files: tuple[tuple[Path, int], ...]) -> Catalogue:
    # Cached per set of file versions: reading and validating the YAML was
    # most of a warm HTML render, and an edited file (new mtime) is read again.
    layers = [read_data_file(path, _CatalogueFile) for path, _ in files]  # first wins
    first = files[0][0]

    def pick(field: str) -> Any:
        return next((value for layer in layers
                     if (value := getattr(layer, field)) is not None), None)

    language, locale_name = pick("language"), pick("locale")
    if language is None or locale_name is None:
        raise TemplateError(f"the {lang} catalogue names no language or locale (a new "
                            "language's catalogue needs both)", template=str(first))
    try:
        locale = Locale.parse(locale_name)
    except (UnknownLocaleError, ValueError):
        raise TemplateError(f"unknown Babel locale {locale_name!r}",
                            template=str(first)) from None
    phrases: dict[str, str] = {}
    for layer in reversed(layers):
        phrases.update(layer.phrases)
    # A date.words phrase may add the year itself (Azerbaijani "2025-ci il").
    year_in_phrase = "{year" in phrases.get("date.words", "")
    for (path, _), layer in zip(files, layers, strict=True):
        if layer.date_pattern is not None:  # the first that gives one is used
            problem = _date_pattern_problem(layer.date_pattern, year_in_phrase)
            if problem is not None:
                raise TemplateError(problem, template=str(path), problems=[
                    Problem(problem, Location(path, field="date_pattern"))])
            break
    return Catalogue(
        lang=lang, language=language, locale=locale,
        date_pattern=pick("date_pattern") or "long", phrases=phrases, path=first,
        first_person=frozenset(pick("first_person") or ()),
        first_person_exceptions=tuple(pick("first_person_exceptions") or ()),
        elisions=tuple((re.compile(rf"(?<!\w){re.escape(word)}(?=[{_VOWELS}])"), elided)
                       for word, elided in (pick("elisions") or {}).items()),
        articles=tuple(pick("articles") or ()),
        time_pattern=pick("time_pattern"),
        time_pattern_on_the_hour=pick("time_pattern_on_the_hour"),
        number_suffixes=pick("number_suffixes") or {},
        typography=Typography(pick("typography") or TypographyRules(), locale))


#: The date formats CLDR names; any other ``date_pattern`` is a pattern of fields.
_NAMED_FORMATS = ("short", "medium", "long", "full")
_FIELD = re.compile(r"%\((\w+)\)s")


def _date_pattern_problem(pattern: str, year_in_phrase: bool) -> str | None:
    """Why ``pattern`` cannot write a note's dates, or ``None`` if it can: a
    CLDR format name, or an LDML pattern with a day, a month and a year (the
    year may come from the ``date.words`` phrase instead) and only date
    fields (``'`` quotes literal text)."""
    if pattern in _NAMED_FORMATS:
        return None
    fields = {name[0] for name in _FIELD.findall(str(parse_pattern(pattern).format))}
    needed = (("day", "d"), ("month", "ML"), *(() if year_in_phrase else (("year", "yY"),)))
    missing = [label for label, letters in needed if not fields & set(letters)]
    unknown = sorted(fields - set("dMLyYEGc"))
    if missing or unknown or pattern.count("'") % 2:
        return (f"date_pattern {pattern!r} cannot write a date: use short, medium, long or "
                "full, or a pattern with day, month and year such as \"d MMMM y\" (quote "
                "literal words: \"d 'de' MMMM 'de' y\")")
    return None
