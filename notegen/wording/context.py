"""The note context: everything a template reads, already put into words.

:func:`build_context` turns a validated :class:`~notegen.loading.Case` into a
:class:`NoteContext` for one note type and language. Texts are resolved to
the language, dates are written in words, the chronology is sorted, the
courtesy formulae, legal bases and demands are worded. Templates only place
and style what they get here; they decide no facts and no wording.

The dataclasses below are the contract with template authors: a template gets
``note`` (a :class:`NoteContext`) and ``phrase(key, **values)``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError

from ..errors import Location, Problem, RecordError
from ..records.case import Case
from ..records.models import (
    Demand,
    Facility,
    Incident,
    NoteType,
    Party,
    Person,
    Profile,
    RecalledNote,
    SealPolicy,
    State,
)
from ..version import __version__
from .catalogue import NBSP, Catalogue, Name
from .legal import Applied
from .recall import EarlierNotes, recall


@dataclass(frozen=True)
class Form:
    """What a note type decides about a note's form."""

    #: "third" (note verbale), "first" (first-person note) or "impersonal".
    voice: str
    #: Whether it opens and closes with courtesy formulae.
    courtesy: bool
    #: Whether it is signed by a named official (else sealed or initialled).
    signed: bool
    #: Whether it carries an addressee block (at the foot of page 1).
    addressee_block: bool
    #: How a message names such a note and its voice: "a note verbale is
    #: written in the third person".
    described: str = ""
    #: Whether it carries the reference number (an aide-mémoire does only if
    #: the sender's profile says so).
    numbered: bool = True


#: The form of each note type.
FORMS = {
    NoteType.note_verbale: Form("third", courtesy=True, signed=False, addressee_block=True,
                                described="a note verbale is written in the third person"),
    NoteType.first_person_note: Form("first", courtesy=True, signed=True,
                                     addressee_block=True,
                                     described="a first-person note is written in the first "
                                     "person"),
    NoteType.aide_memoire: Form("impersonal", courtesy=False, signed=False,
                                addressee_block=False,
                                described="an aide-mémoire is written impersonally",
                                numbered=False),
}


@dataclass(frozen=True)
class DateText:
    """A date, both ways: ``iso`` ("2025-11-14") and ``words`` ("14 November 2025")."""

    #: "2025-11-14".
    iso: str
    #: "14 November 2025", "14 ноября 2025 года".
    words: str

    def __str__(self) -> str:
        return self.words


@dataclass(frozen=True)
class PartyView:
    """A sender or addressee."""

    #: The record's id.
    id: str
    #: Full name as used in running text, e.g. "the Embassy of the Russian Federation …".
    name: str
    #: Name after first mention, e.g. "the Embassy".
    short_name: str
    #: The State it belongs to, e.g. "the Russian Federation".
    state_name: str
    #: How its State's authorities are referred to, e.g. "the Russian side".
    state_side: str
    #: Lines of the addressee block after the name.
    address: tuple[str, ...]
    #: The city where it sits, if given.
    seat: str | None
    #: Lines of the letterhead when this party sends a note.
    letterhead: tuple[str, ...]


@dataclass(frozen=True)
class PersonView:
    """An official: the signatory of a first-person note, or its addressee.

    In phrases the addressee's head is ``{counterpart}`` (its name), with
    ``{counterpart_title}`` and ``{counterpart_style}``; the signatory is
    ``{signatory}``. Each takes its other cases from the person's ``forms``
    (``{counterpart_title.nom}``), and words may agree with the person's
    gender: ``{counterpart:masculine=Уважаемый|feminine=Уважаемая}``.
    """

    #: e.g. "Jeyhun Bayramov".
    name: str
    #: The office, e.g. "Minister of Foreign Affairs of …".
    title: str
    #: Written before the name in an address ("His Excellency Mr"), or empty.
    style: str
    #: "female", "male", or empty when the records do not say.
    gender: str = ""


