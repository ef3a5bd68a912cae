"""The records notegen reads: states, parties, facilities, incidents and notes.

A *case* is one note plus the catalogue of records it refers to. Records refer
to each other by ``id``; ids are unique across a case. Any text that appears in
a note may be given once (``name: Kyiv``) or per language
(``name: {en: Kyiv, ru: Киев}``); the note's language picks the variant.

These models only check what one record can check about itself. Rules that
need the whole case (unknown ids, dates out of order) live in
:mod:`notegen.records.case`.

Every text a record gives is bounded and clean: at most
:data:`MAX_TEXT_LENGTH` characters, and no character that would make the
printed note differ from the record or that cannot be printed at all:
control characters (tab and line breaks aside), bidirectional overrides,
embeddings and isolates, zero-width and other invisible format characters,
line and paragraph separators, lone surrogates. Each is refused by its
Unicode name and code point (:func:`describe_character`). Numbers are
finite and bounded: counts by :data:`MAX_COUNT`, distances by
:data:`MAX_DISTANCE`. Change the limits here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    WithJsonSchema,
    model_validator,
)

_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
#: What names a language, in records as in file names: ``en``, ``ru``,
#: ``az``, ``fr``, or a script variant such as ``az_Cyrl``.
LANGUAGE_PATTERN = r"^[a-z]{2,3}(_[A-Z][a-z]{3})?$"
_LANGUAGE_PATTERN = LANGUAGE_PATTERN
_URL_PATTERN = r"^https?://"
_UNIT_PATTERN = r"^(m|km|steps)$"
_FORM_PATTERN = r"^(name|short_name|side)\.[a-z]+$"
_PERSON_FORM_PATTERN = r"^(name|title|style|salutation)\.[a-z]+$"
_ARTICLE_PATTERN = r"^[a-z0-9-]+\.[a-z0-9.()-]+$"

#: Plain sentences for the patterns below, used in error messages.
PATTERN_HINTS = {
    _ID_PATTERN: "an id is written in lower-case letters, digits, '.', '_' or '-'",
    _LANGUAGE_PATTERN: "a language is a code such as en, ru, az or fr",
    _URL_PATTERN: "a URL starts with http:// or https://",
    _UNIT_PATTERN: "the unit is m, km or steps",
    _FORM_PATTERN: "a form is named after its field and grammatical case, e.g. name.dat",
    _PERSON_FORM_PATTERN: "a person's form is named after its field and grammatical case, "
                          "e.g. title.nom",
    _ARTICLE_PATTERN: "an article is named by instrument and number, e.g. vcdr.22.1",
}

#: An identifier that records use to refer to each other.
Id = Annotated[
    str,
    StringConstraints(pattern=_ID_PATTERN, max_length=80),
    Field(description="Lower-case letters, digits, '.', '_' or '-'.",
          examples=["ru-embassy-baku"]),
]

#: A language code such as ``en``, ``ru``, ``az`` or ``fr``.
LanguageCode = Annotated[str, StringConstraints(pattern=_LANGUAGE_PATTERN)]

#: The longest text one field of a record may give, in characters (a
#: note's longest paragraph is a few hundred).
MAX_TEXT_LENGTH = 10_000
#: The largest count a record may give (killed, injured, weapons, staff harmed).
MAX_COUNT = 1_000_000
#: The largest distance a record may give, in its unit.
MAX_DISTANCE = 1_000_000.0

#: Bidirectional controls: they reorder what is printed without being seen.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                  "\u2066\u2067\u2068\u2069")
#: Names Unicode does not give: the control characters.
_CONTROL_NAMES = {"\x00": "NULL", "\x07": "BELL", "\x08": "BACKSPACE",
                  "\x0b": "LINE TABULATION", "\x0c": "FORM FEED", "\x1b": "ESCAPE",
                  "\x7f": "DELETE", "\x85": "NEXT LINE"}
#: Whitespace a text may hold although it is not printable.
_ORDINARY = frozenset("\t\n\r")


def describe_character(char: str) -> str:
    """``char`` by code point and Unicode name, e.g. ``U+202E RIGHT-TO-LEFT
    OVERRIDE``: how an error names a character a reader may not see."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def _unwanted(char: str) -> str | None:
    """Why ``char`` may not stand in a text, or ``None`` if it may."""
    if char in _ORDINARY:
        return None
    category = unicodedata.category(char)
    if category == "Cc":
        return "a control character"
    if char in _BIDI:
        return "a bidirectional control, which would make the printed text differ from the " \
               "record"
    if category in ("Cf", "Zl", "Zp") and char != "\u00ad":  # a soft hyphen only hyphenates
        return "an invisible character, which would make the printed text differ from the " \
               "record"
    if category == "Cs":
        return "a lone surrogate (half of a UTF-16 pair), which is no character"
    return None


def check_string(value: str, what: str = "the text") -> str:
    """``value`` if it is short enough and holds no unwanted character.

    :raises ValueError: naming the first such character, by Unicode name and
        code point, and where it is in the text.
    """
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueError(f"{what} is {len(value):,} characters long; a text may have at most "
                         f"{MAX_TEXT_LENGTH:,}")
    if value.isprintable():  # the common case, checked in C
        return value
    for position, char in enumerate(value, start=1):
        reason = _unwanted(char)
        if reason is not None:
            raise ValueError(f"{what} has {describe_character(char)} at character {position}, "
                             f"{reason}; remove it")
    return value


NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                     AfterValidator(check_string)]
#: A string that may be empty, bounded and clean like every text.
PlainText = Annotated[str, AfterValidator(check_string)]

