"""The note context: everything a template reads, already put into words.

:func:`build_context` turns a validated :class:`~notegen.loading.Case` into a
:class:`NoteContext`. Texts are resolved to the note's language, dates are
written in words, the chronology is sorted. Templates only place and style
what they get here; they decide no facts.

The dataclasses below are the contract with template authors: a template gets
``note`` (a :class:`NoteContext`) and ``phrase(key, **values)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import Problem, RecordError
from .loading import Case
from .models import Demand, Facility, Incident, Party
from .phrases import Catalogue


@dataclass(frozen=True)
class DateText:
    """A date, both ways: ``iso`` ("2025-11-14") and ``words`` ("14 November 2025")."""

    iso: str
    words: str

    def __str__(self) -> str:
        return self.words


@dataclass(frozen=True)
class PartyView:
    """A sender or addressee."""

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
class FacilityView:
    """A facility an incident affected."""

    id: str
    kind: str
    name: str
    place: str
    #: One of destroyed, seriously_damaged, damaged, struck, near_miss.
    effect: str


@dataclass(frozen=True)
class IncidentView:
    """One incident, as the note tells it."""

    id: str
    #: Position in the chronology, from 1; 0 for the subject incident.
    number: int
    date: DateText
    #: All dates of a series in words ("8 August 2025 and 18 August 2025"),
    #: or the single date.
    dates_words: str
    #: "at about 01:00 local time", or empty.
    time_words: str
    place: str
    #: The note's narrative clause, e.g. "a missile struck the compound …".
    account: str
    #: Each damage clause.
    damage: tuple[str, ...]
    #: "As a result, …." built from ``damage``, or empty.
    damage_sentence: str
    #: A sentence on casualties, or empty when unknown.
    casualties: str
    facilities: tuple[FacilityView, ...]


@dataclass(frozen=True)
class Courtesy:
    """The courtesy formulae that open and close the note."""

    #: Ends with "has the honour to"; the note's protest follows it.
    opening: str
    closing: str


@dataclass(frozen=True)
class Metadata:
    """Document metadata, written into the HTML head and the PDF."""

    title: str
    subject: str
    author: str
    keywords: tuple[str, ...]
    #: ISO date the PDF records as its creation date (the note's date).
    created: str


@dataclass(frozen=True)
class NoteContext:
    """Everything a note template reads."""

    #: The note's language code, set as ``<html lang>``.
    lang: str
    #: e.g. "note_verbale".
    type: str
    title: str
    #: The reference number, or a blank line to fill in for drafts.
    reference: str
    #: Whether ``reference`` is the blank of a draft.
    draft: bool
    date: DateText
    place: str
    sender: PartyView
    addressee: PartyView
    courtesy: Courtesy
    #: What the sender "has the honour to" do.
    protest: str
    subject: IncidentView
    #: Earlier incidents, oldest first, numbered from 1.
    chronology: tuple[IncidentView, ...]
    #: Sentences recalling further facts.
    recalls: tuple[str, ...]
    #: The sender's assessment, one paragraph each.
    position: tuple[str, ...]
    #: What the sender requests, each an infinitive clause.
    demands: tuple[str, ...]
    meta: Metadata


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


def build_context(case: Case, catalogue: Catalogue) -> NoteContext:
    """Put ``case`` into words in the catalogue's language.

    :raises RecordError: if a text the note needs has no variant in its language.
    """
    resolve = _Resolver(case, catalogue)
    note = case.note
    sender = _party(case.parties[note.sender], case, resolve)
    addressee = _party(case.parties[note.addressee], case, resolve)
    names = {"sender": sender.name, "addressee": addressee.name,
             "sender_short": sender.short_name, "addressee_short": addressee.short_name,
             "addressee_side": addressee.state_side}

    earlier = sort_chronology([case.incidents[i] for i in note.earlier])
    chronology = tuple(_incident(incident, number, case, catalogue, resolve)
                       for number, incident in enumerate(earlier, start=1))
    subject = _incident(case.incidents[note.subject], 0, case, catalogue, resolve)

    place = (resolve.text(note.place, None, "place") if note.place is not None
             else sender.seat or "")
    if not place:
        resolve.problems.append(Problem("no place for the date line: give the note a 'place' "
                                        "or the sender a 'seat'", case.locate(None, "sender")))
    protest = resolve.text(note.protest, None, "protest")
    recalls = tuple(resolve.text(t, None, "recalls", i) for i, t in enumerate(note.recalls))
    position = tuple(resolve.text(t, None, "position", i) for i, t in enumerate(note.position))
    demands = tuple(_demand(d, i, catalogue, resolve) for i, d in enumerate(note.demands))
    if resolve.problems:
        raise RecordError(resolve.problems)

    date = _date(note.date, catalogue)
    title = catalogue.phrase(f"title.{note.type.value}")
    return NoteContext(
        lang=catalogue.lang,
        type=note.type.value,
        title=title,
        reference=note.reference or catalogue.phrase("reference_blank"),
        draft=note.reference is None,
        date=date,
        place=place,
        sender=sender,
        addressee=addressee,
        courtesy=Courtesy(
            opening=catalogue.sentence(catalogue.phrase("courtesy.opening", **names)),
            closing=catalogue.sentence(catalogue.phrase("courtesy.closing", **names)),
        ),
        protest=protest,
        subject=subject,
        chronology=chronology,
        recalls=recalls,
        position=position,
        demands=demands,
        meta=Metadata(
            title=f"{title} {note.reference or ''}".strip(),
            subject=f"{subject.date.words}, {subject.place}",
            author=catalogue.sentence(sender.name),
            keywords=tuple(dict.fromkeys(
                [note.type.value, *(i.place for i in (*chronology, subject))])),
            created=note.date.isoformat(),
        ),
    )


def _date(value: dt.date, catalogue: Catalogue) -> DateText:
    return DateText(iso=value.isoformat(), words=catalogue.date(value))


def _party(party: Party, case: Case, resolve: _Resolver) -> PartyView:
    state = case.states[party.state]
    return PartyView(
        id=party.id,
        name=resolve.text(party.name, party.id, "name"),
        short_name=resolve.text(party.short_name, party.id, "short_name"),
        state_name=resolve.text(state.name, state.id, "name"),
        state_side=(resolve.text(state.side, state.id, "side") if state.side is not None
                    else resolve.text(state.name, state.id, "name")),
        address=tuple(resolve.text(line, party.id, "address", i)
                      for i, line in enumerate(party.address)),
        seat=resolve.text(party.seat, party.id, "seat") if party.seat is not None else None,
        letterhead=tuple(resolve.text(line, party.id, "letterhead", i)
                         for i, line in enumerate(party.letterhead)),
    )


def _incident(incident: Incident, number: int, case: Case, catalogue: Catalogue,
              resolve: _Resolver) -> IncidentView:
    rid = incident.id
    damage = tuple(resolve.text(t, rid, "damage", i) for i, t in enumerate(incident.damage))
    time_words = ""
    if incident.time is not None:
        key = "time" if incident.time_approximate else "time_exact"
        time_words = catalogue.phrase(key, time=incident.time)
    return IncidentView(
        id=rid,
        number=number,
        date=_date(incident.date, catalogue),
        dates_words=catalogue.join([catalogue.date(d)
                                    for d in (incident.date, *incident.also_on)]),
        time_words=time_words,
        place=resolve.text(incident.place, rid, "place"),
        account=resolve.text(incident.account, rid, "account"),
        damage=damage,
        damage_sentence=(catalogue.phrase("subject.damage", damage=catalogue.join(damage))
                         if damage else ""),
        casualties=_casualties(incident, catalogue),
        facilities=tuple(_facility(case.facilities[impact.facility], impact.effect.value,
                                   resolve)
                         for impact in incident.impacts),
    )


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
    return catalogue.phrase(key, killed=counts.killed, injured=counts.injured)


def _demand(demand: Demand, index: int, catalogue: Catalogue, resolve: _Resolver) -> str:
    if demand.text is not None:
        return resolve.text(demand.text, None, "demands", index, "text")
    return catalogue.phrase(f"demand.{demand.kind.value}")


def sort_chronology(incidents: Sequence[Incident]) -> list[Incident]:
    """Incidents oldest first; ties keep a stable order by id."""
    return sorted(incidents, key=lambda incident: (incident.date, incident.id))