@dataclass(frozen=True)
class FacilityView:
    """A facility an incident affected."""

    #: The record's id.
    id: str
    #: embassy, consular_section, honorary_consulate, …
    kind: str
    #: e.g. "the Embassy of the Republic of Azerbaijan in Ukraine".
    name: str
    #: City or region.
    place: str
    #: One of destroyed, seriously_damaged, damaged, struck, near_miss, entered, surrounded.
    effect: str


@dataclass(frozen=True)
class IncidentView:
    """One incident, as the note tells it."""

    #: The record's id.
    id: str
    #: Position in the chronology, from 1; 0 for the subject incident.
    number: int
    #: Its (first) date.
    date: DateText
    #: All dates of a series in words, sharing their month and year ("8 and
    #: 18 August 2025"), or the single date; it counts its dates, so a phrase
    #: given it agrees with a series (``key.other``: Azerbaijani "tarixlərində").
    dates_words: str
    #: "at about 01:00 local time", or empty.
    time_words: str
    #: The same as it follows the date, with its separator (" at about …").
    time_joined: str
    #: Where it happened, e.g. "Kyiv".
    place: str
    #: The note's narrative clause, e.g. "a missile struck the compound …".
    account: str
    #: Each damage clause.
    damage: tuple[str, ...]
    #: "As a result, …." built from ``damage``, or empty.
    damage_sentence: str
    #: A sentence on casualties, or empty when unknown.
    casualties: str
    #: The premises it affected.
    facilities: tuple[FacilityView, ...]
    #: The whole chronology entry: "10 March 2022, Kharkiv: an air strike …."
    entry: str


@dataclass(frozen=True)
class Courtesy:
    """How the note opens and closes."""

    #: The first sentence, with the protest: "… presents its compliments to …
    #: and has the honour to protest …"; an aide-mémoire's impersonal opening.
    opening: str
    #: The closing formula, or empty (an aide-mémoire, or a ministry that omits it).
    closing: str
    #: "Excellency," at the head of a first-person note, else empty.
    salutation: str
    #: In a reply, the note it answers as the opening names it ("with
    #: reference to the Embassy's Note No. … of …"); else empty.
    reply: str = ""


@dataclass(frozen=True)
class CitationView:
    """One legal basis, worded."""

    #: The catalogue id, e.g. "vcdr.22.1".
    id: str
    #: "Article 22(1)" (as it follows the instrument's name in languages that
    #: put it first; the list item may label it otherwise).
    label: str
    #: The article cited with its framing, as the talking points and the press
    #: release cite it: "Article 59 of the Vienna Convention on Consular
    #: Relations of 1963 (applied by analogy)". Every document that cites an
    #: article uses this or ``item``, so none can drop the framing.
    cite: str
    #: The bare reference, without framing: "Article 22(1) of the Vienna
    #: Convention on Diplomatic Relations of 1961".
    reference: str
    #: What the article says, as a clause.
    text: str
    #: direct, by_analogy, general_principle or binding_on_responsible.
    framing: str
    #: The list item under its instrument: "Article 59, applied by analogy: the …".
    item: str


@dataclass(frozen=True)
class InstrumentView:
    """The articles a note cites from one instrument."""

    #: "Vienna Convention on Diplomatic Relations of 1961".
    title: str
    #: Its articles the note cites.
    citations: tuple[CitationView, ...]


@dataclass(frozen=True)
class Metadata:
    """Document metadata, written into the HTML head and the PDF."""

    #: The document title: the note's title and number.
    title: str
    #: The subject incident's date and place.
    subject: str
    #: The sending ministry.
    author: str
    #: The note type and the places of the incidents.
    keywords: tuple[str, ...]
    #: ISO date the PDF records as its creation date (the note's date).
    created: str
    #: "notegen 0.1.0": what made the document.
    generator: str