_LANGUAGE = re.compile(_LANGUAGE_PATTERN)


def _check_text(value: Any) -> str | dict[str, str]:
    if isinstance(value, str) and value.strip():
        return check_string(value.strip())
    if isinstance(value, dict) and value:
        for lang, variant in value.items():
            if not isinstance(lang, str) or not _LANGUAGE.match(lang):
                raise ValueError(f"{_short(lang)} is not a language code such as en, ru, az "
                                 "or fr")
            if not isinstance(variant, str) or not variant.strip():
                raise ValueError(f"the {lang} text must be a non-empty string")
            check_string(variant, f"the {lang} text")
        return {lang: variant.strip() for lang, variant in value.items()}
    raise ValueError("give a non-empty text, or a mapping of language codes to texts")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


#: Text given once for every language, or per language.
Text = Annotated[
    str | dict[str, str],
    PlainValidator(_check_text),
    # What the validator accepts: a text with something besides spaces, or a
    # mapping from language codes to such texts.
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"\S", "maxLength": MAX_TEXT_LENGTH},
        {"type": "object", "minProperties": 1,
         "propertyNames": {"pattern": _LANGUAGE_PATTERN},
         "additionalProperties": {"type": "string", "pattern": r"\S",
                                  "maxLength": MAX_TEXT_LENGTH}}]}),
]

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 13:30 as the number 810 (base 60); refuse
    # anything but the written form rather than guess.
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError('write the time as "HH:MM" in quotes, e.g. "01:00"')
    return value


class Record(BaseModel):
    """Common configuration: unknown fields are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


#: Grammatical forms of a record's names, per language: ``{ru: {name.dat: …}}``.
#: A phrase asks for one as ``{addressee.dat}``; the name itself is the
#: nominative, so only the other cases a language's phrases use are needed.
Forms = dict[LanguageCode,
             dict[Annotated[str, StringConstraints(pattern=_FORM_PATTERN)], NonEmpty]]


class Gender(StrEnum):
    """A person's gender, which salutations, titles and participles agree with."""

    female = "female"
    male = "male"


class GrammaticalGender(StrEnum):
    """The grammatical gender of a name in one language ("Министерство" is
    neuter, "l'Ambassade" feminine), which verbs and adjectives agree with."""

    masculine = "masculine"
    feminine = "feminine"
    neuter = "neuter"


#: The grammatical gender of a record's names, per language: ``{ru: neuter, fr: masculine}``.
Genders = dict[LanguageCode, GrammaticalGender]

#: Other grammatical cases of a person's name, title, style and salutation,
#: per language: ``{ru: {title.nom: …}}``.
PersonForms = dict[LanguageCode,
                   dict[Annotated[str, StringConstraints(pattern=_PERSON_FORM_PATTERN)],
                        NonEmpty]]


class Person(Record):
    """An official who signs a note or to whom one is addressed."""

    name: Text = Field(description='e.g. "Jeyhun Bayramov".',
                       examples=["Jeyhun Bayramov", {"en": "Jeyhun Bayramov",
                                                     "ru": "Джейхун Байрамов"}])
    title: Text = Field(description='Office held, e.g. "Minister of Foreign Affairs of the '
                        'Republic of Azerbaijan".',
                        examples=["Minister of Foreign Affairs of the Republic of Azerbaijan"])
    style: Text | None = Field(None, description='Written before the name in an address, '
                               'e.g. "His Excellency Mr".',
                               examples=["His Excellency Mr", {"fr": "Son Excellence Monsieur"}])
    salutation: Text | None = Field(None, description='How a first-person note greets them, '
                                    'e.g. "Excellency"; the catalogue\'s default otherwise.',
                                    examples=["Excellency", {"ru": "господин Посол"}])
    gender: Gender | None = Field(None, description="female or male: salutations, titles and "
                                  "participles agree with it (\"Уважаемая госпожа Посол\", "
                                  "\"Madame l'Ambassadrice\"). Needed where a language's "
                                  "phrases agree with the person.",
                                  examples=["male", "female"])
    forms: PersonForms = Field(default_factory=dict, description="Other grammatical cases of "
                               "name, title, style and salutation, per language (e.g. the "
                               "nominative where the texts give the dative of an address "
                               "block).",
                               examples=[{"ru": {"name.nom": "Михаил Евдокимов",
                                                 "title.nom": "Чрезвычайный и Полномочный "
                                                              "Посол"}}])


class State(Record):
    """A State, named as a note names it ("the Russian Federation")."""

    id: Id = Field(description="How other records name this State: lower-case letters, "
                   "digits, '.', '_' or '-'; its ISO code in lower case (az) also gives its "
                   "treaty participation.", examples=["az", "ru"])
    name: Text = Field(description='Full name with article as used in running text, e.g. '
                       '"the Republic of Azerbaijan".',
                       examples=["the Republic of Azerbaijan",
                                 {"en": "the Russian Federation", "ru": "Российская Федерация"}])
    short_name: Text | None = Field(None, description='e.g. "Azerbaijan".',
                                    examples=["Azerbaijan", {"en": "Russia", "ru": "Россия"}])
    side: Text | None = Field(None, description='How a note refers to its authorities, '
                              'e.g. "the Russian side".',
                              examples=["the Russian side",
                                        {"en": "the Russian side", "fr": "la partie russe"}])
    forms: Forms = Field(default_factory=dict, description="Other grammatical cases of name "
                         "and side, per language.",
                         examples=[{"ru": {"side.acc": "Российскую сторону"},
                                    "fr": {"side.dat": "à la partie russe"}}])
    iso: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description='Its ISO 3166-1 alpha-2 code, e.g. "AZ", by which treaty '
        "participation is looked up; the id in capitals if the id has two letters.",
        examples=["AZ"])

    @property
    def code(self) -> str | None:
        """The ISO code treaty participation is looked up by."""
        if self.iso is not None:
            return self.iso
        return self.id.upper() if re.fullmatch(r"[a-z]{2}", self.id) else None
    gender: Genders = Field(default_factory=dict, description="The grammatical gender of its "
                            "name and side per language, where a phrase agrees with it, e.g. "
                            "{ru: feminine} for \"Российская сторона\".",
                            examples=[{"ru": "feminine", "fr": "feminine"}])


