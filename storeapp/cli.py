"""`storeapp`: enroll, run, hub, sync --once, demo (PROTOCOL.md, Command line)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from storeapp import __version__

from .settings import StoreappSettings

app = typer.Typer(
    help="The store app: pick, hand over, sync — offline first.", no_args_is_help=True
)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="STOREAPP_DATA_DIR", help="where the tablet's SQLite lives"),
]


def _settings(data_dir: Path | None, **extra: object) -> StoreappSettings:
    values = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return StoreappSettings(**values)  # type: ignore[arg-type]


def _logging() -> None:
    """A line when a sync pass moved something or the link changed; not one per HTTP
    request, scheduler tick or idle pass."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("httpx", "apscheduler", "flet", "flet_web", "flet_transport"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def enroll_device(settings: StoreappSettings, server: str, code: str, name: str) -> str:
    """Enroll this data dir with central; returns a sentence for the terminal."""
    from sync.errors import SyncError

    from .enrollment import enroll_data_dir

    try:
        return enroll_data_dir(settings.db_path, server, code, name)
    except SyncError as exc:
        raise typer.BadParameter(str(exc), param_hint="--code") from exc


def make_engine(settings: StoreappSettings, on_progress=None):  # type: ignore[no-untyped-def]
    from sync.engine import SyncEngine

    from .local import LocalStore

    return SyncEngine(
        lambda: LocalStore(settings.db_path), app_version=__version__, on_progress=on_progress
    )


class ProgressLines:
    """The sync engine's progress as terminal lines: one at most every `every_s` seconds,
    and always the last one ("Receiving 100,006 of 100,006 · 41,200/s")."""

    def __init__(self, echo=typer.echo, every_s: float = 0.5) -> None:  # type: ignore[no-untyped-def]
        self._echo = echo
        self._every_s = every_s
        self._last = float("-inf")

    def __call__(self, progress) -> None:  # type: ignore[no-untyped-def]
        now = time.monotonic()
        finished = progress.total is not None and progress.done >= progress.total
        if finished or now - self._last >= self._every_s:
            self._last = now
            self._echo(progress.detail)


@app.command()
def enroll(
    server: Annotated[
        str, typer.Option("--server", help="central's URL, e.g. http://127.0.0.1:8000")
    ],
    code: Annotated[str, typer.Option("--code", help="the one-time enrollment code")],
    data_dir: DataDir = None,
    name: Annotated[
        str, typer.Option("--name", help="how managers will see this tablet")
    ] = socket.gethostname(),
) -> None:
    """Enroll this tablet (or hub) with central, then download the store."""
    settings = _settings(data_dir)
    typer.echo(enroll_device(settings, server, code, name))
    report = make_engine(settings, ProgressLines()).run_once()
    typer.echo(_report_line(report))


def _report_line(report) -> str:  # type: ignore[no-untyped-def]
    state = "ok" if report.ok else ("offline" if report.offline else "failed")
    line = f"sync {state}: pushed {report.pushed}, pulled {report.pulled}"
    if report.attention:
        line += f", {report.attention} need attention"
    if report.error_in_words:
        line += f" — {report.error_in_words}"
    return line


