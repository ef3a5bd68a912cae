"""The desk's web face: pages, their JSON calls and their assets, as routes
the service mounts (:func:`install_desk`) when a workspace is configured.

The desk sits below the service: it is handed what it needs (a
:class:`Keyring` that admits tokens and finds them again by SHA-256, the
settings, a hook for the access log, the render lock) and imports nothing
of the service. Every page needs a session (:mod:`.session`) but the
sign-in page and the desk's own assets; every POST needs the session's CSRF
token; every route checks the roles of the token behind the session, as
they are now:

* ``drafter``: cases (open, preview, save, create, duplicate, download);
* ``issuer``: also issue, and cancel in the register;
* ``reader``: the register and verification only.

Pages are Jinja templates in ``pages/`` (autoescaped); ``static/`` holds
the style sheet and script, served under names that change with their
content (cached for a year). A Content-Security-Policy without inline
script or style goes with every answer; the preview of a note, which
carries its style sheet inline as WeasyPrint reads it, is served from its
own URL with a policy of its own and shown in a sandboxed frame.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..archive.register import Entry, Register, open_register
from ..archive.verify import verify_pdf
from ..config import Settings
from ..errors import ConfigError, NotegenError, Problem, RegisterBusy, RegisterError
from ..options import RenderOptions, settle, with_settings
from ..records.case import Case
from ..records.models import Effect, FacilityKind, NoteType
from ..template_folders import TemplateFolders
from .forms import FormBuilder, Group, languages_of
from .session import (
    COOKIE,
    SIGNIN_COOKIE,
    Session,
    desk_secret,
    new_session,
    same,
    seal,
    signin_token,
    unseal,
)

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent
_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "pages"), autoescape=True,
                            undefined=jinja2.StrictUndefined, trim_blocks=True,
                            lstrip_blocks=True)
_STATIC = _HERE / "static"
#: The desk's own files, by name: their type.
_ASSETS = {"desk.css": "text/css; charset=utf-8", "desk.js": "text/javascript; charset=utf-8"}

#: The policy of every page and asset of the desk.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
          "base-uri 'none'")
#: The policy of a note's preview: its style sheet is inline, it runs no script,
#: and only the desk's own pages may frame it.
NOTE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; "
               "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'self'")

ROLES_CASES = ("drafter", "issuer")
ROLES_ISSUE = ("issuer",)
ROLES_REGISTER = ("reader", "issuer")
ROLES_ANY = ("drafter", "issuer", "reader")


@dataclass(frozen=True)
class Holder:
    """A token's holder as the tokens file says now."""

    name: str
    roles: tuple[str, ...]
    sha256: str
    expires: dt.datetime | None = None


class Keyring(Protocol):
    """What the desk asks of the service's tokens. Both answer a
    :class:`Holder`, or why the token is refused (``"unknown token"``,
    ``"expired token"``, ``"revoked token"``); both may raise
    :class:`~notegen.ConfigError` when the tokens cannot be read."""

    def admit(self, secret: str) -> Holder | str: ...

    def find(self, sha256: str) -> Holder | str: ...


def _no_audit(scope: Scope, **fields: str | None) -> None:
    return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Desk:
    """What the desk's routes share: the workspace and its warm preview,
    the settings, the keyring, and what the service lends."""

    settings: Settings
    keyring: Keyring
    workspace: Any
    preview: Any
    secret: bytes
    #: Records what the access log says of a request (token, reference, refused).
    audit: Callable[..., None] = _no_audit
    #: Held while rendering: one render at a time per worker (the service's lock).
    lock: Any = field(default_factory=threading.Lock)
    trust_roots: tuple[bytes, ...] = ()
    languages: tuple[str, ...] = ()
    clock: Callable[[], dt.datetime] = _now
    previews: PreviewStore | None = None
    #: The incident catalogues the desk has loaded (:mod:`.memory`), by key.
    shelves: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, keyring: Keyring, **given: Any) -> Desk:
        """The desk over the settings' workspace.

        :raises ConfigError: if there is none, or its session secret cannot be made.
        """
        from .preview import DraftPreview
        from .workspace import Workspace

        if settings.workspace is None:
            raise ConfigError("the desk needs a workspace: set NOTEGEN_WORKSPACE (or workspace "
                              "in notegen.toml), or give notegen serve --workspace")
        root = settings.workspace
        folders = TemplateFolders.of(settings.template_dirs)
        workspace = Workspace(root, folders)
        given.setdefault("languages", tuple(folders.languages()))
        return cls(settings, keyring, workspace, DraftPreview(workspace, settings),
                   desk_secret(root), previews=PreviewStore(root / ".notegen-desk" / "previews"),
                   **given)

    def options(self, lang: str | None = None, note_type: NoteType | None = None
                ) -> RenderOptions:
        return with_settings(RenderOptions(lang=lang, note_type=note_type), self.settings)

    def register(self) -> Register:
        """The register, opened for one request."""
        if not self.settings.register:
            raise Refusal(503, "this service has no register (its operator sets "
                               "NOTEGEN_REGISTER)")
        return open_register(self.settings.register, wait=self.settings.register_wait)


