"""How the client and the daemon talk: frames of JSON.

A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON
(an object). Bytes travel as base64 text. Nothing is unpickled: a request
is data, read by the daemon as data. A :class:`~notegen.errors.NotegenError`
travels as its kind (the name of a class of :mod:`notegen.errors`), its
arguments and its attributes, its problems as their fields, and is rebuilt
on the other side as the same kind of error with the same problems.

A request may pass the client's standard streams (file descriptors, over the
Unix socket) with its frame: a command the daemon runs in a process of its
own (``batch``) then writes to the client's terminal as it goes, and its
answer carries only the exit code. A daemon that takes no streams closes
them and answers as for any request.

Light on purpose: the client's hand-over imports it, so it loads only
:mod:`json`, :mod:`socket`, :mod:`struct` and :mod:`binascii` (notegen's
errors only to rebuild one that came back).
"""

from __future__ import annotations

import binascii
import json
import os
import socket
import struct
import sys

from ..version import __version__, code_listing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from ..errors import NotegenError, Problem

#: The largest frame either side accepts, in bytes.
MAX_FRAME = 256 * 1024 * 1024
#: The file descriptors a request may pass: standard input, output and error.
STREAMS = 3
_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side closed the connection early or sent something that is
    not a frame."""


def send(connection: socket.socket, message: dict[str, Any], streams: Sequence[int] = ()
         ) -> None:
    """Send ``message`` as one frame; with ``streams``, file descriptors (a
    client's standard input, output and error) passed along with it."""
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"a frame of {len(data)} bytes is too large")
    head = _LENGTH.pack(len(data))
    if streams:
        socket.send_fds(connection, [head], list(streams))
        connection.sendall(data)
    else:
        connection.sendall(head + data)


def receive_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """The next frame's message, and the file descriptors (at most
    :data:`STREAMS`) passed with it; the caller closes them.

    :raises ProtocolError: as :func:`receive` does.
    """
    head, streams, _, _ = socket.recv_fds(connection, _LENGTH.size, STREAMS)
    try:
        if not head:
            raise ProtocolError("the connection ended in the middle of a frame")
        head += _exactly(connection, _LENGTH.size - len(head))
        return _message(connection, head), streams
    except BaseException:
        for stream in streams:
            os.close(stream)
        raise


def receive(connection: socket.socket) -> dict[str, Any]:
    """The next frame's message.

    :raises ProtocolError: if the connection ends before a whole frame, or
        the frame is too large or not a JSON object.
    """
    return _message(connection, _exactly(connection, _LENGTH.size))


def _message(connection: socket.socket, head: bytes) -> dict[str, Any]:
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"a frame of {length} bytes is too large")
    try:
        message = json.loads(_exactly(connection, length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"not a JSON frame: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame must hold a JSON object")
    return message


def _exactly(connection: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = connection.recv(min(size, 1 << 20))
        if not chunk:
            raise ProtocolError("the connection ended in the middle of a frame")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def identity(environ: Mapping[str, str]) -> dict[str, object]:
    """What makes two processes the same notegen: a client hands its work
    only to a daemon of the same identity (its version and files, Python,
    and the fonts, which a process fixes when it starts). The files are
    listed (name, size, modification time) as JSON gives them back, so that
    a client compares without hashing anything."""
    return {"version": __version__, "code": [list(item) for item in code_listing()],
            "python": sys.executable, "fontconfig": environ.get("FONTCONFIG_FILE")}


def to_text(data: bytes) -> str:
    """``data`` as base64 text."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def from_text(text: Any) -> bytes:
    """The bytes :func:`to_text` made ``text`` of.

    :raises ProtocolError: if ``text`` is not base64 text.
    """
    if not isinstance(text, str):
        raise ProtocolError("bytes must come as base64 text")
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ProtocolError(f"not base64 text: {exc}") from None


def _problem(problem: Problem) -> dict[str, Any]:
    where = problem.location
    return {"message": problem.message,
            "file": None if where.file is None else str(where.file),
            "line": where.line, "column": where.column, "field": where.field}


def _unproblem(data: dict[str, Any]) -> Problem:
    from pathlib import Path

    from ..errors import Location, Problem

    file = data.get("file")
    return Problem(str(data["message"]), Location(
        file=None if file is None else Path(file), line=data.get("line"),
        column=data.get("column"), field=data.get("field")))


def encode_error(error: NotegenError) -> dict[str, Any]:
    """``error`` as JSON takes it."""
    state: dict[str, Any] = {}
    for name, value in vars(error).items():
        if name == "problems":
            state[name] = [_problem(problem) for problem in value]
        elif value is None or isinstance(value, (str, int, float, bool)):
            state[name] = value
    return {"kind": type(error).__name__,
            "args": [arg if isinstance(arg, (str, int, float, bool)) else str(arg)
                     for arg in error.args], "state": state}


def decode_error(data: dict[str, Any]) -> NotegenError:
    """The error :func:`encode_error` made ``data`` of: the same kind (a
    class of :mod:`notegen.errors`, else :class:`NotegenError`), sentence
    and problems."""
    from .. import errors

    kind = getattr(errors, str(data.get("kind")), None)
    if not (isinstance(kind, type) and issubclass(kind, errors.NotegenError)):
        kind = errors.NotegenError
    error = kind.__new__(kind)
    Exception.__init__(error, *data.get("args", []))
    state = dict(data.get("state", {}))
    if "problems" in state:
        state["problems"] = tuple(_unproblem(item) for item in state["problems"])
    error.__dict__.update(state)
    return error
