"""The service's application: its routes, its tokens and roles, and what
each worker holds (:class:`Service`).

``create_app`` is the factory ``notegen serve`` has uvicorn run in each
worker. A case is posted as one JSON record file and read from memory
(:func:`~notegen.records.case.load_case`), never from a file of the server.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Base64Bytes, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..archive.register import Entry, Register, Reply, open_register
from ..archive.signing import SigningKey, sign_pdf
from ..archive.verify import Verification, verify_pdf
from ..config import Settings, load_settings
from ..desk.app import Desk, Holder, install_desk, install_without_desk
from ..errors import ConfigError, NotegenError, Problem, RegisterBusy, RegisterError
from ..options import RenderOptions, settle, with_settings
from ..records.case import Case, load_case
from ..records.models import NoteType
from ..render.html import render_html
from ..render.pdf import PDF_VARIANTS
from ..render.word_package import MEDIA_TYPE as DOCX_TYPE
from ..template_folders import SEEDS_FOLDER, TemplateFolders
from ..version import __version__
from ..wording.prepare import prepare
from . import access, docs
from .tokens import Role, Token, TokenStore, load_tokens

logger = logging.getLogger(__name__)

#: The environment variable holding the passphrase of the service's signing key.
PASSPHRASE_VARIABLE = "NOTEGEN_KEY_PASSPHRASE"


@dataclass(frozen=True)
class Service:
    """What a running service holds: its settings and the tokens it admits."""

    settings: Settings
    tokens: TokenStore
    #: The certificates of the settings' trust roots, read at start.
    trust_roots: tuple[bytes, ...] = ()
    #: The service's signing key, if the settings name one.
    signing_key: SigningKey | None = None
    #: The languages the template folders have phrase catalogues for.
    languages: tuple[str, ...] = ()

    def options(self, lang: str | None = None, note_type: NoteType | None = None
                ) -> RenderOptions:
        """The render options of a request."""
        return with_settings(RenderOptions(lang=lang, note_type=note_type), self.settings)

    def register(self) -> Register:
        """The register, opened for one request."""
        if not self.settings.register:
            raise HTTPException(503, "the service has no register (NOTEGEN_REGISTER)")
        return open_register(self.settings.register, wait=self.settings.register_wait)


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


class ReplyIn(BaseModel):
    """The other side's answer to an issued note, to record."""

    received: dt.date = Field(description="When it was received.")
    reference: str | None = Field(None, description="Its own number, if it is a note.")
    summary: str | None = Field(None, description="What it says, in a few words.")
    unsatisfactory: bool = Field(False, description="Whether its explanations are "
                                 "unsatisfactory (later notes say so; needs reference).")
    file: Base64Bytes | None = Field(None, description="The reply itself, a PDF, in base64.")


class ReplyOut(BaseModel):
    """A reply as the register holds it (its file by SHA-256 and size)."""

    reference: str
    series: str
    received: dt.date
    their_reference: str | None
    summary: str | None
    file_sha256: str | None
    file_size: int | None
    unsatisfactory: bool
    recorded_by: str
    recorded_at: str = Field(json_schema_extra={"format": "date-time"})
    position: int

    @classmethod
    def of(cls, reply: Reply) -> ReplyOut:
        return cls.model_validate(dataclasses.asdict(reply))


#: The names of :class:`~notegen.archive.verify.Status` (a test keeps them equal).
StatusName = Literal["valid", "unsigned", "tampered", "untrusted", "unverifiable"]
#: What :func:`~notegen.archive.verify.verify_pdf` says of the embedded records.
RecordOutcome = Literal["matches", "differs", "absent", "not compared"]


class VerificationOut(BaseModel):
    """What verifying a PDF found: ``status`` and its ``exit_code`` are those
    of ``notegen verify``."""

    status: StatusName
    exit_code: Literal[0, 3, 4, 5, 6]
    pdfa: str | None
    record: RecordOutcome
    rendered_sha256: str | None
    findings: list[str]


