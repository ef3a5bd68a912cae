"""The ministry's memory as the faces show it: the incident catalogue,
kept loaded while its files stay the same, searched as ``notegen
incidents`` searches it, and what a case's chronology rule chose.

No web code: the service's ``/incidents`` and ``/chronology``
(:mod:`notegen.service.memory`) and the desk's catalogue page use it alike.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..records.case import Case, IncidentCatalogue, expected_earlier, load_incident_catalogue
from ..records.incidents import Selection, catalogue_files, holding, oldest_first
from ..records.models import Incident

#: How many incidents one page of a search holds at most.
MAX_PAGE = 200


class CatalogueShelf:
    """The catalogue in ``folder``, validated once and again only when one of
    its files is added, removed or changed (by size and modification time);
    with ``root``, only files inside that folder are read."""

    def __init__(self, folder: Path, root: Path | None = None) -> None:
        self.folder = folder
        self.root = root
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._loaded: IncidentCatalogue | None = None

    def _stamp_now(self) -> tuple[tuple[str, int, int], ...]:
        stamp = []
        for path in catalogue_files(self.folder):
            try:
                info = os.stat(path)
            except OSError:
                continue
            stamp.append((str(path), info.st_size, info.st_mtime_ns))
        return tuple(stamp)

    def get(self) -> IncidentCatalogue:
        """The catalogue as its files are now.

        :raises RecordError: listing its problems, each located.
        """
        with self._lock:
            stamp = self._stamp_now()
            if self._loaded is None or stamp != self._stamp:
                self._loaded = load_incident_catalogue(self.folder, root=self.root)
                self._stamp = stamp
            return self._loaded


@dataclass(frozen=True)
class Found:
    """One page of the incidents a search chose, oldest first."""

    incidents: list[Incident]
    #: How many the search chose in all.
    total: int
    offset: int
    limit: int


def search(catalogue: IncidentCatalogue, selection: Selection, text: str | None = None, *,
           offset: int = 0, limit: int = 50) -> Found:
    """The incidents of ``catalogue`` that ``selection`` chooses (and that
    hold ``text``, if given), oldest first, ``limit`` (at most
    :data:`MAX_PAGE`) from ``offset``."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    chosen: Iterable[Incident] = selection.choose(oldest_first(catalogue.incidents.values()),
                                                  catalogue.facilities)
    if text:
        chosen = holding(chosen, text)
    every = list(chosen)
    return Found(every[offset:offset + limit], len(every), offset, limit)


@dataclass(frozen=True)
class ChronologyReport:
    """What a case's chronology recalls and why: the rule as written (if
    the note gives one), what it chose by itself, what the note recalls,
    what the checks' own rule would have it recall, and the warnings
    (incidents a listed chronology leaves out, additions and exclusions
    that change nothing)."""

    rule: dict[str, Any] | None
    #: Oldest first.
    chosen: tuple[str, ...]
    add: tuple[str, ...]
    exclude: tuple[str, ...]
    recalled: tuple[str, ...]
    expected: tuple[str, ...]
    #: Expected by the checks, but not recalled.
    left_out: tuple[str, ...]
    warnings: tuple[Problem, ...]


def chronology_report(case: Case, incidents: Iterable[Incident] = ()) -> ChronologyReport:
    """The chronology of ``case`` explained (``incidents``: more that the
    checks' rule may choose from, e.g. a workspace's)."""
    choice = case.chronology
    recalled = tuple(case.note.earlier)
    expected = tuple(expected_earlier(case, incidents))
    return ChronologyReport(
        rule=choice.written.rule.model_dump(mode="json", exclude_defaults=True)
        if choice is not None else None,
        chosen=tuple(incident.id for incident in oldest_first(
            case.incidents[incident_id] for incident_id in choice.chosen))
        if choice is not None else (),
        add=tuple(choice.written.add) if choice is not None else (),
        exclude=tuple(choice.written.exclude) if choice is not None else (),
        recalled=recalled, expected=expected,
        left_out=tuple(incident for incident in expected if incident not in recalled),
        warnings=case.notices)


def summary(incident: Incident, lang: str | None = None) -> dict[str, Any]:
    """``incident`` in a line or two: id, dates, place (in ``lang``, else
    the first given), country, State attributed, premises and effects."""
    place = incident.place if isinstance(incident.place, str) else (
        incident.place.get(lang or "") or next(iter(incident.place.values()), ""))
    return {"id": incident.id, "date": incident.date.isoformat(),
            "last_date": incident.last_date.isoformat(), "place": place,
            "country": incident.country, "attributed_to": incident.attributed_to,
            "impacts": [{"facility": impact.facility, "effect": impact.effect.value}
                        for impact in incident.impacts]}


def selection_of(*, since: dt.date | None = None, until: dt.date | None = None,
                 countries: Sequence[str] = (), attributed_to: str | None = None,
                 struck: str | None = None, facility: str | None = None,
                 premises: Sequence[str] = (), effects: Sequence[str] = ()) -> Selection:
    """A :class:`~notegen.records.incidents.Selection` from the criteria
    ``notegen incidents`` takes, as a form or a query gives them.

    :raises ValueError: if ``until`` is before ``since``, or a kind of
        premises or an effect is unknown.
    """
    from ..records.models import Effect, FacilityKind

    if since is not None and until is not None and until < since:
        raise ValueError("until is before since")
    return Selection(since=since, until=until, countries=frozenset(c for c in countries if c),
                     attributed_to=attributed_to or None, struck=struck or None,
                     facility=facility or None,
                     premises=frozenset(FacilityKind(kind) for kind in premises if kind),
                     effects=frozenset(Effect(effect) for effect in effects if effect))