class PartyKind(StrEnum):
    """What kind of body sends or receives notes."""

    ministry = "ministry"
    embassy = "embassy"
    consulate = "consulate"
    permanent_mission = "permanent_mission"
    other = "other"


class Party(Record):
    """A sender or addressee of notes: a ministry, an embassy, a mission."""

    id: Id = Field(description="How a note names it as sender or addressee.",
                   examples=["ru-embassy-baku", "az-mfa"])
    kind: PartyKind = Field(description="What kind of body it is.", examples=["embassy"])
    state: Id = Field(description="The State this party belongs to (the id of one of the "
                      "states).", examples=["ru"])
    name: Text = Field(description='Full name, e.g. "the Embassy of the Russian Federation '
                       'in the Republic of Azerbaijan".',
                       examples=["the Embassy of the Russian Federation in the Republic of "
                                 "Azerbaijan"])
    short_name: Text = Field(description='How the note refers to it after the first mention, '
                             'e.g. "the Embassy".',
                             examples=["the Embassy", {"en": "the Embassy", "ru": "Посольство"}])
    address: list[Text] = Field(default_factory=list,
                                description="Lines of the addressee block after the name.",
                                examples=[["Baku"]])
    seat: Text | None = Field(None, description="City where the party sits (the place on the "
                              "date line of notes it sends).",
                              examples=["Baku", {"en": "Baku", "ru": "Баку", "az": "Bakı"}])
    letterhead: list[Text] = Field(default_factory=list, description="Lines of its letterhead, "
                                   'e.g. ["Ministry of Foreign Affairs", "of the Republic of '
                                   'Azerbaijan"].',
                                   examples=[["Ministry of Foreign Affairs",
                                              "of the Republic of Azerbaijan"]])
    head: Person | None = Field(None, description="Its head: the minister or ambassador who "
                                "signs, or receives, a first-person note.",
                                examples=[{"name": "Jeyhun Bayramov", "gender": "male",
                                           "title": "Minister of Foreign Affairs"}])
    forms: Forms = Field(default_factory=dict, description="Other grammatical cases of name "
                         "and short_name, per language (e.g. the dative in Russian).",
                         examples=[{"ru": {"name.dat": "Посольству Российской Федерации в "
                                                       "Азербайджанской Республике",
                                           "short_name.dat": "Посольству"}}])
    gender: Genders = Field(default_factory=dict, description="The grammatical gender of its "
                            "name and short_name per language, where a phrase agrees with it, "
                            "e.g. {ru: neuter, fr: masculine} for a Ministry "
                            "(\"Министерство … сочло\").",
                            examples=[{"ru": "neuter", "fr": "masculine"}])


class SealPolicy(StrEnum):
    """What authenticates a note verbale at its foot."""

    seal = "seal"
    initials = "initials"
    seal_and_initials = "seal_and_initials"
    none = "none"


class CourtesyPolicy(Record):
    """Which courtesy formulae a ministry writes; some omit the closing one."""

    opening: bool = Field(True, description="Whether its notes open with the courtesy "
                          "formula (\"… presents its compliments to …\").", examples=[True])
    closing: bool = Field(True, description="Whether its notes close with the courtesy "
                          "formula (\"… avails itself of this opportunity …\").",
                          examples=[False])


_REFERENCE_FIELDS = re.compile(r"\{(\w*)\}")


def _check_reference_pattern(value: str) -> str:
    names = _REFERENCE_FIELDS.findall(value)
    unknown = sorted(set(names) - {"number", "year"})
    if unknown:
        raise ValueError(f"a reference pattern may use {{number}} and {{year}} only, "
                         f"not {', '.join('{' + n + '}' for n in unknown)}")
    if "number" not in names:
        raise ValueError("a reference pattern needs {number}")
    return value


ReferencePattern = Annotated[PlainText, AfterValidator(_check_reference_pattern)]


class Profile(Party):
    """A sending ministry's house style: its names (as a party), its own
    formulae, how it seals and how it numbers its notes.

    A profile is a party: a note's ``sender`` names it by id.
    """

    kind: PartyKind = Field(PartyKind.ministry, description="What kind of body it is; a "
                            "sending ministry by default.", examples=["ministry"])
    formulae: dict[LanguageCode, dict[NonEmpty, PlainText]] = Field(
        default_factory=dict, description="House wording per language, overriding phrases of "
        "the catalogue by key, e.g. {az: {note_verbale.opening: …}}.",
        examples=[{"en": {"note_verbale.closing": "The Ministry avails itself of this "
                          "opportunity to renew to the Embassy the assurances of its highest "
                          "consideration."}}])
    courtesy: CourtesyPolicy = Field(default_factory=CourtesyPolicy, description="Which "
                                     "courtesy formulae its notes carry.",
                                     examples=[{"opening": True, "closing": False}])
    seal: SealPolicy = Field(SealPolicy.seal_and_initials, description="What authenticates "
                             "its notes verbales at the foot.", examples=["seal_and_initials"])
    embed_sources: bool = Field(False, description="Whether the records embedded in its "
                                "notes keep each incident's sources. Off by default: a note "
                                "goes to another State, and sources may be internal.",
                                examples=[False])
    reference_pattern: ReferencePattern | None = Field(
        None, description='How its reference numbers are written, e.g. "{number}/{year}" or '
        '"12/{number}/{year}".', examples=["12/{number}/{year}", "SRE/{number}/{year}"])
    aide_memoire_reference: bool = Field(False, description="Whether its aide-mémoires carry "
                                         "the reference number, as its notes do. Off by "
                                         "default: an aide-mémoire is an unsigned record of a "
                                         "démarche and usually has none.",
                                         examples=[False])


