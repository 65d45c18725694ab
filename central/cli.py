"""`central`: migrate, serve, enroll-code, integration-key create|revoke, seed --demo,
device revoke."""

from __future__ import annotations

import gc
import logging
import os
from typing import Annotated

import typer

from .settings import CentralSettings

app = typer.Typer(help="The central inventory API and its admin commands.", no_args_is_help=True)
keys = typer.Typer(help="Integration keys for the OMS API.", no_args_is_help=True)
device = typer.Typer(help="Enrolled tablets.", no_args_is_help=True)
app.add_typer(keys, name="integration-key")
app.add_typer(device, name="device")

# on SIGTERM, requests still running after this long are cancelled (event streams end at
# once on their own: central/api/app.py); a stop never hangs on an open connection
STOP_GRACE_S = 2

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CENTRAL_DATABASE_URL",
        help="sqlite:///central.db or postgresql+psycopg://…",
    ),
]


def _settings(database_url: str | None, **extra: object) -> CentralSettings:
    values = {k: v for k, v in extra.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return CentralSettings(**values)  # type: ignore[arg-type]


def _engine(database_url: str | None):  # type: ignore[no-untyped-def]
    from .db.engine import make_engine

    return make_engine(_settings(database_url).database_url)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the schema (Alembic)."""
    from .db.migrate import upgrade

    settings = _settings(database_url)
    upgrade(settings.database_url)
    typer.echo("schema is up to date")


@app.command()
def serve(
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(envvar="CENTRAL_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CENTRAL_PORT")] = 8000,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            envvar="CENTRAL_WORKERS",
            min=1,
            help="serve processes (uvicorn workers) on one port; PostgreSQL only for more "
            "than 1. Each holds its own pool (CENTRAL_DB_POOL_SIZE + _MAX_OVERFLOW).",
        ),
    ] = 1,
) -> None:
    """Serve the API (uvicorn)."""
    import uvicorn

    from .db.engine import is_sqlite
    from .db.migrate import upgrade

    settings = _settings(database_url, host=host, port=port)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if workers > 1 and is_sqlite(settings.database_url):
        typer.echo(
            "--workers above 1 needs PostgreSQL: SQLite has one writer at a time, so one "
            "process serves a SQLite database.",
            err=True,
        )
        raise typer.Exit(2)
    if migrate_first:
        upgrade(settings.database_url)
    if workers > 1:
        # each worker is a fresh process that builds its app from CENTRAL_* (`worker_app`)
        os.environ["CENTRAL_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "central.cli:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            timeout_graceful_shutdown=STOP_GRACE_S,
        )
        return
    uvicorn.run(
        _frozen_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=STOP_GRACE_S,
    )


def _frozen_app(settings: CentralSettings):  # type: ignore[no-untyped-def]
    from .api import create_app

    api = create_app(settings)
    # Everything loaded so far (modules, pydantic and SQLAlchemy schemas) lives as long as the
    # process: keep it out of the collector's full passes, which otherwise walk it all again
    # and again under a steady push load (measured: ~15 % of a push's time).
    gc.collect()
    gc.freeze()
    return api


def worker_app():  # type: ignore[no-untyped-def]
    """One `serve --workers N` process's app, its settings from CENTRAL_* variables."""
    return _frozen_app(CentralSettings())


@app.command("enroll-code")
def enroll_code(
    store: Annotated[str, typer.Option("--store", help="store id, e.g. S001")],
    database_url: DatabaseUrl = None,
) -> None:
    """Print a one-time enrollment code for a tablet of STORE."""
    from .service.auth import create_enrollment_code
    from .service.errors import CentralError

    try:
        code, expires = create_enrollment_code(_engine(database_url), store)
    except CentralError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    typer.echo(code)
    typer.echo(f"valid until {expires:%Y-%m-%d %H:%M} UTC", err=True)


@keys.command("create")
def key_create(
    name: Annotated[str, typer.Option("--name")],
    database_url: DatabaseUrl = None,
) -> None:
    """Make an integration key; it is printed once and stored hashed."""
    from .service.auth import create_integration_key

    typer.echo(create_integration_key(_engine(database_url), name))


@keys.command("list")
def key_list(database_url: DatabaseUrl = None) -> None:
    """List integration keys (id, name, when made, when revoked); never the keys."""
    from .service.auth import list_integration_keys

    engine = _engine(database_url)
    try:
        rows = list_integration_keys(engine)
    finally:
        engine.dispose()
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
        typer.echo(f"{row.key_id}  {row.name}  made {row.created_at:%Y-%m-%d %H:%M}  {state}")


@keys.command("revoke")
def key_revoke(
    key_id: Annotated[str | None, typer.Option("--key-id", help="the key's id")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="every live key with this name")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an integration key: its next call is refused (401 KEY_REVOKED)."""
    from .service.auth import revoke_integration_key
    from .service.errors import CentralError

    if (key_id is None) == (name is None):
        typer.echo("Give either --key-id or --name (one of them).", err=True)
        raise typer.Exit(2)
    engine = _engine(database_url)
    try:
        revoked = revoke_integration_key(engine, key_id=key_id, name=name)
    except CentralError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for one in revoked:
        typer.echo(f"integration key {one} revoked")


@device.command("revoke")
def device_revoke(
    device_id: Annotated[str, typer.Option("--device-id")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a tablet: its next request is refused."""
    from .service.auth import revoke_device
    from .service.errors import CentralError

    try:
        revoke_device(_engine(database_url), device_id)
    except CentralError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{device_id} revoked")


@app.command()
def prune(database_url: DatabaseUrl = None) -> None:
    """Remove change-log rows and op results older than CENTRAL_RETENTION_DAYS (the serve
    process does it every CENTRAL_PRUNE_INTERVAL_S as well)."""
    from .service.pruning import prune as prune_now

    settings = _settings(database_url)
    engine = _engine(database_url)
    try:
        pruned = prune_now(engine, settings.retention_days)
    finally:
        engine.dispose()
    typer.echo(f"pruned {pruned.changes} change-log rows and {pruned.results} op results")


@app.command()
def deliver(database_url: DatabaseUrl = None) -> None:
    """Deliver webhooks in this process (until stopped); run `serve` with
    CENTRAL_DELIVER_WEBHOOKS=false beside it on SQLite (on PostgreSQL one process delivers
    whichever runs it: a lock decides)."""
    import asyncio

    from .service.webhooks import DeliveryWorker

    settings = _settings(database_url)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    engine = _engine(database_url)
    try:
        asyncio.run(DeliveryWorker(engine, settings).run())
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="the demo store S001")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Load the demo store S001: catalogue, stock, staff and open orders."""
    if not demo:
        typer.echo("only --demo is available", err=True)
        raise typer.Exit(2)
    from .db.migrate import upgrade
    from .seed import seed_demo

    settings = _settings(database_url)
    upgrade(settings.database_url)
    summary = seed_demo(_engine(database_url))
    typer.echo(summary)


def main() -> None:
    app()
