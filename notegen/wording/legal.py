"""Legal bases: which articles a note cites, how, and whether they apply.

The articles live in a catalogue, ``legal/bases.yaml`` in a template folder:
for each, who owes the duty (the receiving State, the parties to an armed
conflict, the responsible State), in which situation it applies (always, in
an armed conflict, where diplomatic relations are broken off), which
premises it protects and how it may be cited against a State that does not
owe it (by analogy, as a general principle, never). Who is party to which
treaty is data too, ``legal/participation.yaml``. The situation on the day
comes from the records (:mod:`.situation`): armed conflicts, relations.

A note either lists its ``legal_bases`` or lets :func:`derive` choose them,
each with its framing; that one list, framing included, is what every
document of a démarche words. :func:`check` warns where a citation
misapplies the law: humanitarian law without an armed conflict, a
receiving-State duty cited directly against another State, a treaty cited
against or by a State that is not a party, an article for premises it does
not cover, VCDR Art. 45 without broken relations, a head-of-mission
residence without VCDR Art. 1(i) and 22.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..errors import Location, Problem, RecordError, TemplateError
from ..records.case import Case
from ..records.models import (
    ConflictKind,
    Effect,
    Facility,
    FacilityKind,
    Framing,
    Incident,
    MeansKind,
)
from ..records.reading import read_data_file
from ..template_folders import LANGUAGE_CODE, TemplateFolders
from .situation import broken, code, conflict_of, conflicts_around, days

#: The folder of the legal wording inside a template folder.
LEGAL_FOLDER = "legal"
#: The catalogue's place inside a template folder.
CATALOGUE = f"{LEGAL_FOLDER}/bases.yaml"
#: Who is party to which treaty, inside a template folder.
PARTICIPATION = f"{LEGAL_FOLDER}/participation.yaml"

#: What a note concerning a head-of-mission residence must cite: the
#: residence is part of the premises of the mission (VCDR Art. 1(i)), which
#: Art. 22 protects. (Art. 30(1) is the private residence of other agents.)
RESIDENCE_ARTICLES = ("vcdr.1.i", "vcdr.22.1")


class Duty(StrEnum):
    """Who a rule binds."""

    receiving_state = "receiving_state"
    all_states = "all_states"
    parties_to_conflict = "parties_to_conflict"
    responsible_state = "responsible_state"
    definition = "definition"


class Applies(StrEnum):
    """In which situation a rule applies."""

    always = "always"
    #: Only to an incident the records place in an armed conflict.
    armed_conflict = "armed_conflict"
    #: Only where diplomatic relations are broken off or the mission recalled.
    relations_broken = "relations_broken"


#: Facts that make an article applicable (see ``legal/bases.yaml``).
Trigger = Literal["attack", "entry", "siege", "search", "archives", "detention",
                  "agents_harmed", "demand.investigation", "demand.explanation",
                  "demand.accountability", "demand.non_repetition", "demand.compensation"]

#: An ISO 3166-1 alpha-2 code.
IsoCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Article(BaseModel):
    """One citable provision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    duty: Duty
    applies: Applies = Applies.always
    #: The kinds of armed conflict it applies in (``applies: armed_conflict``).
    conflicts: list[ConflictKind] = Field(
        default_factory=lambda: [ConflictKind.international, ConflictKind.non_international])
    covers: list[FacilityKind] = Field(default_factory=list)
    when: list[Trigger] = Field(default_factory=list)
    third_state: Framing | Literal["never", "skip"] = "never"
    #: The customary rule to cite where the treaty does not bind.
    customary: str | None = None
    instead: dict[FacilityKind, str] = Field(default_factory=dict)
    confirmed: bool = True
    #: Why the wording is not confirmed.
    reason: str | None = None
    label: dict[str, str]
    #: The label standing alone, where a language writes it otherwise.
    item_label: dict[str, str] = Field(default_factory=dict)
    text: dict[str, str]

    @property
    def against_third_state(self) -> Framing | None:
        """How it is cited against a State that does not owe it; ``None``: never."""
        return None if self.third_state in ("never", "skip") else Framing(self.third_state)


