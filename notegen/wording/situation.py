"""The situation on the day of an incident, as the records state it: the
armed conflict it took place in, diplomatic relations between the State whose
premises were hit and the State where they lie, and the ISO code by which a
State's treaty participation is looked up.

The defaults are the safe ones: an incident the records do not place in an
armed conflict is a peacetime one (no humanitarian law applies to it), and
relations no record mentions are normal (VCDR Art. 45 does not apply).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..records.case import Case
from ..records.models import ArmedConflict, Incident, Relations, RelationsStatus


def days(incident: Incident) -> tuple[dt.date, ...]:
    """Every day of ``incident``: its date and those of a series."""
    return (incident.date, *incident.also_on)


def conflict_of(case: Case, incident: Incident) -> ArmedConflict | None:
    """The armed conflict the records place ``incident`` in, or ``None``
    (peacetime). Loading the case checked that the conflict was in force on
    each of its days and that the State it is attributed to is a party."""
    if incident.conflict is None:
        return None
    return case.conflicts.get(incident.conflict)


def conflicts_around(case: Case, incident: Incident) -> list[ArmedConflict]:
    """Armed conflicts the records state, in force on the incident's date,
    to which the State it is attributed to is a party: where an incident not
    placed in any may belong."""
    return [conflict for conflict in case.conflicts.values()
            if incident.attributed_to in conflict.parties and conflict.in_force(incident.date)]


def relations_on(case: Case, sending: str, receiving: str, day: dt.date) -> Relations | None:
    """The record of diplomatic relations between ``sending`` and
    ``receiving`` in force on ``day`` (the latest one from that day or
    before), or ``None``: relations were normal."""
    found: Relations | None = None
    for relations in case.relations:
        if (relations.sending, relations.receiving) != (sending, receiving):
            continue
        if relations.since is not None and relations.since > day:
            continue
        if found is None or (relations.since or dt.date.min) >= (found.since or dt.date.min):
            found = relations
    return found


def broken(case: Case, sending: str, receiving: str, on: Iterable[dt.date]) -> bool:
    """Whether relations between ``sending`` and ``receiving`` were broken
    off (or the mission recalled, or a protecting power acting) on every day
    of ``on``."""
    for day in on:
        relations = relations_on(case, sending, receiving, day)
        if relations is None or relations.status is RelationsStatus.normal:
            return False
    return True


def code(case: Case, state_id: str) -> str | None:
    """The ISO code of the State ``state_id``, or ``None`` if it has none."""
    state = case.states.get(state_id)
    return state.code if state is not None else None
