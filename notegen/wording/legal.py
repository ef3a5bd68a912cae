"""Legal bases: which articles a note cites, and whether they apply.

The articles live in a catalogue, ``legal/bases.yaml`` in a template folder,
with who owes each duty and which premises it protects. A note either lists
its ``legal_bases`` or lets :func:`derive` choose them from the incidents'
facts. Either way :func:`check` warns where a citation misapplies the law: a
receiving-State duty invoked directly against a third State, an article
cited for premises it does not cover (VCCR Art. 31 for an honorary consulate,
where Art. 59 applies), a head-of-mission residence without VCDR Art. 30.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import Location, Problem, RecordError, TemplateError
from ..records.case import Case
from ..records.models import Effect, Facility, FacilityKind, Framing, Incident, MeansKind
from ..records.reading import read_data_file
from ..template_folders import LANGUAGE_CODE, TemplateFolders

#: The folder of the legal wording inside a template folder.
LEGAL_FOLDER = "legal"
#: The catalogue's place inside a template folder.
CATALOGUE = f"{LEGAL_FOLDER}/bases.yaml"

#: What the article of :data:`RESIDENCE_ARTICLE` protects.
RESIDENCE_ARTICLE = "vcdr.30.1"


class Duty(StrEnum):
    """Who a rule binds."""

    receiving_state = "receiving_state"
    all_states = "all_states"
    parties_to_conflict = "parties_to_conflict"
    responsible_state = "responsible_state"
    definition = "definition"


#: Facts that make an article applicable (see ``legal/bases.yaml``).
Trigger = Literal["attack", "entry", "siege", "agents_harmed", "demand.investigation",
                  "demand.explanation", "demand.accountability", "demand.non_repetition",
                  "demand.compensation"]


class Article(BaseModel):
    """One citable provision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    duty: Duty
    covers: list[FacilityKind] = Field(default_factory=list)
    when: list[Trigger] = Field(default_factory=list)
    third_state: Framing | Literal["skip"] = "skip"
    instead: dict[FacilityKind, str] = Field(default_factory=dict)
    confirmed: bool = True
    label: dict[str, str]
    text: dict[str, str]


class Instrument(BaseModel):
    """A treaty or body of rules, named per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: As a heading: "Vienna Convention on Diplomatic Relations of 1961".
    title: dict[str, str]
    #: As it follows an article: "(Article 22(1)) of the Vienna Convention …".
    of: dict[str, str]


class LegalCatalogue(BaseModel):
    """The instruments and articles notegen can cite."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instruments: dict[str, Instrument]
    articles: dict[str, Article]

    @model_validator(mode="after")
    def _references_resolve(self) -> LegalCatalogue:
        for article_id, article in self.articles.items():
            if article.instrument not in self.instruments:
                raise ValueError(f"{article_id}: unknown instrument {article.instrument!r}")
            for other in article.instead.values():
                if other not in self.articles:
                    raise ValueError(f"{article_id}: 'instead' names unknown {other!r}")
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


class _Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _InstrumentWords(_Words):
    title: str
    of: str


class _ArticleWords(_Words):
    label: str
    text: str


