"""The sentence recalling the sender's earlier notes about a note's incidents.

The register finds them (:mod:`notegen.archive.history`) and the records
carry them (``note.recalled_notes``, plain data: numbers, dates, replies);
here they are put into words, every word from the phrase catalogue:

- ``earlier_notes``: the sentence, "{sender_short} recalls {notes}.", whose
  ``{notes}`` joins the groups below, which hold commas of their own:
  ``earlier_notes.pair`` joins two ("{first}, and {last}"), ``.more`` and
  ``.last`` more ("{first}; {next}", "{first}; and {last}");
- ``earlier_notes.unanswered``: the note that remains unanswered ("its Note
  {notes}, which has remained unanswered"), ``.several`` the notes, together
  ("its Notes {notes}, which have remained unanswered"), listed by
  ``earlier_notes.join.pair`` ("{first} and {last}"), ``.more`` and ``.last``;
- ``earlier_notes.answered``: each answered note, "its Note {note}, to
  which {addressee_short} replied {replies}", the replies listed by
  ``earlier_notes.answered.join`` after a numbered reply (Russian closes its
  participial phrase before «и»: «нотой № 4512, полученной …, и нотой
  № 4600, …») and by ``earlier_notes.join`` after a reply by its date alone;
- ``earlier_notes.item``: one note, "{reference} of {date}" ({number}
  without the sign); ``earlier_notes.reply`` one reply, "by its Note
  {reference} received on {date}" (``.unnumbered``: a reply without a
  number). The replies are counted by their numbered ones, so the phrase
  may have plural variants: Azerbaijani lets them share one noun ("… 4512
  saylı və … 4600 saylı notaları ilə", ``.one``, ``.other``; ``.=0``
  when none has a number);
- ``earlier_notes.rejected``: the sentence on replies whose explanations
  are unsatisfactory (``.several`` for more than one), their items
  ``earlier_notes.rejected.item``, listed by ``earlier_notes.rejected.join``
  (``.pair``, ``.more``, ``.last``). An item
  may hold a participle, which agrees with one note: a language may repeat
  the noun in the join rather than make it plural (Russian «в ноте
  Посольства № 4512, полученной …, и в ноте № 4600, полученной …»).

A list whose own ``join`` phrases the catalogue lacks takes the general
``earlier_notes.join``; a catalogue with neither lists the locale's way
(CLDR, through Babel).

Each may have a variant per note type and for the talking points and the
press release (``talking_points.earlier_notes``…): the voice and the
possessive differ ("its", "our").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..records.models import RecalledNote, RecalledReply
from .catalogue import Catalogue
from .numbers import Counted


@dataclass(frozen=True)
class EarlierNotes:
    """The earlier notes recalled, in words; empty when none are."""

    #: As the note says it: "The Ministry recalls its Notes No. … of …, which
    #: have remained unanswered." (and, if a reply is found unsatisfactory, a
    #: second sentence saying so).
    text: str = ""
    #: The same as the talking points say it ("We recall our Notes …").
    talking_points: str = ""
    #: The same as the press release says it.
    press_release: str = ""
    #: The notes recalled, oldest first.
    notes: tuple[RecalledNote, ...] = ()


def recall(notes: Sequence[RecalledNote], catalogue: Catalogue,
           names: Mapping[str, object]) -> str:
    """The sentences recalling ``notes`` in ``catalogue``'s language and
    variant (a note type, ``talking_points`` or ``press_release``), with the
    parties' ``names``; empty if there are none.

    :raises RecordError: if a name lacks a form or gender a phrase needs.
    :raises TemplateError: if the catalogue lacks a phrase.
    """
    if not notes:
        return ""
    ordered = sorted(notes, key=lambda note: (note.date, note.reference))

    def say(key: str, **values: object) -> str:
        return catalogue.phrase(key, **names, **values)

    def item(note: RecalledNote) -> str:
        return say("earlier_notes.item", **_numbered(note.reference, catalogue),
                   date=catalogue.date(note.date))

    def reply(answer: RecalledReply) -> str:
        date = catalogue.date(answer.received)
        if answer.reference is None:
            return say("earlier_notes.reply.unnumbered", date=date)
        return say("earlier_notes.reply", **_numbered(answer.reference, catalogue), date=date)

    def listed(items: Sequence[str], kind: str = "") -> str:
        for base in (f"earlier_notes.{kind}.join" if kind else "", "earlier_notes.join"):
            if base and catalogue.key(f"{base}.pair") is not None:
                return _chain(items, base, say)
        return catalogue.join(items)

    def replied(answers: Sequence[RecalledReply]) -> Counted:
        items = [reply(answer) for answer in answers]
        numbered = sum(answer.reference is not None for answer in answers)
        if catalogue.key("earlier_notes.answered.join.pair") is None \
                or catalogue.key("earlier_notes.join.pair") is None:
            return Counted(listed(items, "answered"), numbered)
        # The join after a numbered reply closes its participial phrase; a
        # reply by its date alone has none to close.
        return Counted(_chain(items, [
            "earlier_notes.answered.join" if answer.reference is not None
            else "earlier_notes.join" for answer in answers[:-1]], say), numbered)

    unanswered = [note for note in ordered if not note.replies]
    groups = []
    if unanswered:
        groups.append(say(_several("earlier_notes.unanswered", unanswered),
                          notes=listed([item(note) for note in unanswered], "unanswered")))
    groups += [say("earlier_notes.answered", note=item(note), replies=replied(note.replies))
               for note in ordered if note.replies]
    sentences = [catalogue.sentence(say("earlier_notes",
                                        notes=_chain(groups, "earlier_notes", say)))]
    rejected = [answer for note in ordered for answer in note.replies
                if answer.unsatisfactory and answer.reference is not None]
    if rejected:
        items = [say("earlier_notes.rejected.item",
                     **_numbered(answer.reference or "", catalogue),
                     date=catalogue.date(answer.received)) for answer in rejected]
        sentences.append(catalogue.sentence(say(_several("earlier_notes.rejected", items),
                                                replies=listed(items, "rejected"))))
    return " ".join(sentences)


def _several(key: str, things: Sequence[object]) -> str:
    """``key`` for one thing, ``key.several`` for more (whatever the number's
    CLDR plural category: "its Notes", «свои ноты»)."""
    return key if len(things) == 1 else f"{key}.several"


def _chain(items: Sequence[str], base: str | Sequence[str], say: Callable[..., str]) -> str:
    """``items`` joined by the phrases under ``base``: ``.pair`` for two, else
    ``.more`` between the first ones and ``.last`` before the last. The
    groups of the sentence (``earlier_notes``) may hold commas, so theirs
    join with "; and". ``base`` may be one per join, each the base of the
    join after the item of its place."""
    bases = [base] * (len(items) - 1) if isinstance(base, str) else list(base)
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return say(f"{bases[0]}.pair", first=items[0], last=items[1])
    joined = items[0]
    for before, item in zip(bases[:-1], items[1:-1], strict=True):
        joined = say(f"{before}.more", first=joined, next=item)
    return say(f"{bases[-1]}.last", first=joined, last=items[-1])


def _numbered(number: str, catalogue: Catalogue) -> dict[str, object]:
    """A note's number both ways: ``{reference}`` with its sign, ``{number}`` without."""
    return {"reference": catalogue.phrase("reference", number=number), "number": number}
