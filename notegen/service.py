"""notegen over HTTP, for ministry workflows: validate, render, issue,
register queries and verification (``notegen serve``; the ``service`` extra).

A case is posted as one JSON record file (the form ``notegen extract``
writes). Errors come back as JSON with the same located problems as the
command line. Every request needs a bearer token; tokens carry roles:

* ``drafter``: validate and render;
* ``issuer``: also issue and cancel;
* ``reader``: the register's queries.

Verification is open to every role. Tokens live in a JSON file named by
``NOTEGEN_TOKENS`` (never in code), each stored as its SHA-256::

    {"tokens": [{"name": "desk-1", "sha256": "<hex>", "roles": ["drafter"]}]}

Requests are limited in size (``NOTEGEN_MAX_BODY``, bytes); user templates
render in a child process bounded in time (``NOTEGEN_TIME_LIMIT``, seconds)
and memory, as on the command line.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoints'
# annotations at run time, and they name dependencies local to create_app.
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .config import find_config
from .errors import NotegenError, RecordError
from .loading import Case, load_case
from .models import NoteType
from .register import Entry, Register, RegisterError, open_register
from .templating import RenderOptions, prepare, render_html
from .verify import Verification, verify_pdf
from .version import __version__

logger = logging.getLogger(__name__)

Role = Literal["drafter", "issuer", "reader"]


@dataclass(frozen=True)
class Settings:
    """What the service reads from its environment at start."""

    tokens: dict[str, tuple[str, frozenset[str]]]
    register: str | None
    template_dirs: tuple[Path, ...]
    max_body: int = 2_000_000
    time_limit: float = 30.0

    @classmethod
    def from_environment(cls) -> "Settings":
        path = os.environ.get("NOTEGEN_TOKENS")
        if not path:
            raise NotegenError("set NOTEGEN_TOKENS to the file of the service's tokens")
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            tokens = {item["sha256"].lower(): (item["name"], frozenset(item["roles"]))
                      for item in data["tokens"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NotegenError(f"cannot read the tokens in {path}: {exc}") from None
        config = find_config()
        return cls(tokens=tokens,
                   register=os.environ.get("NOTEGEN_REGISTER") or config.register,
                   template_dirs=config.template_dirs,
                   max_body=int(os.environ.get("NOTEGEN_MAX_BODY", 2_000_000)),
                   time_limit=float(os.environ.get("NOTEGEN_TIME_LIMIT", 30)))


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


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The token's roles do not allow this."},
    413: {"model": ErrorOut, "description": "The request is too large."},
    422: {"model": ErrorOut, "description": "The case has problems (located)."},
}


def _problems(problems: Any) -> list[ProblemOut]:
    return [ProblemOut(message=p.message, file=p.location.file.name if p.location.file else None,
                       line=p.location.line, column=p.location.column, field=p.location.field)
            for p in problems]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's application; settings from the environment by default."""
    settings = settings or Settings.from_environment()
    app = FastAPI(title="notegen", version=__version__, lifespan=_warm_up,
                  description="Formal diplomatic protest notes from incident records.")
    bearer = HTTPBearer(auto_error=False)

    @app.exception_handler(NotegenError)
    async def notegen_error(request: Request, exc: NotegenError) -> JSONResponse:
        problems = _problems(exc.problems) if isinstance(exc, RecordError) else []
        return JSONResponse(ErrorOut(error=str(exc).splitlines()[0],
                                     problems=problems).model_dump(), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(ErrorOut(error=str(exc.detail)).model_dump(),
                            status_code=exc.status_code, headers=exc.headers)

    def role(*allowed: Role) -> Callable[..., str]:
        def check(request: Request, credentials: Annotated[
                HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
            if credentials is None:
                logger.warning("refused %s %s: no token", request.method, request.url.path)
                raise HTTPException(401, "a bearer token is required",
                                    headers={"WWW-Authenticate": "Bearer"})
            digest = hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()
            known = next((value for key, value in settings.tokens.items()
                          if hmac.compare_digest(key, digest)), None)
            if known is None:
                logger.warning("refused %s %s: unknown token", request.method,
                               request.url.path)
                raise HTTPException(401, "unknown token",
                                    headers={"WWW-Authenticate": "Bearer"})
            name, roles = known
            if not roles & set(allowed):
                logger.warning("refused %s %s to %s: needs %s", request.method,
                               request.url.path, name, " or ".join(allowed))
                raise HTTPException(403, f"this needs the role {' or '.join(allowed)}")
            return name
        return check

    async def body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body:
            raise HTTPException(413, f"the request is larger than {settings.max_body} bytes")
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > settings.max_body:
                raise HTTPException(413, f"the request is larger than {settings.max_body} bytes")
        return data

    def options(lang: str | None, note_type: NoteType | None) -> RenderOptions:
        return RenderOptions(template_dirs=settings.template_dirs, lang=lang,
                             note_type=note_type, time_limit=settings.time_limit)

    case_body = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "description": "A case as one record file: states, "
                   "parties, facilities, incidents, profile and note."}}}}}

    @app.post("/validate", response_model=ValidOut, responses=_ERRORS,
              openapi_extra=case_body, summary="Check a case")
    async def validate(data: Annotated[bytes, Depends(body)],
                       user: Annotated[str, Depends(role("drafter", "issuer"))],
                       lang: str | None = None,
                       note_type: Annotated[NoteType | None, Query(alias="type")] = None,
                       ) -> ValidOut:
        prepared = prepare(_case(data), options(lang, note_type))
        return ValidOut(valid=True, warnings=_problems(prepared.warnings))

    @app.post("/render", responses={**_ERRORS, 200: {"content": {
        "application/pdf": {}, "text/html": {}}, "description": "The note."}},
              openapi_extra=case_body, summary="Render a note (PDF or HTML)",
              response_class=Response)
    async def render(data: Annotated[bytes, Depends(body)],
                     user: Annotated[str, Depends(role("drafter", "issuer"))],
                     format: Literal["pdf", "html"] = "pdf", lang: str | None = None,
                     note_type: Annotated[NoteType | None, Query(alias="type")] = None,
                     ) -> Response:
        case, chosen = _case(data), options(lang, note_type)
        if format == "html":
            return Response(render_html(case, chosen), media_type="text/html")
        pdf = await run_in_threadpool(_render_pdf, case, chosen)
        return Response(pdf, media_type="application/pdf")

    def register() -> Register:
        if not settings.register:
            raise HTTPException(503, "the service has no register (NOTEGEN_REGISTER)")
        return open_register(settings.register)

    @app.post("/issue", responses={**_ERRORS, 200: {"content": {"application/pdf": {}},
                                                    "description": "The issued note."}},
              openapi_extra=case_body, summary="Number, render and record a note",
              response_class=Response)
    async def issue(data: Annotated[bytes, Depends(body)],
                    user: Annotated[str, Depends(role("issuer"))],
                    lang: str | None = None,
                    note_type: Annotated[NoteType | None, Query(alias="type")] = None,
                    ) -> Response:
        case = _case(data)

        def issue_in_register() -> tuple[Any, bytes]:
            with register() as opened, _RENDERING:
                result: tuple[Any, bytes] = opened.issue(case, options(lang, note_type),
                                                         issued_by=user)
                return result

        entry, pdf = await run_in_threadpool(issue_in_register)
        return Response(pdf, media_type="application/pdf",
                        headers={"X-Notegen-Reference": entry.reference})

    @app.get("/register", response_model=list[Entry], responses=_ERRORS,
             summary="Issued notes, by incident, addressee or dates")
    async def find(user: Annotated[str, Depends(role("reader", "issuer"))],
                   incident: str | None = None, addressee: str | None = None,
                   since: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
                   until: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
                   ) -> list[Entry]:
        import datetime as dt

        try:
            start = dt.date.fromisoformat(since) if since else None
            end = dt.date.fromisoformat(until) if until else None
        except ValueError as exc:
            raise HTTPException(422, f"not a date: {exc}") from None
        with register() as opened:
            return opened.find(subject=incident, addressee=addressee, since=start, until=end)

    @app.get("/register/{reference:path}", response_model=Entry,
             responses={**_ERRORS, 404: {"model": ErrorOut}}, summary="One issued note")
    async def show(reference: str,
                   user: Annotated[str, Depends(role("reader", "issuer"))]) -> Entry:
        with register() as opened:
            try:
                return opened.show(reference)
            except RegisterError as exc:
                raise HTTPException(404, str(exc)) from None

    @app.post("/cancel/{reference:path}", response_model=Entry,
              responses={**_ERRORS, 404: {"model": ErrorOut}}, summary="Cancel an issued note")
    async def cancel(reference: str, reason: CancelIn,
                     user: Annotated[str, Depends(role("issuer"))]) -> Entry:
        with register() as opened:
            try:
                opened.cancel(reference, reason=reason.reason, cancelled_by=user)
            except RegisterError as exc:
                raise HTTPException(404, str(exc)) from None
            return opened.show(reference)

    @app.post("/verify", response_model=VerificationOut, responses=_ERRORS,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/octet-stream": {"schema": {"type": "string",
                                                          "format": "binary"}}}}},
              summary="Check a note's signatures, records and PDF/A claim")
    async def verify(data: Annotated[bytes, Depends(body)],
                     user: Annotated[str, Depends(role("drafter", "issuer", "reader"))],
                     ) -> VerificationOut:
        result = await run_in_threadpool(
            _verify_pdf, data, RenderOptions(template_dirs=settings.template_dirs))
        return VerificationOut(status=result.status.name, exit_code=result.status.value,
                               pdfa=result.pdfa, record=result.record,
                               rendered_sha256=result.rendered_sha256,
                               findings=list(result.findings))

    return app