class EntryOut(BaseModel):
    """One issued note, as the register holds it."""

    reference: str
    series: str
    number: int
    note_date: dt.date
    sender: str
    addressee: str
    subject: str
    language: str
    note_type: NoteType
    pdf_sha256: str
    records_sha256: str
    issued_by: str
    issued_at: str = Field(json_schema_extra={"format": "date-time"})
    cancelled: str | None = None

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls.model_validate(dataclasses.asdict(entry))


class IssueCheckOut(BaseModel):
    """Whether a PDF is a note of the register, unaltered."""

    issued: bool
    reference: str | None
    finding: str


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    ready: bool
    register_status: Literal["reachable", "none"]


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown, expired or revoked one.",
          "headers": {"WWW-Authenticate": {"description": "Bearer",
                                           "schema": {"type": "string"}}}},
    403: {"model": ErrorOut, "description": "The token's roles do not allow this."},
    413: {"model": ErrorOut, "description": "The request is too large."},
    422: {"model": ErrorOut, "description": "The case or the request has problems (located)."},
    503: {"model": ErrorOut, "description": "The service lacks what this needs (a register, "
                                            "its tokens), or the register is busy with other "
                                            "writers (Retry-After).",
          "headers": {"Retry-After": {"description": "Seconds to wait before trying again "
                                                     "(a busy register).",
                                      "schema": {"type": "integer"}}}},
}

