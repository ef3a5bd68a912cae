"""The ministry's incident catalogue: one folder of record files that holds
every incident, facility, party and State once, and the choice of incidents
from it.

A case names the folder (``catalogue: ../catalogue``); every record file in
it (``.yaml``, ``.yml``, ``.json``, in subfolders too, hidden ones aside) is
then part of the case, read in the order of its path, and the case names its
records by id instead of copying them. A catalogue holds records only: no
note, no ``include`` and no ``catalogue`` of its own. It is bounded apart
from the case that names it: at most :data:`MAX_CATALOGUE_FILES` files and
:data:`MAX_CATALOGUE_BYTES` bytes (each file at most
:data:`~notegen.records.reading.MAX_FILE_BYTES`).

:class:`Selection` is one choice of incidents (dates, countries, the State
attributed, the State whose premises were struck, the facility, kinds of
premises, effects): what ``notegen incidents`` filters by, and what a
chronology rule (:class:`~notegen.records.models.ChronologyRule`) resolves
to.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..errors import Location, Problem, RecordError
from .models import Effect, Facility, FacilityKind, Incident, RecordFile
from .reading import Budget, SourceFile, UnreadableFile, parse_source, schema_problems

#: How many record files one catalogue may hold.
MAX_CATALOGUE_FILES = 2_000
#: How many bytes one catalogue may hold in all.
MAX_CATALOGUE_BYTES = 256 * 1024 * 1024
#: The files of a catalogue folder that are read, by suffix.
RECORD_SUFFIXES = (".yaml", ".yml", ".json")
#: Sections a catalogue's files may not have: it holds records only.
_NOT_IN_CATALOGUE = {
    "note": "a catalogue holds records, not notes: put the note in the case that names "
            "the catalogue",
    "include": "a catalogue's files include nothing: every record file in its folder is "
               "read already",
    "catalogue": "a catalogue names no other catalogue",
}


def catalogue_files(folder: Path) -> list[Path]:
    """The record files of ``folder`` and its subfolders (hidden ones, and
    symbolic links to folders, aside), in the order of their paths."""
    found = []
    for parent, folders, files in os.walk(folder):  # links to folders are not followed
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += [Path(parent) / name for name in files
                  if name.lower().endswith(RECORD_SUFFIXES) and not name.startswith(".")]
    return sorted(found, key=lambda path: path.relative_to(folder).parts)


def read_catalogue(folder: Path, problems: list[Problem], named_at: Location, *,
                   root: Path | None = None, seen: set[Path] | None = None,
                   overlay: Mapping[Path, bytes] | None = None
                   ) -> list[tuple[SourceFile, RecordFile]]:
    """Every record file of the catalogue ``folder``, validated one by one
    (each problem located and added to ``problems``); with ``root``, only
    files whose real path lies inside it; none whose real path is in
    ``seen`` (read already), to which each file read is added. ``named_at``
    is where the folder was named, for a problem with the folder itself. A
    file whose real path is a key of ``overlay`` is read from there (a
    draft's unsaved edits, as :func:`~notegen.records.case.load_case` takes them)."""
    seen = set() if seen is None else seen
    real = Path(os.path.realpath(folder))
    if root is not None and not real.is_relative_to(root):
        problems.append(Problem("the catalogue lies outside the folder cases may read",
                                named_at))
        return []
    if not real.is_dir():
        problems.append(Problem(f"the catalogue {folder} is not a folder"
                                + ("" if real.exists() else " (not found)"), named_at))
        return []
    files = catalogue_files(folder)
    if len(files) > MAX_CATALOGUE_FILES:
        problems.append(Problem(f"the catalogue has {len(files):,} record files; a catalogue "
                                f"may have at most {MAX_CATALOGUE_FILES:,}", named_at))
        return []
    records: list[tuple[SourceFile, RecordFile]] = []
    budget = Budget(MAX_CATALOGUE_BYTES, f"the catalogue past the "
                    f"{MAX_CATALOGUE_BYTES // (1024 * 1024)} MB a catalogue may hold")
    for path in files:
        resolved = Path(os.path.realpath(path))
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            raw = budget.read(path, root=root, overlay=overlay, real=resolved)
        except UnreadableFile as exc:
            problems.append(Problem(f"catalogue file {path.name} {exc.reason}", Location(path)))
            continue
        try:
            source = parse_source(path, raw)
        except RecordError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(source.data, dict):
            problems.append(Problem("expected a mapping of sections (incidents, facilities, "
                                    "…) at the top of the file", source.locate(())))
            continue
        refused = [key for key in _NOT_IN_CATALOGUE if source.data.get(key)]
        problems.extend(Problem(_NOT_IN_CATALOGUE[key], source.locate((key,)))
                        for key in refused)
        if refused:
            continue
        try:
            records.append((source, RecordFile.model_validate(source.data)))
        except ValidationError as exc:
            problems.extend(schema_problems(source, exc))
    return records


@dataclass(frozen=True)
class Selection:
    """A choice of incidents; each criterion left empty (or ``None``) chooses any.

    An incident is chosen if it happened from ``since`` on and was over by
    ``until``, in one of ``countries``, attributed to ``attributed_to``, and
    had one of ``effects`` on premises that are ``facility`` (or part of it),
    or of one of the ``premises`` kinds, owned by ``struck``, all on one and
    the same impact.
    """

    since: dt.date | None = None
    until: dt.date | None = None
    countries: frozenset[str] = frozenset()
    attributed_to: str | None = None
    struck: str | None = None
    facility: str | None = None
    premises: frozenset[FacilityKind] = frozenset()
    effects: frozenset[Effect] = frozenset()

    def choose(self, incidents: Iterable[Incident], facilities: Mapping[str, Facility]
               ) -> Iterator[Incident]:
        """The incidents of ``incidents`` chosen, in their order."""
        for incident in incidents:
            if self.matches(incident, facilities):
                yield incident

    def matches(self, incident: Incident, facilities: Mapping[str, Facility]) -> bool:
        """Whether ``incident`` is chosen (``facilities``: the case's, by id)."""
        if self.since is not None and incident.date < self.since:
            return False
        if self.until is not None and incident.last_date > self.until:
            return False
        if self.countries and incident.country not in self.countries:
            return False
        if self.attributed_to is not None and incident.attributed_to != self.attributed_to:
            return False
        return any(self._struck(impact.facility, impact.effect, facilities)
                   for impact in incident.impacts)

    def _struck(self, facility_id: str, effect: Effect,
                facilities: Mapping[str, Facility]) -> bool:
        if self.effects and effect not in self.effects:
            return False
        if self.facility is not None and not _within(facility_id, self.facility, facilities):
            return False
        if not (self.struck or self.premises):
            return True
        facility = facilities.get(facility_id)
        return facility is not None and (self.struck is None or facility.owner == self.struck) \
            and (not self.premises or facility.kind in self.premises)


def oldest_first(incidents: Iterable[Incident]) -> list[Incident]:
    """``incidents`` oldest first (by date, then id): how a catalogue lists them."""
    return sorted(incidents, key=lambda incident: (incident.date, incident.id))


def holding(incidents: Iterable[Incident], text: str) -> Iterator[Incident]:
    """The incidents of ``incidents`` whose id, place, account or damage holds
    ``text``, in any language, whatever the case; in their order."""
    wanted = text.casefold()
    for incident in incidents:
        if any(wanted in value.casefold() for value in _words(incident)):
            yield incident


def _words(incident: Incident) -> Iterator[str]:
    yield incident.id
    for value in (incident.place, incident.account, *incident.damage):
        yield from ([value] if isinstance(value, str) else value.values())


def _within(facility_id: str, wanted: str, facilities: Mapping[str, Facility]) -> bool:
    """Whether ``facility_id`` is ``wanted`` or part of it (a consular
    section of an embassy), however deep."""
    seen: set[str] = set()
    current: str | None = facility_id
    while current is not None and current not in seen:
        if current == wanted:
            return True
        seen.add(current)
        facility = facilities.get(current)
        current = facility.part_of if facility is not None else None
    return False
