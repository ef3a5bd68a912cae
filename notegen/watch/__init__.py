"""``notegen watch``: the note previewed in a browser, rendered again on
every save.

One warm process keeps the templates compiled and the catalogues read: a
save of the case, of a file it includes, or of a file in the ministry's
template folders renders the note again (a few milliseconds of notegen's own
time with the built-in templates) and tells the open page to reload, through
Server-Sent Events. While the records or templates have a problem, the page
lists the problems (file, line, field, sentence) instead of the note; the
last good note stays at ``/note``.

The preview is served by the standard library's HTTP server, on loopback by
default, and serves nothing but the page, the note, its events and the
template folders' ``static/`` files (the note's fonts and images). It is a
face like the service, with none of the service's dependencies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import logging
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2
import watchfiles

from ..errors import NotegenError, Problem
from ..options import RenderOptions, settle
from ..records.case import load_case
from ..records.incidents import RECORD_SUFFIXES
from ..render.atomic import write_atomic
from ..render.html import forget_templates, render_html
from ..wording.prepare import prepare

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent
_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE), autoescape=True,
                            undefined=jinja2.StrictUndefined, trim_blocks=True,
                            lstrip_blocks=True)
#: The page's own files, served under /_watch/.
_OWN_FILES = {"reload.js": "text/javascript", "page.css": "text/css"}
#: How long saves in a burst (an editor's temp file, then its rename) are gathered.
DEBOUNCE_MS = 120
#: Seconds between keep-alive comments on an idle event stream.
KEEPALIVE = 15.0

_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# The note carries its style sheet inline (as WeasyPrint reads it) and no script.
_NOTE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; "
                "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'self'")


@dataclass(frozen=True)
class Snapshot:
    """The preview after a render: the note, or the problems that stop it."""

    #: Counts renders; the page reloads when it grows.
    version: int
    #: The last note that rendered (it stays while the records are broken).
    html: str | None
    #: What stops the note now: a sentence and its located problems.
    error: str | None = None
    problems: tuple[Problem, ...] = ()
    #: Warnings of the last good render (legal bases that may misapply).
    warnings: tuple[str, ...] = ()
    #: notegen's own time for the render, in milliseconds.
    milliseconds: float = 0.0
    #: When it was rendered (the preview's clock, not the note's date).
    at: str = ""
    #: The PDF written on this save, if asked for.
    pdf: Path | None = None


@dataclass
class Preview:
    """The case at ``path``, rendered with ``options`` on demand; with
    ``pdf``, every good render also writes the PDF there (atomically)."""

    path: Path
    options: RenderOptions
    pdf: Path | None = None
    _snapshot: Snapshot = field(default_factory=lambda: Snapshot(0, None))
    _sources: tuple[Path, ...] = ()
    #: The incident catalogues (folders) the case named when it last loaded.
    _catalogues: tuple[Path, ...] = ()
    _stamps: dict[Path, int] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    #: Set by :meth:`close`: nothing waits for a newer snapshot any more.
    closed: bool = False

    @property
    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    def refresh(self, changed: Iterable[Path] = ()) -> Snapshot:
        """Render again (after ``changed`` files changed) and wake the pages."""
        folders = self.options.folders
        if any(folder in path.parents for path in changed for folder in folders.user):
            forget_templates()
        start = time.perf_counter()
        previous = self.snapshot
        pdf = None
        try:
            case = load_case(self.path)
            self._sources = tuple(path.resolve() for path in case.source_paths)
            self._catalogues = tuple(folder.resolve() for folder in case.catalogues)
            options = settle(case, self.options)
            prepared = prepare(case, options)
            html = render_html(case, options, prepared=prepared)
            elapsed = (time.perf_counter() - start) * 1000
            if self.pdf is not None:
                from ..render.limits import keep_spares
                from ..render.pdf import render_pdf, warm_up

                # Warm from the first PDF on (a render otherwise warms its
                # process from the second), and keep the child of each PDF
                # for the next save's: the next save's PDF starts warm.
                warm_up(options.folders, options)
                keep_spares()
                write_atomic(self.pdf, render_pdf(case, options=options, prepared=prepared))
                pdf = self.pdf
            result = Snapshot(previous.version + 1, html, warnings=tuple(
                str(warning) for warning in prepared.warnings), milliseconds=elapsed,
                pdf=pdf)
            logger.info("rendered %s in %.1f ms%s", self.path, elapsed,
                        f", wrote {pdf}" if pdf else "")
        except NotegenError as exc:
            elapsed = (time.perf_counter() - start) * 1000
            result = Snapshot(previous.version + 1, previous.html, error=str(exc).split("\n")[0],
                              problems=exc.problems, milliseconds=elapsed)
            logger.warning("%s", exc)
        self._stamps = self._stamp()
        result = replace(result, at=dt.datetime.now().astimezone().strftime("%H:%M:%S"))
        with self._changed:
            self._snapshot = result
            self._changed.notify_all()
        return result

    def wait_newer(self, version: int, timeout: float) -> Snapshot:
        """The snapshot once its version is past ``version``, after
        ``timeout``, or at once when the preview is closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.version > version or self.closed,
                                   timeout)
            return self._snapshot

    def close(self) -> None:
        """Wake every waiter for good, and let the kept render child go: the
        preview is being stopped."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()
        if self.pdf is not None:
            from ..render.limits import stop_keeping_spares

            stop_keeping_spares()

    def watched(self) -> list[Path]:
        """The folders to watch: the case's, those of the files it included
        and the catalogues it named when it last loaded, and the ministry's
        template folders."""
        folders = {self.path.resolve().parent, *(p.parent for p in self._sources),
                   *self._catalogues, *self.options.folders.user}
        return sorted(folder for folder in folders if folder.is_dir())

    def concerns(self, path: Path) -> bool:
        """Whether a change to ``path`` can change the note."""
        if path == self.path.resolve() or path in self._sources:
            return True
        if any(folder in path.parents for folder in self.options.folders.user):
            return True
        if any(_in_catalogue(path, folder) for folder in self._catalogues):
            return True  # a record file added to a catalogue (or taken from it)
        # A case that did not load may be missing a file it is about to include.
        return self.snapshot.error is not None and path.suffix in {".yaml", ".yml", ".json"}

    def watch(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Render again on every relevant save until ``stop`` is set; set
        ``ready`` once the files are watched."""
        while not stop.is_set():
            folders = self.watched()
            # Idle, the watcher yields nothing every 200 ms: the first such
            # yield says it is watching. A save made before that (since the
            # last render) is caught by the files' modification times.
            for changes in watchfiles.watch(*folders, stop_event=stop, debounce=DEBOUNCE_MS,
                                            step=50, rust_timeout=200, yield_on_timeout=True,
                                            raise_interrupt=False):
                changed = [Path(name).resolve() for _, name in changes]
                if ready is not None and not ready.is_set():
                    ready.set()
                    if self._stamps != self._stamp():
                        changed = [*changed, self.path.resolve()]
                if any(self.concerns(path) for path in changed):
                    self.refresh(changed)
                    if self.watched() != folders:
                        break  # an include moved to another folder: watch that one too

    def _stamp(self) -> dict[Path, int]:
        """The modification times of the files the note was last read from."""
        stamps = {}
        for path in (self.path.resolve(), *self._sources):
            try:
                stamps[path] = path.stat().st_mtime_ns
            except OSError:
                stamps[path] = -1
        return stamps