_CASE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": f"#/components/schemas/{docs.CASE_SCHEMA}"}}}}}

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
    gives the token's name. Why a token is refused goes to the access log,
    never the token."""

    def check(request: Request, state: Annotated[Service, Depends(service)],
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
              ) -> str:
        scope = request.scope
        if credentials is None:
            access.note(scope, refused="no token")
            raise HTTPException(401, "a bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            admission = state.tokens.admit(credentials.credentials)
        except ConfigError as exc:
            logger.error("%s", exc)
            access.note(scope, refused="tokens file unreadable")
            raise HTTPException(503, "the service cannot read its tokens") from None
        token: Token | None = admission.token
        access.note(scope, token=token.name if token else None, refused=admission.refused)
        if admission.refused is not None:
            raise HTTPException(401, "unknown token" if token is None else
                                f"this token is {admission.refused.split()[0]}",
                                headers={"WWW-Authenticate": "Bearer"})
        assert token is not None
        if not set(token.roles) & set(allowed):
            needs = " or ".join(allowed)
            access.note(scope, refused=f"needs {needs}")
            raise HTTPException(403, f"this needs the role {needs}")
        return token.name

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


_LANGUAGE = r"^[a-z]{2,3}$"


def options(state: Annotated[Service, Depends(service)],
            lang: Annotated[str | None, Query(pattern=_LANGUAGE, description=(
                "Write the note in this language instead of the one the note names."))] = None,
            note_type: Annotated[NoteType | None, Query(alias="type", description=(
                "Write it as this type of note instead of the note's own."))] = None,
            strict: Annotated[bool, Query(description=(
                "Treat warnings (legal bases that may misapply) as errors."))] = False,
            translation: Annotated[str | None, Query(pattern=_LANGUAGE, description=(
                "Append a courtesy translation into this language (PDF, or a set)."))] = None,
            ) -> RenderOptions:
    """The render options a request asks for, as ``notegen render`` takes them."""
    for value, name in ((lang, "lang"), (translation, "translation")):
        if value is not None and value not in state.languages:
            raise HTTPException(422, f"{name}: no phrase catalogue for {value!r}; available: "
                                     f"{', '.join(state.languages)}")
    return replace(state.options(lang, note_type), strict=strict, translation=translation)


Drafter = Annotated[str, Depends(require("drafter", "issuer"))]
Issuer = Annotated[str, Depends(require("issuer"))]
Reader = Annotated[str, Depends(require("reader", "issuer"))]
Anyone = Annotated[str, Depends(require("drafter", "issuer", "reader"))]
Body = Annotated[bytes, Depends(body)]
Options = Annotated[RenderOptions, Depends(options)]
State = Annotated[Service, Depends(service)]

router = APIRouter()


@router.get("/health", response_model=HealthOut, summary="Liveness: the process answers",
            tags=["operator"])
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, summary="Readiness: the register is reachable",
            tags=["operator"], responses={503: {"model": ErrorOut,
                                                "description": "The register is unreachable."}})
async def ready(state: State) -> ReadyOut:
    if not state.settings.register:
        return ReadyOut(ready=True, register_status="none")

    def reach() -> None:
        with state.register():
            pass

    try:
        await run_in_threadpool(reach)
    except RegisterError as exc:
        logger.error("not ready: %s", exc)
        raise HTTPException(503, "the register cannot be reached") from None
    return ReadyOut(ready=True, register_status="reachable")


@router.post("/validate", response_model=ValidOut, responses=_ERRORS,
             openapi_extra=_CASE_BODY, summary="Check a case")
async def validate(data: Body, user: Drafter, chosen: Options) -> ValidOut:
    prepared = prepare(_case(data), chosen)
    return ValidOut(valid=True, warnings=_problems(prepared.warnings))


PdfVariant = Annotated[str, Query(
    description="The PDF standard to follow; plain for none.",
    json_schema_extra={"enum": [*PDF_VARIANTS, "plain"]})]


@router.post("/render", responses={**_ERRORS, 200: {
    "content": {"application/pdf": {}, "text/html": {}, DOCX_TYPE: {}, "application/zip": {}},
    "description": "The note (PDF, HTML or, with format=docx, an editable Word document), "
                   "or with set=demarche a zip of the démarche: "
                   "note, talking points, press release and courtesy translation.",
    "headers": {"Content-Disposition": {"description": "With set: attachment; "
                                                       "filename=\"demarche.zip\"",
                                        "schema": {"type": "string"}}}}},
             openapi_extra=_CASE_BODY, summary="Render a note (PDF, HTML or DOCX), or a set",
             response_class=Response)
async def render(data: Body, user: Drafter, chosen: Options, state: State,
                 format: Literal["pdf", "html", "docx"] = "pdf",
                 pdf_variant: PdfVariant = "pdf/a-3b",
                 document_set: Annotated[Literal["demarche"] | None, Query(
                     alias="set", description="Render a set of documents, as a zip.")] = None,
                 sign: Annotated[bool, Query(description=(
                     "Sign the note's PDF with the service's key (PAdES)."))] = False,
                 reason: Annotated[str | None, Query(max_length=500, description=(
                     "Why it is signed. Default: the note's title and number."))] = None,
                 ) -> Response:
    if pdf_variant not in (*PDF_VARIANTS, "plain"):
        raise HTTPException(422, f"pdf_variant: not one of {', '.join(PDF_VARIANTS)}, plain")
    if format == "html" and (sign or (chosen.translation and document_set is None)):
        raise HTTPException(422, "translation and sign apply to PDF output only")
    if format == "docx" and sign:
        raise HTTPException(422, "sign applies to PDF output only")
    if sign and state.signing_key is None:
        raise HTTPException(422, "sign: this service has no signing key (its operator sets "
                                 "NOTEGEN_SIGNING_KEY)")
    case = _case(data)
    chosen = settle(case, replace(chosen, pdf_variant=None if pdf_variant == "plain"
                                  else pdf_variant))
    finish = _signer(case, chosen, state.signing_key, reason) if sign else None
    if document_set is not None:
        archive = await run_in_threadpool(_render_set, case, chosen, format == "html", finish,
                                          format == "docx")
        return Response(archive, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{document_set}.zip"'})
    if format == "html":  # a ministry's templates render in a bounded child: off the loop
        html = await run_in_threadpool(_render_html, case, chosen)
        return Response(html, media_type="text/html")
    if format == "docx":
        document = await run_in_threadpool(_render_docx, case, chosen)
        return Response(document, media_type=DOCX_TYPE)
    pdf = await run_in_threadpool(_render_pdf, case, chosen)
    if finish is not None:
        pdf = await run_in_threadpool(finish, pdf)
    return Response(pdf, media_type="application/pdf")


@router.post("/issue", responses={**_ERRORS, 200: {
    "content": {"application/pdf": {}}, "description": "The issued note.",
    "headers": {"X-Notegen-Reference": {"description": "The number the note was given.",
                                        "schema": {"type": "string"}}}}},
             openapi_extra=_CASE_BODY, summary="Number, render and record a note",
             response_class=Response)
async def issue(request: Request, data: Body, user: Issuer, chosen: Options,
                state: State) -> Response:
    case = _case(data)

    def issue_in_register() -> tuple[Entry, bytes]:
        with state.register() as opened, _RENDERING:
            return opened.issue(case, chosen, issued_by=user, recall=True)

    entry, pdf = await run_in_threadpool(issue_in_register)
    access.note(request.scope, reference=entry.reference)
    return Response(pdf, media_type="application/pdf",
                    headers={"X-Notegen-Reference": entry.reference})


@router.get("/register", response_model=list[EntryOut], responses=_ERRORS,
            summary="Issued notes, by incident, addressee or dates")
async def find(user: Reader, state: State, incident: str | None = None,
               addressee: str | None = None, since: dt.date | None = None,
               until: dt.date | None = None) -> list[EntryOut]:
    with state.register() as opened:
        found = opened.find(subject=incident, addressee=addressee, since=since, until=until)
    return [EntryOut.of(entry) for entry in found]


@router.post("/register/verify", response_model=IssueCheckOut, responses=_ERRORS,
             openapi_extra=_PDF_BODY, summary="Is this PDF a note of the register, unaltered?")
async def register_verify(data: Body, user: Reader, state: State) -> IssueCheckOut:
    def check() -> IssueCheckOut:
        with state.register() as opened:
            result = opened.check(data)
        return IssueCheckOut(issued=result.issued, finding=result.finding,
                             reference=result.entry.reference if result.entry else None)

    return await run_in_threadpool(check)


@router.post("/register/{reference:path}/reply", response_model=ReplyOut,
             responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
             summary="Record the other side's reply to an issued note")
async def record_reply(request: Request, reference: str, reply: ReplyIn, user: Issuer,
                       state: State, sender: str | None = None) -> ReplyOut:
    def record() -> ReplyOut:
        with state.register() as opened:
            entry = _issued(opened, reference, sender)
            if entry.cancelled is not None:
                raise HTTPException(409, f"{entry.reference} is cancelled: a cancelled note "
                                         "takes no reply")
            try:
                recorded = opened.reply(entry.reference, received=reply.received,
                                        recorded_by=user, their_reference=reply.reference,
                                        summary=reply.summary, file=reply.file,
                                        unsatisfactory=reply.unsatisfactory,
                                        sender=entry.sender)
            except RegisterBusy:
                raise
            except RegisterError as exc:  # a reply the register refuses: the request's fault
                raise HTTPException(422, str(exc)) from None
        return ReplyOut.of(recorded)

    out = await run_in_threadpool(record)
    access.note(request.scope, reference=out.reference)
    return out


@router.get("/register/{reference:path}/replies", response_model=list[ReplyOut],
            responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
            summary="The replies recorded to an issued note, oldest first")
async def replies(reference: str, user: Reader, state: State, sender: str | None = None
                  ) -> list[ReplyOut]:
    with state.register() as opened:
        entry = _issued(opened, reference, sender)
        return [ReplyOut.of(reply) for reply in opened.replies(entry.reference,
                                                                sender=entry.sender)]


@router.get("/register/{reference:path}", response_model=EntryOut,
            responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
            summary="One issued note (of sender, if two senders issued the reference)")
async def show(reference: str, user: Reader, state: State, sender: str | None = None
               ) -> EntryOut:
    with state.register() as opened:
        return EntryOut.of(_issued(opened, reference, sender))


@router.post("/cancel/{reference:path}", response_model=EntryOut,
             responses={**_ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
             summary="Cancel an issued note")
async def cancel(request: Request, reference: str, reason: CancelIn, user: Issuer,
                 state: State, sender: str | None = None) -> EntryOut:
    with state.register() as opened:
        entry = _issued(opened, reference, sender)
        try:
            opened.cancel(reference, reason=reason.reason, cancelled_by=user,
                          sender=entry.sender)
        except RegisterError as exc:  # cancelled already
            raise HTTPException(409, str(exc)) from None
        access.note(request.scope, reference=reference)
        return EntryOut.of(opened.show(reference, sender=entry.sender))


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
             openapi_extra=_PDF_BODY,
             summary="Check a note's signatures (against the service's trust roots), "
                     "records and PDF/A claim")
async def verify(data: Body, user: Anyone, state: State) -> VerificationOut:
    result = await run_in_threadpool(_verify_pdf, data, state.options(),
                                     state.trust_roots)
    return VerificationOut.model_validate({
        "status": result.status.name, "exit_code": result.status.value, "pdfa": result.pdfa,
        "record": result.record, "rendered_sha256": result.rendered_sha256,
        "findings": list(result.findings)})


async def _notegen_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotegenError)
    if isinstance(exc, RegisterBusy):  # nothing written: the client may try again
        logger.warning("%s", exc)
        return JSONResponse(ErrorOut(error="the register is busy with other writers; nothing "
                                           "was issued: try again").model_dump(),
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(ErrorOut(error=str(exc).splitlines()[0],
                                 problems=_problems(exc.problems)).model_dump(),
                        status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(ErrorOut(error=str(exc.detail)).model_dump(),
                        status_code=exc.status_code, headers=exc.headers)


def create_app(settings: Settings | None = None, tokens: TokenStore | None = None, *,
               access_log: bool = True) -> FastAPI:
    """The service's application; settings (and the tokens they name) from
    ``notegen.toml`` and the environment by default. ``access_log`` false
    writes no access log (for measuring what it costs)."""
    settings = settings or load_settings()
    app = FastAPI(title="notegen", version=__version__, lifespan=_warm_up,
                  description="Formal diplomatic protest notes from incident records. Every "
                              "route but /health, /ready and /docs needs a bearer token.",
                  openapi_url=None, docs_url=None, redoc_url=None)
    try:
        roots = tuple(root.read_bytes() for root in settings.trust)
    except OSError as exc:
        raise ConfigError(f"cannot read a trust root: {exc}") from None
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    key = (SigningKey(settings.signing_key, passphrase.encode("utf-8") if passphrase else None)
           if settings.signing_key is not None else None)
    app.state.notegen = Service(
        settings, tokens if tokens is not None else load_tokens(settings), roots, key,
        tuple(TemplateFolders.of(settings.template_dirs).languages()))
    app.add_exception_handler(NotegenError, _notegen_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.include_router(router)
    from .memory import router as memory  # its routes use this module's dependencies
    app.include_router(memory)
    docs.add_docs(app)
    _add_desk(app, app.state.notegen, access_log)
    if access_log:
        access.open_access_log(settings.access_log)
    app.add_middleware(access.AccessLog, enabled=access_log)
    return app


class _DeskKeyring:
    """The service's tokens, as the drafting desk asks for them."""

    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    @staticmethod
    def _holder(token: Token) -> Holder:
        return Holder(token.name, tuple(token.roles), token.sha256, token.expires)

    def admit(self, secret: str) -> Holder | str:
        admission = self.tokens.admit(secret)
        if admission.token is None or admission.refused is not None:
            return admission.refused or "unknown token"
        return self._holder(admission.token)

    def find(self, sha256: str) -> Holder | str:
        found = None
        for token in self.tokens.current():
            if hmac.compare_digest(token.sha256, sha256):
                found = token
        if found is None:
            return "unknown token"
        state = found.state(dt.datetime.now(dt.UTC))
        return self._holder(found) if state == "active" else f"{state} token"


