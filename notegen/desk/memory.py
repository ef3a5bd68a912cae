"""The desk's pages of the ministry's memory: the incident catalogue
(searched as ``notegen incidents`` searches it, one incident in full, the
issued notes that protested it) and the replies to an issued note (shown on
its entry page, recorded by an issuer).

The catalogues the desk knows are the settings' (``catalogue``) and those
the workspace's cases name (``catalogue: ../catalogue``) inside it, each
validated once and again only when one of its files changes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from ..archive.register import Entry, Reply
from ..errors import NotegenError, RegisterBusy, RegisterError
from ..records.case import IncidentCatalogue
from ..records.models import Effect, FacilityKind
from .app import (
    ROLES_ANY,
    ROLES_ISSUE,
    ROLES_REGISTER,
    Desk,
    Refusal,
    User,
    _body,
    _check_csrf,
    _form,
    _lookup,
    _page,
    _rendering,
    _said,
    _user,
)
from .catalogue import CatalogueShelf, search, selection_of, summary

#: The key of the settings' catalogue when it lies outside the workspace.
MINISTRY = "ministry"
#: Incidents a page of the catalogue lists.
PAGE = 50


def catalogues(desk: Desk) -> dict[str, Path]:
    """The catalogues the desk shows, by key: the settings' first (by its
    path in the workspace, or :data:`MINISTRY`), then the workspace's."""
    found: dict[str, Path] = {}
    if desk.settings.catalogue is not None:
        inside = desk.workspace.rel(desk.settings.catalogue)
        found[inside or MINISTRY] = desk.settings.catalogue
    for rel in desk.workspace.catalogues():
        found.setdefault(rel, desk.workspace.root / rel)
    return found


def _shelf(desk: Desk, key: str, folder: Path) -> CatalogueShelf:
    """The catalogue ``key`` (in ``folder``), kept loaded on the desk; one in
    the workspace reads no file outside it."""
    shelf: CatalogueShelf | None = desk.shelves.get(key)
    if shelf is None or shelf.folder != folder:
        shelf = CatalogueShelf(folder, None if key == MINISTRY else desk.workspace.root)
        desk.shelves[key] = shelf
    return shelf


def _chosen(desk: Desk, key: str | None) -> tuple[str | None, dict[str, Path]]:
    known = catalogues(desk)
    if key and key not in known:
        raise Refusal(404, f"no catalogue {key[:100]!r}: choose one of the desk's")
    return (key or next(iter(known), None)), known


class ReplyIn(BaseModel):
    """A reply as the entry page's script sends it (its file in base64)."""

    received: str = Field(max_length=10)
    reference: str = Field("", max_length=200)
    summary: str = Field("", max_length=4000)
    unsatisfactory: bool = False
    file: str | None = None
    sender: str | None = Field(None, max_length=200)


