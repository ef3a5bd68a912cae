"""Rendering notes: ``render`` and ``batch``.

What every render needs (the records, the wording, the templates, the PDF
stage) is imported with this module; what only some do (Word, the register,
signing, the batch's process pool) when they do.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from ..options import settle
from ..render.demarche import SETS, render_demarche
from ..render.html import render_html
from ..render.pdf import PDF_VARIANTS, render_pdf
from ..wording.prepare import prepare
from .common import (
    CASE,
    FILE,
    STDIO,
    NotegenCommand,
    cached_output,
    default_output,
    keep_compiled_templates,
    no_cache_option,
    no_daemon_option,
    note_options,
    read_case,
    ready_to_render,
    register_option,
    render_options,
    say,
    settings,
    write_output,
)
from .signatures import signing_options


@click.command(cls=NotegenCommand)
@click.argument("case_file", metavar="CASE", type=CASE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True,
                                                path_type=Path),
              help="Where to write the note; - for standard output. Default: next to "
                   "CASE, named after its folder (seeds/az-kyiv-2025/note.yaml gives "
                   "seeds/az-kyiv-2025/az-kyiv-2025.pdf).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "docx"]), default="pdf",
              show_default=True, help="html writes the HTML instead, for preview; docx an "
                                      "editable Word document, for clearance.")
@note_options
@click.option("--translation", metavar="CODE",
              help="Append a courtesy translation into this language, as an enclosure "
                   "(PDF and DOCX).")
@click.option("--pdf-variant", type=click.Choice([*PDF_VARIANTS, "plain"]),
              default="pdf/a-3b", show_default=True,
              help="The PDF standard to follow; plain for none.")
@click.option("--set", "document_set", type=click.Choice(SETS),
              help="Render a set of documents into the folder -o: demarche is the note, "
                   "talking points, a press release and a courtesy translation.")
@click.option("--sign", "key_file", type=FILE,
              help="Sign the PDF with the key and certificate in this PKCS#12 file (PAdES).")
@signing_options
@register_option
@no_cache_option
@no_daemon_option
def render(case_file: Path, output: Path | None, fmt: str, lang: str | None,
           note_type: str | None, strict: bool, template_dirs: tuple[Path, ...],
           translation: str | None, pdf_variant: str, document_set: str | None,
           key_file: Path | None, passphrase: str | None, reason: str | None,
           register_url: str | None, no_cache: bool) -> None:
    """Render the note of CASE to PDF (or HTML, or DOCX).

    CASE is the YAML or JSON file holding the note (- reads it from
    standard input, its includes then from the current folder); the files
    it includes are read too. The PDF is PDF/A-3b and carries the records it was made
    from. Nothing is written unless the whole note renders (and, with
    --sign, is signed). With a register (--register, or the settings), the
    note recalls the earlier notes it holds about its incidents, unless its
    records already give them.
    """
    if fmt != "pdf" and key_file:
        raise click.UsageError("--sign applies to PDF output only")
    if fmt == "html" and translation and not document_set:
        raise click.UsageError("--translation and --sign apply to PDF output only")
    if document_set is not None and output == STDIO:
        raise click.UsageError("a set is several files: give -o a folder, not -")
    case = read_case(case_file)
    if register_url or settings().register:  # the register is opened only if there is one
        from .registry import with_history

        case = with_history(case, register_url)
    options = settle(case, replace(
        render_options(lang, note_type, strict, template_dirs, translation),
        pdf_variant=None if pdf_variant == "plain" else pdf_variant))
    # A note rendered before from the same inputs is not rendered again.
    kept = None if document_set or key_file else cached_output(case, options, fmt, no_cache)
    if kept is not None:
        write_output(output or default_output(case_file, case, f".{fmt}"), kept,
                     "html" if fmt == "html" else fmt.upper())
        return
    if fmt == "pdf":
        ready_to_render()
    else:
        keep_compiled_templates()
    # Worded once: the note's render and its signature (title, place) use it.
    prepared = prepare(case, options) if document_set is None or key_file else None

    def finish(pdf: bytes) -> bytes:
        if key_file is None or prepared is None:
            return pdf
        from .signatures import sign_pdf, signing_key

        context = prepared.context
        return sign_pdf(pdf, signing_key(key_file, passphrase),
                        reason=reason or context.meta.title, location=context.place)

    if document_set is not None:
        folder = output or default_output(case_file, case, f"-{document_set}")
        for path in render_demarche(case, folder, options, html=fmt == "html",
                                    finish=finish, docx=fmt == "docx").values():
            say(f"wrote {path}")
        return
    target = output or default_output(case_file, case, f".{fmt}")
    if fmt == "html":
        write_output(target, render_html(case, options, prepared=prepared).encode("utf-8"),
                     "html")
    elif fmt == "docx":
        from ..render.docx import render_docx

        write_output(target, render_docx(case, options=options, prepared=prepared), "DOCX")
    else:
        write_output(target, finish(render_pdf(case, options=options, prepared=prepared)),
                     "PDF")


@click.command(cls=NotegenCommand)
@click.argument("source", metavar="DIR_OR_GLOB")
@click.option("-o", "--output", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write the notes into, keeping the cases' relative paths.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes. Default: one per core.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "docx"]), default="pdf",
              show_default=True)
@note_options
@no_daemon_option
def batch(source: str, output: Path, jobs: int | None, fmt: str, lang: str | None,
          note_type: str | None, strict: bool, template_dirs: tuple[Path, ...]) -> None:
    """Render every case in DIR_OR_GLOB, in parallel.

    In a folder, every YAML or JSON file holding a note is a case. A case
    that fails is reported with its located error and the others go on; the
    exit code is 1 if any failed.
    """
    from ..batch import find_cases, run_batch, summary

    base, cases = find_cases(source)
    if not cases:
        raise click.UsageError(f"no cases (files holding a note) in {source}")
    options = render_options(lang, note_type, strict, template_dirs)
    if jobs == 1 and fmt == "pdf":  # rendered in this process
        ready_to_render()
    start = time.perf_counter()
    with click.progressbar(length=len(cases), label="Rendering", file=sys.stderr) as bar:
        outcomes = run_batch(cases, base, output, options, jobs=jobs, fmt=fmt,
                             progress=lambda outcome: bar.update(1))
    for line in summary(outcomes, time.perf_counter() - start):
        click.echo(line, err=True)
    if any(outcome.error for outcome in outcomes):
        sys.exit(1)


