"""The HTTP service: ``serve``, and ``token add|list|revoke`` for its tokens file."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path

import click

from .common import Group, NotegenCommand, say, settings


@click.command(cls=NotegenCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--workspace", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Serve the drafting desk at / over this folder of cases (default: "
                   "NOTEGEN_WORKSPACE, or workspace in notegen.toml; none: no desk).")
def serve(host: str, port: int, workers: int, workspace: Path | None) -> None:
    """Serve notegen over HTTP (the service extra): validate, render, issue,
    register queries, verify. /docs shows the API (Swagger UI, served from
    the service itself), /health and /ready answer probes. With a
    workspace, / is the drafting desk (sign in with a token).

    Tokens: NOTEGEN_TOKENS names their file (see `notegen token add`); the
    register, trust roots, signing key and access log: NOTEGEN_REGISTER,
    NOTEGEN_TRUST, NOTEGEN_SIGNING_KEY (its passphrase in
    NOTEGEN_KEY_PASSPHRASE), NOTEGEN_ACCESS_LOG, or notegen.toml.

    Each worker is warm before it takes a connection, and is replaced (its
    replacement warm first, no request dropped) once its memory has grown by
    NOTEGEN_WORKER_GROWTH_MB (worker_growth_mb; default 256 MiB).
    """
    try:
        import uvicorn
    except ImportError:
        raise click.UsageError("the service needs its extra: pip install 'notegen[service]'"
                               ) from None
    from ..service.startup import check, startup_line
    from ..service.workers import Recycling, Supervisor

    given = settings()
    if workspace is not None:  # the workers read their settings from the environment
        os.environ["NOTEGEN_WORKSPACE"] = str(workspace.resolve())
        given = replace(given, workspace=workspace.resolve())
    checked = check(given)  # fail here, clearly, rather than in every worker
    click.echo(startup_line(given, checked, host=host, port=port, workers=workers), err=True)
    # Each worker is replaced once its memory has grown by worker_growth_mb
    # over what it held warm (WeasyPrint keeps 10-20 KiB of every render),
    # its replacement warm before it stops taking connections.
    config = uvicorn.Config("notegen.service:create_app", factory=True, host=host, port=port,
                            log_level="warning")
    status = Supervisor(config, workers, Recycling(given.worker_growth_mb)).run()
    if status:
        raise click.exceptions.Exit(status)


class _TokenGroup(Group):
    """``token``: its commands, and the older form ``token NAME --role …``
    taken as ``token add NAME --role …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["add", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_TokenGroup)
def token() -> None:
    """Make, list and revoke the service's tokens.

    The tokens file (NOTEGEN_TOKENS, tokens in notegen.toml, or --file)
    keeps each token's SHA-256, never the token; the service reads it again
    when it changes, so a new or revoked token applies at once.
    """


def _tokens_file(given: Path | None, *, needed: bool = True) -> Path | None:
    found = given or settings().tokens
    if found is None and needed:
        raise click.UsageError("no tokens file: give --file, set NOTEGEN_TOKENS, or tokens = "
                               "… in notegen.toml")
    return found


def _expiry(ctx: click.Context, param: click.Parameter, value: str | None
            ) -> dt.datetime | None:
    from ..service.tokens import parse_expiry

    if value is None:
        return None
    try:
        return parse_expiry(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@token.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["drafter", "issuer", "reader"]),
              help="What the token may do; repeatable.")
@click.option("--expires", metavar="DATE|DURATION", callback=_expiry,
              help="When it stops working: a date (2027-03-31: through that day, UTC), a "
                   "moment with its offset, or a duration from now (90d, 12h, 30m, 2w).")
@click.option("--file", "tokens_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Add it to this tokens file (made if missing). Default: NOTEGEN_TOKENS, or "
                   "tokens in notegen.toml; with neither, the file's entry is printed on "
                   "stderr.")
def add(name: str, roles: tuple[str, ...], expires: dt.datetime | None,
        tokens_file: Path | None) -> None:
    """Make a token for NAME and print it (once: only its SHA-256 is kept)."""
    from ..service.tokens import add_token, new_token

    try:
        secret, entry = new_token(name, roles, expires=expires)
    except ValueError:
        raise click.BadParameter("a name is a letter or digit, then up to 63 letters, digits, "
                                 "'.', '_', '@' or '-'", param_hint="NAME") from None
    target = _tokens_file(tokens_file, needed=False)
    if target is None:
        click.echo(json.dumps(entry.as_json()), err=True)
    else:
        add_token(target, entry)
        until = f", until {entry.as_json()['expires']}" if entry.expires else ""
        say(f"added {name} ({', '.join(roles)}{until}) to {target}")
    click.echo(secret)


@token.command("list")
@click.option("--file", "tokens_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The tokens file. Default: NOTEGEN_TOKENS, or tokens in notegen.toml.")
def list_tokens(tokens_file: Path | None) -> None:
    """List the tokens of the file: name, roles, state, made, expires."""
    from ..service.tokens import read_tokens

    path = _tokens_file(tokens_file)
    assert path is not None
    now = dt.datetime.now(dt.UTC)
    rows = [("NAME", "ROLES", "STATE", "CREATED", "EXPIRES")]
    for entry in read_tokens(path):
        fields = entry.as_json()
        state: str = entry.state(now)
        if state == "revoked":
            state = f"revoked {fields['revoked']}"
        rows.append((entry.name, ",".join(entry.roles), state, str(fields.get("created", "-")),
                     str(fields.get("expires", "-"))))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        click.echo("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths,
                                                                           strict=False)),
                              row[4]]).rstrip())


@token.command("revoke")
@click.argument("name")
@click.option("--file", "tokens_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The tokens file. Default: NOTEGEN_TOKENS, or tokens in notegen.toml.")
def revoke(name: str, tokens_file: Path | None) -> None:
    """Revoke NAME's token: the service refuses it from now on (it stays in
    the file, marked, so refusals name it)."""
    from ..service.tokens import revoke_token

    path = _tokens_file(tokens_file)
    assert path is not None
    revoke_token(path, name)
    say(f"revoked {name} in {path}")