class FacilityKind(StrEnum):
    """What premises are: it decides which articles protect them (an honorary
    consulate is not an embassy)."""

    embassy = "embassy"
    consulate_general = "consulate_general"
    consulate = "consulate"
    honorary_consulate = "honorary_consulate"
    head_of_mission_residence = "head_of_mission_residence"
    #: The private residence of a diplomatic agent other than the head of
    #: mission (VCDR Art. 30(1)).
    diplomatic_agent_residence = "diplomatic_agent_residence"
    consular_section = "consular_section"
    state_company_facility = "state_company_facility"
    other = "other"


class Facility(Record):
    """A building or site of the sending State (or its company) abroad."""

    id: Id = Field(description="How an incident's impacts name it.",
                   examples=["az-embassy-kyiv"])
    kind: FacilityKind = Field(description="What the premises are; it decides which articles "
                               "protect them.", examples=["embassy"])
    name: Text = Field(description='e.g. "the Embassy of the Republic of Azerbaijan in Ukraine".',
                       examples=["the Embassy of the Republic of Azerbaijan in Ukraine"])
    owner: Id = Field(description="The State whose facility this is.", examples=["az"])
    operator: Text | None = Field(None, description='A company that runs it, e.g. "SOCAR".',
                                  examples=["SOCAR"])
    place: Text = Field(description="City or region.",
                        examples=["Kyiv", {"en": "Kyiv", "ru": "Киев", "fr": "Kyiv"}])
    host: Id = Field(description="The State in whose territory it lies.", examples=["ua"])
    part_of: Id | None = Field(None, description="A facility this one belongs to, e.g. the "
                               "consular section of an embassy.", examples=["az-embassy-kyiv"])


class Effect(StrEnum):
    """What an incident did to a facility, from destroyed to a near miss;
    the facts that decide which articles a note cites."""

    destroyed = "destroyed"
    seriously_damaged = "seriously_damaged"
    damaged = "damaged"
    struck = "struck"
    near_miss = "near_miss"
    entered = "entered"
    surrounded = "surrounded"
    #: Searched by the authorities (VCDR Art. 22(3)).
    searched = "searched"
    #: Archives or documents seized or opened (VCDR Art. 24, VCCR Art. 33, 61).
    archives_seized = "archives_seized"
    #: A member of its diplomatic staff arrested or detained (VCDR Art. 29).
    agent_detained = "agent_detained"


class Distance(Record):
    """How far from a facility a weapon fell."""

    value: float = Field(gt=0, le=MAX_DISTANCE, allow_inf_nan=False,
                         description="How far, in the unit.", examples=[50, 1.5])
    unit: Annotated[str, Field(pattern=_UNIT_PATTERN)] = Field(
        "m", description="m, km or steps.", examples=["m", "km"])
    approximate: bool = Field(True, description='Whether the distance is approximate '
                              '("about 50 metres").', examples=[True])
    reference: Text | None = Field(None, description='What was measured from, if not the '
                                   'facility itself, e.g. "the administrative building".',
                                   examples=["the administrative building"])


class Impact(Record):
    """What an incident did to one facility."""

    facility: Id = Field(description="The facility hit (the id of one of the facilities).",
                         examples=["az-embassy-kyiv"])
    effect: Effect = Field(description="What the incident did to it.",
                           examples=["seriously_damaged", "near_miss"])
    distance: Distance | None = Field(None, description="How far from it the weapon fell "
                                      "(for a near miss).",
                                      examples=[{"value": 50, "unit": "m"}])


class MeansKind(StrEnum):
    """The kind of weapon or method used."""

    missile = "missile"
    ballistic_missile = "ballistic_missile"
    aeroballistic_missile = "aeroballistic_missile"
    cruise_missile = "cruise_missile"
    drone = "drone"
    airstrike = "airstrike"
    artillery = "artillery"
    forced_entry = "forced_entry"
    other = "other"


class Means(Record):
    """A weapon or method used, e.g. an Iskander-type missile."""

    kind: MeansKind = Field(description="What kind of weapon or method.",
                            examples=["missile", "forced_entry"])
    name: PlainText | None = Field(None, description='Designation, e.g. "Iskander" or '
                                   '"Kinzhal".', examples=["Iskander"])
    count: int | None = Field(None, ge=1, le=MAX_COUNT, description="How many were used.",
                              examples=[2])


class Casualties(Record):
    """Casualties as reported. Leave the whole block out when unknown."""

    killed: int = Field(0, ge=0, le=MAX_COUNT, description="People killed.", examples=[0])
    injured: int = Field(0, ge=0, le=MAX_COUNT, description="People injured.", examples=[2])


