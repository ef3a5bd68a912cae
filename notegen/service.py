"""notegen over HTTP, for ministry workflows: validate, render, issue,
register queries and verification (``notegen serve``; the ``service`` extra).

A case is posted as one JSON record file (the form ``notegen extract``
writes). Errors come back as JSON with the same located problems as the
command line. Every request needs a bearer token; tokens carry roles:

* ``drafter``: validate and render;
* ``issuer``: also issue and cancel;
* ``reader``: the register's queries.

Verification is open to every role. Tokens live in a JSON file named by
``NOTEGEN_TOKENS`` or ``tokens`` in ``notegen.toml`` (never in code), each
stored as its SHA-256::

    {"tokens": [{"name": "desk-1", "sha256": "<hex>", "roles": ["drafter"]}]}

Requests are limited in size (``NOTEGEN_MAX_BODY``, bytes); user templates
render in a child process bounded in time (``NOTEGEN_TIME_LIMIT``, seconds)
and memory, as on the command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .archive.register import Entry, Register, open_register
from .archive.verify import Verification, verify_pdf
from .config import Settings, load_settings
from .errors import ConfigError, NotegenError, Problem, RegisterError
from .options import RenderOptions, with_settings
from .records.case import Case, load_case_data
from .records.models import NoteType
from .render.html import render_html
from .template_folders import TemplateFolders
from .version import __version__
from .wording.prepare import prepare

logger = logging.getLogger(__name__)

Role = Literal["drafter", "issuer", "reader"]

#: A token's SHA-256 (hex) → the name and roles it admits.
Tokens = dict[str, tuple[str, frozenset[str]]]

def load_tokens(settings: Settings) -> Tokens:
    """The tokens of the file the settings name.

    :raises ConfigError: if no file is named, or it cannot be read.
    """
    if settings.tokens is None:
        raise ConfigError("the service needs its tokens: set NOTEGEN_TOKENS (or tokens in "
                          "notegen.toml) to their file (see `notegen token`)")
    return {item["sha256"]: (item["name"], frozenset(item["roles"]))
            for item in _token_entries(settings.tokens)}


def _token_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of the tokens file ``path``, each checked to have a name,
    roles and a SHA-256 (lower-cased).

    :raises ConfigError: if it cannot be read or is not a tokens file.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["tokens"]
        return [{**item, "sha256": item["sha256"].lower(), "name": item["name"],
                 "roles": list(item["roles"])} for item in entries]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read the tokens in {path}: {exc}") from None


@dataclass(frozen=True)
class Service:
    """What a running service holds: its settings and the tokens it admits."""

    settings: Settings
    tokens: Tokens
    #: The certificates of the settings' trust roots, read at start.
    trust_roots: tuple[bytes, ...] = ()

    def options(self, lang: str | None = None, note_type: NoteType | None = None
                ) -> RenderOptions:
        """The render options of a request."""
        return with_settings(RenderOptions(lang=lang, note_type=note_type), self.settings)

    def register(self) -> Register:
        """The register, opened for one request."""
        if not self.settings.register:
            raise HTTPException(503, "the service has no register (NOTEGEN_REGISTER)")
        return open_register(self.settings.register)


class ProblemOut(BaseModel):
    """One located problem."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None


class ErrorOut(BaseModel):
    """An error: a sentence, and the located problems behind it."""

    error: str
    problems: list[ProblemOut] = []


class ValidOut(BaseModel):
    valid: bool
    warnings: list[ProblemOut]


class CancelIn(BaseModel):
    reason: str


class VerificationOut(BaseModel):
    status: str
    exit_code: int
    pdfa: str | None
    record: str
    rendered_sha256: str | None
    findings: list[str]


class IssueCheckOut(BaseModel):
    """Whether a PDF is a note of the register, unaltered."""

    issued: bool
    reference: str | None
    finding: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The token's roles do not allow this."},
    413: {"model": ErrorOut, "description": "The request is too large."},
    422: {"model": ErrorOut, "description": "The case has problems (located)."},
}

_CASE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "description": "A case as one record file: states, "
               "parties, facilities, incidents, profile and note."}}}}}

_PDF_BODY = {"requestBody": {"required": True, "content": {"application/octet-stream": {
    "schema": {"type": "string", "format": "binary"}}}}}


def _problems(problems: tuple[Problem, ...]) -> list[ProblemOut]:
    return [ProblemOut(message=p.message, file=p.location.file.name if p.location.file else None,
                       line=p.location.line, column=p.location.column, field=p.location.field)
            for p in problems]


# Dependencies: what each endpoint needs, checked before it runs.

_bearer = HTTPBearer(auto_error=False)


def service(request: Request) -> Service:
    """The running service's state."""
    state: Service = request.app.state.notegen
    return state


