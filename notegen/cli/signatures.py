"""Signatures and what a PDF carries: ``sign``, ``verify`` and ``extract``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..archive.signing import SigningKey, sign_pdf
from ..archive.verify import extract_record, read_metadata, verify_pdf
from ..options import RenderOptions, with_settings
from ..render.atomic import write_atomic
from .common import FILE, NotegenCommand, options_of, settings, template_dirs_option

signing_options = options_of(
    click.option("--passphrase", envvar="NOTEGEN_KEY_PASSPHRASE", hide_input=True,
                 help="The key file's passphrase; better given in the environment variable "
                      "NOTEGEN_KEY_PASSPHRASE than on the command line."),
    click.option("--reason", help="Why it is signed, shown in the signature. Default: the "
                                  "note's title and number."),
)


def signing_key(path: Path, passphrase: str | None) -> SigningKey:
    """The key in the PKCS#12 file ``path``."""
    return SigningKey(path, passphrase.encode("utf-8") if passphrase else None)


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--key", "key_file", required=True, type=FILE,
              help="The PKCS#12 file (.p12) with the signing key and certificate.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed PDF. Default: PDF's name with -signed.")
@click.option("--location", help="Where it is signed, shown in the signature.")
@signing_options
def sign(pdf_file: Path, key_file: Path, output: Path | None, location: str | None,
         passphrase: str | None, reason: str | None) -> None:
    """Sign a rendered note with a PAdES signature, keeping its PDF/A."""
    pdf = pdf_file.read_bytes()
    title = read_metadata(pdf).title
    target = output or pdf_file.with_name(f"{pdf_file.stem}-signed.pdf")
    write_atomic(target, sign_pdf(pdf, signing_key(key_file, passphrase),
                                  reason=reason or title or "Note", location=location))
    click.echo(f"wrote {target}", err=True)


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the records. Default: PDF's name with .json.")
def extract(pdf_file: Path, output: Path | None) -> None:
    """Write out the records a note was rendered from (JSON).

    They validate and render to the same PDF again.
    """
    target = output or pdf_file.with_suffix(".json")
    write_atomic(target, extract_record(pdf_file.read_bytes()))
    click.echo(f"wrote {target}", err=True)


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--trust", "roots", multiple=True, type=FILE,
              help="A trusted root certificate (PEM or DER); repeatable. Without one, "
                   "the signer is not checked and a signed note is at best untrusted (5).")
@template_dirs_option
def verify(pdf_file: Path, roots: tuple[Path, ...], template_dirs: tuple[Path, ...]) -> None:
    """Check a note: its signatures, its embedded records, its PDF/A claim.

    \b
    Exit code
    0: signed and valid: intact, and the signer chains to a --trust root;
    3: not signed, but exactly the bytes its embedded records render to;
    4: changed since it was rendered or signed, or unreadable (tampered);
    5: signed and intact, but the signer is not vouched for: not by the
       --trust roots, or not checked at all because none was given;
    6: not signed, and no records to compare it with (none embedded, or
       made by another notegen version): whether it changed cannot be judged.
    """
    options = with_settings(RenderOptions(template_dirs=template_dirs), settings())
    result = verify_pdf(pdf_file.read_bytes(), trust_roots=[r.read_bytes() for r in roots],
                        options=options)
    for finding in result.findings:
        click.echo(f"  {finding}")
    click.echo(f"{pdf_file}: {result.status.name}")
    sys.exit(result.status.value)


