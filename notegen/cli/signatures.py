"""Signatures and what a PDF carries: ``sign``, ``verify`` and ``extract``."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ..archive import signing
from ..archive.signing import Level, Pkcs11Key, SigningKey
from ..options import RenderOptions, with_settings
from ..render.atomic import write_atomic
from .common import FILE, NotegenCommand, options_of, say, settings, template_dirs_option

#: Where the options that the command's function does not take are kept.
_META = "notegen.signing"


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep an option's value for :func:`signing_key` and :func:`sign_pdf`."""
    ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def _kept(name: str) -> Any:
    return click.get_current_context().meta.get(_META, {}).get(name)


#: The options of signing, shared by ``sign`` and ``render --sign``. The
#: command's function takes ``passphrase`` and ``reason``; the others are
#: read by :func:`signing_key` and :func:`sign_pdf` here.
signing_options = options_of(
    click.option("--passphrase", envvar="NOTEGEN_KEY_PASSPHRASE", hide_input=True,
                 help="The key file's passphrase; better given in the environment variable "
                      "NOTEGEN_KEY_PASSPHRASE than on the command line. Without either, "
                      "it is asked for on a terminal."),
    click.option("--reason", help="Why it is signed, shown in the signature. Default: the "
                                  "note's title and number."),
    click.option("--tsa", metavar="URL", expose_value=False, callback=_keep,
                 help="An RFC 3161 time-stamping authority: the signature gets its timestamp "
                      "(PAdES B-T). Default: tsa in notegen.toml, or NOTEGEN_TSA."),
    click.option("--level", type=click.Choice([level.value for level in Level]),
                 expose_value=False, callback=_keep,
                 help="PAdES level: b-b, b-t (needs --tsa), or b-lt (also embeds the "
                      "validation data of the chain up to a --trust root). Default: b-t with "
                      "a TSA, else b-b."),
    click.option("--trust", "sign_trust", multiple=True, type=FILE, expose_value=False,
                 callback=_keep, help="For b-lt: a root certificate (PEM or DER) the signer's "
                                      "and the TSA's certificates chain to; repeatable. "
                                      "Default: trust in notegen.toml."),
    click.option("--pkcs11-module", type=FILE, expose_value=False, callback=_keep,
                 help="Sign with a key on a smart card or HSM, through this PKCS#11 module "
                      "(e.g. /usr/lib/softhsm/libsofthsm2.so); the PIN is read from "
                      "NOTEGEN_PKCS11_PIN or asked for on a terminal."),
    click.option("--token-label", expose_value=False, callback=_keep,
                 help="With --pkcs11-module: the token's label."),
    click.option("--key-label", expose_value=False, callback=_keep,
                 help="With --pkcs11-module: the label of the key (and of its certificate)."),
)


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _secret(what: str, given: str | None, variable: str, option: str | None) -> str:
    """``given``, else asked for on a terminal; a usage error otherwise."""
    if given is not None:
        return given
    if _on_terminal():
        answer: str = click.prompt(what, hide_input=True, err=True)
        return answer
    ways = f"set {variable}" + (f" or give {option}" if option else "")
    noun = what if what[:2].isupper() else what[0].lower() + what[1:]
    raise click.UsageError(f"no {noun} given: {ways} (on a terminal, it is asked for)")


def signing_key(path: Path | None, passphrase: str | None) -> SigningKey | Pkcs11Key:
    """The key to sign with: the PKCS#12 file ``path`` (its passphrase asked
    for on a terminal if it needs one and none was given), or, with
    ``--pkcs11-module``, the key on a token (its PIN from
    ``NOTEGEN_PKCS11_PIN``, or asked for)."""
    module = _kept("pkcs11_module")
    if module is not None:
        if path is not None:
            raise click.UsageError("give either a key file or --pkcs11-module, not both")
        token, label = _kept("token_label"), _kept("key_label")
        if not token or not label:
            raise click.UsageError("--pkcs11-module needs --token-label and --key-label")
        pin = _secret(f"PIN of token {token}", os.environ.get("NOTEGEN_PKCS11_PIN"),
                      "NOTEGEN_PKCS11_PIN", None)
        return Pkcs11Key(module, token, label, pin)
    if path is None:
        raise click.UsageError("give the key: --key KEY.p12, or --pkcs11-module with "
                               "--token-label and --key-label")
    if _kept("token_label") or _kept("key_label"):
        raise click.UsageError("--token-label and --key-label apply to --pkcs11-module")
    key = SigningKey(path, passphrase)
    if passphrase is None and key.needs_passphrase():
        key = SigningKey(path, _secret(f"Passphrase of {path}", None,
                                       "NOTEGEN_KEY_PASSPHRASE", "--passphrase"))
    return key


