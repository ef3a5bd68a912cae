"""The service's OpenAPI document and its Swagger UI page, both served
from the service itself: an air-gapped ministry network fetches nothing.

``/openapi.json`` and ``/docs`` need no token: the page could not send one
to load the document, and the document describes notegen's API, which is
public, not anything of the ministry. Every operation they list still needs
its token (Swagger's Authorize button). The page's scripts, style sheet
and icon are those the ``swagger-ui-bundle`` package ships, served under
``/docs/assets/``; its Content-Security-Policy allows scripts and styles
from the service only (and the page's one inline script, by its hash).
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from ..records.schema import record_schema

#: The name of the posted case's schema among the document's components.
CASE_SCHEMA = "RecordFile"

#: The Swagger UI files the page loads, by the name it is served under.
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "favicon-32x32.png": "image/png"}


def record_schemas() -> dict[str, Any]:
    """The JSON Schema of a record file (the one ``notegen schema`` prints),
    as OpenAPI components: the record file itself under :data:`CASE_SCHEMA`
    and each definition it uses under its name. A posted case includes no
    file, so ``include`` is left out."""
    schema = _refer_to_components(record_schema())
    components: dict[str, Any] = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    schema["properties"].pop("include", None)
    schema["description"] = ("A case as one record file (what `notegen extract` writes): "
                             "states, parties, facilities, incidents, conflicts, relations, "
                             "profile and note.")
    components[CASE_SCHEMA] = schema
    return components


def _refer_to_components(node: Any) -> Any:
    """``node`` with its ``$ref``s to ``#/$defs/…`` pointing into the
    OpenAPI document's components instead."""
    if isinstance(node, dict):
        return {key: (value.replace("#/$defs/", "#/components/schemas/", 1)
                      if key == "$ref" and isinstance(value, str)
                      else _refer_to_components(value))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_refer_to_components(item) for item in node]
    return node


def _request_id() -> dict[str, Any]:
    return {"description": "The request's id, as the access log has it (the client's "
                           "X-Request-ID if it gave a fitting one).",
            "schema": {"type": "string"}}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The service's OpenAPI document: the case body typed by the records'
    JSON Schema, and every response header declared."""
    document = get_openapi(title=app.title, version=app.version,
                           description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in record_schemas().items():
        if schemas.setdefault(name, schema) != schema:
            raise AssertionError(f"two schemas named {name} in the OpenAPI document")
    for path in document["paths"].values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["X-Request-ID"] = _request_id()
    return document


def add_docs(app: FastAPI) -> None:
    """Serve ``/openapi.json``, ``/docs`` and the page's assets."""
    document: dict[str, Any] = {}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not document:
            document.update(openapi_document(app))
        return JSONResponse(copy.deepcopy(document))

    @app.get("/docs", include_in_schema=False)
    async def page() -> HTMLResponse:
        html, policy = _page(app.title)
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, "no such file")
        return FileResponse(_assets() / name, media_type=ASSETS[name],
                            headers={"Cache-Control": "public, max-age=86400",
                                     "X-Content-Type-Options": "nosniff"})


@functools.cache
def _assets() -> Path:
    """The Swagger UI files of the ``swagger-ui-bundle`` package."""
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(str(swagger_ui_path))


@functools.cache
def _page(title: str) -> tuple[str, str]:
    """The Swagger UI page and its Content-Security-Policy."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json", title=f"{title}: API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png",
        swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": False})
    html = bytes(page.body).decode("utf-8")
    inline = [match.group(1) for match in
              re.finditer(r"<script>(.*?)</script>", html, flags=re.DOTALL)]
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in inline)
    policy = ("default-src 'none'; script-src 'self' " + hashes + "; style-src 'self'; "
              "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
    return html, policy