class Instrument(BaseModel):
    """A treaty or body of rules, named per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A treaty binds its parties only; customary law binds every State.
    kind: Literal["treaty", "customary"] = "treaty"
    #: Where each language's wording comes from.
    texts: dict[str, str] = Field(default_factory=dict)
    #: Languages whose wording has not been checked against that, and why.
    unconfirmed: dict[str, str] = Field(default_factory=dict)
    #: As a heading: "Vienna Convention on Diplomatic Relations of 1961".
    title: dict[str, str]
    #: As it follows an article: "(Article 22(1)) of the Vienna Convention …".
    of: dict[str, str]


class Status(StrEnum):
    """A State's participation in a treaty on a day."""

    party = "party"
    not_party = "not_party"
    #: The data does not say.
    unknown = "unknown"


class Participation(BaseModel):
    """Who is party to one treaty, as known on a day, from a source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    as_of: dt.date
    in_force: dt.date | None = None
    #: Whether every State not listed as a party is known not to be one.
    complete: bool = False
    parties: list[IsoCode] = Field(default_factory=list)
    not_parties: list[IsoCode] = Field(default_factory=list)
    #: When the treaty entered into force for a party, where known.
    since: dict[IsoCode, dt.date] = Field(default_factory=dict)
    #: Entries to verify, and why.
    unconfirmed: dict[IsoCode, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Participation:
        both = sorted(set(self.parties) & set(self.not_parties))
        if both:
            raise ValueError(f"listed both as parties and as not parties: {', '.join(both)}")
        stray = sorted(set(self.since) - set(self.parties))
        if stray:
            raise ValueError(f"'since' names States not listed as parties: {', '.join(stray)}")
        return self

    def status(self, iso: str | None, day: dt.date) -> Status:
        """Whether the State ``iso`` was bound by the treaty on ``day``."""
        if iso is None:
            return Status.unknown
        if iso in self.parties:
            started = self.since.get(iso, self.in_force)
            return Status.party if started is None or started <= day else Status.not_party
        if iso in self.not_parties or self.complete:
            return Status.not_party
        return Status.unknown

    @property
    def described(self) -> str:
        """Where the data comes from, for a message."""
        return f"legal/participation.yaml: {' '.join(self.source.split())}, as of " \
               f"{self.as_of.isoformat()}"


class _ParticipationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instruments: dict[str, Participation] = Field(default_factory=dict)


class LegalCatalogue(BaseModel):
    """The instruments and articles notegen can cite, and who is party to
    which treaty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instruments: dict[str, Instrument]
    articles: dict[str, Article]
    participation: dict[str, Participation] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> LegalCatalogue:
        for article_id, article in self.articles.items():
            if article.instrument not in self.instruments:
                raise ValueError(f"{article_id}: unknown instrument {article.instrument!r}")
            for other in article.instead.values():
                if other not in self.articles:
                    raise ValueError(f"{article_id}: 'instead' names unknown {other!r}")
            if article.customary is not None:
                rule = self.articles.get(article.customary)
                if rule is None or self.instruments[rule.instrument].kind != "customary":
                    raise ValueError(f"{article_id}: 'customary' must name a customary "
                                     f"rule, not {article.customary!r}")
        for key in self.participation:
            if key not in self.instruments:
                raise ValueError(f"participation is given for unknown instrument {key!r}")
        return self


@dataclass(frozen=True)
class Applied:
    """An article as a note cites it."""

    id: str
    article: Article
    instrument: Instrument
    framing: Framing
    #: Ids of the facilities it is cited for; empty: the note's facilities.
    facilities: tuple[str, ...] = ()
    #: Its position in the note's ``legal_bases``; ``None`` if derived.
    index: int | None = None
    #: The State it is cited as binding on (``binding_on_responsible``).
    state: str | None = None
    #: Who is party to its treaty; ``None`` for customary law, or no data.
    participation: Participation | None = None


class _Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _InstrumentWords(_Words):
    title: str
    of: str


class _ArticleWords(_Words):
    label: str
    text: str
    item_label: str | None = None


