"""The HTTP service: ``serve`` and ``token``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import NotegenCommand, settings


@click.command(cls=NotegenCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Serve notegen over HTTP (the service extra): validate, render, issue,
    register queries, verify. The OpenAPI document is at /openapi.json (for
    token holders).

    Tokens: NOTEGEN_TOKENS names their file (see `notegen token`); the
    register: NOTEGEN_REGISTER or notegen.toml.
    """
    try:
        import uvicorn
    except ImportError:
        raise click.UsageError("the service needs its extra: pip install 'notegen[service]'"
                               ) from None
    from ..service import load_tokens

    load_tokens(settings())  # fail here, clearly, rather than in every worker
    # WeasyPrint keeps 10-20 KiB of every render: a worker is replaced
    # after 500 requests (with --workers 1, the server then stops: run it
    # under a supervisor, or with two workers or more).
    uvicorn.run("notegen.service:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning",
                limit_max_requests=500 if workers > 1 else None)


@click.command(cls=NotegenCommand)
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["drafter", "issuer", "reader"]))
@click.option("--file", "tokens_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Add the token to this tokens file (made if missing), which keeps only "
                   "its SHA-256. Without it, the file's entry is printed on stderr.")
def token(name: str, roles: tuple[str, ...], tokens_file: Path | None) -> None:
    """Make a service token for NAME and print it (once: only its SHA-256 is
    kept)."""
    from ..service import add_token, new_token

    secret, entry = new_token(name, list(roles))
    if tokens_file is None:
        click.echo(json.dumps(entry), err=True)
    else:
        add_token(tokens_file, entry)
        click.echo(f"added {name} to {tokens_file}", err=True)
    click.echo(secret)