def _add_desk(app: FastAPI, state: Service, access_log: bool) -> None:
    """Serve the drafting desk at / over the settings' workspace; without
    one, / says how to have it."""
    if state.settings.workspace is None:
        install_without_desk(app)
        return
    install_desk(app, Desk.open(state.settings, _DeskKeyring(state.tokens),
                                audit=access.note, lock=_RENDERING,
                                trust_roots=state.trust_roots, languages=state.languages))


#: One PDF render at a time per worker: WeasyPrint's thread safety is not
#: documented, its font configuration is shared between renders, and renders
#: are CPU-bound anyway (run one worker per core).
_RENDERING = threading.Lock()


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Warm each worker before its first request (uvicorn runs this before
    the worker takes a connection): WeasyPrint, the built-in templates,
    phrases and fonts, and the style sheet of the ministry's folders, loaded
    once here rather than in every bounded render; then the worked case,
    posted as a request would post it, validated and rendered as HTML, DOCX
    and PDF, so that the first request of each kind is as fast as the tenth."""
    from ..render.pdf import warm_up

    state: Service = app.state.notegen
    await run_in_threadpool(warm_up, TemplateFolders.of(state.settings.template_dirs),
                            state.options())
    await run_in_threadpool(_warm_requests, state.options())
    # The web framework's own first-use work (matching the routes, reading
    # each endpoint's source for its error messages), done by asking for a
    # render and a validation without a token: refused, and not logged.
    for path in ("/render", "/validate"):
        await _rehearse(app, path)
    yield


async def _rehearse(app: FastAPI, path: str) -> None:
    """Post nothing to ``path`` without a token, from the worker to itself."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"rehearsal")],
             "client": None, "server": None, "state": {}, access.REHEARSAL: True}
    statuses = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [401]:
        logger.warning("a tokenless POST %s answered %s, not 401", path, statuses)