@dataclass(frozen=True)
class NoteContext:
    """Everything a note template reads."""

    #: The note's language code, set as ``<html lang>``.
    lang: str
    #: e.g. "note_verbale".
    type: str
    #: "third", "first" or "impersonal".
    voice: str
    #: The heading: "Note Verbale", "Aide-Mémoire" (a first-person note shows none).
    title: str
    #: The reference number ("No. 12/345/2025"), or a blank to fill in for
    #: drafts; empty for an aide-mémoire, unless the sender's profile numbers them.
    reference: str
    #: The same without its sign ("12/345/2025"), for phrases that mark the
    #: number themselves (Azerbaijani "12/345/2025 saylı").
    number: str
    #: Whether ``reference`` is the blank of a draft.
    draft: bool
    #: The note's date.
    date: DateText
    #: The place on the date line: the note's, or the sender's seat.
    place: str
    #: The date line, place and date as the language writes them (the
    #: catalogue's ``date_line``): "Baku, 14 November 2025", "Bakou, le 14 novembre 2025".
    date_line: str
    #: The sending ministry or mission.
    sender: PartyView
    #: The embassy or ministry addressed.
    addressee: PartyView
    #: The addressee's head (the ambassador a summons receives), if on record.
    counterpart: PersonView | None
    #: Salutation, opening (with the protest) and closing.
    courtesy: Courtesy
    #: What the sender "has the honour to" do.
    protest: str
    #: The paragraph telling the subject incident.
    narrative: str
    #: The incident protested.
    subject: IncidentView
    #: The sentence introducing the chronology, or empty if there is none.
    chronology_intro: str
    #: Earlier incidents, oldest first, numbered from 1.
    chronology: tuple[IncidentView, ...]
    #: Sentences recalling further facts.
    recalls: tuple[str, ...]
    #: The sender's assessment, one paragraph each.
    position: tuple[str, ...]
    #: The records' clauses behind ``recalls`` and ``position``, for other
    #: documents to frame in their own voice.
    recall_clauses: tuple[str, ...]
    position_clauses: tuple[str, ...]
    #: The sentence introducing the legal bases, or empty if none are cited.
    legal_intro: str
    #: The articles cited, grouped by instrument in catalogue order.
    legal_bases: tuple[InstrumentView, ...]
    #: The sentence introducing the demands.
    demands_intro: str
    #: What the sender requests, each an item of the lettered list as the
    #: catalogue's ``demand.item`` words it (French "de procéder …").
    demands: tuple[str, ...]
    #: The records' clauses behind ``demands`` (infinitive clauses).
    demand_clauses: tuple[str, ...]
    #: Lines of the addressee block; empty for types without one.
    addressee_block: tuple[str, ...]
    #: Who signs a first-person note; ``None`` for the other types.
    signatory: PersonView | None
    #: What authenticates a note verbale ("Seal and initials"), or empty.
    seal: str
    #: Lines listing enclosures, e.g. a courtesy translation.
    enclosures: tuple[str, ...]
    #: Set on a courtesy translation: "Courtesy translation. Original language: English."
    translation_mark: str
    #: Document metadata for the HTML head and the PDF.
    meta: Metadata
    #: The sender's earlier notes about these incidents, recalled by number
    #: and date (from the register, kept in the records), in words: ``text``
    #: for the note, ``talking_points`` and ``press_release`` for those.
    earlier_notes: EarlierNotes = field(default_factory=EarlierNotes)