def require(*allowed: Role) -> Callable[..., str]:
    """A dependency admitting a token with one of the ``allowed`` roles; it
    gives the token's name."""

    def check(request: Request, state: Annotated[Service, Depends(service)],
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
              ) -> str:
        if credentials is None:
            logger.warning("refused %s %s: no token", request.method, request.url.path)
            raise HTTPException(401, "a bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        digest = hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()
        known = next((value for key, value in state.tokens.items()
                      if hmac.compare_digest(key, digest)), None)
        if known is None:
            logger.warning("refused %s %s: unknown token", request.method, request.url.path)
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        name, roles = known
        if not roles & set(allowed):
            logger.warning("refused %s %s to %s: needs %s", request.method, request.url.path,
                           name, " or ".join(allowed))
            raise HTTPException(403, f"this needs the role {' or '.join(allowed)}")
        return name

    return check


async def body(request: Request, state: Annotated[Service, Depends(service)]) -> bytes:
    """The request's body, refused beyond the settings' ``max_body``."""
    limit = state.settings.max_body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the request is larger than {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"the request is larger than {limit} bytes")
    return bytes(data)


def options(state: Annotated[Service, Depends(service)], lang: str | None = None,
            note_type: Annotated[NoteType | None, Query(alias="type")] = None
            ) -> RenderOptions:
    """The render options a request asks for."""
    return state.options(lang, note_type)


Drafter = Annotated[str, Depends(require("drafter", "issuer"))]
Issuer = Annotated[str, Depends(require("issuer"))]
Reader = Annotated[str, Depends(require("reader", "issuer"))]
Anyone = Annotated[str, Depends(require("drafter", "issuer", "reader"))]
Body = Annotated[bytes, Depends(body)]
Options = Annotated[RenderOptions, Depends(options)]
State = Annotated[Service, Depends(service)]

router = APIRouter()


@router.post("/validate", response_model=ValidOut, responses=_ERRORS,
             openapi_extra=_CASE_BODY, summary="Check a case")
async def validate(data: Body, user: Drafter, chosen: Options) -> ValidOut:
    prepared = prepare(_case(data), chosen)
    return ValidOut(valid=True, warnings=_problems(prepared.warnings))


@router.post("/render", responses={**_ERRORS, 200: {"content": {
    "application/pdf": {}, "text/html": {}}, "description": "The note."}},
             openapi_extra=_CASE_BODY, summary="Render a note (PDF or HTML)",
             response_class=Response)
async def render(data: Body, user: Drafter, chosen: Options,
                 format: Literal["pdf", "html"] = "pdf") -> Response:
    case = _case(data)
    if format == "html":  # also a bounded child process: off the event loop
        html = await run_in_threadpool(_render_html, case, chosen)
        return Response(html, media_type="text/html")
    pdf = await run_in_threadpool(_render_pdf, case, chosen)
    return Response(pdf, media_type="application/pdf")


@router.post("/issue", responses={**_ERRORS, 200: {"content": {"application/pdf": {}},
                                                   "description": "The issued note."}},
             openapi_extra=_CASE_BODY, summary="Number, render and record a note",
             response_class=Response)
async def issue(data: Body, user: Issuer, chosen: Options, state: State) -> Response:
    case = _case(data)

    def issue_in_register() -> tuple[Entry, bytes]:
        with state.register() as opened, _RENDERING:
            return opened.issue(case, chosen, issued_by=user)

    entry, pdf = await run_in_threadpool(issue_in_register)
    return Response(pdf, media_type="application/pdf",
                    headers={"X-Notegen-Reference": entry.reference})


@router.get("/register", response_model=list[Entry], responses=_ERRORS,
            summary="Issued notes, by incident, addressee or dates")
async def find(user: Reader, state: State, incident: str | None = None,
               addressee: str | None = None,
               since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
               until: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
               ) -> list[Entry]:
    try:
        start = dt.date.fromisoformat(since) if since else None
        end = dt.date.fromisoformat(until) if until else None
    except ValueError as exc:
        raise HTTPException(422, f"not a date: {exc}") from None
    with state.register() as opened:
        return opened.find(subject=incident, addressee=addressee, since=start, until=end)


@router.post("/register/verify", response_model=IssueCheckOut, responses=_ERRORS,
             openapi_extra=_PDF_BODY, summary="Is this PDF a note of the register, unaltered?")
async def register_verify(data: Body, user: Reader, state: State) -> IssueCheckOut:
    def check() -> IssueCheckOut:
        with state.register() as opened:
            result = opened.check(data)
        return IssueCheckOut(issued=result.issued, finding=result.finding,
                             reference=result.entry.reference if result.entry else None)

    return await run_in_threadpool(check)


@router.get("/register/{reference:path}", response_model=Entry,
            responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
            summary="One issued note (of sender, if two senders issued the reference)")
async def show(reference: str, user: Reader, state: State, sender: str | None = None) -> Entry:
    with state.register() as opened:
        return _issued(opened, reference, sender)


@router.post("/cancel/{reference:path}", response_model=Entry,
             responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
             summary="Cancel an issued note")
async def cancel(reference: str, reason: CancelIn, user: Issuer, state: State,
                 sender: str | None = None) -> Entry:
    with state.register() as opened:
        entry = _issued(opened, reference, sender)
        try:
            opened.cancel(reference, reason=reason.reason, cancelled_by=user,
                          sender=entry.sender)
        except RegisterError as exc:  # cancelled already
            raise HTTPException(409, str(exc)) from None
        return opened.show(reference, sender=entry.sender)


def _issued(register: Register, reference: str, sender: str | None) -> Entry:
    """The entry of ``reference`` (of ``sender``): 404 if there is none, said
    without the register's location, which is the server's business; 409 if
    two senders issued it and the request does not say which."""
    try:
        return register.show(reference, sender=sender)
    except RegisterError as exc:
        if any(entry.reference == reference for entry in register.find(sender=sender)):
            raise HTTPException(409, str(exc)) from None
        raise HTTPException(404, f"no issued note {reference!r}") from None


@router.post("/verify", response_model=VerificationOut, responses=_ERRORS,
             openapi_extra=_PDF_BODY, summary="Check a note's signatures, records and PDF/A claim")
async def verify(data: Body, user: Anyone, state: State) -> VerificationOut:
    result = await run_in_threadpool(_verify_pdf, data, state.options(),
                                     state.trust_roots)
    return VerificationOut(status=result.status.name, exit_code=result.status.value,
                           pdfa=result.pdfa, record=result.record,
                           rendered_sha256=result.rendered_sha256,
                           findings=list(result.findings))


async def _notegen_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotegenError)
    return JSONResponse(ErrorOut(error=str(exc).splitlines()[0],
                                 problems=_problems(exc.problems)).model_dump(),
                        status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(ErrorOut(error=str(exc.detail)).model_dump(),
                        status_code=exc.status_code, headers=exc.headers)


def create_app(settings: Settings | None = None, tokens: Tokens | None = None) -> FastAPI:
    """The service's application; settings (and the tokens they name) from
    ``notegen.toml`` and the environment by default."""
    settings = settings or load_settings()
    # The OpenAPI document is served to token holders only (below); no
    # Swagger or ReDoc page, which would load their scripts from the Internet.
    app = FastAPI(title="notegen", version=__version__, lifespan=_warm_up,
                  description="Formal diplomatic protest notes from incident records.",
                  openapi_url=None, docs_url=None, redoc_url=None)
    try:
        roots = tuple(root.read_bytes() for root in settings.trust)
    except OSError as exc:
        raise ConfigError(f"cannot read a trust root: {exc}") from None
    app.state.notegen = Service(settings, tokens if tokens is not None else load_tokens(settings),
                                roots)
    app.add_exception_handler(NotegenError, _notegen_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.include_router(router)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(user: Anyone) -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


#: One PDF render at a time per worker: WeasyPrint's thread safety is not
#: documented, its font configuration is shared between renders, and renders
#: are CPU-bound anyway (run one worker per core).
_RENDERING = threading.Lock()


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Warm each worker before its first request: WeasyPrint, the built-in
    templates, phrases and fonts, and the style sheet of the ministry's
    folders, loaded once here rather than in every bounded render."""
    from .render.pdf import warm_up

    state: Service = app.state.notegen
    await run_in_threadpool(warm_up, TemplateFolders.of(state.settings.template_dirs),
                            state.options())
    yield


def _render_pdf(case: Case, options: RenderOptions) -> bytes:
    """Render in a worker thread, one at a time: the render runs in a child
    process bounded in time, memory and pages (:mod:`notegen.render.limits`),
    forked from this warm worker."""
    from .render.pdf import render_pdf

    with _RENDERING:
        return render_pdf(case, options=options)


def _render_html(case: Case, options: RenderOptions) -> str:
    """As :func:`_render_pdf`, for the HTML preview."""
    with _RENDERING:
        return render_html(case, options)


def _verify_pdf(data: bytes, options: RenderOptions,
                trust_roots: tuple[bytes, ...] = ()) -> Verification:
    """Verify in a worker thread: it re-renders the embedded records, so it
    takes its turn with the renders."""
    with _RENDERING:
        return verify_pdf(data, trust_roots=trust_roots, options=options)


def _case(data: bytes) -> Case:
    """The case in a request body: one record file, located as case.json. It
    is read from memory and may include no file of the server."""
    return load_case_data(data, "case.json")


def add_token(path: Path, entry: dict[str, Any]) -> None:
    """Add ``entry`` (from :func:`new_token`) to the tokens file ``path``,
    made if missing; written whole or not at all.

    :raises ConfigError: if the file is not a tokens file, or has the name.
    """
    from .render.atomic import write_atomic

    entries = _token_entries(path) if path.exists() else []
    if entry["name"] in {item["name"] for item in entries}:
        raise ConfigError(f"{path} already has a token named {entry['name']!r}")
    data = {"tokens": [*entries, entry]}
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def new_token(name: str, roles: list[str]) -> tuple[str, dict[str, Any]]:
    """A fresh random token, and the entry of the tokens file that admits it."""
    import secrets

    token = secrets.token_urlsafe(32)
    return token, {"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(),
                   "roles": roles}