def _in_catalogue(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a file the catalogue ``folder`` reads, or would
    read once it exists (as :func:`~notegen.records.incidents.catalogue_files`
    finds them: a record file, nothing hidden on the way), or a folder of it
    (the files of a folder just made may be written before it is watched)."""
    if folder not in path.parents:
        return False
    if any(part.startswith(".") for part in path.relative_to(folder).parts):
        return False
    return path.name.lower().endswith(RECORD_SUFFIXES) or path.is_dir()


def loopback(host: str) -> bool:
    """Whether ``host`` (an IP address, or ``localhost``) is this machine's
    loopback.

    :raises ValueError: if ``host`` is neither.
    """
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server of a :class:`Preview`."""

    daemon_threads = True
    #: Connections served at once; more wait their turn (a browser opens a few).
    MAX_CONNECTIONS = 128

    def __init__(self, preview: Preview, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.preview = preview
        self.stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(self.MAX_CONNECTIONS)
        self._open: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        self._open.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._open.discard(request)
            self._slots.release()

    def close_connections(self) -> None:
        """End every open connection: their threads return."""
        for connection in list(self._open):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://[{name}]:{port}/" if ":" in name else f"http://{name}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    #: Seconds a connection may stay silent (an event stream speaks every
    #: KEEPALIVE seconds): an idle one does not hold its thread for ever.
    timeout = 2 * KEEPALIVE

    def end_headers(self) -> None:
        # Every answer, the HTTP server's own errors included, carries a policy.
        sent = b"".join(getattr(self, "_headers_buffer", []))
        if b"Content-Security-Policy:" not in sent:
            self.send_header("Content-Security-Policy", "default-src 'none'")
        if b"X-Content-Type-Options:" not in sent:
            self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if not self._host_allowed():
            return self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host", "text/plain")
        url = urlsplit(self.path)
        preview = self.server.preview
        if url.path == "/":
            page = _PAGES.get_template("page.html.j2").render(
                snapshot=preview.snapshot, case=preview.path,
                pdf=preview.pdf).encode("utf-8")
            return self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", _PAGE_POLICY)
        if url.path == "/note":
            html = preview.snapshot.html
            if html is None:
                return self._send(HTTPStatus.NOT_FOUND, b"no note has rendered yet",
                                  "text/plain")
            return self._send(HTTPStatus.OK, html.encode("utf-8"), "text/html; charset=utf-8",
                              _NOTE_POLICY)
        if url.path == "/events":
            since = parse_qs(url.query).get("since", ["0"])[0]
            return self._events(int(since) if re.fullmatch(r"[0-9]{1,18}", since) else 0)
        if url.path.startswith("/_watch/") and url.path[8:] in _OWN_FILES:
            name = url.path[8:]
            return self._send(HTTPStatus.OK, (_HERE / name).read_bytes(), _OWN_FILES[name])
        path = unquote(url.path)
        if path.startswith("/static/") and ".." not in path.split("/"):
            found = preview.options.folders.find(path.lstrip("/"))
            if found is not None:
                kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                return self._send(HTTPStatus.OK, found.read_bytes(), kind)
        return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def _refuse(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"the preview only serves GET",
                   "text/plain", extra={"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse

    def _host_allowed(self) -> bool:
        """On loopback, only requests for a loopback name (no DNS rebinding)."""
        if not loopback(str(self.server.server_address[0])):
            return True
        given = (self.headers.get("Host") or "").strip()
        name = given[1:given.find("]")] if given.startswith("[") else given.rsplit(":", 1)[0]
        try:
            return loopback(name)
        except ValueError:  # a name other than localhost
            return False

    def _send(self, status: HTTPStatus, body: bytes, kind: str, policy: str | None = None,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", policy or "default-src 'none'")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _events(self, since: int) -> None:
        """A Server-Sent Events stream: ``changed`` with each new version."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        preview = self.server.preview
        try:
            while not (self.server.stopping.is_set() or preview.closed):
                snapshot = preview.wait_newer(since, KEEPALIVE)
                if snapshot.version > since:
                    since = snapshot.version
                    payload = json.dumps({"version": since, "ok": snapshot.error is None})
                    self.wfile.write(f"event: changed\ndata: {payload}\n\n".encode())
                else:
                    self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def start(preview: Preview, host: str = "127.0.0.1", port: int = 8765) -> PreviewServer:
    """Render ``preview`` once, serve it on ``host:port`` (0: any free port)
    and watch its files, in background threads; stop with :func:`stop`."""
    preview.refresh()
    server = PreviewServer(preview, host, port)
    threading.Thread(target=server.serve_forever, name="notegen-preview",
                     daemon=True).start()
    ready = threading.Event()
    threading.Thread(target=preview.watch, args=(server.stopping, ready),
                     name="notegen-watch", daemon=True).start()
    if not ready.wait(10):
        logger.warning("the files are not watched yet: a save may need to be made again")
    return server


def stop(server: PreviewServer) -> None:
    """Stop serving and watching."""
    server.stopping.set()
    server.preview.close()  # event streams notice at once
    server.shutdown()
    server.close_connections()
    server.server_close()


__all__ = ["Preview", "PreviewServer", "Snapshot", "loopback", "start", "stop"]
