"""The whole démarche from one case: the note, talking points for the
summons, a press release and a courtesy translation, written to a folder.

All four are told from the same note context (see
:mod:`notegen.wording.companions`), so they share the chronology, the figures, the
dates and the demands word for word.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import Problem, RecordError
from ..options import Document, RenderOptions, settle
from ..records.case import Case
from .atomic import write_atomic
from .html import render_html
from .pdf import render_pdf

logger = logging.getLogger(__name__)

#: The sets ``notegen render --set`` knows.
SETS = ("demarche",)


def render_demarche(case: Case, folder: str | Path, options: RenderOptions | None = None, *,
                    html: bool = False,
                    finish: Callable[[bytes], bytes] | None = None,
                    docx: bool = False) -> dict[str, Path]:
    """Write the démarche set of ``case`` into ``folder``; return the files by name.

    ``note`` is the note (with its courtesy translation as an enclosure),
    ``talking_points`` and ``press_release`` the companions, ``translation``
    the courtesy translation on its own. ``html`` writes HTML instead of PDF,
    ``docx`` editable Word documents (:func:`~notegen.render.docx.render_docx`);
    ``finish`` (e.g. signing) is applied to the note's PDF. Nothing is
    written unless every document renders.

    :raises RecordError: if no translation language is given (options or note).
    """
    options = settle(case, options)
    if not options.translation:
        raise RecordError([Problem(
            "a démarche set has a courtesy translation: choose its language with "
            "--translation, or give the note a 'translation'", case.locate(None, "language"))])
    translated = replace(options, lang=options.translation, translation=None,
                         translation_of=options.lang, embed_record=False)
    companion = replace(options, translation=None, embed_record=False)
    plan = {
        "note": options,
        "talking_points": replace(companion, document=Document.talking_points),
        "press_release": replace(companion, document=Document.press_release),
        "translation": translated,
    }
    suffix = "html" if html else "docx" if docx else "pdf"
    names = {"note": "note", "talking_points": "talking-points",
             "press_release": "press-release", "translation": f"translation-{options.translation}"}
    outputs: dict[str, bytes] = {}
    for key, document_options in plan.items():
        if html:
            outputs[key] = render_html(case, document_options).encode("utf-8")
        elif docx:
            from .docx import render_docx

            outputs[key] = render_docx(case, options=document_options)
        else:
            outputs[key] = render_pdf(case, options=document_options)
    if finish is not None and suffix == "pdf":
        outputs["note"] = finish(outputs["note"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for key, data in outputs.items():
        written[key] = folder / f"{names[key]}.{suffix}"
        write_atomic(written[key], data)
    logger.info("wrote the démarche set to %s", folder)
    return written


def demarche_zip(case: Case, options: RenderOptions | None = None, *, html: bool = False,
                 finish: Callable[[bytes], bytes] | None = None, docx: bool = False) -> bytes:
    """The démarche set of ``case`` (as :func:`render_demarche` writes it) as
    the bytes of a zip: its entries in a fixed order, dated with the note and
    readable by all, so that the same case gives the same bytes. The files
    are written to a private temporary folder, gone when the zip is made.

    :raises RecordError: as :func:`render_demarche` does.
    """
    with tempfile.TemporaryDirectory(prefix="notegen-set-") as folder:
        written = render_demarche(case, folder, options, html=html, finish=finish, docx=docx)
        buffer = io.BytesIO()
        stamp = (*case.note.date.timetuple()[:3], 0, 0, 0)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written.values():
                entry = zipfile.ZipInfo(path.name, date_time=stamp)
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
        return buffer.getvalue()