class LegalLanguage(BaseModel):
    """``legal/<lang>.yaml``: the wording of the catalogue in one more language
    (or other wording in one it has), from a template folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instruments: dict[str, _InstrumentWords] = Field(default_factory=dict)
    articles: dict[str, _ArticleWords] = Field(default_factory=dict)


def load_legal(folders: TemplateFolders) -> LegalCatalogue:
    """The legal-basis catalogue: ``legal/bases.yaml`` of the first folder of
    ``folders`` that has one, worded further by every folder's
    ``legal/<lang>.yaml`` (earlier folders win), with the treaty
    participation of every folder's ``legal/participation.yaml`` (for each
    treaty, the first folder that lists it wins).

    :raises TemplateError: if no folder has one, or a file is invalid.
    """
    base = folders.find(CATALOGUE)
    if base is None:
        raise TemplateError(f"no {CATALOGUE} in any template folder")
    languages = tuple(
        (path, path.stat().st_mtime_ns)
        for lang in folders.names(LEGAL_FOLDER, ".yaml") if LANGUAGE_CODE.fullmatch(lang)
        for path in reversed(list(folders.each(f"{LEGAL_FOLDER}/{lang}.yaml"))))
    participation = tuple((path, path.stat().st_mtime_ns)
                          for path in folders.each(PARTICIPATION))
    return _read(base, base.stat().st_mtime_ns, languages, participation)


def read_participation(path: Path) -> dict[str, Participation]:
    """The treaties a ``legal/participation.yaml`` lists.

    :raises TemplateError: naming the file, if it is invalid.
    """
    return dict(read_data_file(path, _ParticipationFile).instruments)


@functools.lru_cache(maxsize=8)
def _read(path: Path, mtime_ns: int, languages: tuple[tuple[Path, int], ...],
          participation: tuple[tuple[Path, int], ...] = ()) -> LegalCatalogue:
    catalogue = read_data_file(path, LegalCatalogue)
    instruments = {key: value.model_dump() for key, value in catalogue.instruments.items()}
    articles = {key: value.model_dump() for key, value in catalogue.articles.items()}
    for language_file, _ in languages:  # the built-in folder's first, the user's last
        lang = language_file.stem
        words = read_data_file(language_file, LegalLanguage)
        for table, given in ((instruments, words.instruments), (articles, words.articles)):
            for key, value in given.items():
                if key not in table:
                    raise TemplateError(f"{key!r} is not in the legal-basis catalogue",
                                        template=str(language_file))
                for field, text in value.model_dump().items():
                    if text is not None:
                        table[key][field][lang] = text
    parties = dict(catalogue.participation)
    for participation_file, _ in participation:  # the user's first
        for key, treaty in read_participation(participation_file).items():
            if key not in instruments:
                raise TemplateError(f"participation is given for {key!r}, which is not an "
                                    "instrument of the legal-basis catalogue",
                                    template=str(participation_file))
            if instruments[key]["kind"] != "treaty":
                raise TemplateError(f"{key!r} is customary law, which binds every State: it "
                                    "needs no participation", template=str(participation_file))
            parties.setdefault(key, treaty)
    return LegalCatalogue.model_validate({"instruments": instruments, "articles": articles,
                                          "participation": parties})


def _facts(case: Case) -> Iterator[tuple[Incident, Facility]]:
    """Every (incident, facility it affected) of the note, subject first."""
    note = case.note
    for incident_id in (note.subject, *note.earlier):
        incident = case.incidents[incident_id]
        for impact in incident.impacts:
            yield incident, case.facilities[impact.facility]


_WEAPONLESS = {MeansKind.forced_entry}
_HARM = {Effect.destroyed, Effect.seriously_damaged, Effect.damaged, Effect.struck,
         Effect.near_miss}
#: Facts that are about the premises themselves, which the residence rule is about.
_PREMISES = {"attack", "entry", "siege", "search"}


def triggers(incident: Incident) -> set[str]:
    """The facts of ``incident`` that articles are cited for."""
    found: set[str] = set()
    effects = {impact.effect for impact in incident.impacts}
    weapons = [means for means in incident.means if means.kind not in _WEAPONLESS]
    if weapons or (effects & _HARM and not incident.means):
        found.add("attack")
    if Effect.entered in effects or len(weapons) < len(incident.means):
        found.add("entry")
    if Effect.surrounded in effects:
        found.add("siege")
    if Effect.searched in effects:
        found.add("search")
    if Effect.archives_seized in effects:
        found.add("archives")
    if Effect.agent_detained in effects:
        found.add("detention")
    if incident.agents_harmed:
        found.add("agents_harmed")
    return found


def _bearer(article: Article, incident: Incident, facility: Facility | None) -> str:
    """The State that owes the duty of ``article`` for ``incident``."""
    if article.duty is Duty.receiving_state:
        return facility.host if facility is not None and article.covers else incident.country
    return incident.attributed_to


def _sender(case: Case) -> str:
    """The State that sends the note."""
    return case.parties[case.note.sender].state


def _applies(case: Case, article: Article, incident: Incident, facility: Facility) -> bool:
    """Whether the situation on the incident's days is one ``article`` applies in."""
    if article.applies is Applies.armed_conflict:
        conflict = conflict_of(case, incident)
        return conflict is not None and conflict.kind in article.conflicts
    if article.applies is Applies.relations_broken:
        return broken(case, facility.owner, facility.host, days(incident))
    return True