class Source(Record):
    """A public or internal source for the facts of an incident."""

    title: NonEmpty = Field(description="Its title.",
                            examples=["Press release of the Ministry of Foreign Affairs"])
    publisher: PlainText | None = Field(None, description="Who published it.",
                                        examples=["Ministry of Foreign Affairs of Azerbaijan"])
    url: Annotated[PlainText, Field(pattern=_URL_PATTERN)] | None = Field(
        None, description="Where it is published: http:// or https://.",
        examples=["https://mfa.gov.az/en/news"], json_schema_extra={"pattern": _URL_PATTERN})
    date: dt.date | None = Field(None, description="When it was published (YYYY-MM-DD).",
                                 examples=["2025-11-14"])


class Incident(Record):
    """One event: an attack, an intrusion, damage to a facility."""

    id: Id = Field(description="How a note names it as subject or earlier incident.",
                   examples=["kyiv-2025-11-14"])
    date: dt.date = Field(description="The day it happened (YYYY-MM-DD); the first of a "
                          "series.", examples=["2025-11-14"])
    also_on: list[dt.date] = Field(default_factory=list,
                                   description="Further dates of a series of attacks, each "
                                   "after date.", examples=[["2025-08-18"]])
    time: Annotated[str, BeforeValidator(_check_time)] | None = Field(
        None, description='Local time, "HH:MM" in quotes (unquoted, YAML may read 13:30 as a '
        "number).", examples=["01:00"], json_schema_extra={"pattern": _TIME.pattern})
    time_approximate: bool = Field(False, description='Whether the time is approximate '
                                   '("at about 01:00").', examples=[True])
    place: Text = Field(description="City or region where it happened.",
                        examples=["Kyiv", {"en": "Kyiv", "ru": "Киев", "az": "Kiyev"}])
    country: Id = Field(description="The State where it happened.", examples=["ua"])
    attributed_to: Id = Field(description="The State held responsible.", examples=["ru"])
    impacts: list[Impact] = Field(min_length=1, description="What it did to each facility "
                                  "(at least one).",
                                  examples=[[{"facility": "az-embassy-kyiv",
                                              "effect": "seriously_damaged"}]])
    means: list[Means] = Field(default_factory=list, description="The weapons or methods "
                               "used.", examples=[[{"kind": "missile", "name": "Iskander"}]])
    account: Text = Field(description="The note's own words for what happened, as a clause "
                          'following the date, e.g. "a missile struck the compound".',
                          examples=["a missile struck the compound of the Embassy"])
    damage: list[Text] = Field(default_factory=list,
                               description="Each item damaged or destroyed, as a phrase.",
                               examples=[["a section of the perimeter wall was destroyed"]])
    casualties: Casualties | None = Field(None, description="Killed and injured as reported; "
                                          "leave out when unknown.",
                                          examples=[{"killed": 0, "injured": 0}])
    agents_harmed: int = Field(0, ge=0, le=MAX_COUNT, description="Members of the "
                               "diplomatic or consular staff assaulted or injured.",
                               examples=[0])
    conflict: Id | None = Field(None, description="The armed conflict (id of one of the "
                                "case's conflicts) it took place in; none: peacetime.",
                                examples=["ru-ua"])
    sources: list[Source] = Field(default_factory=list, description="Where the facts come "
                                  "from; embedded in the PDF only if the sender's profile "
                                  "says embed_sources.",
                                  examples=[[{"title": "Press release of the Ministry",
                                              "date": "2025-11-14"}]])

    @model_validator(mode="after")
    def _series_after_first_date(self) -> Incident:
        for later in self.also_on:
            if later <= self.date:
                raise ValueError(f"also_on dates must come after date ({self.date.isoformat()})")
        return self

    @property
    def last_date(self) -> dt.date:
        return max([self.date, *self.also_on])


class ConflictKind(StrEnum):
    """Whom humanitarian law treats as at war: States (international), or a
    State and an armed group (non-international)."""

    international = "international"
    non_international = "non_international"


class ArmedConflict(Record):
    """An armed conflict in force: without one, no humanitarian law is cited."""

    id: Id = Field(description="How an incident's conflict names it.", examples=["ru-ua"])
    kind: ConflictKind = Field(ConflictKind.international, description="international "
                               "(between States) or non_international (a State and an armed "
                               "group).", examples=["international"])
    parties: list[Id] = Field(
        min_length=1, description="The States party to it (an international conflict has "
        "at least two; a non-international one the State or States fighting an armed "
        "group).", examples=[["ru", "ua"]])
    since: dt.date = Field(description="When it began.", examples=["2022-02-24"])
    until: dt.date | None = Field(None, description="When it ended; none: in force.",
                                  examples=["2024-12-31"])

    @model_validator(mode="after")
    def _consistent(self) -> ArmedConflict:
        if len(set(self.parties)) < len(self.parties):
            raise ValueError("a State is listed more than once among the parties")
        if self.kind is ConflictKind.international and len(self.parties) < 2:
            raise ValueError("an international armed conflict has at least two States as "
                             "parties")
        if self.until is not None and self.until < self.since:
            raise ValueError(f"until ({self.until.isoformat()}) is before since "
                             f"({self.since.isoformat()})")
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether it was in force on ``day``."""
        return self.since <= day and (self.until is None or day <= self.until)


class RelationsStatus(StrEnum):
    """Diplomatic relations between a sending and a receiving State."""

    normal = "normal"
    broken_off = "broken_off"
    #: The sending State's mission recalled, permanently or temporarily.
    mission_recalled = "mission_recalled"
    #: Broken off, a third State protecting the sending State's interests.
    protecting_power = "protecting_power"


class Relations(Record):
    """Diplomatic relations from a day on. Before any record, and between
    States no record names, relations are normal."""

    sending: Id = Field(description="The State whose premises lie in the receiving State.",
                        examples=["az"])
    receiving: Id = Field(description="The State where the premises lie.", examples=["ua"])
    status: RelationsStatus = Field(RelationsStatus.normal, description="The state of "
                                    "relations from since on.", examples=["normal"])
    since: dt.date | None = Field(None, description="From when; none: from the start.",
                                  examples=["2024-04-06"])
    protecting_power: Id | None = Field(None, description="The State protecting the "
                                        "sending State's interests; given exactly when the "
                                        "status is protecting_power.", examples=["ch"])

    @model_validator(mode="after")
    def _consistent(self) -> Relations:
        if self.sending == self.receiving:
            raise ValueError("the sending and receiving States must differ")
        if (self.protecting_power is None) == (self.status is RelationsStatus.protecting_power):
            raise ValueError("name a protecting_power exactly when the status is "
                             "protecting_power")
        return self


class NoteType(StrEnum):
    """The form of a note; it decides voice, courtesy, signature and layout."""

    note_verbale = "note_verbale"
    first_person_note = "first_person_note"
    aide_memoire = "aide_memoire"


class DemandKind(StrEnum):
    """What a note asks of the addressee's State; ``other`` has its own text."""

    investigation = "investigation"
    explanation = "explanation"
    accountability = "accountability"
    non_repetition = "non_repetition"
    compensation = "compensation"
    other = "other"