@app.command()
def sync(
    data_dir: DataDir = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="one pass, then exit: the only mode (`run` syncs all along)"),
    ] = True,
) -> None:
    """One sync pass: push the outbox, pull the store's changes, print the result.

    `--once` is the only mode and may be left out: it stays accepted because the command
    line contract (PROTOCOL.md) spells it; the app (`storeapp run`) syncs continuously."""
    settings = _settings(data_dir)
    if not settings.db_path.exists():
        typer.echo(f"No tablet data in {settings.data_dir}: run 'storeapp enroll' first", err=True)
        raise typer.Exit(2)
    report = make_engine(settings).run_once()
    typer.echo(_report_line(report))
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def hub(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(envvar="STOREAPP_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="STOREAPP_PORT")] = 8550,
    certfile: Annotated[
        Path | None,
        typer.Option("--certfile", envvar="STOREAPP_CERTFILE", help="PEM certificate: HTTPS"),
    ] = None,
    keyfile: Annotated[
        Path | None,
        typer.Option("--keyfile", envvar="STOREAPP_KEYFILE", help="PEM private key"),
    ] = None,
    insecure_lan: Annotated[
        bool,
        typer.Option(
            "--insecure-lan",
            envvar="STOREAPP_INSECURE_LAN",
            help="serve plain HTTP beyond loopback (PINs in clear on the LAN)",
        ),
    ] = False,
) -> None:
    """Serve the app as a web page for the store's tablets (HTTPS with --certfile/--keyfile)."""
    from .settings import exposure_problem

    settings = _settings(
        data_dir,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        insecure_lan=insecure_lan or None,
    )
    problem = exposure_problem(settings)
    if problem is not None:
        typer.echo(problem, err=True)
        raise typer.Exit(2)
    from .app import serve

    _logging()
    serve(settings)


@app.command()
def unlock(
    employee: Annotated[str, typer.Option("--employee", help="the locked employee id")],
    data_dir: DataDir = None,
) -> None:
    """Lift a PIN lockout from the hub's shell (when no manager can sign in to do it)."""
    from .local import LocalStore

    settings = _settings(data_dir)
    if not settings.db_path.exists():
        typer.echo(f"No tablet data in {settings.data_dir}", err=True)
        raise typer.Exit(2)
    with LocalStore(settings.db_path) as store:
        done = store.lift_lock(employee)
    typer.echo(f"{employee} unlocked" if done else f"{employee} is not locked")


@app.command("print")
def print_document(
    kind: Annotated[str, typer.Argument(help="picklist, slip, tag, receipt or label")],
    doc_id: Annotated[
        str,
        typer.Argument(
            metavar="ORDER_ID",
            help="the order (picklist: the list holding it; receipt: also a return id)",
        ),
    ],
    data_dir: DataDir = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="write the document here (FILE.pdf: always a PDF)"),
    ] = None,
    printer: Annotated[
        bool,
        typer.Option(
            "--printer", help="send it to the hub's printer (STOREAPP_PRINTER, _LABEL_PRINTER)"
        ),
    ] = False,
) -> None:
    """Print a document from this tablet's replica: works with central out of reach."""
    from .local import LocalStore
    from .printing import Printers, PrintingError, printable, send

    if (out is None) == (not printer):
        raise typer.BadParameter("Give either --out FILE or --printer.", param_hint="--out")
    settings = _settings(data_dir)
    if not settings.db_path.exists():
        raise typer.BadParameter(
            f"No tablet data in {settings.data_dir}: enroll first.", param_hint="--data-dir"
        )
    pdf_only = out is not None and out.suffix.lower() == ".pdf"
    try:
        with LocalStore(settings.db_path) as store:
            doc = printable(store, kind, doc_id, datetime.now(UTC), pdf_only=pdf_only)
        if out is not None:
            out.write_bytes(doc.content)
            said = (
                f"Wrote {doc.kind.heading.lower()} of {doc_id} to {out} ({len(doc.content)} bytes)."
            )
        else:
            printers = Printers(
                settings.printer, settings.pdf_print_command, settings.label_printer
            )
            said = send(printers, doc)
    except PrintingError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{said} {doc.note}".strip() if doc.note else said)


def _moment(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            "Give a date or time such as 2026-03-01 or 2026-03-01T08:00.", param_hint=flag
        ) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@app.command("counts-csv")
def counts_csv_command(
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option("--out", help="the CSV file to write")] = Path("counts.csv"),
    first: Annotated[
        str | None, typer.Option("--from", help="counted at or after (a time without offset: UTC)")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="counted before")] = None,
) -> None:
    """Write every count on this tablet as CSV (central's answers; counts it has not
    answered yet have an empty book). From the replica: works with central out of reach."""
    from fulfillment.count_export import counts_csv

    from .local import LocalStore

    settings = _settings(data_dir)
    if not settings.db_path.exists():
        raise typer.BadParameter(
            f"No tablet data in {settings.data_dir}: enroll first.", param_hint="--data-dir"
        )
    since, until = _moment(first, "--from"), _moment(last, "--to")
    with LocalStore(settings.db_path) as store:
        found = [
            c
            for c in store.count_documents()
            if (since is None or c.counted_at >= since) and (until is None or c.counted_at < until)
        ]
    out.write_text(counts_csv(found), encoding="utf-8", newline="")
    typer.echo(f"Wrote {len(found)} count(s) to {out}.")


