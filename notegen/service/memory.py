"""The ministry's memory over HTTP: the incident catalogue (``GET
/incidents``, ``GET /incidents/{id}``) and what a case's chronology rule
chooses (``POST /chronology``). The replies to issued notes are the
register's routes (:mod:`.app`).

The catalogue is the folder the settings name (``catalogue``,
``NOTEGEN_CATALOGUE``), validated once and again only when a file of it
changes (:class:`~notegen.desk.catalogue.CatalogueShelf`); it is searched
as ``notegen incidents list|find`` searches it, a page at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..desk.catalogue import (
    MAX_PAGE,
    CatalogueShelf,
    chronology_report,
    search,
    selection_of,
    summary,
)
from ..records.case import Case, load_case
from ..records.models import Effect, FacilityKind
from ..records.reading import parse_source
from .app import _CASE_BODY, _ERRORS, Anyone, Body, Drafter, ProblemOut, State, _problems

router = APIRouter(tags=["memory"])

def shelf(request: Request, state: State) -> CatalogueShelf:
    """The service's catalogue, kept loaded by the application: 503 without one."""
    folder = state.settings.catalogue
    if folder is None:
        raise HTTPException(503, "the service has no incident catalogue (its operator sets "
                                 "NOTEGEN_CATALOGUE)")
    kept: CatalogueShelf | None = getattr(request.app.state, "catalogue_shelf", None)
    if kept is None or kept.folder != folder:
        kept = CatalogueShelf(folder)
        request.app.state.catalogue_shelf = kept
    return kept


Shelf = Annotated[CatalogueShelf, Depends(shelf)]


class ImpactOut(BaseModel):
    facility: str
    effect: Effect


class IncidentOut(BaseModel):
    """An incident in a line: what a list shows of it."""

    id: str
    date: dt.date
    last_date: dt.date
    place: str = Field(description="In the language asked for, else the first given.")
    country: str
    attributed_to: str
    impacts: list[ImpactOut]


class IncidentFound(IncidentOut):
    """An incident in full, with where the catalogue writes it."""

    file: str = Field(description="Its file, relative to the catalogue's folder.")
    line: int | None
    incident: dict[str, Any] = Field(description="The record as the catalogue gives it.")


class IncidentsOut(BaseModel):
    """One page of the incidents a search chose, oldest first."""

    total: int = Field(description="How many the search chose in all.")
    offset: int
    limit: int
    incidents: list[IncidentOut]


class ChronologyOut(BaseModel):
    """What the chronology of a posted case recalls, and why."""

    rule: dict[str, Any] | None = Field(description="The rule as the note gives it; none: "
                                        "the note lists its earlier incidents.")
    chosen: list[str] = Field(description="What the rule chose by itself.")
    add: list[str]
    exclude: list[str]
    recalled: list[IncidentOut] = Field(description="What the note recalls, oldest first: "
                                        "the list, or the rule's choice with its additions "
                                        "and without its exclusions.")
    expected: list[str] = Field(description="What the checks' own rule chooses: attributed "
                                "to the addressee's State, on the sender's premises, before "
                                "the subject incident.")
    left_out: list[str] = Field(description="Expected, but not recalled.")
    warnings: list[ProblemOut]


_CRITERIA_HELP = "as `notegen incidents list` takes it"


def _selection(since: dt.date | None, until: dt.date | None, country: list[str],
               attributed_to: str | None, struck: str | None, facility: str | None,
               premises: list[FacilityKind], effect: list[Effect]) -> Any:
    try:
        return selection_of(since=since, until=until, countries=country,
                            attributed_to=attributed_to, struck=struck, facility=facility,
                            premises=[kind.value for kind in premises],
                            effects=[value.value for value in effect])
    except ValueError as exc:
        raise HTTPException(422, f"until: {exc}") from None


@router.get("/incidents", response_model=IncidentsOut, responses=_ERRORS,
            summary="The incidents of the catalogue, or those the criteria choose")
