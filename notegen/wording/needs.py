"""What a language's wording needs of the records: the grammatical forms and
genders its phrases ask for, by the record that must give them.

Found by asking the wording itself, not by reading the catalogues: a probe
case that gives no form and no gender is worded in the language, as each
note type and each companion document, and every form or gender the wording
reports missing (the very problems ``notegen validate`` reports) is added and
the case worded again, until nothing is missing. So what
:func:`language_needs` lists is what ``validate`` would ask for, and it
follows the catalogues, the phrases' placeholders and the context code as
they change. ``docs/records.md`` lists it for the built-in languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, RecordError, TemplateError
from ..options import Document
from ..records.case import Case, load_case
from ..records.models import NoteType
from ..template_folders import TemplateFolders
from .catalogue import Catalogue, load_catalogue
from .companions import build_companion
from .context import build_context
from .legal import cited, load_legal

#: The records of the probe case that a phrase may need a form or gender of,
#: by where they are written in it, with how the documentation names them.
ROLES: dict[str, str] = {
    "profile": "the sender (a party: its profile)",
    "profile.head": "the sender's head (who signs a first-person note)",
    "parties[0]": "the addressee (a party: the embassy)",
    "parties[0].head": "the addressee's head (the ambassador)",
    "states[0]": "the sender's State",
    "states[1]": "the addressee's State",
}

#: What a note is worded as: each note type, and each document that goes with
#: a note verbale, by the name the documentation gives it.
USES: dict[str, tuple[NoteType, Document]] = {
    "note verbale": (NoteType.note_verbale, Document.note),
    "first-person note": (NoteType.first_person_note, Document.note),
    "aide-mémoire": (NoteType.aide_memoire, Document.note),
    "talking points": (NoteType.note_verbale, Document.talking_points),
    "press release": (NoteType.note_verbale, Document.press_release),
}

#: A missing form, as :meth:`~.catalogue.Catalogue.phrase` reports it.
_FORM = re.compile(r"phrase '(?P<phrase>[^']+)' needs the '\w+' form of .*: add it as "
                   r"forms: \{\w+: \{(?P<form>[\w.]+): …\}\}$", re.DOTALL)
#: A missing gender, as :meth:`~.catalogue.Catalogue.phrase` reports it.
_GENDER = re.compile(r"phrase '(?P<phrase>[^']+)' agrees with the gender of .*: give it ",
                     re.DOTALL)
#: The record a problem is located at, in the probe case.
_RECORD = re.compile(r"^(?P<record>profile|(?:parties|states)\[\d+\])(?P<head>\.head)?"
                     r"(?:\.forms)?$")


@dataclass(frozen=True)
class Need:
    """One thing a language's phrases need that the records must give."""

    #: Where it is given, a key of :data:`ROLES` (``"parties[0]"``: the addressee).
    record: str
    #: The form's key (``"name.dat"``), or ``"gender"``.
    key: str
    #: The first phrase found to need it (``"note_verbale.opening"``).
    phrase: str
    #: What needs it: keys of :data:`USES`, in their order.
    uses: tuple[str, ...]

    @property
    def role(self) -> str:
        """How the documentation names the record."""
        return ROLES[self.record]


def language_needs(lang: str, folders: TemplateFolders) -> tuple[Need, ...]:
    """Every form and gender the phrases of ``lang`` ask the records for, in
    any note type or companion document, ordered by record and key.

    :raises TemplateError: if the language has no catalogue, or it is broken.
    :raises RecordError: if the probe case meets a problem that is neither a
        form nor a gender (the probe would need mending).
    """
    catalogue = load_catalogue(lang, folders)
    if catalogue is None:
        raise TemplateError(f"no phrase catalogue for language {lang!r}")
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for use, (note_type, document) in USES.items():
        for record, key, phrase in _needs_of(catalogue, folders, note_type, document):
            found.setdefault((record, key), (phrase, []))[1].append(use)
    order = list(ROLES)
    return tuple(Need(record, key, phrase, tuple(uses))
                 for (record, key), (phrase, uses) in sorted(
                     found.items(), key=lambda item: (order.index(item[0][0]), item[0][1])))


