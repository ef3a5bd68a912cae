"""notegen: validated incident records in, formal diplomatic protest notes out.

The public API is what this package exports; submodules are internal::

    import notegen

    case = notegen.load_case("seeds/az-kyiv-2025/note.yaml")
    html = notegen.render_html(case)
    pdf = notegen.render_pdf(case, "note.pdf")          # PDF/A-3b, records inside
    signed = notegen.sign_pdf(pdf, notegen.SigningKey(path, passphrase), reason="…")
    notegen.verify_pdf(signed).status                   # Status.valid

Every error a user can cause is a :class:`NotegenError`; record problems come
as one :class:`RecordError` listing each, located by file, line and field.
"""

from .context import NoteContext, build_context
from .errors import (
    Location,
    NotegenError,
    Problem,
    RecordError,
    RenderError,
    TemplateError,
)
from .loading import Case, load_case
from .pdf import render_pdf
from .register import Entry, Register, RegisterError, open_register
from .signing import SigningKey, sign_pdf
from .templating import RenderOptions, prepare, render_html
from .verify import Status, Verification, extract_record, verify_pdf
from .version import __version__

__all__ = [
    "Case",
    "Entry",
    "Location",
    "NoteContext",
    "NotegenError",
    "Problem",
    "RecordError",
    "Register",
    "RegisterError",
    "RenderError",
    "RenderOptions",
    "SigningKey",
    "Status",
    "TemplateError",
    "Verification",
    "__version__",
    "build_context",
    "extract_record",
    "load_case",
    "open_register",
    "prepare",
    "render_html",
    "render_pdf",
    "sign_pdf",
    "verify_pdf",
]
