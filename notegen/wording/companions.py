"""The documents that go with a note in a démarche: talking points for the
summons and a press release.

Each is built from the note's own :class:`~notegen.context.NoteContext`, so
the chronology, the numbers, the dates and the demands are the very strings
of the note and the documents cannot disagree. Their wording is in the
catalogue (``talking_points.*``, ``press_release.*``); their templates
(``talking_points.html.j2``, ``press_release.html.j2``) get ``note`` and
``doc``, one of the dataclasses below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Problem, RecordError
from ..options import Document
from .catalogue import Catalogue
from .context import NoteContext, distinct, phrase_names


@dataclass(frozen=True)
class TalkingPoints:
    """Talking points for the official who receives the ambassador: first
    person, one point per bullet."""

    title: str
    #: "For internal use".
    marking: str
    #: Label and value rows under the title: counterpart (the ambassador
    #: received, the addressee's head), date, place.
    heading: tuple[tuple[str, str], ...]
    #: The points, in the order they are made.
    opening: str
    narrative: str
    chronology_intro: str
    #: The note's chronology entries, the same strings.
    chronology: tuple[str, ...]
    recalls: tuple[str, ...]
    position: tuple[str, ...]
    legal_intro: str
    #: The articles, cited in full.
    legal: tuple[str, ...]
    demands_intro: str
    #: The note's demands, the same strings.
    demands: tuple[str, ...]
    #: Handing over the note: "We are handing you our note No. … of …".
    handover: str


@dataclass(frozen=True)
class PressRelease:
    """The ministry's public statement: it speaks of itself in the third
    person and tells the chronology in prose."""

    title: str
    #: "Baku, 14 November 2025".
    dateline: str
    #: Paragraphs, in order; the chronology's has one sentence per incident.
    paragraphs: tuple[str, ...]


Companion = TalkingPoints | PressRelease


def build_companion(document: Document, note: NoteContext,
                    catalogue: Catalogue) -> Companion | None:
    """The context of ``document`` for ``note``, in the catalogue's language;
    ``None`` for the note itself.

    :raises RecordError: listing every form and gender the records lack for
        the document's phrases, all at once (as for the note's).
    """
    problems: list[Problem] = []
    built: Companion | None = None
    if document is Document.talking_points:
        built = _talking_points(note, catalogue, problems)
    elif document is Document.press_release:
        built = _press_release(note, catalogue, problems)
    if problems:
        raise RecordError(distinct(problems))
    return built


def _collecting(problems: list[Problem], phrase: Callable[..., str]) -> Callable[..., str]:
    """``phrase``, which on a form or gender the records lack gives an empty
    text and keeps the problems, so that all of them are reported together."""

    def call(*args: object, **values: object) -> str:
        try:
            return phrase(*args, **values)
        except RecordError as error:
            problems.extend(error.problems)
            return ""

    return call


def _talking_points(note: NoteContext, catalogue: Catalogue,
                    problems: list[Problem]) -> TalkingPoints:
    # The counterpart of a summons is the ambassador (prepare checks there is one).
    names = phrase_names(note.sender, note.addressee, note.counterpart)
    phrase = _collecting(problems, catalogue.phrase)

    def say(key: str, **values: object) -> str:
        return catalogue.sentence(phrase(f"talking_points.{key}", **names, **values))

    subject = note.subject
    return TalkingPoints(
        title=say("title"),
        marking=say("internal"),
        heading=((say("counterpart"), say("counterpart.person")),
                 (say("date"), note.date.words), (say("place"), note.place)),
        opening=say("opening", protest=note.protest),
        narrative=" ".join(part for part in (
            say("narrative", date=subject.dates_words, time=subject.time_joined,
                account=subject.account),
            subject.damage_sentence, subject.casualties) if part),
        chronology_intro=say("chronology.intro") if note.chronology else "",
        chronology=tuple(incident.entry for incident in note.chronology),
        recalls=tuple(say("recall", text=text) for text in note.recall_clauses),
        # A further point is not "Our position:" again (a catalogue without
        # the phrase repeats it).
        position=tuple(say("position.more" if index and catalogue.key(
            "talking_points.position.more") else "position", text=text)
                       for index, text in enumerate(note.position_clauses)),
        legal_intro=say("legal.intro") if note.legal_bases else "",
        legal=tuple(catalogue.sentence(citation.cite) for group in note.legal_bases
                    for citation in group.citations),
        demands_intro=say("demands.intro"),
        demands=note.demands,
        handover=say("handover", reference=note.reference, number=note.number,
                     date=note.date.words),
    )


def _press_release(note: NoteContext, catalogue: Catalogue,
                   problems: list[Problem]) -> PressRelease:
    names = phrase_names(note.sender, note.addressee)
    phrase = _collecting(problems, catalogue.phrase)
    third_person = _collecting(problems, catalogue.with_phrases({}, variant="note_verbale").phrase)

    def say(key: str, **values: object) -> str:
        return catalogue.sentence(phrase(f"press_release.{key}", **names, **values))

    subject = note.subject
    paragraphs = [
        say("lead", protest=note.protest),
        " ".join(part for part in (
            say("narrative", date=subject.dates_words, time=subject.time_joined,
                account=subject.account),
            subject.damage_sentence, subject.casualties) if part),
    ]
    if note.chronology:
        # One sentence per incident: an account may hold its own ";".
        paragraphs.append(" ".join([say("chronology"), *(
            say("chronology.entry", date=i.dates_words, time=i.time_joined, place=i.place,
                account=catalogue.join([i.account, *i.damage]))
            for i in note.chronology)]))
    paragraphs += [catalogue.sentence(third_person("recall", **names, text=text))
                   for text in note.recall_clauses]
    paragraphs += [catalogue.sentence(third_person(
        "position" if index == 0 else "position.more", **names, text=text))
        for index, text in enumerate(note.position_clauses)]
    if note.legal_bases:
        paragraphs.append(say("legal", cites=catalogue.join(
            [c.cite for group in note.legal_bases for c in group.citations])))
    paragraphs.append(say("demands", demands=catalogue.join(
        [phrase("press_release.demand", demand=demand) for demand in note.demands])))
    return PressRelease(title=say("title"), dateline=note.date_line,
                        paragraphs=tuple(paragraphs))