class _Resolver:
    """Picks the note's language from texts and records what is missing."""

    def __init__(self, case: Case, catalogue: Catalogue) -> None:
        self.case = case
        self.lang = catalogue.lang
        self.problems: list[Problem] = []

    def text(self, value: str | dict[str, str], record_id: str | None,
             *path: str | int) -> str:
        if isinstance(value, str):
            return value
        if self.lang in value:
            return value[self.lang]
        self.problems.append(Problem(
            f"no {self.lang} text (given: {', '.join(sorted(value))})",
            self.case.locate(record_id, *path)))
        return ""

    def prose(self, value: str | dict[str, str], record_id: str | None,
              *path: str | int) -> str:
        """A clause of the note's own words. Given once (a plain string), it
        is in the note's ``language``: a note in another language cannot
        print it."""
        note_language = self.case.note.language
        if isinstance(value, str) and self.lang != note_language:
            self.problems.append(Problem(
                f"this text is given once, so it is in {note_language!r} (the note's "
                f"language), but the note is rendered in {self.lang!r}: give it per "
                f"language, {{{note_language}: …, {self.lang}: …}}",
                self.case.locate(record_id, *path)))
            return ""
        return self.text(value, record_id, *path)

    def name(self, record: Party | State, field: str) -> Name:
        value = getattr(record, field)
        forms = {key.split(".", 1)[1]: form
                 for key, form in record.forms.get(self.lang, {}).items()
                 if key.split(".", 1)[0] == field}
        gender = record.gender.get(self.lang)
        return Name(self.text(value, record.id, field), forms, field,
                    self.case.locate(record.id, "forms"),
                    gender=gender.value if gender is not None else None,
                    gender_hint=f"its grammatical gender: gender: {{{self.lang}: masculine, "
                                "feminine or neuter}",
                    gender_where=self.case.locate(record.id))

    def person(self, person: Person, record_id: str | None, *path: str | int) -> PersonView:
        gender = _GRAMMATICAL_GENDER.get(person.gender.value if person.gender else "")
        where = self.case.locate(record_id, *path)

        def named(field: str) -> Name:
            value = getattr(person, field)
            forms = {key.split(".", 1)[1]: form
                     for key, form in person.forms.get(self.lang, {}).items()
                     if key.split(".", 1)[0] == field}
            text = self.text(value, record_id, *path, field) if value is not None else ""
            return Name(text, forms, field, self.case.locate(record_id, *path, "forms"),
                        gender=gender, gender_hint="gender: female or male",
                        gender_where=where)

        return PersonView(name=named("name"), title=named("title"), style=named("style"),
                          gender=person.gender.value if person.gender else "")


#: The grammatical gender a person's gender makes words agree with.
_GRAMMATICAL_GENDER = {"female": "feminine", "male": "masculine"}