def _status(case: Case, participation: Participation | None, state: str,
            day: dt.date) -> Status:
    if participation is None:
        return Status.unknown
    return participation.status(code(case, state), day)


def _framing(case: Case, legal: LegalCatalogue, article: Article, incident: Incident,
             facility: Facility) -> tuple[Framing, str | None] | None:
    """How to cite ``article`` for ``incident`` at ``facility``, and the State it
    is cited as binding on if that is the framing; ``None``: do not."""
    if not _applies(case, article, incident, facility):
        return None
    if article.duty in (Duty.definition, Duty.responsible_state):
        return Framing.direct, None
    bearer = _bearer(article, incident, facility)
    if article.duty is Duty.receiving_state and incident.attributed_to != bearer:
        framing = article.against_third_state
        return None if framing is None else (framing, None)
    if legal.instruments[article.instrument].kind == "customary":
        return Framing.direct, None
    # A treaty: it binds the bearer, and the sender may invoke it, only as parties.
    participation = legal.participation.get(article.instrument)
    conflict_rule = article.duty is Duty.parties_to_conflict
    if _status(case, participation, bearer, incident.date) is not Status.party:
        # The customary rule, cited in its own right, takes its place.
        return None if conflict_rule else (Framing.general_principle, None)
    if _status(case, participation, _sender(case), incident.date) is not Status.party:
        return (Framing.binding_on_responsible, bearer) if conflict_rule else \
            (Framing.general_principle, None)
    return Framing.direct, None


def derive(case: Case, legal: LegalCatalogue) -> list[Applied]:
    """The articles the facts of ``case`` call for, in catalogue order, each
    framed by who owes it, the situation and treaty participation."""
    facts = list(_facts(case))
    # Each incident's facts once, not once per article it is weighed for.
    found = {incident.id: triggers(incident) for incident, _ in facts}
    demands = {f"demand.{demand.kind.value}" for demand in case.note.demands}
    applied: list[Applied] = []
    for article_id, article in legal.articles.items():
        instrument = legal.instruments[article.instrument]
        participation = legal.participation.get(article.instrument)
        wanted = set(article.when)
        if wanted & demands:
            applied.append(Applied(article_id, article, instrument, Framing.direct,
                                   participation=participation))
            continue
        groups: dict[tuple[Framing, str | None], list[str]] = {}
        for incident, facility in facts:
            if not wanted & found[incident.id]:
                continue
            if article.covers and facility.kind not in article.covers:
                continue
            decided = _framing(case, legal, article, incident, facility)
            if decided is not None:
                ids = groups.setdefault(decided, [])
                if facility.id not in ids:
                    ids.append(facility.id)
        applied.extend(Applied(article_id, article, instrument, framing, tuple(ids),
                               state=state, participation=participation)
                       for (framing, state), ids in groups.items())
    return applied


def cited(case: Case, legal: LegalCatalogue) -> list[Applied]:
    """The articles the note cites: its own ``legal_bases``, or derived ones.

    :raises RecordError: if the note names an article the catalogue lacks.
    """
    if case.note.legal_bases is None:
        return derive(case, legal)
    facts = list(_facts(case))
    applied, problems = [], []
    for index, citation in enumerate(case.note.legal_bases):
        article = legal.articles.get(citation.article)
        if article is None:
            problems.append(Problem(
                f"unknown article {citation.article!r}; the legal-basis catalogue has "
                f"{', '.join(legal.articles)}", case.locate(None, "legal_bases", index,
                                                             "article")))
            continue
        state = None
        if citation.framing is Framing.binding_on_responsible:
            named = set(citation.facilities)
            state = next(incident.attributed_to for incident, facility in facts
                         if not named or facility.id in named)
        applied.append(Applied(citation.article, article, legal.instruments[article.instrument],
                               citation.framing, tuple(citation.facilities), index, state,
                               legal.participation.get(article.instrument)))
    if problems:
        raise RecordError(problems)
    return applied