class PreviewStore:
    """Previews of notes, kept as files named by their content's SHA-256 so
    that the frame showing one can fetch it from any worker; files older
    than :attr:`KEEP` seconds are removed now and then."""

    #: Seconds a preview is kept: its frame fetches it at once (and caches it).
    KEEP = 300.0

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pruned = 0.0

    def put(self, html: str) -> str:
        data = html.encode("utf-8")
        key = hashlib.sha256(data).hexdigest()
        path = self.folder / f"{key}.html"
        if not path.exists():
            from ..render.atomic import write_atomic

            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        else:
            with contextlib.suppress(OSError):
                path.touch()
        self._prune()
        return key

    def get(self, key: str) -> bytes | None:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            return None
        try:
            return (self.folder / f"{key}.html").read_bytes()
        except OSError:
            return None

    def _prune(self) -> None:
        now = time.time()
        if now - self._pruned < 30:
            return
        self._pruned = now
        for path in self.folder.glob("*.html"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > self.KEEP:
                    path.unlink()


@dataclass(frozen=True)
class User:
    """The signed-in holder of a request."""

    name: str
    roles: tuple[str, ...]
    session: Session

    def can(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))


class Refusal(Exception):
    """A request the desk refuses: a page (or, for its JSON calls, JSON)
    saying why, or a redirect to the sign-in page."""

    def __init__(self, status: int, message: str, *, api: bool = False,
                 location: str | None = None, headers: Mapping[str, str] | None = None,
                 problems: Sequence[Mapping[str, Any]] = (),
                 reason: str | None = None) -> None:
        super().__init__(message)
        #: Why, for the page's script: ``csrf`` (get the session's token again), …
        self.reason = reason
        self.status = status
        self.message = message
        self.api = api
        self.location = location
        self.headers = dict(headers or {})
        self.problems = tuple(problems)


# Requests: the session, its CSRF token, bodies.


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/desk/api/")


def _user(desk: Desk, request: Request, roles: Sequence[str]) -> User:
    """The signed-in user, if a holder of one of ``roles``.

    :raises Refusal: to the sign-in page (or 401 for a JSON call) without a
        live session or with a token no longer active; 403 without the role.
    """
    api = _is_api(request)
    now = desk.clock()
    session = unseal(desk.secret, request.cookies.get(COOKIE), now)
    scope = request.scope
    if session is None:
        desk.audit(scope, refused="no session" if COOKIE not in request.cookies
                   else "session ended")
        raise Refusal(401, "sign in first", api=api,
                      location=None if api else "/desk/signin?next=" + quote(
                          request.url.path, safe="/"))
    try:
        found = desk.keyring.find(session.token_sha256)
    except ConfigError as exc:
        logger.error("%s", exc)
        desk.audit(scope, token=session.name, refused="tokens file unreadable")
        raise Refusal(503, "the service cannot read its tokens", api=api) from None
    if isinstance(found, str):
        desk.audit(scope, token=session.name, refused=found)
        raise Refusal(401, f"your session ended: its token is {found.split()[0]}", api=api,
                      location=None if api else "/desk/signin?ended=" + found.split()[0])
    desk.audit(scope, token=found.name)
    if not set(found.roles) & set(roles):
        needs = " or ".join(roles)
        desk.audit(scope, refused=f"needs {needs}")
        raise Refusal(403, f"this needs the role {needs}", api=api)
    return User(found.name, found.roles, session)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def _check_csrf(desk: Desk, request: Request, user: User,
                form: Mapping[str, str] | None = None) -> None:
    """Refuse a POST without the session's CSRF token (form field ``csrf`` or
    header ``X-CSRF-Token``), or from another origin."""
    given = request.headers.get("x-csrf-token")
    if given is None and form is not None:
        given = form.get("csrf")
    if not _same_origin(request) or not same(given, user.session.csrf):
        desk.audit(request.scope, refused="csrf")
        raise Refusal(403, "this form is out of date or was not sent by the desk: reload "
                           "the page and try again", api=_is_api(request), reason="csrf")


async def _body(desk: Desk, request: Request) -> bytes:
    """The request's body, refused beyond the settings' ``max_body``."""
    limit = desk.settings.max_body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"the request is larger than {limit} bytes", api=_is_api(request))
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise Refusal(413, f"the request is larger than {limit} bytes",
                          api=_is_api(request))
    return bytes(data)