class Demand(Record):
    """Something the sender asks of the addressee's State."""

    kind: DemandKind = Field(description="What is asked; the catalogue words each kind "
                             "but other.", examples=["investigation", "other"])
    text: Text | None = Field(None, description="Own wording; without it the phrase catalogue "
                              "words the demand by its kind. Needed for kind other.",
                              examples=["ensure the safety of the Embassy's staff"])

    @model_validator(mode="after")
    def _other_needs_text(self) -> Demand:
        if self.kind is DemandKind.other and self.text is None:
            raise ValueError('a demand of kind "other" needs its own text')
        return self


def _unique(values: list[str]) -> list[str]:
    """``values`` if none is listed twice (counted once each: linear)."""
    twice = sorted(value for value, count in Counter(values).items() if count > 1)
    if twice:
        raise ValueError(f"listed more than once: {', '.join(twice)}")
    return values


class ReplyTo(Record):
    """The note a reply answers, sent by the addressee: "with reference to the
    Embassy's Note No. … of …"; a first-person note by its head: "Your
    Excellency's Note No. … of …"."""

    reference: NonEmpty = Field(description="Its number, without 'No.'.",
                                examples=["4512"])
    date: dt.date = Field(description="Its date (YYYY-MM-DD), not after this note's.",
                          examples=["2025-11-10"])
    type: NoteType | None = Field(None, description="Its form, which says who wrote it: a "
                                  "first-person note is the addressee's head's, any other the "
                                  "addressee's. The form of the reply (the note's type) if "
                                  "not given: a reply answers in the same form.",
                                  examples=["note_verbale"])


class RecalledReply(Record):
    """The other side's answer to an earlier note, as the register recorded it
    (``notegen register reply``)."""

    received: dt.date = Field(description="When it was received (YYYY-MM-DD).",
                              examples=["2024-05-06"])
    reference: NonEmpty | None = Field(None, description="Its number, without 'No.', if it "
                                       "is a note.", examples=["4512"])
    unsatisfactory: bool = Field(False, description="Whether the sender found its "
                                 "explanations unsatisfactory (the note then says so).",
                                 examples=[True])


class RecalledNote(Record):
    """An earlier note of the sender about an incident of this note, recalled
    by number and date. Filled from the register when the note is rendered or
    issued with one; kept in the records, so the note renders the same later."""

    reference: NonEmpty = Field(description="Its number, without 'No.'.",
                                examples=["12/200/2024"])
    date: dt.date = Field(description="Its date (YYYY-MM-DD).", examples=["2024-01-03"])
    incidents: list[Id] = Field(default_factory=list, description="The incidents of this "
                                "note it protested (as subject or in its chronology).",
                                examples=[["kyiv-2024-01-02"]])
    replies: list[RecalledReply] = Field(default_factory=list, description="The answers "
                                         "received to it; none: it remained unanswered.",
                                         examples=[[{"received": "2024-05-06",
                                                     "reference": "4512"}]])


class Framing(StrEnum):
    """How a note relies on an article."""

    #: The article binds the State the note is addressed to.
    direct = "direct"
    #: The article binds another State; the note applies it by analogy.
    by_analogy = "by_analogy"
    #: The note invokes the general principle the article reflects.
    general_principle = "general_principle"
    #: A treaty the sender is not (known to be) a party to, cited as binding
    #: on the State responsible, which is.
    binding_on_responsible = "binding_on_responsible"


class Citation(Record):
    """An article a note relies on, from the legal-basis catalogue."""

    article: Annotated[str, StringConstraints(pattern=_ARTICLE_PATTERN)] = Field(
        description='Its id in the legal-basis catalogue, e.g. "vcdr.22.1".',
        examples=["vcdr.22.1", "ihl.7"])
    framing: Framing = Field(Framing.direct, description="How the note relies on it.",
                             examples=["direct", "by_analogy"])
    facilities: list[Id] = Field(default_factory=list, description="The facilities it is "
                                 "cited for; all the note's facilities if none are named.",
                                 examples=[["az-embassy-kyiv"]])


