"""The service's access log: one JSON line per request, for audit.

Each line has ``ts`` (when the request arrived, ISO 8601, UTC), ``id`` (the
request's id, also sent back as ``X-Request-ID``), ``token`` (the holder's
name, never the token), ``method``, ``route`` (the route's template, e.g.
``/register/{reference}``; for a path no route matches, ``path`` instead),
``status``, ``ms`` (the time to the end of the response), and where they
apply ``reference`` (the note issued or cancelled) and ``refused`` (why a
request was refused: ``no token``, ``unknown token``, ``expired token``,
``revoked token``, ``needs issuer``…). No body and no query string are
logged. ``/health`` and ``/ready``, which probes call every few seconds,
are not.

The lines go to the logger ``notegen.access``, which does not pass them on
to the ``notegen`` logger; :func:`open_access_log` gives it its handler (a
file the workers append to, or standard error).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The logger the access log is written to.
logger = logging.getLogger("notegen.access")

#: The key of a request's scope where the endpoints leave what the log says
#: of them (token name, reference, reason of a refusal).
NOTES = "notegen.access"

#: The key of the scope of a request a worker makes to itself as it warms
#: up (:func:`notegen.service.app._warm_up`): no one's request, not logged.
REHEARSAL = "notegen.rehearsal"

#: Paths called by probes, not logged.
UNLOGGED = frozenset({"/health", "/ready"})

#: A request id a client may give (``X-Request-ID``); any other is replaced.
_CLIENT_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def open_access_log(target: Path | None) -> logging.Handler:
    """Send the access log to ``target`` (a file, appended to; ``-`` or
    ``None``: standard error), replacing the handler an earlier call set."""
    for old in list(logger.handlers):
        if old.get_name() == logger.name:
            logger.removeHandler(old)
            old.close()
    handler: logging.Handler
    if target is None or str(target) == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(target, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name(logger.name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def note(scope: Scope, **fields: str | None) -> None:
    """Record ``fields`` (``token``, ``reference``, ``refused``) for the
    request's log line."""
    notes = scope.get(NOTES)
    if notes is not None:
        notes.update({key: value for key, value in fields.items() if value is not None})


class AccessLog:
    """ASGI middleware writing a line per request to :data:`logger`, and
    giving every response its ``X-Request-ID``."""

    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = given.decode() if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        notes: dict[str, Any] = {}
        scope[NOTES] = notes
        arrived = dt.datetime.now(dt.UTC)
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if (self.enabled and scope["path"] not in UNLOGGED and not scope.get(REHEARSAL)
                    and logger.isEnabledFor(logging.INFO)):
                route = scope.get("route")
                line: dict[str, Any] = {
                    "ts": arrived.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "id": request_id, "token": notes.get("token"), "method": scope["method"]}
                if route is not None:
                    line["route"] = getattr(route, "path_format", None)
                else:
                    line["path"] = scope["path"][:200]
                line["status"] = status
                line["ms"] = round((time.perf_counter() - start) * 1000, 1)
                for key in ("reference", "refused"):
                    if key in notes:
                        line[key] = notes[key]
                logger.info("%s", json.dumps(line, ensure_ascii=False, separators=(",", ":")))