class LegalLanguage(BaseModel):
    """``legal/<lang>.yaml``: the wording of the catalogue in one more language
    (or other wording in one it has), from a template folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instruments: dict[str, _InstrumentWords] = Field(default_factory=dict)
    articles: dict[str, _ArticleWords] = Field(default_factory=dict)


def load_legal(folders: TemplateFolders) -> LegalCatalogue:
    """The legal-basis catalogue: ``legal/bases.yaml`` of the first folder of
    ``folders`` that has one, worded further by every folder's
    ``legal/<lang>.yaml`` (earlier folders win).

    :raises TemplateError: if no folder has one, or a file is invalid.
    """
    base = folders.find(CATALOGUE)
    if base is None:
        raise TemplateError(f"no {CATALOGUE} in any template folder")
    languages = tuple(
        (path, path.stat().st_mtime_ns)
        for lang in folders.names(LEGAL_FOLDER, ".yaml") if LANGUAGE_CODE.fullmatch(lang)
        for path in reversed(list(folders.each(f"{LEGAL_FOLDER}/{lang}.yaml"))))
    return _read(base, base.stat().st_mtime_ns, languages)


@functools.lru_cache(maxsize=8)
def _read(path: Path, mtime_ns: int, languages: tuple[tuple[Path, int], ...]
          ) -> LegalCatalogue:
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
                    table[key][field][lang] = text
    return LegalCatalogue.model_validate({"instruments": instruments, "articles": articles})


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
    if incident.agents_harmed:
        found.add("agents_harmed")
    return found


def _framing(article: Article, incident: Incident, host: str) -> Framing | None:
    """How to cite ``article`` for ``incident`` in premises in ``host``; None: do not."""
    if article.duty not in (Duty.receiving_state, Duty.all_states):
        return Framing.direct
    if incident.attributed_to == host:
        return Framing.direct
    return None if article.third_state == "skip" else Framing(article.third_state)


def derive(case: Case, legal: LegalCatalogue) -> list[Applied]:
    """The articles the facts of ``case`` call for, in catalogue order."""
    facts = list(_facts(case))
    demands = {f"demand.{demand.kind.value}" for demand in case.note.demands}
    applied: list[Applied] = []
    for article_id, article in legal.articles.items():
        wanted = set(article.when)
        if wanted & demands:
            applied.append(Applied(article_id, article, legal.instruments[article.instrument],
                                   Framing.direct))
            continue
        by_framing: dict[Framing, list[str]] = {}
        for incident, facility in facts:
            if not wanted & triggers(incident):
                continue
            if article.covers and facility.kind not in article.covers:
                continue
            host = facility.host if article.covers else incident.country
            framing = _framing(article, incident, host)
            if framing is not None:
                ids = by_framing.setdefault(framing, [])
                if facility.id not in ids:
                    ids.append(facility.id)
        applied.extend(Applied(article_id, article, legal.instruments[article.instrument],
                               framing, tuple(ids))
                       for framing, ids in by_framing.items())
    return applied


def cited(case: Case, legal: LegalCatalogue) -> list[Applied]:
    """The articles the note cites: its own ``legal_bases``, or derived ones.

    :raises RecordError: if the note names an article the catalogue lacks.
    """
    if case.note.legal_bases is None:
        return derive(case, legal)
    applied, problems = [], []
    for index, citation in enumerate(case.note.legal_bases):
        article = legal.articles.get(citation.article)
        if article is None:
            problems.append(Problem(
                f"unknown article {citation.article!r}; the legal-basis catalogue has "
                f"{', '.join(legal.articles)}", case.locate(None, "legal_bases", index,
                                                             "article")))
            continue
        applied.append(Applied(citation.article, article, legal.instruments[article.instrument],
                               citation.framing, tuple(citation.facilities), index))
    if problems:
        raise RecordError(problems)
    return applied


def check(case: Case, applied: Sequence[Applied]) -> list[Problem]:
    """Warnings where ``applied`` misapplies the law to the facts of ``case``."""
    facts = list(_facts(case))
    warnings: list[Problem] = []
    for citation in applied:
        where = _where(case, citation)
        article = citation.article
        named = set(citation.facilities)
        concerned = [(i, f) for i, f in facts if not named or f.id in named]
        if article.covers:
            outside = {f.id: f for _, f in concerned if f.kind not in article.covers}
            concerned = [(i, f) for i, f in concerned if f.kind in article.covers]
            covers = ", ".join(kind.value for kind in article.covers)
            if (named and outside) or not concerned:
                warnings.append(Problem(_not_covered(citation.id, covers, outside, article),
                                        where))
        if article.duty is Duty.receiving_state and citation.framing is Framing.direct:
            for incident, facility in concerned:
                host = facility.host if article.covers else incident.country
                if incident.attributed_to != host:
                    warnings.append(Problem(
                        f"{citation.id} binds the receiving State ({host}), but the incident "
                        f"{incident.id!r} at {facility.id!r} is attributed to "
                        f"{incident.attributed_to!r}: cite it with framing by_analogy or "
                        "general_principle", where))
                    break
    residences = sorted({f.id for _, f in facts
                         if f.kind is FacilityKind.head_of_mission_residence})
    if applied and residences and RESIDENCE_ARTICLE not in {c.id for c in applied}:
        warnings.append(Problem(
            f"the note concerns a head-of-mission residence ({', '.join(residences)}) but "
            f"does not cite {RESIDENCE_ARTICLE}, which protects it",
            case.locate(None, "legal_bases")))
    return warnings


def _where(case: Case, citation: Applied) -> Location:
    if citation.index is None:
        return case.locate(None, "subject")
    return case.locate(None, "legal_bases", citation.index)


def _not_covered(article_id: str, covers: str, outside: dict[str, Facility],
                 article: Article) -> str:
    if outside:
        message = (f"{article_id} protects {covers}, not {', '.join(outside)} "
                   f"({', '.join(sorted({f.kind.value for f in outside.values()}))})")
    else:
        message = f"{article_id} protects {covers}, and no incident of the note concerns one"
    hints = sorted({f"{article.instead[f.kind]} applies to {f.kind.value}"
                    for f in outside.values() if f.kind in article.instead})
    return message + (f"; {'; '.join(hints)}" if hints else "")
