"""Checks of a note's form, run on its context before anything is rendered.

Each finding is a located :class:`~notegen.errors.Problem`:

* first-person words ("I", "we", "our"…) in the texts of a note verbale or an
  aide-mémoire, which are written in the third person or impersonally;
* a courtesy formula that is empty although the sender's profile does not
  disable it;
* sender and addressee named differently in the opening formula, the
  letterhead and the addressee block;
* a reply whose opening does not name the note it answers (a house formula
  without ``[{reply}]``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import Location, Problem
from ..records.case import Case
from ..records.models import NoteType, Profile
from .catalogue import Catalogue, Name
from .context import FORMS, NoteContext

_NOT_WORD = re.compile(r"[\W_]+")


def lint(case: Case, catalogue: Catalogue, context: NoteContext,
         note_type: NoteType) -> list[Problem]:
    """Every problem of form in ``context``, a note of ``note_type``."""
    form = FORMS[note_type]
    problems: list[Problem] = []
    if form.voice != "first":
        problems.extend(_voice(case, catalogue, note_type))
    if form.courtesy:
        problems.extend(_formulae(case, catalogue, context))
    problems.extend(_reply(case, catalogue, context))
    problems.extend(_names(case, catalogue, context))
    return problems


def _texts(case: Case, lang: str, note_type: NoteType
           ) -> Iterator[tuple[str, Callable[[], Location]]]:
    """The record texts of the note in ``lang``, each with what tells where
    it is written (asked only of a text found wanting: locating a record of
    a large catalogue costs more than checking it)."""
    note = case.note

    def pick(value: str | dict[str, str] | None, record_id: str | None,
             *path: str | int) -> tuple[str, Callable[[], Location]]:
        if value is None or isinstance(value, str):
            return value or "", functools.partial(case.locate, record_id, *path)
        return value.get(lang, ""), functools.partial(case.locate, record_id, *path, lang)

    yield pick(note.protest, None, "protest")
    for field in ("recalls", "position"):
        for index, text in enumerate(getattr(note, field)):
            yield pick(text, None, field, index)
    for index, demand in enumerate(note.demands):
        yield pick(demand.text, None, "demands", index, "text")
    for incident_id in (note.subject, *note.earlier):
        incident = case.incidents[incident_id]
        yield pick(incident.account, incident_id, "account")
        for index, text in enumerate(incident.damage):
            yield pick(text, incident_id, "damage", index)
    sender = case.parties[note.sender]
    if isinstance(sender, Profile):
        for key, text in sender.formulae.get(lang, {}).items():
            prefix = key.split(".", 1)[0]
            if prefix in NoteType.__members__ and prefix != note_type.value:
                continue  # wording of another note type
            yield text, functools.partial(case.locate, sender.id, "formulae", lang, key)


def _voice(case: Case, catalogue: Catalogue, note_type: NoteType) -> Iterator[Problem]:
    for text, where in _texts(case, catalogue.lang, note_type):
        words = catalogue.first_person_words(text)
        if words:
            quoted = ", ".join(f"'{w}'" for w in dict.fromkeys(words))
            yield Problem(f"{quoted} speaks in the first person, but "
                          f"{FORMS[note_type].described}: name the sender instead "
                          "(\"the Ministry\")", where())


def _origin(case: Case, catalogue: Catalogue, key: str) -> Location:
    """Where the phrase ``key`` in use comes from: the sender's profile or the catalogue."""
    used = catalogue.key(key) or key
    sender = case.parties[case.note.sender]
    if isinstance(sender, Profile) and used in sender.formulae.get(catalogue.lang, {}):
        return case.locate(sender.id, "formulae", catalogue.lang, used)
    return Location(Path(catalogue.path))


def _formulae(case: Case, catalogue: Catalogue, context: NoteContext) -> Iterator[Problem]:
    sender = case.parties[case.note.sender]
    policy = sender.courtesy if isinstance(sender, Profile) else None
    if (policy is None or policy.closing) and not context.courtesy.closing.strip():
        yield Problem("the closing formula is empty; if the ministry omits it, set "
                      "courtesy: {closing: false} in its profile",
                      _origin(case, catalogue, "closing"))
    opening = context.courtesy.opening
    if (policy is None or policy.opening) and not opening.strip():
        yield Problem("the opening formula is empty; if the ministry omits it, set "
                      "courtesy: {opening: false} in its profile",
                      _origin(case, catalogue, "opening"))
        return
    if context.voice != "third":
        return  # only a note verbale names both parties in its opening
    key = "opening" if policy is None or policy.opening else "opening.plain"
    for role, name in (("sender", context.sender.name), ("addressee", context.addressee.name)):
        if not _names_in(name, opening):
            yield Problem(f"the opening formula does not name the {role} as {str(name)!r}, "
                          "as the letterhead and addressee block do: use {" + role + "} "
                          "(or a form such as {" + role + ".dat}) instead of writing it out",
                          _origin(case, catalogue, key))


def _reply(case: Case, catalogue: Catalogue, context: NoteContext) -> Iterator[Problem]:
    """A reply's opening names the note it answers; one formula serves plain
    notes and replies, so a formula without ``[{reply}]`` would lose it."""
    reply = context.courtesy.reply
    if case.note.in_reply_to is None or not reply or not context.courtesy.opening:
        return
    if _fold(reply) not in _fold(context.courtesy.opening):
        sender = case.parties[case.note.sender]
        policy = sender.courtesy if isinstance(sender, Profile) else None
        key = ("opening" if FORMS[NoteType(context.type)].courtesy
               and (policy is None or policy.opening) else "opening.plain")
        yield Problem("the note is a reply, but its opening formula does not name the note "
                      "it answers: put [{reply}] in it where the reference goes (e.g. "
                      "\"… and[, {reply},] has the honour to …\")",
                      _origin(case, catalogue, key))


def _names_in(name: str, text: str, *more: str) -> bool:
    forms = [name, *more, *(name.forms.values() if isinstance(name, Name) else ())]
    folded = _fold(text)
    return any(_fold(form) in folded for form in forms)


def _fold(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def _names(case: Case, catalogue: Catalogue, context: NoteContext) -> Iterator[Problem]:
    sender = context.sender
    if sender.letterhead:
        # The letterhead may add a motto or a department, and drop articles
        # and prepositions; every word of substance of the name must be in it.
        header = set(_fold(" ".join(sender.letterhead)).split())
        missing = [word for word in _fold(sender.name).split()
                   if len(word) > 3 and word not in header]
        if missing:
            yield Problem(f"the letterhead reads {' / '.join(sender.letterhead)!r}, which "
                          f"lacks {', '.join(repr(w) for w in missing)} of the sender's "
                          f"name {str(sender.name)!r}", case.locate(sender.id, "letterhead"))
    # A first-person note's block names a person, not the embassy.
    block = context.addressee_block
    # An address block may drop the name's article ({addressee.bare}).
    if block and context.signatory is None and not _names_in(
            context.addressee.name, block[0], catalogue.bare(context.addressee.name)):
        yield Problem(f"the addressee block begins {block[0]!r}, which does not name the "
                      f"addressee as {str(context.addressee.name)!r}",
                      _origin(case, catalogue, "addressee.block"))
