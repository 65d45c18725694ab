"""Tablet/hub settings from STOREAPP_* environment variables or flags."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["StoreappSettings", "exposure_problem"]


class StoreappSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREAPP_", extra="ignore")

    data_dir: Path = Path("storeapp-data")
    host: str = "127.0.0.1"
    port: int = 8550
    sync_interval_s: float = 15.0
    listen_events: bool = True  # follow central's SSE pokes for near-real-time pulls
    idle_sign_out_min: float = 5.0  # a session with no action for this long signs out
    certfile: Path | None = None  # PEM certificate (chain): the hub serves HTTPS
    keyfile: Path | None = None  # its PEM private key
    insecure_lan: bool = False  # serve plain HTTP beyond loopback anyway (not advised)
    printer: str | None = None  # the hub's CUPS queue for PDFs (None: no store printer)
    pdf_print_command: str = "lp -d {printer}"  # the PDF arrives on its standard input
    label_printer: str | None = None  # "host:9100": a ZPL label printer, sent raw
    # serve /pages/scan-sheet (the store's barcodes and pickup codes): `storeapp demo` only
    scan_sheet: bool = False

    @property
    def db_path(self) -> Path:
        return self.data_dir / "store.db"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_problem(settings: StoreappSettings) -> str | None:
    """Why the hub may not serve as configured, in words; None when it may.

    Staff type their PINs into the hub's page, so beyond loopback it serves HTTPS,
    unless `insecure_lan` says the store accepts plain HTTP on its LAN."""
    if (settings.certfile is None) != (settings.keyfile is None):
        return "Give both --certfile and --keyfile (PEM files) to serve HTTPS."
    for path in (settings.certfile, settings.keyfile):
        if path is not None and not path.is_file():
            return f"No such file: {path}"
    if settings.certfile is None and not _loopback(settings.host) and not settings.insecure_lan:
        return (
            f"Refusing to serve on {settings.host} over plain HTTP: staff PINs would cross "
            "the store's network in clear. Give --certfile and --keyfile to serve HTTPS, "
            "or --insecure-lan to accept the risk."
        )
    return None
