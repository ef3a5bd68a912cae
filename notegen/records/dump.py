"""A case written back as one JSON record file: what a PDF carries inside
and the register keeps, and what :func:`~notegen.load_case` reads again.

A note goes to another State, and the records inside its PDF go with it. So
they hold only what the note itself uses — its sender and addressee, the
incidents it protests and recalls, the premises those incidents affected or
its legal bases name, the armed conflicts those incidents are placed in and
the diplomatic relations between the States whose premises they are and the
States where they lie (the situation decides the law the note cites), and
the States these belong to — and never an
incident's ``sources`` (which may be internal), unless the sender's profile
opts in with ``embed_sources: true``. Everything kept is what the note's
render reads, so the records still render to the same bytes. A chronology
chosen by a rule is written as the list of incidents the rule chose, so the
note renders the same however its catalogue grows afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeVar

from .case import Case
from .models import Facility, Incident, Note, NoteAsWritten, Party, Profile, RecordFile

Kept = TypeVar("Kept")


def dump_case(case: Case, note: Note | None = None) -> bytes:
    """The records ``case``'s note uses, as one JSON record file, with ``note``
    in place of its note if given: what notegen embeds in a PDF.
    :func:`~notegen.load_case` reads it back to the same records, and dumping
    those gives the same bytes.

    Only the sender's profile keeps its house style; the addressee, even if
    written as a profile, is written as the party it is.
    """
    note = note or case.note
    sender = case.parties[note.sender]
    profile = sender if isinstance(sender, Profile) else None
    keep_sources = profile is not None and profile.embed_sources
    incidents = [case.incidents[incident_id] for incident_id in (note.subject, *note.earlier)]
    facilities = _facilities(case, [impact.facility for incident in incidents
                                    for impact in incident.impacts]
                             + [facility for citation in note.legal_bases or ()
                                for facility in citation.facilities])
    parties = [case.parties[party_id] for party_id in dict.fromkeys([note.sender,
                                                                      note.addressee])]
    conflicts = _used({incident.conflict for incident in incidents if incident.conflict},
                      case.conflicts)
    pairs = {(facility.owner, facility.host) for facility in facilities}
    relations = [relations for relations in case.relations
                 if (relations.sending, relations.receiving) in pairs]
    states = _used({party.state for party in parties}
                   | {state for facility in facilities for state in (facility.owner,
                                                                    facility.host)}
                   | {state for incident in incidents for state in (incident.country,
                                                                   incident.attributed_to)}
                   | {state for conflict in conflicts for state in conflict.parties}
                   | {state for entry in relations
                      for state in (entry.sending, entry.receiving, entry.protecting_power)
                      if state is not None},
                   case.states)
    record = RecordFile(
        states=states,
        parties=[_as_party(party) for party in parties if party is not profile],
        facilities=facilities,
        incidents=[incident if keep_sources else _without_sources(incident)
                   for incident in _in_case_order(incidents, case.incidents)],
        conflicts=conflicts, relations=relations, profile=profile,
        note=NoteAsWritten.model_validate(dict(note)))  # its earlier incidents listed
    data = record.model_dump(mode="json", exclude_defaults=True)
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _facilities(case: Case, named: Iterable[str]) -> list[Facility]:
    """The facilities ``named``, with those they are part of, in case order."""
    wanted: set[str] = set()
    for facility_id in named:
        current: str | None = facility_id
        while current is not None and current not in wanted:
            wanted.add(current)
            current = case.facilities[current].part_of
    return _used(wanted, case.facilities)


def _used(ids: set[str], table: dict[str, Kept]) -> list[Kept]:
    """The records of ``table`` whose ids are in ``ids``, in the case's order
    (so the same records always dump to the same bytes)."""
    return [record for record_id, record in table.items() if record_id in ids]


def _in_case_order(incidents: list[Incident], table: dict[str, Incident]) -> list[Incident]:
    return _used({incident.id for incident in incidents}, table)


def _as_party(party: Party) -> Party:
    if isinstance(party, Profile):
        return Party.model_validate(party.model_dump(include=set(Party.model_fields)))
    return party


def _without_sources(incident: Incident) -> Incident:
    return incident.model_copy(update={"sources": []}) if incident.sources else incident
