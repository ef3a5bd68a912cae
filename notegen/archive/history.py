"""What a note recalls of the sender's earlier notes, from the register.

For each incident a note protests (its subject) or recalls (its
``earlier`` list), the register knows which issued notes of the same sender
protested it, as their subject or in their chronology: the records kept
with each entry say so (:func:`protested`), and the register keeps them as
an index beside the log, one row per note and incident, so that finding
them costs the same whatever the size of the register. :func:`recalled`
joins them, with the replies
received, into :class:`~notegen.records.models.RecalledNote` records, plain
data that the wording puts into words (the wording never reads the
register). They are stored in the note's records, so an issued note renders
the same later, whatever is issued or replied since.

The rule, for a note dated D of sender S:

- an earlier note is an issued note of S, dated on or before D, that is not
  the note itself and was not cancelled (before the note, if the note is in
  the register), whose subject or chronology names one of the note's incidents;
- a note of the same date D on the same subject is never recalled: it is
  the note itself (a draft rendered after its issue), or the same protest
  issued again, not an earlier one; a note of the same day on another
  subject is (it protested an incident of this note's chronology);
- if the note is in the register, only notes recorded before it count;
- a reply counts if it was received on or before D (and, for a note in the
  register, recorded before it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..records.models import RecalledNote, RecalledReply


@dataclass(frozen=True)
class IssuedNote:
    """An issued note as the history reads it from the log."""

    position: int
    series: str
    reference: str
    #: Its date, ISO.
    date: str
    #: The incident it protested.
    subject: str
    #: The incidents it protested (its subject and chronology) that the note
    #: recalling it asked for.
    incidents: tuple[str, ...]
    #: The position of its cancellation, if it was cancelled.
    cancelled: int | None


@dataclass(frozen=True)
class ReplyRow:
    """A reply as the history reads it from the log."""

    position: int
    series: str
    reference: str
    #: When it was received, ISO.
    received: str
    their_reference: str | None
    unsatisfactory: bool


def protested(records: str) -> tuple[str, ...]:
    """The incidents a note's records protest: its subject, then its chronology."""
    try:
        note = json.loads(records).get("note") or {}
    except (ValueError, AttributeError):
        return ()
    earlier = note.get("earlier")
    ids = [note.get("subject"), *(earlier if isinstance(earlier, list) else ())]
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str)))


def recalled(subject: str, date: dt.date, earlier: Sequence[str], reference: str | None,
             notes: Sequence[IssuedNote], replies: Sequence[ReplyRow]) -> list[RecalledNote]:
    """The earlier notes a note of ``date`` recalls (see the module's rule),
    oldest first.

    ``notes`` are the sender's issued notes dated on or before the note that
    protested one of its incidents, in log order; ``replies`` the replies to
    them received by its date; ``reference`` the note's own number, if it
    has one (a note of the register)."""
    wanted = (subject, *earlier)
    day = date.isoformat()
    own = next((note.position for note in notes if note.reference == reference), None) \
        if reference is not None else None
    before = own if own is not None else float("inf")
    found: list[tuple[IssuedNote, list[str]]] = []
    for note in notes:
        if note.position >= before or note.reference == reference:
            continue
        if note.cancelled is not None and note.cancelled < before:
            continue
        if note.date == day and note.subject == subject:
            continue
        incidents = [incident for incident in wanted if incident in note.incidents]
        if incidents:
            found.append((note, incidents))
    answers: dict[tuple[str, str], list[RecalledReply]] = {}
    for reply in replies:
        if reply.position < before:
            answers.setdefault((reply.series, reply.reference), []).append(RecalledReply(
                received=dt.date.fromisoformat(reply.received), reference=reply.their_reference,
                unsatisfactory=reply.unsatisfactory))
    found.sort(key=lambda item: (item[0].date, item[0].position))
    return [RecalledNote(reference=note.reference, date=dt.date.fromisoformat(note.date),
                         incidents=incidents,
                         replies=sorted(answers.get((note.series, note.reference), []),
                                        key=lambda reply: reply.received))
            for note, incidents in found]