async def _form(desk: Desk, request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (the last value of each)."""
    data = await _body(desk, request)
    try:
        parsed = parse_qs(data.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "the form could not be read") from None
    return {name: values[-1] for name, values in parsed.items()}


def _json_body(model: type[BaseModel], data: bytes) -> Any:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise Refusal(422, "the request is not what the desk sends: " + "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
            for error in exc.errors(include_url=False)[:5]), api=True) from None


# Pages.


def _asset_version(name: str) -> str:
    return _VERSIONS[name]


_VERSIONS = {name: hashlib.sha256((_STATIC / name).read_bytes()).hexdigest()[:12]
             for name in _ASSETS}


def asset(name: str) -> str:
    """The URL of one of the desk's own files: it changes with the file."""
    return f"/desk/static/{_VERSIONS[name]}/{name}"


def when(value: str | dt.datetime, lang: str | None = None) -> str:
    """A moment (ISO 8601, or a datetime; UTC if it names no zone) in the
    words of ``lang`` (CLDR, through Babel; English for a language it does
    not know), in UTC: "6 December 2026 at 21:15:00 UTC"."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import format_datetime

    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        locale = Locale.parse(lang or "en")
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return str(format_datetime(moment, format="long", tzinfo=dt.UTC, locale=locale))


_PAGES.globals["asset"] = asset
_PAGES.filters["urlpath"] = lambda value: quote(str(value), safe="/")
_PAGES.filters["when"] = when


def _page(name: str, code: int = 200, user: User | None = None, **values: Any
          ) -> HTMLResponse:
    html = _PAGES.get_template(name).render(user=user, csrf=user.session.csrf if user else "",
                                            **values)
    return HTMLResponse(html, status_code=code, headers={
        "Content-Security-Policy": POLICY, "Cache-Control": "no-store"})


def _scrub(desk: Desk, text: str) -> str:
    """``text`` without the server's folders: the workspace's files by their
    path inside it."""
    for root in {str(desk.workspace.root), str(desk.settings.workspace or "")} - {""}:
        text = text.replace(root.rstrip("/") + "/", "")
    return text


def _headline(desk: Desk, exc: NotegenError) -> str:
    """An error's sentence, as the desk says it."""
    return _scrub(desk, str(exc).splitlines()[0])


def _problem_json(desk: Desk, problem: Problem) -> dict[str, Any]:
    """A problem, its file named by its path in the workspace (a file outside
    it by its name only)."""
    where = problem.location
    name = None
    if where.file is not None:
        path = Path(where.file)
        name = (desk.workspace.rel(path) if path.is_absolute() else path.as_posix()) \
            or path.name
    return {"message": _scrub(desk, problem.message), "file": name, "line": where.line,
            "field": where.field, "key": f"{name}::{where.field}" if name and where.field
            else None}


def _problems_of(desk: Desk, exc: NotegenError) -> list[dict[str, Any]]:
    return [_problem_json(desk, problem) for problem in exc.problems]


def _said(problem: Mapping[str, Any]) -> str:
    """A located problem as one line: file:line: field: message."""
    place = problem.get("file") or ""
    if place and problem.get("line"):
        place += f":{problem['line']}"
    return ": ".join(part for part in (place, problem.get("field") or "",
                                       str(problem["message"])) if part)


def _sentences(desk: Desk, exc: NotegenError) -> list[str]:
    return [_headline(desk, exc), *map(_said, _problems_of(desk, exc))]


def _field_problem_json(problem: Any) -> dict[str, Any]:
    return {"message": problem.message, "file": problem.file, "line": problem.line,
            "field": problem.field, "key": problem.key}


class EditIn(BaseModel):
    """One change to a field: its file (relative to the workspace), its path,
    and its new value, or ``delete`` to remove it."""

    file: str = Field(max_length=1000)
    field: str = Field(max_length=1000)
    value: Any = None
    delete: bool = False


class PreviewIn(BaseModel):
    rel: str = Field(max_length=1000)
    edits: list[EditIn] = Field(default_factory=list, max_length=5000)
    lang: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    note_type: NoteType | None = None
    #: Also render the note's courtesy translation (if it has one).
    translation: bool = False


class SaveIn(BaseModel):
    rel: str = Field(max_length=1000)
    edits: list[EditIn] = Field(default_factory=list, max_length=5000)
    versions: dict[str, str] = Field(default_factory=dict)


def _edits(edits: Sequence[EditIn]) -> list[Any]:
    from .workspace import DELETE, Edit

    return [Edit(edit.file, edit.field, DELETE if edit.delete else edit.value)
            for edit in edits]


def _conflict_json(exc: Any) -> dict[str, Any]:
    current = getattr(exc, "current", None)
    return {"error": str(exc).splitlines()[0], "conflict": True,
            "file": getattr(current, "rel", None),
            "modified_by": getattr(current, "modified_by", None),
            "modified_at": (current.modified_at.isoformat(timespec="seconds")
                            if current is not None and current.modified_at else None),
            "text": getattr(current, "text", None)}


def _rule_form(earlier: Any) -> dict[str, Any] | None:
    """The chronology rule of a note's ``earlier`` as the case page's fields
    show it (texts; lists joined by commas); ``None`` if it lists incidents."""
    if not isinstance(earlier, dict):
        return None
    given = earlier.get("rule")
    rule: dict[str, Any] = given if isinstance(given, dict) else {}

    def text(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return "" if value is None else str(value)

    def items(value: Any) -> list[str]:
        return [str(item) for item in value] if isinstance(value, list) else []

    return {**{name: text(rule.get(name)) for name in
               ("attributed_to", "struck", "since", "until", "countries")},
            "premises": items(rule.get("premises")), "effects": items(rule.get("effects")),
            "add": text(earlier.get("add")), "exclude": text(earlier.get("exclude"))}


def _download_name(rel: str, suffix: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", str(PurePosixPath(rel).parent) or "note").strip("-.")
    return f"{stem or 'note'}{suffix}"


def _entry_json(entry: Entry) -> dict[str, Any]:
    return dataclasses.asdict(entry)


def _parse_date(text: str | None, name: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refusal(422, f"{name}: not a date (YYYY-MM-DD): {text[:40]!r}") from None


def _lang(desk: Desk, value: str | None) -> str | None:
    if not value:
        return None
    if value not in desk.languages:
        raise Refusal(422, f"lang: no phrase catalogue for {value[:10]!r}; available: "
                           f"{', '.join(desk.languages)}", api=False)
    return value


def _note_type(value: str | None) -> NoteType | None:
    if not value:
        return None
    try:
        return NoteType(value)
    except ValueError:
        raise Refusal(422, f"type: not a note type: {value[:40]!r}") from None


def desk_router(desk: Desk) -> APIRouter:
    """The desk's routes: ``/`` and ``/desk/...``."""
    router = APIRouter(include_in_schema=False)

    def load(rel: str) -> Case:
        case: Case = desk.workspace.draft([], rel)
        return case

    # Signing in and out.

    @router.get("/desk/signin")
    async def signin_page(request: Request, next: str = "/", ended: str | None = None
                          ) -> Response:
        nonce = secrets.token_urlsafe(18)
        response = _page("signin.html.j2", next=_local(next), ended=ended, error=None,
                         signin_csrf=signin_token(desk.secret, nonce))
        response.set_cookie(SIGNIN_COOKIE, nonce, httponly=True, samesite="strict",
                            path="/desk/signin", secure=request.url.scheme == "https")
        return response

    @router.post("/desk/signin")
    async def signin(request: Request) -> Response:
        form = await _form(desk, request)
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        target = _local(form.get("next", "/"))
        if not nonce or not _same_origin(request) or not same(
                form.get("csrf"), signin_token(desk.secret, nonce)):
            desk.audit(request.scope, refused="csrf")
            raise Refusal(403, "the sign-in form is out of date: reload it and sign in again")
        secret = form.get("token", "").strip()
        try:
            found = desk.keyring.admit(secret) if secret else "no token"
        except ConfigError as exc:
            logger.error("%s", exc)
            raise Refusal(503, "the service cannot read its tokens") from None
        if isinstance(found, str):
            desk.audit(request.scope, refused=found)
            fresh = secrets.token_urlsafe(18)
            response = _page("signin.html.j2", 401, next=target, ended=None,
                             error="That token is not one the desk admits (unknown, expired "
                                   "or revoked)." if secret else "Give your access token.",
                             signin_csrf=signin_token(desk.secret, fresh))
            response.set_cookie(SIGNIN_COOKIE, fresh, httponly=True, samesite="strict",
                                path="/desk/signin", secure=request.url.scheme == "https")
            return response
        desk.audit(request.scope, token=found.name)
        session = new_session(found.name, found.sha256, found.expires,
                              desk.settings.desk_session_minutes, desk.clock())
        done = RedirectResponse(target, status_code=303)
        done.set_cookie(COOKIE, seal(desk.secret, session), httponly=True,
                            samesite="strict", path="/", secure=request.url.scheme == "https",
                            expires=session.expires)
        done.delete_cookie(SIGNIN_COOKIE, path="/desk/signin")
        return done

    @router.post("/desk/signout")
    async def signout(request: Request) -> Response:
        form = await _form(desk, request)
        session = unseal(desk.secret, request.cookies.get(COOKIE), desk.clock())
        if session is not None:
            desk.audit(request.scope, token=session.name)
            if not _same_origin(request) or not same(form.get("csrf"), session.csrf):
                desk.audit(request.scope, refused="csrf")
                raise Refusal(403, "this form is out of date: reload the page and try again")
        response = RedirectResponse("/desk/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
        return response

    @router.get("/desk/api/session")
    async def session(request: Request) -> Response:
        """Who is signed in, and the session's CSRF token: a page whose session
        was renewed (signed in again in another tab) carries on with it. Only
        the desk's own pages can read it (no other origin may)."""
        user = _user(desk, request, ROLES_ANY)
        return JSONResponse({"name": user.name, "roles": list(user.roles),
                             "csrf": user.session.csrf,
                             "expires": user.session.expires.isoformat()},
                            headers={"Cache-Control": "no-store"})

    # The desk's own files.

    @router.get("/desk/static/{version}/{name}")
    async def static(version: str, name: str) -> Response:
        if name not in _ASSETS:
            raise Refusal(404, "no such file")
        data = (_STATIC / name).read_bytes()
        current = _VERSIONS[name]
        cache = ("public, max-age=31536000, immutable" if version == current
                 else "no-cache")
        return Response(data, media_type=_ASSETS[name], headers={
            "Cache-Control": cache, "ETag": f'"{current}"', "Content-Security-Policy": POLICY})

    # Home: the cases.

    @router.get("/")
    async def home(request: Request) -> Response:
        user = _user(desk, request, ROLES_ANY)
        cases = (await run_in_threadpool(desk.workspace.cases)
                 if user.can(*ROLES_CASES) else [])
        return _page("home.html.j2", user=user, cases=cases)

    @router.get("/desk/new")
    async def new_page(request: Request) -> Response:
        user = _user(desk, request, ROLES_CASES)
        return _page("new.html.j2", user=user, values={}, problems=[],
                     languages=desk.languages, note_types=[t.value for t in NoteType])

    @router.post("/desk/new")
    async def new_case(request: Request) -> Response:
        user = _user(desk, request, ROLES_CASES)
        form = await _form(desk, request)
        _check_csrf(desk, request, user, form)
        try:
            spec = _case_spec(desk, form)
            rel = await run_in_threadpool(lambda: desk.workspace.create(
                form.get("folder", "").strip(), spec, user=user.name))
        except NotegenError as exc:
            return _page("new.html.j2", 422, user=user, values=form,
                         problems=_sentences(desk, exc),
                         languages=desk.languages, note_types=[t.value for t in NoteType])
        return RedirectResponse(f"/desk/case/{quote(rel, safe='/')}", status_code=303)

    @router.post("/desk/duplicate/{rel:path}")
    async def duplicate(request: Request, rel: str) -> Response:
        user = _user(desk, request, ROLES_CASES)
        form = await _form(desk, request)
        _check_csrf(desk, request, user, form)
        try:
            made = await run_in_threadpool(lambda: desk.workspace.duplicate(
                rel, form.get("folder", "").strip(), user=user.name))
        except NotegenError as exc:
            raise Refusal(422, _headline(desk, exc), problems=_problems_of(desk, exc)
                          ) from None
        return RedirectResponse(f"/desk/case/{quote(made, safe='/')}", status_code=303)

    # A case.

    @router.get("/desk/case/{rel:path}")
    async def case_page(request: Request, rel: str) -> Response:
        user = _user(desk, request, ROLES_CASES)

        def gather() -> dict[str, Any]:
            files = desk.workspace.case_files(rel)
            chronology = desk.workspace.chronology(rel)
            try:
                case = desk.workspace.draft([], rel)
            except NotegenError:  # the page shows the problems (the preview does)
                chosen: tuple[str, ...] = ()
            else:
                chosen = case.chronology.chosen if case.chronology is not None else ()
            return {"files": files, "chronology": chronology, "chosen": chosen}

        try:
            found = await run_in_threadpool(gather)
        except NotegenError as exc:
            raise Refusal(422 if exc.problems else 404, _headline(desk, exc),
                          problems=_problems_of(desk, exc)) from None
        files = found["files"]
        main = files[0]
        note = (main.data or {}).get("note") or {}
        languages = languages_of([opened.data for opened in files],
                                 [note.get("language"), note.get("translation")])
        # The note's languages: those the template folders have phrases for.
        builder = FormBuilder(languages or ["en"], {
            "note.language": desk.languages, "note.translation": desk.languages})
        sections: list[Group] = []
        if isinstance(note, dict):
            sections.append(builder.model("Note", note, main.rel, "note", "The note"))
        subject = note.get("subject") if isinstance(note, dict) else None
        for opened in files:
            incidents = (opened.data or {}).get("incidents") or []
            for index, incident in enumerate(incidents):
                if not isinstance(incident, dict):
                    continue
                if opened.rel == main.rel or incident.get("id") == subject:
                    title = ("The subject incident" if incident.get("id") == subject
                             else "Incident")
                    sections.append(builder.model(
                        "Incident", incident, opened.rel, f"incidents[{index}]",
                        f"{title}: {incident.get('id', index + 1)}"))
        earlier = note.get("earlier") if isinstance(note, dict) else None
        return _page("case.html.j2", user=user, rel=rel, files=files, sections=sections,
                     chronology=found["chronology"], chosen=set(found["chosen"]),
                     earlier=earlier if isinstance(earlier, dict) else list(earlier or []),
                     rule=_rule_form(earlier), premises=[kind.value for kind in FacilityKind],
                     effects=[effect.value for effect in Effect],
                     versions=json.dumps({opened.rel: opened.version for opened in files}),
                     languages=desk.languages, note_types=[t.value for t in NoteType],
                     note_lang=note.get("language", "en") if isinstance(note, dict) else "en",
                     note_type=note.get("type", "note_verbale") if isinstance(note, dict)
                     else "note_verbale",
                     translation=note.get("translation") if isinstance(note, dict) else None)

    @router.post("/desk/api/preview")
    async def preview(request: Request) -> Response:
        user = _user(desk, request, ROLES_CASES)
        _check_csrf(desk, request, user)
        asked: PreviewIn = _json_body(PreviewIn, await _body(desk, request))
        lang = asked.lang if asked.lang in desk.languages else None
        if asked.lang and lang is None:
            raise Refusal(422, f"lang: no phrase catalogue for {asked.lang!r}", api=True)

        def render() -> Any:
            edits = _edits(asked.edits)
            more = {"translation": True} if asked.translation else {}
            with desk.lock:
                return desk.preview.render(asked.rel, edits, lang=lang,
                                           note_type=asked.note_type, **more)

        try:
            result = await run_in_threadpool(render)
        except NotegenError as exc:  # a path refused, a file that does not read
            return JSONResponse({"html": None, "url": None, "translation_url": None,
                                 "problems": [
                {"message": _headline(desk, exc), "file": None, "line": None,
                 "field": None, "key": None}, *_problems_of(desk, exc)], "warnings": []})
        url = translation_url = None
        assert desk.previews is not None
        if result.html is not None:
            url = f"/desk/preview/{await run_in_threadpool(desk.previews.put, result.html)}"
        translated = getattr(result, "translation_html", None)
        if translated is not None:
            translation_url = ("/desk/preview/"
                               f"{await run_in_threadpool(desk.previews.put, translated)}")
        return JSONResponse({
            "html": result.html, "url": url, "translation_url": translation_url,
            "problems": [_field_problem_json(problem) for problem in result.problems],
            "warnings": [_field_problem_json(problem) for problem in result.warnings],
            "recalled": result.recalled, "chosen": result.chosen,
            "elapsed_ms": round(result.elapsed_ms, 1)})

    @router.get("/desk/preview/{key}")
    async def preview_frame(request: Request, key: str) -> Response:
        _user(desk, request, ROLES_CASES)
        assert desk.previews is not None
        data = desk.previews.get(key)
        if data is None:
            raise Refusal(404, "this preview is gone: change a field to render it again")
        return Response(data, media_type="text/html; charset=utf-8", headers={
            "Content-Security-Policy": NOTE_POLICY, "Cache-Control": "private, max-age=600",
            "X-Content-Type-Options": "nosniff"})

    @router.get("/desk/preview/static/{name:path}")
    async def preview_static(request: Request, name: str) -> Response:
        _user(desk, request, ROLES_CASES)
        parts = name.split("/")
        if ".." in parts or "" in parts or "\x00" in name:
            raise Refusal(404, "no such file")
        found = TemplateFolders.of(desk.settings.template_dirs).find(f"static/{name}")
        if found is None or not found.is_file():
            raise Refusal(404, "no such file")
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return Response(found.read_bytes(), media_type=kind, headers={
            "Cache-Control": "private, max-age=3600", "Content-Security-Policy": NOTE_POLICY,
            "X-Content-Type-Options": "nosniff"})

    @router.post("/desk/api/save")
    async def save(request: Request) -> Response:
        from .workspace import EditConflict

        user = _user(desk, request, ROLES_CASES)
        _check_csrf(desk, request, user)
        asked: SaveIn = _json_body(SaveIn, await _body(desk, request))

        def write() -> list[Any]:
            saved: list[Any] = desk.workspace.save_fields(_edits(asked.edits), asked.versions,
                                                          user=user.name)
            return saved

        try:
            saved = await run_in_threadpool(write)
        except EditConflict as exc:
            return JSONResponse(_conflict_json(exc), status_code=409)
        except NotegenError as exc:
            return JSONResponse({"error": _headline(desk, exc),
                                 "problems": _problems_of(desk, exc)}, status_code=422)
        return JSONResponse({"saved": [{"rel": opened.rel, "version": opened.version}
                                       for opened in saved],
                             "at": desk.clock().isoformat(timespec="seconds")})

    @router.get("/desk/source/{rel:path}")
    async def source_page(request: Request, rel: str) -> Response:
        user = _user(desk, request, ROLES_CASES)
        try:
            opened = await run_in_threadpool(desk.workspace.open, rel)
        except NotegenError as exc:
            raise Refusal(404, _headline(desk, exc), problems=_problems_of(desk, exc)
                          ) from None
        return _page("source.html.j2", user=user, rel=opened.rel, text=opened.text,
                     version=opened.version, status=None, conflict=None,
                     case=request.query_params.get("case"))

    @router.post("/desk/source/{rel:path}")
    async def save_source(request: Request, rel: str) -> Response:
        from .workspace import EditConflict

        user = _user(desk, request, ROLES_CASES)
        form = await _form(desk, request)
        _check_csrf(desk, request, user, form)
        text = form.get("text", "").replace("\r\n", "\n")
        case = form.get("case") or None
        try:
            opened = await run_in_threadpool(lambda: desk.workspace.save_source(
                rel, text, form.get("version", ""), user=user.name))
        except EditConflict as exc:
            current = exc.current
            return _page("source.html.j2", 409, user=user, rel=rel, text=text,
                         version=form.get("version", ""), status=_headline(desk, exc),
                         conflict=current, case=case)
        except NotegenError as exc:
            return _page("source.html.j2", 422, user=user, rel=rel, text=text,
                         version=form.get("version", ""),
                         status="; ".join(_sentences(desk, exc)), conflict=None, case=case)
        return _page("source.html.j2", user=user, rel=opened.rel, text=opened.text,
                     version=opened.version, status="Saved.", conflict=None, case=case)

    # Out of the desk: downloads.

    @router.get("/desk/pdf/{rel:path}")
    async def download_pdf(request: Request, rel: str, lang: str | None = None,
                           type: str | None = None) -> Response:
        _user(desk, request, ROLES_CASES)
        chosen = desk.options(_lang(desk, lang), _note_type(type))

        def render() -> bytes:
            from ..render.pdf import render_pdf

            case = load(rel)
            with desk.lock:
                pdf: bytes = render_pdf(case, options=settle(case, chosen))
            return pdf

        pdf = await _rendering(desk, render)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{_download_name(rel, ".pdf")}"',
            "Cache-Control": "no-store"})

    @router.get("/desk/demarche/{rel:path}")
    async def download_demarche(request: Request, rel: str, lang: str | None = None,
                                type: str | None = None, translation: str | None = None
                                ) -> Response:
        _user(desk, request, ROLES_CASES)
        chosen = replace(desk.options(_lang(desk, lang), _note_type(type)),
                         translation=_lang(desk, translation))

        def render() -> bytes:
            from ..render.demarche import demarche_zip

            case = load(rel)
            if not (chosen.translation or case.note.translation):
                raise Refusal(422, "A démarche set has a courtesy translation: choose its "
                                   "language under “Démarche translation”, or give the note "
                                   "a Translation.")
            with desk.lock:
                return demarche_zip(case, chosen)

        data = await _rendering(desk, render)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{_download_name(rel, "-demarche.zip")}"',
            "Cache-Control": "no-store"})

    # Issuing.

    @router.get("/desk/issue/{rel:path}")
    async def issue_page(request: Request, rel: str, lang: str | None = None,
                         type: str | None = None) -> Response:
        user = _user(desk, request, ROLES_ISSUE)

        def look() -> dict[str, Any]:
            opened = desk.workspace.open(rel)
            case = load(rel)
            with desk.register() as register:
                reference, series, number = register.next_reference(case)
            chosen = settle(case, desk.options(_lang(desk, lang), _note_type(type)))
            return {"version": opened.version, "reference": reference, "series": series,
                    "number": number, "lang": chosen.lang,
                    "note_type": chosen.note_type.value if chosen.note_type else "",
                    "subject": case.note.subject, "addressee": case.note.addressee,
                    "date": case.note.date.isoformat()}

        try:
            found = await _rendering(desk, look, page=True)
        except Refusal as refusal:
            if refusal.status != 422:
                raise
            return _page("issue.html.j2", 422, user=user, rel=rel, next=None,
                         problems=[refusal.message, *map(_said, refusal.problems)],
                         issued=None)
        return _page("issue.html.j2", user=user, rel=rel, next=found, problems=[],
                     issued=None)

    @router.post("/desk/issue/{rel:path}")
    async def issue(request: Request, rel: str) -> Response:
        user = _user(desk, request, ROLES_ISSUE)
        form = await _form(desk, request)
        _check_csrf(desk, request, user, form)
        chosen = desk.options(_lang(desk, form.get("lang")), _note_type(form.get("type")))

        def take() -> tuple[Entry, str]:
            opened = desk.workspace.open(rel)
            if opened.version != form.get("version"):
                raise Refusal(409, f"{rel} changed since you confirmed: look at the note again "
                                   "before you issue it")
            case = load(rel)
            with desk.register() as register, desk.lock:
                entry, _ = register.issue(case, chosen, issued_by=user.name, recall=True)
            return entry, opened.version

        entry, _ = await _rendering(desk, take, page=True)
        desk.audit(request.scope, reference=entry.reference)
        expected = form.get("expected")
        return _page("issue.html.j2", user=user, rel=rel, next=None, problems=[],
                     issued=entry, expected=expected)

    # The register.

    @router.get("/desk/register")
    async def register_page(request: Request) -> Response:
        user = _user(desk, request, ROLES_REGISTER)
        query = request.query_params
        subject = query.get("subject") or None
        addressee = query.get("addressee") or None
        since = _parse_date(query.get("from"), "from")
        until = _parse_date(query.get("to"), "to")

        def find() -> list[Entry]:
            with desk.register() as register:
                return register.find(subject=subject, addressee=addressee, since=since,
                                     until=until)

        entries = await _rendering(desk, find, page=True)
        return _page("register.html.j2", user=user, entries=entries, query={
            name: query.get(name, "") for name in ("subject", "addressee", "from", "to")})

    @router.get("/desk/register/entry/{reference:path}")
    async def entry_page(request: Request, reference: str, sender: str | None = None
                         ) -> Response:
        from .memory import entry_view

        user = _user(desk, request, ROLES_REGISTER)
        view = await _rendering(desk, lambda: entry_view(desk, reference, sender), page=True)
        return _page("entry.html.j2", user=user, status=None, **view)

    @router.get("/desk/register/pdf/{reference:path}")
    async def entry_pdf(request: Request, reference: str, sender: str | None = None
                        ) -> Response:
        _user(desk, request, ROLES_REGISTER)

        def again() -> bytes:
            entry = _lookup(desk, reference, sender)
            with desk.register() as register, desk.lock:
                _, pdf = register.pdf(entry.reference, desk.options(), sender=entry.sender)
            return pdf

        pdf = await _rendering(desk, again, page=True)
        name = re.sub(r"[^\w.-]+", "-", reference).strip("-") or "note"
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{name}.pdf"',
            "Cache-Control": "no-store"})

    @router.post("/desk/register/cancel/{reference:path}")
    async def cancel(request: Request, reference: str) -> Response:
        user = _user(desk, request, ROLES_ISSUE)
        form = await _form(desk, request)
        _check_csrf(desk, request, user, form)
        reason = form.get("reason", "").strip()
        if not reason:
            from .memory import entry_view

            view = await _rendering(desk, lambda: entry_view(desk, reference,
                                                             form.get("sender")), page=True)
            return _page("entry.html.j2", 422, user=user, status="Say why the note is "
                         "cancelled.", **view)

        def strike() -> Entry:
            entry = _lookup(desk, reference, form.get("sender") or None)
            with desk.register() as register:
                try:
                    register.cancel(entry.reference, reason=reason[:2000],
                                    cancelled_by=user.name, sender=entry.sender)
                except RegisterBusy:
                    raise
                except RegisterError as exc:
                    raise Refusal(409, str(exc)) from None
                return register.show(entry.reference, sender=entry.sender)

        entry = await _rendering(desk, strike, page=True)
        desk.audit(request.scope, reference=entry.reference)
        return RedirectResponse(
            f"/desk/register/entry/{quote(entry.reference, safe='/')}?"
            + urlencode({"sender": entry.sender}), status_code=303)

    # Verifying a PDF.

    @router.get("/desk/verify")
    async def verify_page(request: Request) -> Response:
        user = _user(desk, request, ROLES_ANY)
        return _page("verify.html.j2", user=user)

    @router.post("/desk/api/verify")
    async def verify(request: Request) -> Response:
        user = _user(desk, request, ROLES_ANY)
        _check_csrf(desk, request, user)
        data = await _body(desk, request)

        def check() -> dict[str, Any]:
            with desk.lock:
                result = verify_pdf(data, trust_roots=desk.trust_roots, options=desk.options())
            answer: dict[str, Any] = {
                "status": result.status.name, "exit_code": result.status.value,
                "pdfa": result.pdfa, "record": result.record,
                "findings": list(result.findings), "register": None}
            if desk.settings.register:
                with desk.register() as register:
                    found = register.check(data)
                answer["register"] = {"issued": found.issued, "finding": found.finding,
                                      "reference": found.entry.reference if found.entry
                                      else None}
            return answer

        try:
            answer = await _rendering(desk, check)
        except Refusal as refusal:
            refusal.api = True
            raise
        return JSONResponse(answer)

    from .memory import add_memory_routes  # it builds on this module's helpers

    add_memory_routes(router, desk)
    return router