def _needs_of(catalogue: Catalogue, folders: TemplateFolders, note_type: NoteType,
              document: Document) -> list[tuple[str, str, str]]:
    """What the probe case must be given to be worded as ``note_type`` or
    ``document`` in the catalogue's language: (record, key, phrase) each."""
    given: dict[tuple[str, str], str] = {}
    phrases = catalogue.with_phrases({}, variant=note_type.value)
    legal = load_legal(folders)
    while True:
        case = _probe_case(catalogue.lang, note_type, given)
        try:
            context = build_context(case, phrases, cited(case, legal), note_type)
            build_companion(document, context, phrases)
        except RecordError as error:
            added = [_need(problem) for problem in error.problems]
            new = {(record, key): phrase for record, key, phrase in added
                   if (record, key) not in given}
            if not new:  # the same again: adding it did not help
                raise
            given.update(new)
            continue
        return [(record, key, phrase) for (record, key), phrase in given.items()]


def _need(problem: Problem) -> tuple[str, str, str]:
    """The record, form or gender and phrase of a problem the wording reports.

    :raises RecordError: if it is not a missing form or gender.
    """
    where = _RECORD.match(problem.location.field or "")
    form = _FORM.search(problem.message)
    gender = _GENDER.search(problem.message)
    if where is None or (form or gender) is None:
        raise RecordError([problem])
    record = where["record"] + (where["head"] or "")
    if form is not None:
        return record, form["form"], form["phrase"]
    assert gender is not None
    return record, "gender", gender["phrase"]


def _probe_case(lang: str, note_type: NoteType, given: Mapping[tuple[str, str], str]) -> Case:
    """A case with one of everything a note may word (a reply, a time, a
    chronology, recalls, a position, legal bases), its texts given once, and
    of forms and genders only those ``given``."""

    def extra(record: str) -> dict[str, Any]:
        keys = [key for (where, key) in given if where == record]
        fields: dict[str, Any] = {}
        forms = {key: f"[{key}]" for key in keys if key != "gender"}
        if forms:
            fields["forms"] = {lang: forms}
        if "gender" in keys:
            fields["gender"] = "male" if record.endswith(".head") else {lang: "masculine"}
        return fields

    def person(record: str) -> dict[str, Any]:
        return {"name": "[name]", "title": "[title]", "style": "[style]", **extra(record)}

    incident = {"place": "[place]", "country": "addressee-state",
                "attributed_to": "addressee-state", "account": "[account]",
                "impacts": [{"facility": "embassy", "effect": "damaged"}]}
    records = {
        "states": [
            {"id": "sender-state", "name": "[sender State]", "side": "[sender side]",
             **extra("states[0]")},
            {"id": "addressee-state", "name": "[addressee State]", "side": "[addressee side]",
             **extra("states[1]")}],
        "profile": {"id": "sender", "state": "sender-state", "name": "[sender]",
                    "short_name": "[sender short]", "seat": "[seat]",
                    "head": person("profile.head"), **extra("profile")},
        "parties": [
            {"id": "addressee", "kind": "embassy", "state": "addressee-state",
             "name": "[addressee]", "short_name": "[addressee short]",
             "head": person("parties[0].head"), **extra("parties[0]")}],
        "facilities": [{"id": "embassy", "kind": "embassy", "name": "[embassy]",
                        "owner": "sender-state", "host": "addressee-state",
                        "place": "[place]"}],
        "incidents": [{"id": "earlier", "date": "2024-01-02", **incident},
                      {"id": "subject", "date": "2025-11-14", "time": "01:00", **incident}],
        "note": {"type": note_type.value, "language": lang, "date": "2025-11-20",
                 "sender": "sender", "addressee": "addressee", "subject": "subject",
                 "earlier": ["earlier"], "in_reply_to": {"reference": "1",
                                                         "date": "2025-11-15"},
                 "protest": "[protest]", "recalls": ["[recall]"],
                 "position": ["[position]", "[more]"],
                 "demands": [{"kind": "investigation"}]},
    }
    return load_case(records, includes=False)