def check(case: Case, applied: Sequence[Applied]) -> list[Problem]:
    """Warnings where ``applied`` misapplies the law to the facts of ``case``
    and the situation on the day; each names the article, the State and why."""
    facts = list(_facts(case))
    warnings: list[Problem] = []
    for citation in applied:
        where = _where(case, citation)
        named = set(citation.facilities)
        concerned = [(i, f) for i, f in facts if not named or f.id in named]
        if citation.article.covers:
            message, concerned = _coverage(citation, concerned, bool(named))
            if message:
                warnings.append(Problem(message, where))
        reasons: dict[str, str] = {}
        for kind, message in _misapplied(case, citation, concerned):
            reasons.setdefault(kind, message)  # each reason once: its first incident
        warnings.extend(Problem(message, where) for message in reasons.values())
        warnings.extend(Problem(message, where) for message in _participation(case, citation,
                                                                               concerned))
    warnings.extend(_residence(case, applied, facts))
    warnings.extend(_unplaced(case, facts))
    return warnings


def _coverage(citation: Applied, concerned: list[tuple[Incident, Facility]], named: bool
              ) -> tuple[str, list[tuple[Incident, Facility]]]:
    """A message if ``citation`` is cited for premises its article does not
    cover (or none it covers), and the (incident, facility) pairs it does."""
    article = citation.article
    covers = ", ".join(kind.value for kind in article.covers)
    outside = {f.id: f for _, f in concerned if f.kind not in article.covers}
    inside = [(i, f) for i, f in concerned if f.kind in article.covers]
    swapped = {f.id: f for f in outside.values() if f.kind in article.instead}
    if named and outside:
        kinds = ", ".join(sorted({f.kind.value for f in outside.values()}))
        message = f"{citation.id} protects {covers}, not {', '.join(outside)} ({kinds})"
    elif not inside:
        message = f"{citation.id} protects {covers}, and no incident of the note concerns one"
    elif swapped:
        # Cited for all the note's premises, among which some it does not protect.
        message = (f"{citation.id} is cited for all the note's facilities, among them "
                   f"{', '.join(f'{key} ({f.kind.value})' for key, f in swapped.items())}, "
                   f"which it does not protect: name the facilities it is cited for")
    else:
        return "", inside
    hints = sorted({f"{article.instead[f.kind]} applies to {f.kind.value}"
                    + (_RESIDENCE_REASON if f.kind is FacilityKind.head_of_mission_residence
                       else "")
                    for f in (outside if named or not inside else swapped).values()
                    if f.kind in article.instead})
    return message + (f"; {'; '.join(hints)}" if hints else ""), inside


_RESIDENCE_REASON = (" (the residence of the head of the mission is part of the premises of "
                     "the mission, vcdr.1.i)")


def _misapplied(case: Case, citation: Applied, concerned: list[tuple[Incident, Facility]]
                ) -> Iterator[tuple[str, str]]:
    """Why ``citation`` does not apply to each incident it concerns, in the
    situation of its day, or binds another State than it is cited against."""
    article, name = citation.article, citation.id
    for incident, facility in concerned:
        if article.applies is Applies.armed_conflict:
            conflict = conflict_of(case, incident)
            if conflict is None:
                around = conflicts_around(case, incident)
                hint = (f"; if it was part of the armed conflict {around[0].id!r}, place it "
                        f"there (conflict: {around[0].id})" if around else
                        "; without one, cite the rules of peacetime")
                yield "conflict", (
                    f"{name} is humanitarian law, which applies only in an armed conflict, "
                    f"but the incident {incident.id!r} of {incident.date.isoformat()} "
                    f"attributed to {incident.attributed_to!r} is placed in no armed "
                    f"conflict between it and another party{hint}")
            elif conflict.kind not in article.conflicts:
                rule = f"; cite {article.customary} instead" if article.customary else ""
                yield "conflict", (
                    f"{name} applies in an international armed conflict, but the incident "
                    f"{incident.id!r} attributed to {incident.attributed_to!r} is placed in "
                    f"the {conflict.kind.value.replace('_', '-')} armed conflict "
                    f"{conflict.id!r}{rule}")
        if article.applies is Applies.relations_broken and not broken(
                case, facility.owner, facility.host, days(incident)):
            yield "relations", (
                f"{name} applies only where diplomatic relations between {facility.owner!r} "
                f"and {facility.host!r} are broken off or the mission is recalled, but on "
                f"{incident.date.isoformat()} (the incident {incident.id!r}) no relations "
                "record of the case says they were; they were normal")
        if article.duty is Duty.receiving_state and citation.framing in (
                Framing.direct, Framing.binding_on_responsible):
            host = _bearer(article, incident, facility)
            if incident.attributed_to != host:
                yield "receiving", (
                    f"{name} binds the receiving State ({host}), but the incident "
                    f"{incident.id!r} at {facility.id!r} is attributed to "
                    f"{incident.attributed_to!r}: cite it with framing by_analogy or "
                    "general_principle")