#: The case each worker renders before its first request.
_WORKED_CASE = SEEDS_FOLDER / "az-kyiv-2025" / "note.yaml"


def _warm_requests(options: RenderOptions) -> None:
    """What a request does on its way to a render, done once: reading a
    posted case, wording it, the HTML, the Word document and the PDF."""
    from ..records.dump import dump_case

    try:
        case = _case(dump_case(load_case(_WORKED_CASE)))
        prepare(case, options)
        _render_html(case, options)
        _render_docx(case, options)
        _render_pdf(case, options)  # bounded, as a request's: warm_up rendered in process
    except NotegenError as exc:  # the settings' folders cannot word the worked case
        logger.info("no request warm-up with %s: %s", _WORKED_CASE, exc)


def _render_pdf(case: Case, options: RenderOptions) -> bytes:
    """Render in a worker thread, one at a time: the render runs in a child
    process bounded in time, memory and pages (:mod:`notegen.render.limits`),
    forked from this warm worker."""
    from ..render.pdf import render_pdf

    with _RENDERING:
        return render_pdf(case, options=options)


def _render_html(case: Case, options: RenderOptions) -> str:
    """As :func:`_render_pdf`, for the HTML preview."""
    with _RENDERING:
        return render_html(case, options)


def _render_docx(case: Case, options: RenderOptions) -> bytes:
    """As :func:`_render_pdf`, for the editable Word document."""
    from ..render.docx import render_docx

    with _RENDERING:
        return render_docx(case, options=options)