@app.command()
def run(data_dir: DataDir = None) -> None:
    """Run the app on this device (web view on 127.0.0.1; see docs/deploy.md for packaging)."""
    from .app import serve

    _logging()
    serve(_settings(data_dir))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _enrolled_port(settings: StoreappSettings) -> int | None:
    """The port of the central this data dir was enrolled with, if any."""
    if not settings.db_path.exists():
        return None
    from .local import LocalStore

    with LocalStore(settings.db_path) as store:
        identity = store.identity()
    return urlsplit(identity.server_url).port if identity else None


def _central(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", *args], check=True, capture_output=True, text=True
    )


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="demo data (kept between runs)")
    ] = Path("storeapp-demo"),
    port: Annotated[int, typer.Option(help="the app's port")] = 8550,
    central_port: Annotated[int, typer.Option(help="central's port (0: any free one)")] = 0,
) -> None:
    """central on SQLite + the seeded demo store + this hub enrolled; prints the URL and PINs."""
    from .local import private_dir

    data_dir = private_dir(data_dir.resolve())  # central.db holds PIN hashes too
    db_url = f"sqlite:///{data_dir / 'central.db'}"
    settings = _settings(data_dir / "hub", port=port, scan_sheet=True)
    # a second run serves central where the hub was enrolled, so the hub finds it again
    central_port = central_port or _enrolled_port(settings) or _free_port()
    server = f"http://127.0.0.1:{central_port}"

    typer.echo(_central("seed", "--demo", "--database-url", db_url).stdout.strip())
    log = (data_dir / "central.log").open("a")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central",
            "serve",
            "--database-url",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(central_port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(server, proc)
        if not settings.db_path.exists():
            code = _central(
                "enroll-code", "--store", "S001", "--database-url", db_url
            ).stdout.strip()
            typer.echo(enroll_device(settings, server, code, "demo hub"))
        report = make_engine(settings).run_once()
        typer.echo(_report_line(report))
        typer.echo("")
        typer.echo(f"  central:  {server}   (log: {data_dir / 'central.log'})")
        typer.echo(f"  the app:  http://{settings.host}:{settings.port}")
        typer.echo("  sign in:  E100 Ana Lopez (associate) PIN 1234")
        typer.echo("            E101 Ben Okafor (associate) PIN 2345")
        typer.echo("            M200 Maria Chen (manager)   PIN 987654")
        for line in _demo_codes(settings):
            typer.echo(line)
        typer.echo("  Ctrl-C stops everything.")
        _logging()
        from .app import serve

        serve(settings)
    finally:
        _stop(proc)
        log.close()


def _demo_codes(settings: StoreappSettings) -> list[str]:
    """What a newcomer scans, from the hub's replica: the scan sheet's address, the pickup
    codes that exist (ready ones first), and two items with their GTIN."""
    from fulfillment.barcodes import printed_gtin
    from fulfillment.model import OPEN_STATES, OrderState

    from .local import LocalStore
    from .pages.scan_sheet import PATH

    with LocalStore(settings.db_path) as store:
        orders = store.orders_in([s.value for s in OPEN_STATES], order_type="pickup")
        items = [line for o in orders for line in o.lines if line.gtins][:2]
    ready = sorted(o.pickup_code or "" for o in orders if o.state is OrderState.STAGED)
    later = sorted(o.pickup_code or "" for o in orders if o.state is not OrderState.STAGED)
    lines = [f"  scan sheet: http://{settings.host}:{settings.port}{PATH}  (print it, or scan it)"]
    if ready:
        lines.append(f"  ready for pickup (Hand-over): {', '.join(ready)}")
    if later:
        lines.append(f"  pickup codes to pick first:   {', '.join(later)}")
    for line in items:
        lines.append(
            f"  an item to scan: {line.name} · GTIN {printed_gtin(line.gtins[0])} · shelf {line.location}"
        )
    return lines


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for central; a second one if it still waits for a stream (the hub's event
    stream may outlive the hub's server by a moment), then kill."""
    for signum, wait_s in ((signal.SIGINT, 0.5), (signal.SIGINT, 3.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        proc.send_signal(signum)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for(server: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx  # the demo only: the hub's start does not pay for it

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise typer.Exit(f"central stopped at start (exit {proc.returncode})")  # type: ignore[arg-type]
        try:
            if httpx.get(f"{server}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise typer.Exit("central did not answer within 30 s")  # type: ignore[arg-type]


def main() -> None:
    os.environ.setdefault("FLET_WEB_NO_CDN", "1")
    app()