def build_context(case: Case, catalogue: Catalogue, citations: Sequence[Applied] = (),
                  note_type: NoteType | None = None,
                  enclosures: Sequence[str] = (), translation_mark: str = "") -> NoteContext:
    """Put ``case`` into words in the catalogue's language, as a note of
    ``note_type`` (the note's own type by default).

    ``catalogue`` already carries the sender's house formulae and the note
    type as its variant; ``citations`` are the legal bases to word.

    :raises RecordError: if a text the note needs has no variant in its
        language, or the records lack what the note type needs (a signatory).
    """
    resolve = _Resolver(case, catalogue)
    note = case.note
    note_type = note_type or note.type
    form = FORMS[note_type]
    sender_party = case.parties[note.sender]
    addressee_party = case.parties[note.addressee]
    sender = _party(sender_party, case, resolve)
    addressee = _party(addressee_party, case, resolve)
    counterpart = (resolve.person(addressee_party.head, addressee_party.id, "head")
                   if addressee_party.head is not None else None)
    signer = note.signatory or sender_party.head
    signatory = (resolve.person(signer, None if note.signatory else sender_party.id,
                                *(("signatory",) if note.signatory else ("head",)))
                 if form.signed and signer is not None else None)
    names = phrase_names(sender, addressee, counterpart, signatory)
    phrase = _Phrases(catalogue, names)

    earlier = sort_chronology([case.incidents[i] for i in note.earlier])
    chronology = tuple(_incident(incident, number, case, catalogue, resolve)
                       for number, incident in enumerate(earlier, start=1))
    subject = _incident(case.incidents[note.subject], 0, case, catalogue, resolve)

    place = (resolve.text(note.place, None, "place") if note.place is not None
             else sender.seat or "")
    if not place:
        resolve.problems.append(Problem("no place for the date line: give the note a 'place' "
                                        "or the sender a 'seat'", case.locate(None, "sender")))
    protest = _clause(resolve.prose(note.protest, None, "protest"))
    recall_clauses = tuple(_clause(resolve.prose(t, None, "recalls", i))
                           for i, t in enumerate(note.recalls))
    position_clauses = tuple(_clause(resolve.prose(t, None, "position", i))
                             for i, t in enumerate(note.position))
    recalls = tuple(phrase.sentence("recall", text=text) for text in recall_clauses)
    position = tuple(phrase.sentence("position" if i == 0 else "position.more", text=text)
                     for i, text in enumerate(position_clauses))
    demand_clauses = tuple(_demand(d, i, catalogue, resolve)
                           for i, d in enumerate(note.demands))
    # Each as an item of a list: French gives each infinitive its own "de". A
    # catalogue without the phrase (an older user folder) lists the clauses.
    demands = (tuple(phrase("demand.item", demand=text) for text in demand_clauses)
               if catalogue.key("demand.item") else demand_clauses)

    addressee_person, salutation = (
        _persons_of_a_signed_note(case, signer, addressee_party, counterpart, phrase, resolve)
        if form.signed else (None, ""))
    names["salutation"] = salutation
    profile = sender_party if isinstance(sender_party, Profile) else None
    courtesy = _courtesy(form, profile, phrase, _reply(case, addressee, phrase), protest)

    date = _date(note.date, catalogue)
    title = catalogue.phrase("title")
    numbered = form.numbered or (profile is not None and profile.aide_memoire_reference)
    number = (note.reference or _blank_number(profile, note.date)) if numbered else ""
    reference = catalogue.phrase("reference", number=number) if numbered else ""
    legal = _legal_bases(citations, catalogue, resolve)
    earlier_notes = _earlier_notes(note.recalled_notes, catalogue, phrase)
    context = NoteContext(
        lang=catalogue.lang,
        type=note_type.value,
        voice=form.voice,
        title=title,
        reference=reference,
        number=number,
        draft=note.reference is None,
        date=date,
        place=place,
        date_line=catalogue.phrase("date_line", place=place, date=date.words),
        sender=sender,
        addressee=addressee,
        counterpart=counterpart,
        courtesy=courtesy,
        protest=protest,
        narrative=phrase.sentence(
            "narrative", date=subject.dates_words, time=subject.time_joined,
            account=subject.account) + "".join(
                " " + s for s in (subject.damage_sentence, subject.casualties) if s),
        subject=subject,
        chronology_intro=phrase.sentence("chronology.intro") if chronology else "",
        chronology=chronology,
        recalls=recalls,
        position=position,
        recall_clauses=recall_clauses,
        position_clauses=position_clauses,
        legal_intro=phrase.sentence("legal.intro") if legal else "",
        legal_bases=legal,
        demands_intro=phrase.sentence("demands.intro"),
        demands=demands,
        demand_clauses=demand_clauses,
        addressee_block=(_addressee_block(addressee, addressee_person, phrase)
                         if form.addressee_block else ()),
        signatory=signatory,
        seal=_seal(form, profile, catalogue),
        enclosures=tuple(enclosures),
        translation_mark=translation_mark,
        meta=Metadata(
            title=f"{title} {reference if note.reference else ''}".strip(),
            # Metadata is searched, not typeset: plain spaces.
            subject=f"{subject.date.words.replace(NBSP, ' ')}, {subject.place}",
            author=catalogue.sentence(sender.name),
            keywords=tuple(dict.fromkeys(
                [note_type.value, *(i.place for i in (*chronology, subject))])),
            created=note.date.isoformat(),
            generator=f"notegen {__version__}",
        ),
        earlier_notes=earlier_notes,
    )
    # Every text, form and gender the records lack, at once.
    problems = resolve.problems + phrase.problems
    if problems:
        raise RecordError(distinct(problems))
    return context