def _lookup(desk: Desk, reference: str, sender: str | None) -> Entry:
    """The register's entry of ``reference``: 404 if none, 409 if two senders have it."""
    with desk.register() as register:
        try:
            return register.show(reference, sender=sender or None)
        except RegisterBusy:
            raise
        except RegisterError as exc:
            if any(entry.reference == reference for entry in register.find(sender=sender)):
                raise Refusal(409, str(exc)) from None
            raise Refusal(404, f"no issued note {reference!r}") from None


async def _rendering(desk: Desk, work: Callable[[], Any], *, page: bool = False) -> Any:
    """Run ``work`` off the event loop; its errors become refusals: a busy
    register 503 (try again), any other error of the user's 422 with its
    problems."""
    try:
        return await run_in_threadpool(work)
    except RegisterBusy as exc:
        logger.warning("%s", exc)
        raise Refusal(503, "the register is busy with other writers; nothing was issued: try "
                           "again", headers={"Retry-After": "5"}) from None
    except NotegenError as exc:
        raise Refusal(422, _headline(desk, exc), problems=_problems_of(desk, exc)) from None


def _local(target: str | None) -> str:
    """A redirect target that stays on this site (a path), else ``/``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _case_spec(desk: Desk, form: Mapping[str, str]) -> Any:
    from ..render.scaffold import CaseSpec

    def need(name: str) -> str:
        value = form.get(name, "").strip()
        if not value:
            raise NotegenError(f"{name.replace('_', ' ')}: give it")
        return value

    try:
        day = dt.date.fromisoformat(need("date"))
    except ValueError:
        raise NotegenError("date: not a date (YYYY-MM-DD)") from None
    profile_rel = form.get("profile", "").strip()
    return CaseSpec(
        sender_state=need("sender_state"), addressee_state=need("addressee_state"),
        date=day, place=need("place"), country=form.get("country", "").strip() or None,
        lang=form.get("lang") or "en",
        note_type=_note_type(form.get("note_type")) or NoteType.note_verbale,
        profile=desk.workspace.resolve(profile_rel) if profile_rel else None,
        folders=TemplateFolders.of(desk.settings.template_dirs))


# Installing.


class _Policy:
    """ASGI middleware: every answer of the desk's paths carries a
    Content-Security-Policy (the desk's, unless the route set its own) and
    refuses to be sniffed or framed by another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path.startswith("/desk/")):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", POLICY.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    if exc.location is not None:
        return RedirectResponse(exc.location, status_code=303)
    if exc.api or _is_api(request):
        return JSONResponse({"error": exc.message, "problems": list(exc.problems),
                             "reason": exc.reason},
                            status_code=exc.status,
            headers={**exc.headers, "Cache-Control": "no-store"})
    response = _page("error.html.j2", exc.status, user=None, status=exc.status,
                     message=exc.message, problems=[_said(problem) for problem in exc.problems])
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def install_desk(app: FastAPI, desk: Desk) -> None:
    """Serve the desk at ``/`` and ``/desk/...`` of the service's ``app``."""
    app.state.desk = desk
    app.include_router(desk_router(desk))
    app.add_exception_handler(Refusal, _refused)
    app.add_middleware(_Policy)


def install_without_desk(app: FastAPI) -> None:
    """Say at ``/`` how to have the desk, when no workspace is configured."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def home() -> Response:
        return _page("unconfigured.html.j2", user=None)

    @router.get("/desk/static/{version}/{name}")
    async def static(version: str, name: str) -> Response:
        if name not in _ASSETS:
            return Response("no such file", 404, media_type="text/plain")
        return Response((_STATIC / name).read_bytes(), media_type=_ASSETS[name],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"
                                 if version == _VERSIONS[name] else "no-cache"})

    app.include_router(router)
    app.add_middleware(_Policy)


__all__ = ["NOTE_POLICY", "POLICY", "Desk", "Holder", "Keyring", "Refusal", "desk_router",
           "install_desk", "install_without_desk"]
