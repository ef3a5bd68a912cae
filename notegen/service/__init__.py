"""notegen over HTTP, for ministry workflows: validate, render, issue,
register queries and verification (``notegen serve``; the ``service`` extra).

A case is posted as one JSON record file (the form ``notegen extract``
writes). Errors come back as JSON with the same located problems as the
command line. Every request needs a bearer token, but for ``/health``,
``/ready``, ``/docs`` and ``/openapi.json``; tokens carry roles:

* ``drafter``: validate and render;
* ``issuer``: also issue and cancel;
* ``reader``: the register's queries.

Verification is open to every role. Tokens live in a file named by
``NOTEGEN_TOKENS`` or ``tokens`` in ``notegen.toml`` (:mod:`.tokens`), and
may expire or be revoked. Every request is written to the access log
(:mod:`.access`). Requests are limited in size (``NOTEGEN_MAX_BODY``,
bytes); user templates render in a child process bounded in time
(``NOTEGEN_TIME_LIMIT``, seconds) and memory, as on the command line.

The modules: :mod:`.app` (the routes; ``create_app``, which uvicorn runs in
each worker), :mod:`.tokens`, :mod:`.access`, :mod:`.docs` (the OpenAPI
document and its page) and :mod:`.startup` (the checks and the line
``notegen serve`` prints), and :mod:`.workers` (the workers ``notegen serve``
runs, each replaced once its memory has grown past ``worker_growth_mb``).
Only :mod:`.app`, :mod:`.access`, :mod:`.docs` and :mod:`.workers` import the
web framework or its server, on first use: the command line manages tokens
without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .tokens import Token, TokenStore, add_token, load_tokens, new_token, revoke_token

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["Token", "TokenStore", "add_token", "create_app", "load_tokens", "new_token",
           "revoke_token"]


def __getattr__(name: str) -> Any:
    # notegen.service:create_app, as uvicorn finds it, imports FastAPI only then.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