async def incidents(
        user: Anyone, catalogue: Shelf,
        since: Annotated[dt.date | None, Query(description="Incidents from this day on.")] = None,
        until: Annotated[dt.date | None, Query(description="Incidents over by this day.")] = None,
        country: Annotated[list[str], Query(description="Incidents in this State (id); "
                                                        "repeatable.")] = [],  # noqa: B006
        attributed_to: Annotated[str | None, Query(description="Incidents attributed to this "
                                                               "State (id).")] = None,
        struck: Annotated[str | None, Query(description="Incidents that struck premises of "
                                                        "this State (id).")] = None,
        facility: Annotated[str | None, Query(description="Incidents that struck this "
                                                          "facility (or part of it).")] = None,
        premises: Annotated[list[FacilityKind], Query(description="Incidents that struck "
                                                      "premises of this kind.")] = [],  # noqa: B006
        effect: Annotated[list[Effect], Query(description="Incidents with this effect; "
                                                          "repeatable.")] = [],  # noqa: B006
        text: Annotated[str | None, Query(max_length=200, description=(
            "Incidents whose id, place, account or damage holds this text (any language, "
            "any case), as `notegen incidents find`."))] = None,
        lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description=(
            "The language of the places shown."))] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> IncidentsOut:
    chosen = _selection(since, until, country, attributed_to, struck, facility, premises,
                        effect)

    def look() -> IncidentsOut:
        found = search(catalogue.get(), chosen, text, offset=offset, limit=limit)
        return IncidentsOut(total=found.total, offset=found.offset, limit=found.limit,
                            incidents=[IncidentOut.model_validate(summary(incident, lang))
                                       for incident in found.incidents])

    return await run_in_threadpool(look)


@router.get("/incidents/{incident_id}", response_model=IncidentFound,
            responses={**_ERRORS, 404: {"model": _ERRORS[422]["model"]}},
            summary="One incident of the catalogue, in full")
async def incident(incident_id: str, user: Anyone, shelved: Shelf,
                   lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None
                   ) -> IncidentFound:
    def look() -> IncidentFound:
        catalogue = shelved.get()
        found = catalogue.incidents.get(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident of the catalogue has the id "
                                     f"{incident_id[:100]!r}")
        where = catalogue.locate(incident_id)
        file = where.file
        name = (file.relative_to(catalogue.folder).as_posix()
                if file is not None and file.is_relative_to(catalogue.folder)
                else file.name if file is not None else "")
        return IncidentFound.model_validate({
            **summary(found, lang), "file": name, "line": where.line,
            "incident": found.model_dump(mode="json", exclude_defaults=True)})

    return await run_in_threadpool(look)


@router.post("/chronology", response_model=ChronologyOut, responses=_ERRORS,
             openapi_extra=_CASE_BODY,
             summary="Which earlier incidents a case recalls: its rule's choice, and what "
                     "a list leaves out")
async def chronology(data: Body, user: Drafter, state: State,
                     catalogue: Annotated[bool, Query(description=(
                         "Read the case with the service's catalogue as its own (its "
                         "`catalogue`, if it names one, is replaced); false: the case "
                         "alone."))] = True,
                     lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None
                     ) -> ChronologyOut:
    def resolve() -> ChronologyOut:
        case = _posted(data, state, catalogue)
        report = chronology_report(case)
        return ChronologyOut(
            rule=report.rule, chosen=list(report.chosen), add=list(report.add),
            exclude=list(report.exclude),
            recalled=[IncidentOut.model_validate(summary(case.incidents[incident_id], lang))
                      for incident_id in report.recalled],
            expected=list(report.expected), left_out=list(report.left_out),
            warnings=_problems(report.warnings))

    return await run_in_threadpool(resolve)


def _posted(data: bytes, state: Any, with_catalogue: bool) -> Case:
    """The posted case, read from memory as case.json; with the service's
    catalogue (if it has one and ``with_catalogue``) as its catalogue, its
    includes confined to that folder."""
    folder = state.settings.catalogue
    if not with_catalogue or folder is None:
        return load_case(data, name="case.json")
    records = parse_source(folder / "case.json", data).data
    if not isinstance(records, dict):
        return load_case(data, name="case.json")  # which says what is wrong, located
    return load_case({**records, "catalogue": "."}, root=folder, name="case.json")