def _participation(case: Case, citation: Applied, concerned: list[tuple[Incident, Facility]]
                   ) -> Iterator[str]:
    """Where ``citation`` relies on a treaty binding a State the data does
    not show to be a party: the State it is cited against, or the sender."""
    article, name = citation.article, citation.id
    if citation.instrument.kind != "treaty" or article.duty in (
            Duty.definition, Duty.responsible_state):
        return
    data = citation.participation
    source = data.described if data is not None else "no participation data"
    instead = f"; cite {article.customary} (customary) instead" if article.customary else \
        "; cite it as a general principle"
    if citation.framing in (Framing.direct, Framing.binding_on_responsible):
        for incident, facility in concerned:
            bearer = citation.state or _bearer(article, incident, facility)
            if article.duty is Duty.receiving_state and incident.attributed_to != bearer:
                continue  # reported as a misapplication already
            status = _status(case, data, bearer, incident.date)
            if status is not Status.party:
                yield (f"{name} is cited as treaty law binding {bearer!r}, "
                       f"{_not_party(case, data, bearer, article.instrument, status)} on "
                       f"{incident.date.isoformat()} ({source}){instead}")
                break
    if citation.framing is Framing.direct and concerned:
        sender = _sender(case)
        day = min(incident.date for incident, _ in concerned)
        status = _status(case, data, sender, day)
        if status is not Status.party:
            framed = (f"; cite {article.customary} first, and {name} with framing "
                      "binding_on_responsible" if article.duty is Duty.parties_to_conflict
                      and article.customary else "; cite it as a general principle")
            yield (f"{name} is cited as treaty law by the sender {sender!r}, "
                   f"{_not_party(case, data, sender, article.instrument, status)} "
                   f"({source}){framed}")


def _not_party(case: Case, data: Participation | None, state: str, instrument: str,
               status: Status) -> str:
    iso = code(case, state)
    if status is Status.unknown:
        return (f"whose participation in {instrument} is not recorded" if iso else
                f"which has no ISO code to look its participation in {instrument} up by "
                "(give the State an iso)")
    note = data.unconfirmed.get(iso) if data is not None and iso else None
    return f"which is not a party to {instrument}" + (f" (unconfirmed: {' '.join(note.split())})"
                                                      if note else "")


def _residence(case: Case, applied: Sequence[Applied],
               facts: list[tuple[Incident, Facility]]) -> Iterator[Problem]:
    """A note about a head-of-mission residence's premises cites VCDR
    Art. 1(i) and 22: the residence is part of the premises of the mission."""
    residences = sorted({f.id for i, f in facts
                         if f.kind is FacilityKind.head_of_mission_residence
                         and triggers(i) & _PREMISES})
    missing = [key for key in RESIDENCE_ARTICLES if key not in {c.id for c in applied}]
    if applied and residences and missing:
        yield Problem(
            f"the note concerns a head-of-mission residence ({', '.join(residences)}), which "
            "is part of the premises of the mission (vcdr.1.i) protected by vcdr.22, but "
            f"does not cite {' and '.join(missing)}", case.locate(None, "legal_bases"))


def _unplaced(case: Case, facts: list[tuple[Incident, Facility]]) -> Iterator[Problem]:
    """An attack the records place in no armed conflict, although one to
    which the State it is attributed to is a party was in force that day."""
    seen: set[str] = set()
    for incident, _ in facts:
        if incident.id in seen or incident.conflict is not None:
            continue
        seen.add(incident.id)
        around = conflicts_around(case, incident)
        if around and "attack" in triggers(incident):
            yield Problem(
                f"the incident {incident.id!r} attributed to {incident.attributed_to!r} is "
                f"placed in no armed conflict, but {incident.attributed_to!r} was a party to "
                f"the armed conflict {around[0].id!r} on {incident.date.isoformat()}: add "
                f"'conflict: {around[0].id}' if the incident was part of it (without it, no "
                "humanitarian law is cited for it)", case.locate(incident.id, "date"))


def _where(case: Case, citation: Applied) -> Location:
    if citation.index is None:
        return case.locate(None, "subject")
    return case.locate(None, "legal_bases", citation.index)