def _persons_of_a_signed_note(case: Case, signer: Person | None, addressee_party: Party,
                              counterpart: PersonView | None, phrase: _Phrases,
                              resolve: _Resolver) -> tuple[PersonView | None, str]:
    """A first-person note's addressee (a person) and salutation; what the
    records lack for them is a problem of ``resolve``."""
    if signer is None:
        resolve.problems.append(Problem(
            "a first-person note is signed: give the note a 'signatory' or the sender "
            "a 'head'", case.locate(None, "sender")))
    head = addressee_party.head
    if head is None:
        resolve.problems.append(Problem(
            "a first-person note is addressed to a person: give the addressee a 'head'",
            case.locate(addressee_party.id)))
        return None, ""
    salutation = (resolve.text(head.salutation, addressee_party.id, "head", "salutation")
                  if head.salutation is not None else phrase("excellency"))
    return counterpart, salutation


def _reply(case: Case, addressee: PartyView, phrase: _Phrases) -> str:
    """The note a reply answers, as the opening names it; empty if none."""
    note, catalogue = case.note, phrase.catalogue
    answered = note.in_reply_to
    if answered is None:
        return ""
    # A first-person note is its author's own ("Your Excellency's Note"),
    # where the catalogue words it so; any other the addressee's.
    personal = (answered.type or note.type) is NoteType.first_person_note
    return phrase("reply.personal" if personal and catalogue.key("reply.personal")
                  else "reply", author=addressee.short_name,
                  reference=catalogue.phrase("reference", number=answered.reference),
                  number=answered.reference, date=catalogue.date(answered.date))


def _earlier_notes(notes: Sequence[RecalledNote], catalogue: Catalogue,
                   phrase: _Phrases) -> EarlierNotes:
    """The earlier notes recalled, as the note, the talking points and the
    press release word them; what the records lack is kept in ``phrase``'s problems."""
    if not notes:
        return EarlierNotes()

    def worded(variant: str | None) -> str:
        try:
            return recall(notes, catalogue if variant is None
                          else catalogue.with_phrases({}, variant=variant), phrase.names)
        except RecordError as error:
            phrase.problems.extend(error.problems)
            return ""

    return EarlierNotes(text=worded(None), talking_points=worded("talking_points"),
                        press_release=worded("press_release"), notes=tuple(notes))


def _seal(form: Form, profile: Profile | None, catalogue: Catalogue) -> str:
    """What authenticates a note that is neither signed nor impersonal."""
    if form.signed or not form.courtesy or (profile is not None
                                            and profile.seal is SealPolicy.none):
        return ""
    return catalogue.phrase(f"seal.{profile.seal.value if profile else 'seal_and_initials'}")


def phrase_names(sender: PartyView, addressee: PartyView, counterpart: PersonView | None = None,
                 signatory: PersonView | None = None) -> dict[str, object]:
    """The placeholders every phrase may use for the two parties and the
    persons: their names as :class:`~notegen.phrases.Name`, which keep their
    grammatical forms and gender."""
    names: dict[str, object] = {
        "sender": sender.name, "addressee": addressee.name,
        "sender_short": sender.short_name, "addressee_short": addressee.short_name,
        "sender_side": sender.state_side, "addressee_side": addressee.state_side}
    if counterpart is not None:
        names.update(counterpart=counterpart.name, counterpart_title=counterpart.title,
                     counterpart_style=counterpart.style)
    if signatory is not None:
        names["signatory"] = signatory.name
    return names


_PHRASE_KEY = re.compile(r"phrase '[^']*' ")