#: The States a chronology rule names by the note's parties.
RULE_PARTIES = ("addressee", "sender")


class ChronologyRule(Record):
    """Which incidents of the case (its catalogue) a note recalls: those
    attributed to a State that struck premises of another, before the
    subject incident, optionally since or until a day, on some kinds of
    premises, with some effects, in some countries."""

    attributed_to: Id = Field("addressee", description="The State the incidents are "
                              "attributed to: addressee (the addressee's State) or a "
                              "State's id.", examples=["addressee", "ru"])
    struck: Id = Field("sender", description="The State whose premises they struck: sender "
                       "(the sender's State) or a State's id. Its premises are every "
                       "facility it owns, its State companies' included.",
                       examples=["sender", "az"])
    since: dt.date | None = Field(None, description="The first day (YYYY-MM-DD): incidents "
                                  "from then on.", examples=["2022-01-01"])
    until: dt.date | None = Field(None, description="The last day: incidents over by then "
                                  "(each is before the subject incident anyway).",
                                  examples=["2024-12-31"])
    premises: list[FacilityKind] = Field(default_factory=list, description="Only incidents "
                                         "that struck premises of these kinds; none: any.",
                                         examples=[["embassy", "consular_section"]])
    effects: list[Effect] = Field(default_factory=list, description="Only incidents with "
                                  "one of these effects on those premises; none: any.",
                                  examples=[["destroyed", "seriously_damaged", "damaged"]])
    countries: list[Id] = Field(default_factory=list, description="Only incidents in these "
                                "States (ids); none: anywhere.", examples=[["ua"]])

    @model_validator(mode="after")
    def _in_order(self) -> ChronologyRule:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError(f"until ({self.until.isoformat()}) is before since "
                             f"({self.since.isoformat()})")
        return self


class Chronology(Record):
    """Earlier incidents chosen by a rule, with explicit additions and
    exclusions. Resolved when the case is loaded: the records a note embeds
    list the incidents chosen, so that it renders the same however the
    catalogue grows."""

    rule: ChronologyRule = Field(description="Which incidents to recall.",
                                 examples=[{"attributed_to": "addressee", "struck": "sender",
                                            "since": "2022-01-01"}])
    add: Annotated[list[Id], AfterValidator(_unique)] = Field(
        default_factory=list, description="Further incidents to recall, which the rule does "
        "not choose.", examples=[["kyiv-2021-06-02"]])
    exclude: Annotated[list[Id], AfterValidator(_unique)] = Field(
        default_factory=list, description="Incidents the rule chooses that the note does "
        "not recall.", examples=[["odesa-2023-07-20"]])


def _earlier_form(value: Any) -> str:
    return "rule" if isinstance(value, dict | Chronology) else "list"


#: Fields whose validation errors name the branch of a union after the
#: field's name (``note.earlier`` is a list or a rule): :mod:`.reading`
#: drops the branch, so that an error is located where it is written.
UNION_TAGS = {"earlier": frozenset({"list", "rule"})}


class Note(Record):
    """The note to issue: who writes to whom, about what, recalling what."""

    type: NoteType = Field(NoteType.note_verbale, description="The form of the note "
                           "(--type renders it as another).",
                           examples=["note_verbale", "first_person_note", "aide_memoire"])
    language: LanguageCode = Field("en", description="The language it is written in "
                                   "(--lang renders it in another); a text given once is "
                                   "in this language.", examples=["en", "az"])
    reference: NonEmpty | None = Field(None, description="Reference number without 'No.'; "
                                       "left blank in a draft until the note is issued.",
                                       examples=["12/345/2025"])
    in_reply_to: ReplyTo | None = Field(None, description="The addressee's note this one "
                                        "answers.",
                                        examples=[{"reference": "4512", "date": "2025-11-10"}])
    signatory: Person | None = Field(None, description="Who signs a first-person note; the "
                                     "sender's head if not given.",
                                     examples=[{"name": "Jeyhun Bayramov", "gender": "male",
                                                "title": "Minister of Foreign Affairs"}])
    translation: LanguageCode | None = Field(None, description="Enclose a courtesy "
                                             "translation into this language.",
                                             examples=["ru"])
    date: dt.date = Field(description="The note's date (YYYY-MM-DD), on its date line.",
                          examples=["2025-11-14"])
    place: Text | None = Field(None, description="Place on the date line; defaults to the "
                               "sender's seat.", examples=["Baku"])
    sender: Id = Field(description="Who sends it: the id of a party (usually the profile).",
                       examples=["az-mfa"])
    addressee: Id = Field(description="Who receives it: the id of a party.",
                          examples=["ru-embassy-baku"])
    subject: Id = Field(description="The incident the note protests.",
                        examples=["kyiv-2025-11-14"])
    earlier: Annotated[list[Id], AfterValidator(_unique)] = Field(
        default_factory=list, description="Earlier incidents to recall, in any order.",
        examples=[["kharkiv-2022-03-10", "kyiv-2024-01-02"]])
    chronology_required: bool = Field(True, description="Whether a note without earlier "
                                      "incidents is an error.", examples=[False])
    protest: Text = Field(description='What the sender "has the honour to" do, as an '
                          'infinitive clause that suits every note type, e.g. "protest in '
                          'the strongest terms against …".',
                          examples=["protest in the strongest terms against the missile "
                                    "strike on the Embassy"])
    recalls: list[Text] = Field(default_factory=list, description="Facts the sender recalls "
                                "after the chronology, each a that-clause: \"as early as April "
                                "2022 …\".",
                                examples=[["as early as April 2022 the Embassy had informed "
                                           "the Russian side of its coordinates"]])
    position: list[Text] = Field(default_factory=list, description="The sender's assessment, "
                                 "each a that-clause: \"such attacks are unacceptable …\".",
                                 examples=[["such attacks are unacceptable"]])
    demands: list[Demand] = Field(min_length=1, description="What the sender asks of the "
                                  "addressee's State (at least one).",
                                  examples=[[{"kind": "investigation"},
                                             {"kind": "compensation"}]])
    legal_bases: list[Citation] | None = Field(None, description="The articles to cite; "
                                               "derived from the incidents' facts if not "
                                               "given, none if empty.",
                                               examples=[[{"article": "vcdr.22.1"}]])
    recalled_notes: list[RecalledNote] = Field(
        default_factory=list, description="Earlier notes of the sender about its incidents, "
        "recalled by number and date; filled from the register by render and issue with "
        "one, if not given.",
        examples=[[{"reference": "12/200/2024", "date": "2024-01-03",
                    "incidents": ["kyiv-2024-01-02"]}]])


