"""notegen: validated incident records in, formal diplomatic protest notes out.

The public API is what this package exports; submodules are internal::

    import notegen

    case = notegen.load_case("seeds/az-kyiv-2025/note.yaml")
    html = notegen.render_html(case)
    pdf = notegen.render_pdf(case, "note.pdf")          # PDF/A-3b, records inside
    docx = notegen.render_docx(case, "note.docx")       # editable, for clearance in Word
    signed = notegen.sign_pdf(pdf, notegen.SigningKey(path, passphrase), reason="…")
    notegen.verify_pdf(signed).status                   # Status.valid

The package is built in stages, one subpackage each, in pipeline order:
``records`` (read and validate), ``wording`` (put the note into words),
``render`` (templates to HTML to PDF) and ``archive`` (sign, verify, number
and record); ``options``, ``template_folders``, ``config`` and ``errors`` serve
them all, and the faces (``cli``, ``service``, ``batch``) sit on top.

Every error a user can cause is a :class:`NotegenError`; record problems come
as one :class:`RecordError` listing each, located by file, line and field.

Logging: notegen logs to the ``notegen`` logger (a :class:`logging.NullHandler`
is attached when a name of this API is first used, so nothing is printed
unless the application configures logging). ``DEBUG`` traces decisions (a
refused URL, a file read); ``INFO`` reports what was done (a file written, a
note issued, a register migrated); ``WARNING`` is something the user should
act on although the work went on (a legal basis that may misapply, a slower
or less faithful setup); errors are raised, not logged.
"""

from __future__ import annotations

from .version import __version__

# Nothing else is imported here, not even typing or logging: the command
# line's hand-over to the daemon (notegen.daemon.handover) imports this
# package first, and a command handed over pays for every import.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .archive.drafts import diff_notes, load_draft
    from .archive.register import Audit, Entry, IssueCheck, Register, open_register
    from .archive.signing import Level as SignatureLevel
    from .archive.signing import Pkcs11Key, SigningKey, sign_pdf
    from .archive.verify import Status, Verification, extract_record, verify_pdf
    from .config import Settings, load_settings
    from .errors import (
        ConfigError,
        DaemonError,
        Location,
        NotegenError,
        Problem,
        RecordError,
        RegisterBusy,
        RegisterError,
        RenderError,
        TemplateError,
    )
    from .options import Document, RenderOptions
    from .records.case import Case, load_case
    from .records.models import NoteType
    from .records.schema import record_schema
    from .render.docx import render_docx
    from .render.html import render_html
    from .render.pdf import render_pdf
    from .render.redline import Redline
    from .template_folders import TemplateFolders
    from .wording.catalogue import Catalogue, load_catalogue
    from .wording.context import NoteContext, build_context
    from .wording.legal import Applied
    from .wording.prepare import Prepared, prepare

#: Where each name of the public API is defined: a module of this package,
#: or the module and the name there. A name is imported on first use (PEP
#: 562), so a command or a client that needs only part of notegen (``notegen
#: --help``, the daemon's client) does not pay for WeasyPrint or pydantic.
_LAZY: dict[str, str | tuple[str, str]] = {
    "ConfigError": "errors",
    "DaemonError": "errors",
    "Location": "errors",
    "NotegenError": "errors",
    "Problem": "errors",
    "RecordError": "errors",
    "RegisterBusy": "errors",
    "RegisterError": "errors",
    "RenderError": "errors",
    "TemplateError": "errors",
    "Applied": "wording.legal",
    "Audit": "archive.register",
    "build_context": "wording.context",
    "Case": "records.case",
    "Catalogue": "wording.catalogue",
    "diff_notes": "archive.drafts",
    "Document": "options",
    "Entry": "archive.register",
    "extract_record": "archive.verify",
    "IssueCheck": "archive.register",
    "load_case": "records.case",
    "load_catalogue": "wording.catalogue",
    "load_draft": "archive.drafts",
    "load_settings": "config",
    "NoteContext": "wording.context",
    "NoteType": "records.models",
    "open_register": "archive.register",
    "Pkcs11Key": "archive.signing",
    "prepare": "wording.prepare",
    "Prepared": "wording.prepare",
    "record_schema": "records.schema",
    "Redline": "render.redline",
    "Register": "archive.register",
    "render_docx": "render.docx",
    "render_html": "render.html",
    "render_pdf": "render.pdf",
    "RenderOptions": "options",
    "Settings": "config",
    "sign_pdf": "archive.signing",
    "SignatureLevel": ("archive.signing", "Level"),
    "SigningKey": "archive.signing",
    "Status": "archive.verify",
    "TemplateFolders": "template_folders",
    "Verification": "archive.verify",
    "verify_pdf": "archive.verify",
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _quiet()
    module, attribute = (where, name) if isinstance(where, str) else where
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _quiet() -> None:
    """Attach a :class:`logging.NullHandler` to the ``notegen`` logger, once."""
    global _quieted
    if not _quieted:
        import logging

        logging.getLogger(__name__).addHandler(logging.NullHandler())
        _quieted = True


_quieted = False

__all__ = [
    "Applied",
    "Audit",
    "Case",
    "Catalogue",
    "ConfigError",
    "DaemonError",
    "Document",
    "Entry",
    "IssueCheck",
    "Location",
    "NoteContext",
    "NoteType",
    "NotegenError",
    "Pkcs11Key",
    "Prepared",
    "Problem",
    "RecordError",
    "Redline",
    "Register",
    "RegisterBusy",
    "RegisterError",
    "RenderError",
    "RenderOptions",
    "Settings",
    "SignatureLevel",
    "SigningKey",
    "Status",
    "TemplateError",
    "TemplateFolders",
    "Verification",
    "__version__",
    "build_context",
    "diff_notes",
    "extract_record",
    "load_case",
    "load_catalogue",
    "load_draft",
    "load_settings",
    "open_register",
    "prepare",
    "record_schema",
    "render_docx",
    "render_html",
    "render_pdf",
    "sign_pdf",
    "verify_pdf",
]