def distinct(problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` without repeats: a form or gender several phrases need is
    one thing to add to the records."""
    seen: dict[tuple[object, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.location, _PHRASE_KEY.sub("", problem.message)), problem)
    return list(seen.values())


class _Phrases:
    """Phrases with the note's names filled in, as sentences. A phrase that
    lacks a form or gender of the records is empty, and what it lacks is
    kept in ``problems`` so that all are reported together."""

    def __init__(self, catalogue: Catalogue, names: dict[str, object]) -> None:
        self.catalogue = catalogue
        self.names = names
        self.problems: list[Problem] = []

    def __call__(self, key: str, **values: object) -> str:
        try:
            return self.catalogue.phrase(key, **self.names, **values)
        except RecordError as error:
            self.problems.extend(error.problems)
            return ""

    def sentence(self, key: str, **values: object) -> str:
        return self.catalogue.sentence(self(key, **values))


def _courtesy(form: Form, profile: Profile | None, phrase: _Phrases, reply: str,
              protest: str) -> Courtesy:
    policy = profile.courtesy if profile is not None else None
    with_opening = form.courtesy and (policy is None or policy.opening)
    with_closing = form.courtesy and (policy is None or policy.closing)
    # One formula serves a reply too: its [{reply}] names the note answered.
    opening_key = "opening" if with_opening else "opening.plain"
    return Courtesy(
        opening=phrase.sentence(opening_key, reply=reply, protest=protest),
        closing=phrase.sentence("closing") if with_closing else "",
        # (without a person to greet, a located problem says to add one)
        salutation=(phrase.sentence("salutation")
                    if form.signed and "counterpart" in phrase.names else ""),
        reply=reply,
    )


def _blank_number(profile: Profile | None, date: dt.date) -> str:
    """The blank of a draft's number, keeping what the pattern fixes."""
    pattern = profile.reference_pattern if profile and profile.reference_pattern else "{number}"
    return pattern.replace("{number}", "________").replace("{year}", str(date.year))


def _addressee_block(addressee: PartyView, person: PersonView | None,
                     phrase: _Phrases) -> tuple[str, ...]:
    if person is not None:
        first = f"{person.style} {person.name}".strip()
        return (first, person.title, *addressee.address)
    return (phrase.sentence("addressee.block"), *addressee.address)


def _legal_bases(citations: Sequence[Applied], catalogue: Catalogue, resolve: _Resolver
                 ) -> tuple[InstrumentView, ...]:
    """The citations worded, each with its framing, grouped by instrument."""
    lang = catalogue.lang
    groups: dict[str, list[CitationView]] = {}
    for applied in citations:
        article, instrument = applied.article, applied.instrument
        if lang not in article.label or lang not in article.text or lang not in instrument.of \
                or lang not in instrument.title:
            raise RecordError([Problem(f"the legal-basis catalogue has no {lang} wording "
                                       f"for {applied.id}", Location())])
        label, text = article.label[lang], article.text[lang]
        framing = applied.framing.value
        # The State a treaty is cited as binding on, named as running text names it.
        state = (resolve.text(resolve.case.states[applied.state].name, applied.state, "name")
                 if applied.state is not None else "")
        words = {"article": label, "instrument": instrument.of[lang], "state": state}
        groups.setdefault(article.instrument, []).append(CitationView(
            id=applied.id, label=label, text=text, framing=framing,
            cite=catalogue.phrase(f"legal.cite.{framing}", **words),
            reference=catalogue.phrase("legal.cite", **words),
            item=catalogue.sentence(catalogue.phrase(
                f"legal.item.{framing}", article=article.item_label.get(lang, label),
                text=text, state=state))))
    titles = {applied.article.instrument: applied.instrument.title[lang]
              for applied in citations}
    return tuple(InstrumentView(titles[key], tuple(views)) for key, views in groups.items())


def _clause(text: str) -> str:
    """A clause the phrases punctuate: without the full stop a record may end it with."""
    return text.rstrip().removesuffix(".")


def _date(value: dt.date, catalogue: Catalogue) -> DateText:
    return DateText(iso=value.isoformat(), words=catalogue.date(value))


def _side(state: State, resolve: _Resolver) -> Name:
    return resolve.name(state, "side" if state.side is not None else "name")


def _party(party: Party, case: Case, resolve: _Resolver) -> PartyView:
    state = case.states[party.state]
    return PartyView(
        id=party.id,
        name=resolve.name(party, "name"),
        short_name=resolve.name(party, "short_name"),
        state_name=resolve.text(state.name, state.id, "name"),
        state_side=_side(state, resolve),
        address=tuple(resolve.text(line, party.id, "address", i)
                      for i, line in enumerate(party.address)),
        seat=resolve.text(party.seat, party.id, "seat") if party.seat is not None else None,
        letterhead=tuple(resolve.text(line, party.id, "letterhead", i)
                         for i, line in enumerate(party.letterhead)),
    )


def _incident(incident: Incident, number: int, case: Case, catalogue: Catalogue,
              resolve: _Resolver) -> IncidentView:
    rid = incident.id
    damage = tuple(_clause(resolve.prose(t, rid, "damage", i))
                   for i, t in enumerate(incident.damage))
    time = _time(incident, catalogue)
    dates_words = catalogue.dates([incident.date, *incident.also_on])
    place = resolve.text(incident.place, rid, "place")
    account = _clause(resolve.prose(incident.account, rid, "account"))
    damage_sentence = (catalogue.phrase("damage", damage=catalogue.join(damage))
                       if damage else "")
    casualties = _casualties(incident, catalogue)
    entry = catalogue.sentence(catalogue.phrase(
        "chronology.entry", date=dates_words, time=time, place=place, account=account))
    return IncidentView(
        id=rid,
        number=number,
        date=_date(incident.date, catalogue),
        dates_words=dates_words,
        time_words=time.strip(" ,"),
        time_joined=time,
        place=place,
        account=account,
        damage=damage,
        damage_sentence=damage_sentence,
        casualties=casualties,
        facilities=tuple(_facility(case.facilities[impact.facility], impact.effect.value,
                                   resolve)
                         for impact in incident.impacts),
        entry="".join([entry, *(" " + s for s in (damage_sentence, casualties) if s)]),
    )


def _time(incident: Incident, catalogue: Catalogue) -> str:
    """The time of ``incident`` as its phrase words it, with the separator
    that joins it to the date (" at about 01:00 local time"), or empty."""
    if incident.time is None:
        return ""
    key = "time" if incident.time_approximate else "time_exact"
    return catalogue.phrase(key, time=catalogue.time(incident.time))


def _facility(facility: Facility, effect: str, resolve: _Resolver) -> FacilityView:
    return FacilityView(id=facility.id, kind=facility.kind.value,
                        name=resolve.text(facility.name, facility.id, "name"),
                        place=resolve.text(facility.place, facility.id, "place"),
                        effect=effect)


def _casualties(incident: Incident, catalogue: Catalogue) -> str:
    counts = incident.casualties
    if counts is None:
        return ""
    if counts.killed and counts.injured:
        key = "casualties.killed_injured"
    elif counts.killed:
        key = "casualties.killed"
    elif counts.injured:
        key = "casualties.injured"
    else:
        key = "casualties.none"
    # A count may open the sentence (Russian "Погиб 1 человек.").
    return catalogue.sentence(catalogue.phrase(
        key, killed=catalogue.count("killed", counts.killed),
        injured=catalogue.count("injured", counts.injured)))


def _demand(demand: Demand, index: int, catalogue: Catalogue, resolve: _Resolver) -> str:
    if demand.text is not None:
        return resolve.prose(demand.text, None, "demands", index, "text")
    return catalogue.phrase(f"demand.{demand.kind.value}")


def language_name(language: Catalogue, catalogue: Catalogue) -> str:
    """The name of ``language`` (another catalogue's) in ``catalogue``'s
    language ("Russian", "русский"), as CLDR has it; a language CLDR does not
    know (added from a folder) by the name its own catalogue gives it."""
    try:
        return Locale.parse(language.lang).get_display_name(catalogue.locale) or \
            language.language
    except (UnknownLocaleError, ValueError):
        return language.language


def sort_chronology(incidents: Sequence[Incident]) -> list[Incident]:
    """Incidents oldest first; ties keep a stable order by id."""
    return sorted(incidents, key=lambda incident: (incident.date, incident.id))