def add_memory_routes(router: APIRouter, desk: Desk) -> None:
    """The catalogue's pages and the replies' routes, on the desk's ``router``."""

    @router.get("/desk/catalogue")
    async def catalogue_page(request: Request) -> Response:
        user = _user(desk, request, ROLES_ANY)
        query = request.query_params
        key, known = _chosen(desk, query.get("catalogue"))
        values = {name: query.get(name, "") for name in (
            "text", "since", "until", "country", "attributed_to", "struck", "facility",
            "premises", "effect")}
        problems: list[str] = []
        found = None
        if key is not None:
            try:
                offset = max(0, int(query.get("offset") or 0))
                selection = selection_of(
                    since=dt.date.fromisoformat(values["since"]) if values["since"] else None,
                    until=dt.date.fromisoformat(values["until"]) if values["until"] else None,
                    countries=[c.strip() for c in values["country"].split(",")],
                    attributed_to=values["attributed_to"].strip(),
                    struck=values["struck"].strip(), facility=values["facility"].strip(),
                    premises=[values["premises"]], effects=[values["effect"]])
            except ValueError as exc:
                problems.append(f"The search is not one the catalogue answers: {exc} (dates "
                                "are YYYY-MM-DD; until comes after since).")
            else:
                shelf = _shelf(desk, key, known[key])
                try:
                    loaded = await _rendering(desk, shelf.get, page=True)
                except Refusal as refusal:
                    problems = [refusal.message, *(_said(p) for p in refusal.problems)]
                else:
                    found = search(loaded, selection, values["text"].strip() or None,
                                   offset=offset, limit=PAGE)
        rows = [summary(incident) for incident in found.incidents] if found else []
        pages = {}
        if found is not None:
            base = {name: value for name, value in values.items() if value}
            if key is not None and len(known) > 1:
                base["catalogue"] = key
            if found.offset > 0:
                pages["prev"] = urlencode({**base, "offset": max(0, found.offset - PAGE)})
            if found.offset + PAGE < found.total:
                pages["next"] = urlencode({**base, "offset": found.offset + PAGE})
        return _page("catalogue.html.j2", user=user, key=key, known=list(known),
                     values=values, problems=problems, found=found, rows=rows, pages=pages,
                     effects=[effect.value for effect in Effect],
                     premises=[kind.value for kind in FacilityKind],
                     ministry=MINISTRY)

    @router.get("/desk/catalogue/incident/{incident_id}")
    async def incident_page(request: Request, incident_id: str,
                            catalogue: str | None = None) -> Response:
        user = _user(desk, request, ROLES_ANY)
        key, known = _chosen(desk, catalogue)
        if key is None:
            raise Refusal(404, "the desk has no incident catalogue")
        loaded: IncidentCatalogue = await _rendering(
            desk, _shelf(desk, key, known[key]).get, page=True)
        incident = loaded.incidents.get(incident_id)
        if incident is None:
            raise Refusal(404, f"no incident of the catalogue has the id {incident_id[:100]!r}")
        where = loaded.locate(incident_id)
        file = where.file
        shown = (desk.workspace.rel(file) or (file.relative_to(loaded.folder).as_posix()
                 if file.is_relative_to(loaded.folder) else file.name)) if file else None
        record = yaml.safe_dump(incident.model_dump(mode="json", exclude_defaults=True),
                                allow_unicode=True, sort_keys=False, width=88)
        notes: list[Entry] | None = None
        if desk.settings.register and user.can(*ROLES_REGISTER):
            def protested() -> list[Entry]:
                with desk.register() as register:
                    return register.find(subject=incident_id)

            notes = await _rendering(desk, protested, page=True)
        return _page("incident.html.j2", user=user, incident=summary(incident), record=record,
                     file=shown, line=where.line, key=key,
                     several=len(known) > 1, notes=notes)

    @router.get("/desk/register/reply-file/{sha256}")
    async def reply_file(request: Request, sha256: str) -> Response:
        _user(desk, request, ROLES_REGISTER)
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise Refusal(404, "no such file")

        def read() -> bytes:
            with desk.register() as register:
                try:
                    return register.reply_file(sha256)
                except RegisterBusy:
                    raise
                except RegisterError:
                    raise Refusal(404, "no such file") from None

        data = await _rendering(desk, read, page=True)
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="reply-{sha256[:12]}.pdf"',
            "Cache-Control": "no-store"})

    @router.post("/desk/register/reply/{reference:path}")
    async def record_reply(request: Request, reference: str) -> Response:
        """A reply from the entry page: its form (no file), or its script's
        JSON (with the file in base64)."""
        user = _user(desk, request, ROLES_ISSUE)
        as_json = request.headers.get("content-type", "").startswith("application/json")
        if as_json:
            try:
                _check_csrf(desk, request, user)
                raw = await _body(desk, request)
            except Refusal as refusal:  # said as JSON, to the page's script
                refusal.api = True
                raise
            try:
                asked = ReplyIn.model_validate_json(raw)
            except ValueError:
                raise Refusal(422, "the reply is not what the desk sends", api=True) from None
            fields = {"received": asked.received, "reference": asked.reference,
                      "summary": asked.summary, "sender": asked.sender or ""}
            unsatisfactory, encoded = asked.unsatisfactory, asked.file
        else:
            fields = await _form(desk, request)
            _check_csrf(desk, request, user, fields)
            unsatisfactory, encoded = fields.get("unsatisfactory") == "on", None
        try:
            received = dt.date.fromisoformat(fields.get("received", "").strip())
        except ValueError:
            return await _refused_reply(request, user, reference, fields, as_json,
                                        "Give the day the reply was received (YYYY-MM-DD).")
        file = None
        if encoded:
            try:
                file = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                return await _refused_reply(request, user, reference, fields, as_json,
                                            "The reply's file could not be read.")

        def record() -> Entry:
            entry = _lookup(desk, reference, fields.get("sender") or None)
            with desk.register() as register:
                try:
                    register.reply(entry.reference, received=received, recorded_by=user.name,
                                   their_reference=fields.get("reference"),
                                   summary=fields.get("summary"), file=file,
                                   unsatisfactory=unsatisfactory, sender=entry.sender)
                except RegisterBusy:
                    raise
                except RegisterError as exc:
                    raise NotegenError(str(exc)) from None
            return entry

        try:
            entry = await _rendering(desk, record, page=True)
        except Refusal as refusal:
            if refusal.status != 422:
                raise
            return await _refused_reply(request, user, reference, fields, as_json,
                                        refusal.message)
        desk.audit(request.scope, reference=entry.reference)
        target = (f"/desk/register/entry/{quote(entry.reference, safe='/')}?"
                  + urlencode({"sender": entry.sender}))
        if as_json:
            return JSONResponse({"recorded": True, "entry": target})
        return RedirectResponse(target, status_code=303)

    async def _refused_reply(request: Request, user: User, reference: str,
                             fields: dict[str, str], as_json: bool, message: str
                             ) -> Response:
        if as_json:
            return JSONResponse({"error": message}, status_code=422)
        view = await _rendering(desk, lambda: entry_view(desk, reference,
                                                         fields.get("sender") or None),
                                page=True)
        return _page("entry.html.j2", 422, user=user, status=None, reply_status=message,
                     reply_values=fields, **view)


def entry_view(desk: Desk, reference: str, sender: str | None) -> dict[str, Any]:
    """What an entry page shows: the entry, its replies, whether it is answered."""
    entry = _lookup(desk, reference, sender)
    with desk.register() as register:
        replies: list[Reply] = register.replies(entry.reference, sender=entry.sender)
    return {"entry": entry, "replies": replies}


__all__ = ["add_memory_routes", "catalogues", "entry_view"]
