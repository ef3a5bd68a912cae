"""What changed between two drafts of a case, fact by fact.

:func:`compare_cases` compares the records (the validated models), not the
text a note makes of them: an incident added to or removed from the
chronology, the subject incident's date, time, place or account changed, a
demand or a legal basis added, removed or changed, another sender,
addressee, note type or language. Each change is a :class:`Change`: the
field path it concerns, a plain sentence, the values before and after (as
text) and where the newer draft (or, for a removal, the older one) says so.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .case import Case
from .models import Citation, Demand, Incident, Note, Party, RecalledNote

#: The fields of an incident compared, in the order they are reported, and
#: what a sentence calls each.
_INCIDENT_FIELDS = {
    "date": "date", "also_on": "further dates", "time": "time",
    "time_approximate": "approximate time", "place": "place", "country": "country",
    "attributed_to": "State held responsible", "conflict": "armed conflict",
    "impacts": "impacts", "means": "means", "account": "account", "damage": "damage",
    "casualties": "casualties", "agents_harmed": "members of the mission harmed",
}
# Not its sources: the note does not cite them, and the records a PDF or the
# register keeps leave them out unless the sender's profile embeds them.

#: The fields of the note compared one by one (the others have rules of
#: their own), and what a sentence calls each.
_NOTE_FIELDS = {
    "reference": "reference", "date": "date", "place": "place on the date line",
    "in_reply_to": "note replied to", "signatory": "signatory",
    "translation": "courtesy translation", "chronology_required": "chronology requirement",
    "protest": "protest",
}


@dataclass(frozen=True)
class Change:
    """One fact that differs between the older and the newer draft."""

    #: The field it concerns, e.g. ``note.earlier`` or
    #: ``incidents[kyiv-2025-11-14].account`` (records by id, lists by position).
    path: str
    #: ``added``, ``removed`` or ``changed``.
    kind: str
    #: The change in a plain sentence.
    sentence: str
    #: The value before and after, as text (``None``: none).
    old: str | None = None
    new: str | None = None
    #: Where the newer draft states it (the older one, for a removal):
    #: ``file:line``.
    where: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "kind": self.kind, "sentence": self.sentence,
                "old": self.old, "new": self.new, "where": self.where}


def in_language(value: object, lang: str | None) -> str:
    """A record text (given once, or per language) in ``lang``: the text
    given for it, else the first given."""
    if isinstance(value, dict):
        if lang is not None and lang in value:
            return str(value[lang])
        return str(next(iter(value.values()), ""))
    return str(value)


def compare_cases(old: Case, new: Case, lang: str | None = None) -> tuple[Change, ...]:
    """The facts that differ between ``old`` and ``new``, in the order a
    reader of the note meets them; texts shown in ``lang`` (default: the
    newer note's language)."""
    return tuple(_Comparison(old, new, lang or new.note.language).changes())


class _Comparison:
    def __init__(self, old: Case, new: Case, lang: str) -> None:
        self.old, self.new, self.lang = old, new, lang

    def changes(self) -> Iterator[Change]:
        old, new = self.old.note, self.new.note
        yield from self._value("note.type", "note type", old.type, new.type, None, "type")
        yield from self._value("note.language", "language", old.language, new.language,
                               None, "language")
        yield from self._party("sender", old.sender, new.sender)
        yield from self._party("addressee", old.addressee, new.addressee)
        for name, label in _NOTE_FIELDS.items():
            yield from self._value(f"note.{name}", f"note's {label}", getattr(old, name),
                                   getattr(new, name), None, name)
        yield from self._subject(old, new)
        yield from self._chronology(old, new)
        for name, label in (("recalls", "recalled fact"), ("position", "point of position")):
            yield from self._list(f"note.{name}", label, getattr(old, name),
                                  getattr(new, name), self._text, name)
        yield from self._demands(old.demands, new.demands)
        yield from self._legal_bases(old.legal_bases, new.legal_bases)
        yield from self._list("note.recalled_notes", "recalled earlier note",
                              old.recalled_notes, new.recalled_notes, _recalled,
                              "recalled_notes")

    # -- where and how values are shown ---------------------------------

    def _where(self, case: Case, record_id: str | None, *path: str | int) -> str | None:
        try:
            location = case.locate(record_id, *path)
        except KeyError:
            return None
        if location.file is None:
            return None
        return f"{location.file}:{location.line}" if location.line else str(location.file)

    def _text(self, value: object) -> str:
        """A value of the records as a reader would write it."""
        if value is None:
            return "none"
        if isinstance(value, Enum):
            return str(value.value).replace("_", " ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, dict):
            return in_language(value, self.lang)
        if isinstance(value, BaseModel):
            return self._text(value.model_dump(mode="json", exclude_defaults=True))
        if isinstance(value, list):
            return "; ".join(self._text(item) for item in value) or "none"
        if isinstance(value, str | int | float):
            return str(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)  # pragma: no cover

    def _languages(self, old: object, new: object) -> str:
        """For texts given per language: `` (in ru, fr)``, the languages whose text differs."""
        if not (isinstance(old, dict) and isinstance(new, dict)):
            return ""
        differ = [lang for lang in dict.fromkeys([*old, *new]) if old.get(lang) != new.get(lang)]
        return f" (in {', '.join(differ)})" if differ else ""

    def _incident(self, case: Case, incident_id: str) -> str:
        """An incident named for a reader: its id, date and place."""
        incident = case.incidents[incident_id]
        return (f"{incident_id} ({incident.date.isoformat()}, "
                f"{in_language(incident.place, self.lang)})")

    # -- the rules ------------------------------------------------------

    def _value(self, path: str, label: str, old: Any, new: Any, record_id: str | None,
               *field: str | int) -> Iterator[Change]:
        if _dumped(old) == _dumped(new):
            return
        where = self._where(self.new, record_id, *field)
        if new is None:
            yield Change(path, "removed", f"The {label} was removed (was {self._text(old)}).",
                         self._text(old), None, self._where(self.old, record_id, *field))
        elif old is None:
            yield Change(path, "added", f"The {label} was added: {self._text(new)}.", None,
                         self._text(new), where)
        elif _short(old) and _short(new):
            yield Change(path, "changed", f"The {label} changed from {self._text(old)} to "
                         f"{self._text(new)}.", self._text(old), self._text(new), where)
        else:
            yield Change(path, "changed", f"The {label} changed"
                         f"{self._languages(old, new)}.", self._text(old), self._text(new),
                         where)

    def _party(self, role: str, old_id: str, new_id: str) -> Iterator[Change]:
        old_party, new_party = self.old.parties[old_id], self.new.parties[new_id]
        if old_id != new_id:
            yield Change(f"note.{role}", "changed",
                         f"The {role} changed from {self._party_name(old_party)} ({old_id}) to "
                         f"{self._party_name(new_party)} ({new_id}).", old_id, new_id,
                         self._where(self.new, None, role))
            return
        fields = [name for name in type(new_party).model_fields
                  if _dumped(getattr(old_party, name)) != _dumped(getattr(new_party, name))]
        if type(old_party) is not type(new_party) or fields:
            yield Change(f"parties[{new_id}]", "changed",
                         f"The {role}'s record ({new_id}) changed: "
                         f"{', '.join(name.replace('_', ' ') for name in fields)}.",
                         self._text(old_party), self._text(new_party),
                         self._where(self.new, new_id))

    def _party_name(self, party: Party) -> str:
        return in_language(party.name, self.lang)

    def _subject(self, old: Note, new: Note) -> Iterator[Change]:
        if old.subject != new.subject:
            yield Change("note.subject", "changed",
                         f"The subject incident changed from "
                         f"{self._incident(self.old, old.subject)} to "
                         f"{self._incident(self.new, new.subject)}.", old.subject, new.subject,
                         self._where(self.new, None, "subject"))
            return
        yield from self._incident_fields(new.subject, "The subject incident's")

    def _incident_fields(self, incident_id: str, owner: str) -> Iterator[Change]:
        before: Incident = self.old.incidents[incident_id]
        after: Incident = self.new.incidents[incident_id]
        for name, label in _INCIDENT_FIELDS.items():
            old, new = getattr(before, name), getattr(after, name)
            if _dumped(old) == _dumped(new):
                continue
            where = self._where(self.new, incident_id, name)
            path = f"incidents[{incident_id}].{name}"
            if isinstance(old, dt.date | str) and isinstance(new, dt.date | str) \
                    and name != "account":
                sentence = (f"{owner} {label} changed from {self._text(old)} to "
                            f"{self._text(new)}.")
            elif old is None or old == [] or new is None or new == []:
                sentence = (f"{owner} {label} {'were' if label.endswith('s') else 'was'} "
                            f"{'added' if not old else 'removed'}.")
            else:
                sentence = f"{owner} {label} changed{self._languages(old, new)}."
            yield Change(path, "changed", sentence, self._text(old), self._text(new), where)

    def _chronology(self, old: Note, new: Note) -> Iterator[Change]:
        before, after = set(old.earlier), set(new.earlier)
        for position, incident_id in enumerate(new.earlier):
            if incident_id not in before:
                yield Change(f"note.earlier[{position}]", "added",
                             f"An incident was added to the chronology: "
                             f"{self._incident(self.new, incident_id)}.", None, incident_id,
                             self._where(self.new, None, "earlier", position))
        for position, incident_id in enumerate(old.earlier):
            if incident_id not in after:
                yield Change(f"note.earlier[{position}]", "removed",
                             f"An incident was removed from the chronology: "
                             f"{self._incident(self.old, incident_id)}.", incident_id, None,
                             self._where(self.old, None, "earlier", position))
        for incident_id in new.earlier:
            if incident_id in before:
                yield from self._incident_fields(
                    incident_id, f"The earlier incident {self._incident(self.new, incident_id)}:")

    def _list(self, path: str, label: str, old: Sequence[Any], new: Sequence[Any],
              show: Callable[[Any], str], field: str) -> Iterator[Change]:
        """Items added, removed or changed (one replaced by one) in a list."""
        keys_old, keys_new = [_key(item) for item in old], [_key(item) for item in new]
        matcher = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for offset in range(paired):
                i, j = i1 + offset, j1 + offset
                yield Change(f"{path}[{j}]", "changed",
                             f"The {label} no. {j + 1} changed from “{show(old[i])}” to "
                             f"“{show(new[j])}”.", show(old[i]), show(new[j]),
                             self._where(self.new, None, field, j))
            for i in range(i1 + paired, i2):
                yield Change(f"{path}[{i}]", "removed",
                             f"A {label} was removed: “{show(old[i])}”.", show(old[i]), None,
                             self._where(self.old, None, field, i))
            for j in range(j1 + paired, j2):
                yield Change(f"{path}[{j}]", "added", f"A {label} was added: “{show(new[j])}”.",
                             None, show(new[j]), self._where(self.new, None, field, j))

    def _demands(self, old: list[Demand], new: list[Demand]) -> Iterator[Change]:
        def show(demand: Demand) -> str:
            kind = self._text(demand.kind)
            return f"{kind}: {self._text(demand.text)}" if demand.text is not None else kind

        yield from self._list("note.demands", "demand", old, new, show, "demands")

    def _legal_bases(self, old: list[Citation] | None,
                     new: list[Citation] | None) -> Iterator[Change]:
        if old is None and new is None:
            return
        if old is None or new is None:
            given = new if new is not None else old
            articles = ", ".join(citation.article for citation in given or ()) or "none"
            sentence = (f"The legal bases are now given in the records ({articles}); they were "
                        "derived from the facts." if old is None else
                        f"The legal bases are now derived from the facts; they were given "
                        f"({articles}).")
            yield Change("note.legal_bases", "changed", sentence,
                         "derived" if old is None else articles,
                         articles if old is None else "derived",
                         self._where(self.new, None, "legal_bases"))
            return
        before = {citation.article: (i, citation) for i, citation in enumerate(old)}
        after = {citation.article: (i, citation) for i, citation in enumerate(new)}
        for article, (j, citation) in after.items():
            if article not in before:
                yield Change(f"note.legal_bases[{j}]", "added",
                             f"A legal basis was added: {article} ({self._text(citation.framing)}"
                             ").", None, article, self._where(self.new, None, "legal_bases", j))
            elif _dumped(before[article][1]) != _dumped(citation):
                was = before[article][1]
                yield Change(f"note.legal_bases[{j}]", "changed",
                             f"The legal basis {article} changed: "
                             f"{self._text(was)} → {self._text(citation)}.", self._text(was),
                             self._text(citation), self._where(self.new, None, "legal_bases", j))
        for article, (i, _) in before.items():
            if article not in after:
                yield Change(f"note.legal_bases[{i}]", "removed",
                             f"A legal basis was removed: {article}.", article, None,
                             self._where(self.old, None, "legal_bases", i))


def _recalled(note: RecalledNote) -> str:
    """An earlier note the note recalls, as a reader names it (and its replies)."""
    text = f"No. {note.reference} of {note.date.isoformat()}"
    if note.replies:
        text += f", answered {', '.join(reply.received.isoformat() for reply in note.replies)}"
    return text


def _short(value: object) -> bool:
    """Whether a sentence can quote ``value`` whole (a date, a number, a few words)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= 60
    return isinstance(value, Enum | dt.date | int)


def _key(value: object) -> str:
    """``value`` as a string that is equal for equal content."""
    return json.dumps(_dumped(value), ensure_ascii=False, sort_keys=True, default=str)


def _dumped(value: object) -> object:
    """``value`` in a form that compares by content (models by their fields)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dumped(item) for item in value]
    return value
