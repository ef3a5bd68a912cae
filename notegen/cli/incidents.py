"""The incident catalogue: ``incidents list``, ``incidents find`` and ``incidents show``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from ..errors import Location, Problem, RecordError
from ..records.incidents import Selection, holding, oldest_first
from ..records.models import Effect, Facility, FacilityKind, Incident
from .common import Group, options_of

#: A catalogue folder, or a case file (its records, its catalogue's included).
CATALOGUE = click.Path(exists=True, path_type=Path)
_DATE = click.DateTime(formats=["%Y-%m-%d"])


class _Records:
    """The incidents and facilities of a catalogue or a case, and where each
    incident was written."""

    def __init__(self, source: Path) -> None:
        if source.is_dir():
            from ..records.case import load_incident_catalogue

            found: Any = load_incident_catalogue(source)
        else:
            from ..records.case import load_case

            found = load_case(source)
        self.incidents: dict[str, Incident] = found.incidents
        self.facilities: dict[str, Facility] = found.facilities
        self.locate: Callable[..., Location] = found.locate


_filters = options_of(
    click.option("--since", type=_DATE, help="Incidents from this day on (YYYY-MM-DD)."),
    click.option("--until", type=_DATE, help="Incidents over by this day (YYYY-MM-DD)."),
    click.option("--country", "countries", multiple=True, metavar="STATE",
                 help="Incidents in this State (its id); repeatable."),
    click.option("--attributed-to", metavar="STATE",
                 help="Incidents attributed to this State (its id)."),
    click.option("--struck", metavar="STATE",
                 help="Incidents that struck premises of this State (its id), its State "
                      "companies' included."),
    click.option("--facility", metavar="ID",
                 help="Incidents that struck this facility (or premises part of it)."),
    click.option("--premises", multiple=True, type=click.Choice([k.value for k in FacilityKind]),
                 help="Incidents that struck premises of this kind; repeatable."),
    click.option("--effect", "effects", multiple=True,
                 type=click.Choice([e.value for e in Effect]),
                 help="Incidents with this effect on those premises; repeatable."),
    click.option("--lang", default="en", show_default=True, metavar="CODE",
                 help="The language of the places shown (text given per language)."),
    click.option("--json", "as_json", is_flag=True,
                 help="Write a JSON object per incident (id, file, line, incident), one per "
                      "line."),
)


def _selection(since: dt.datetime | None, until: dt.datetime | None,
               countries: tuple[str, ...], attributed_to: str | None, struck: str | None,
               facility: str | None, premises: tuple[str, ...], effects: tuple[str, ...]
               ) -> Selection:
    if since is not None and until is not None and until < since:
        raise click.BadParameter("the day --until is before --since", param_hint="--until")
    return Selection(since=since.date() if since else None,
                     until=until.date() if until else None, countries=frozenset(countries),
                     attributed_to=attributed_to, struck=struck, facility=facility,
                     premises=frozenset(FacilityKind(kind) for kind in premises),
                     effects=frozenset(Effect(effect) for effect in effects))


@click.group(cls=Group)
def incidents() -> None:
    """List, find and show the incidents of a catalogue.

    CATALOGUE is a catalogue folder (every record file in it, validated on
    its own as a case would be) or a case file (its records, those of its
    catalogue included). Incidents are listed oldest first.
    """


@incidents.command("list")
@click.argument("source", metavar="CATALOGUE", type=CATALOGUE)
@_filters
def incidents_list(source: Path, lang: str, as_json: bool, **criteria: Any) -> None:
    """List the incidents of CATALOGUE, or those the options choose."""
    records = _Records(source)
    _print(records, _selection(**criteria).choose(oldest_first(records.incidents.values()),
                                                  records.facilities), lang, as_json)


@incidents.command("find")
@click.argument("source", metavar="CATALOGUE", type=CATALOGUE)
@click.argument("text")
@_filters
def incidents_find(source: Path, text: str, lang: str, as_json: bool,
                   **criteria: Any) -> None:
    """Find the incidents whose id, place, account or damage holds TEXT (in
    any language, whatever the case), among those the options choose."""
    records = _Records(source)
    chosen = _selection(**criteria).choose(oldest_first(records.incidents.values()),
                                           records.facilities)
    _print(records, holding(chosen, text), lang, as_json)


@incidents.command("show")
@click.argument("source", metavar="CATALOGUE", type=CATALOGUE)
@click.argument("ids", metavar="ID...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True,
              help="Write a JSON object per incident (id, file, line, incident), one per "
                   "line.")
def incidents_show(source: Path, ids: tuple[str, ...], as_json: bool) -> None:
    """Show each incident ID of CATALOGUE in full, with where it is written."""
    records = _Records(source)
    unknown = [incident_id for incident_id in ids if incident_id not in records.incidents]
    if unknown:
        raise RecordError([Problem(f"no incident of the catalogue has the id {incident_id!r}",
                                   Location(source)) for incident_id in unknown])
    for incident_id in ids:
        incident = records.incidents[incident_id]
        if as_json:
            click.echo(json.dumps(_as_json(records, incident), ensure_ascii=False))
            continue
        import yaml

        where = records.locate(incident_id)
        click.echo(f"# {incident_id}: {where.file}:{where.line}")
        click.echo(yaml.safe_dump(incident.model_dump(mode="json", exclude_defaults=True),
                                  allow_unicode=True, sort_keys=False, width=88), nl=False)


def _text(value: str | dict[str, str], lang: str) -> str:
    if isinstance(value, str):
        return value
    return value.get(lang) or next(iter(value.values()))


def _as_json(records: _Records, incident: Incident) -> dict[str, Any]:
    where = records.locate(incident.id)
    return {"id": incident.id, "file": str(where.file), "line": where.line,
            "incident": incident.model_dump(mode="json", exclude_defaults=True)}


def _print(records: _Records, chosen: Iterable[Incident], lang: str, as_json: bool) -> None:
    count = 0
    for incident in chosen:
        count += 1
        if as_json:
            click.echo(json.dumps(_as_json(records, incident), ensure_ascii=False))
            continue
        impacts = ", ".join(f"{impact.facility} {impact.effect.value}"
                            for impact in incident.impacts)
        click.echo(f"{incident.date.isoformat()}  {incident.id}  {incident.country}  "
                   f"by {incident.attributed_to}  {impacts}  ({_text(incident.place, lang)})")
    if not as_json:
        click.echo(f"{count} incident{'s' if count != 1 else ''}", err=True)
