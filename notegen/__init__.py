"""notegen: validated incident records in, formal diplomatic protest notes out.

The public API is what this package exports; submodules are internal::

    import notegen

    case = notegen.load_case("seeds/az-kyiv-2025/note.yaml")
    html = notegen.render_html(case)
    notegen.render_pdf(case, "note.pdf")

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
from .templating import RenderOptions, render_html

__version__ = "0.1.0"

__all__ = [
    "Case",
    "Location",
    "NoteContext",
    "NotegenError",
    "Problem",
    "RecordError",
    "RenderError",
    "RenderOptions",
    "TemplateError",
    "__version__",
    "build_context",
    "load_case",
    "render_html",
    "render_pdf",
]