def _render_set(case: Case, options: RenderOptions, html: bool,
                finish: Callable[[bytes], bytes] | None, docx: bool = False) -> bytes:
    """The démarche set of ``case`` as a zip (:func:`~notegen.render.demarche.demarche_zip`),
    one render at a time."""
    from ..render.demarche import demarche_zip

    with _RENDERING:
        return demarche_zip(case, options, html=html, finish=finish, docx=docx)


def _signer(case: Case, options: RenderOptions, key: SigningKey | None,
            reason: str | None) -> Callable[[bytes], bytes]:
    """Signs a note's PDF with the service's key, as ``notegen render
    --sign`` does: the note's title as the reason, its place as the location."""
    assert key is not None
    context = prepare(case, options).context

    def finish(pdf: bytes) -> bytes:
        return sign_pdf(pdf, key, reason=reason or context.meta.title, location=context.place)

    return finish


def _verify_pdf(data: bytes, options: RenderOptions,
                trust_roots: tuple[bytes, ...] = ()) -> Verification:
    """Verify in a worker thread: it re-renders the embedded records, so it
    takes its turn with the renders."""
    with _RENDERING:
        return verify_pdf(data, trust_roots=trust_roots, options=options)


def _case(data: bytes) -> Case:
    """The case in a request body: one record file, read from memory and
    located as case.json; it may include no file of the server."""
    return load_case(data, name="case.json")