#: ``note.earlier`` as a file gives it: a list of ids, or a rule.
_EarlierAsWritten = Annotated[
    Annotated[Annotated[list[Id], AfterValidator(_unique)], Tag("list")]
    | Annotated[Chronology, Tag("rule")],
    Discriminator(_earlier_form)]


class NoteAsWritten(Note):
    """A note as its file gives it: its earlier incidents listed, or chosen
    by a rule (:class:`Chronology`). Loading the case resolves the rule: the
    case's :class:`Note` lists them."""

    # Wider than a Note's (a list): only loading the case sees this class.
    earlier: _EarlierAsWritten = Field(  # type: ignore[assignment]
        default_factory=list, description="Earlier incidents to recall: a list of ids, in "
        "any order, or a rule that chooses them from the case's incidents (its catalogue), "
        "with ids to add and to exclude.",
        examples=[["kharkiv-2022-03-10", "kyiv-2024-01-02"],
                  {"rule": {"attributed_to": "addressee", "struck": "sender",
                            "since": "2022-01-01"}, "exclude": ["odesa-2025-08"]}])


class RecordFile(Record):
    """One YAML or JSON file of a case. Every section is optional; a case has
    exactly one ``note`` across its files."""

    include: list[NonEmpty] = Field(default_factory=list,
                                    description="Further files, relative to this one.",
                                    examples=[["../profiles/az-mfa.yaml", "parties.yaml"]])
    catalogue: NonEmpty | None = Field(None, description="The ministry's incident catalogue: "
                                       "a folder, relative to this file, whose record files "
                                       "(.yaml, .yml, .json, in subfolders too) hold "
                                       "incidents, facilities, parties and States once, for "
                                       "every case to name by id.",
                                       examples=["../catalogue"])
    states: list[State] = Field(default_factory=list, description="States, as notes name "
                                "them.", examples=[[{"id": "ru",
                                                     "name": "the Russian Federation",
                                                     "side": "the Russian side"}]])
    parties: list[Party] = Field(default_factory=list, description="Senders and addressees "
                                 "of notes: ministries, embassies, missions.",
                                 examples=[[{"id": "ru-embassy-baku", "kind": "embassy",
                                             "state": "ru",
                                             "name": "the Embassy of the Russian Federation",
                                             "short_name": "the Embassy"}]])
    facilities: list[Facility] = Field(default_factory=list, description="Premises that "
                                       "can be hit.",
                                       examples=[[{"id": "az-embassy-kyiv", "kind": "embassy",
                                                   "name": "the Embassy of the Republic of "
                                                           "Azerbaijan in Ukraine",
                                                   "owner": "az", "host": "ua",
                                                   "place": "Kyiv"}]])
    incidents: list[Incident] = Field(default_factory=list, description="Events: attacks, "
                                      "intrusions, damage to facilities.",
                                      examples=[[{"id": "kyiv-2025-11-14",
                                                  "date": "2025-11-14", "place": "Kyiv",
                                                  "country": "ua", "attributed_to": "ru",
                                                  "impacts": [{"facility": "az-embassy-kyiv",
                                                               "effect": "damaged"}],
                                                  "account": "a missile struck the "
                                                             "compound"}]])
    conflicts: list[ArmedConflict] = Field(default_factory=list, description="Armed "
                                           "conflicts in force; none: peacetime, no "
                                           "humanitarian law.",
                                           examples=[[{"id": "ru-ua", "parties": ["ru", "ua"],
                                                       "since": "2022-02-24"}]])
    relations: list[Relations] = Field(default_factory=list, description="Diplomatic "
                                       "relations other than normal, from a day on.",
                                       examples=[[{"sending": "mx", "receiving": "ec",
                                                   "status": "broken_off",
                                                   "since": "2024-04-06"}]])
    profile: Profile | None = Field(None, description="The sending ministry's house style; "
                                    "it is a party too.",
                                    examples=[{"id": "az-mfa", "state": "az",
                                               "name": "the Ministry of Foreign Affairs",
                                               "short_name": "the Ministry",
                                               "reference_pattern": "12/{number}/{year}"}])
    note: NoteAsWritten | None = Field(None, description="The note to issue; a case has "
                                       "exactly one, in one of its files.",
                                       examples=[{"date": "2025-11-14", "sender": "az-mfa",
                                                  "addressee": "ru-embassy-baku",
                                                  "subject": "kyiv-2025-11-14",
                                                  "protest": "protest against the attack",
                                                  "chronology_required": False,
                                                  "demands": [{"kind": "investigation"}]}])