def sign_pdf(pdf: bytes, key: SigningKey | Pkcs11Key, *, reason: str,
             location: str | None = None) -> bytes:
    """:func:`notegen.sign_pdf` with the command's ``--tsa``, ``--level`` and
    ``--trust`` (or the settings' ``tsa`` and ``trust``)."""
    level, tsa = _kept("level"), _kept("tsa") or settings().tsa
    if level in (Level.B_T, Level.B_LT) and not tsa:
        raise click.UsageError(f"--level {level} needs a timestamp: give --tsa URL (or set "
                               "NOTEGEN_TSA)")
    roots: Sequence[Path] = _kept("sign_trust") or settings().trust
    if level == Level.B_LT and not roots:
        raise click.UsageError("--level b-lt embeds the chain up to a trusted root: give "
                               "--trust ROOT.pem")
    return signing.sign_pdf(pdf, key, reason=reason, location=location, tsa=tsa, level=level,
                            trust_roots=[root.read_bytes() for root in roots]
                            if level == Level.B_LT else ())


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--key", "key_file", type=FILE,
              help="The PKCS#12 file (.p12) with the signing key and certificate (or use "
                   "--pkcs11-module).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed PDF. Default: PDF's name with -signed.")
@click.option("--location", help="Where it is signed, shown in the signature.")
@signing_options
def sign(pdf_file: Path, key_file: Path | None, output: Path | None, location: str | None,
         passphrase: str | None, reason: str | None) -> None:
    """Sign a rendered note with a PAdES signature, keeping its PDF/A.

    A note already signed gets a further signature (a countersignature),
    each in its own field and stamp.
    """
    from ..archive.verify import read_metadata

    key = signing_key(key_file, passphrase)
    pdf = pdf_file.read_bytes()
    title = read_metadata(pdf).title
    target = output or pdf_file.with_name(f"{pdf_file.stem}-signed.pdf")
    write_atomic(target, sign_pdf(pdf, key, reason=reason or title or "Note",
                                  location=location))
    say(f"wrote {target}")


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the records. Default: PDF's name with .json.")
def extract(pdf_file: Path, output: Path | None) -> None:
    """Write out the records a note was rendered from (JSON).

    They validate and render to the same PDF again.
    """
    from ..archive.verify import extract_record

    target = output or pdf_file.with_suffix(".json")
    write_atomic(target, extract_record(pdf_file.read_bytes()))
    say(f"wrote {target}")


@click.command(cls=NotegenCommand)
@click.argument("pdf_file", metavar="PDF", type=FILE)
@click.option("--trust", "roots", multiple=True, type=FILE,
              help="A trusted root certificate (PEM or DER); repeatable. Without one, "
                   "the signer is not checked and a signed note is at best untrusted (5).")
@click.option("--json", "as_json", is_flag=True,
              help="Print what was found as JSON: the verdict and each signature.")
@template_dirs_option
def verify(pdf_file: Path, roots: tuple[Path, ...], as_json: bool,
           template_dirs: tuple[Path, ...]) -> None:
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
    from ..archive.verify import verify_pdf

    options = with_settings(RenderOptions(template_dirs=template_dirs), settings())
    result = verify_pdf(pdf_file.read_bytes(), trust_roots=[r.read_bytes() for r in roots],
                        options=options)
    if as_json:
        report = {"file": str(pdf_file), "status": result.status.name,
                  "exit_code": result.status.value,
                  **{key: value for key, value in dataclasses.asdict(result).items()
                     if key != "status"}}
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        sys.exit(result.status.value)
    for finding in result.findings:
        click.echo(f"  {finding}")
    click.echo(f"{pdf_file}: {result.status.name}")
    sys.exit(result.status.value)


