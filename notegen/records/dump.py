"""A case written back as one JSON record file: what a PDF carries inside
and the register keeps, and what :func:`~notegen.load_case` reads again."""

from __future__ import annotations

import json

from .case import Case
from .models import Note, Party, Profile, RecordFile


def dump_case(case: Case, note: Note | None = None) -> bytes:
    """``case`` as one JSON record file, with ``note`` in place of its note if
    given: what notegen embeds in a PDF. :func:`load_case` reads it back to
    the same records, and dumping those gives the same bytes.

    Only the sender's profile keeps its house style; another profile (which
    cannot change the note) is written as the party it is.
    """
    sender = case.parties[case.note.sender]
    profile = sender if isinstance(sender, Profile) else None
    parties = [Party.model_validate(party.model_dump(include=set(Party.model_fields)))
               if isinstance(party, Profile) else party
               for party in case.parties.values() if party is not profile]
    record = RecordFile(states=list(case.states.values()), parties=parties,
                        facilities=list(case.facilities.values()),
                        incidents=list(case.incidents.values()), profile=profile,
                        note=note or case.note)
    data = record.model_dump(mode="json", exclude_defaults=True)
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