#: One PDF render at a time per worker: WeasyPrint's thread safety is not
#: documented, its font configuration is shared between renders, and renders
#: are CPU-bound anyway (run one worker per core).
_RENDERING = threading.Lock()


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Load WeasyPrint and the fonts once per worker, before the first request."""
    from .pdf import html_to_pdf
    from .templating import BUILTIN_FOLDER

    html_to_pdf("<!DOCTYPE html><html><body><p>.</p></body></html>",
                base_folder=BUILTIN_FOLDER, asset_folders=[BUILTIN_FOLDER])
    yield


def _render_pdf(case: Case, options: RenderOptions) -> bytes:
    """Render in a worker thread. User templates are rendered to HTML in a
    child process bounded in time and memory (see :mod:`notegen.guard`); the
    size of the request bounds the layout."""
    from .pdf import render_pdf

    with _RENDERING:
        return render_pdf(case, options=options)


def _verify_pdf(data: bytes, options: RenderOptions) -> Verification:
    """Verify in a worker thread: it re-renders the embedded records, so it
    takes its turn with the renders."""
    with _RENDERING:
        return verify_pdf(data, options=options)


def _case(data: bytes) -> Case:
    """The case in a request body, read (and located) as a file called case.json."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.json"
        path.write_bytes(data)
        return load_case(path)


def new_token(name: str, roles: list[str]) -> tuple[str, dict[str, Any]]:
    """A fresh random token, and the entry of the tokens file that admits it."""
    import secrets

    token = secrets.token_urlsafe(32)
    return token, {"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(),
                   "roles": roles}
