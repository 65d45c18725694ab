"""The hub's printers: PDF to CUPS through a command (`lp -d {printer}`, the PDF on its
standard input), ZPL raw to a label printer's TCP port 9100. Both are on the store's LAN,
so they print with central out of reach."""

from __future__ import annotations

import shlex
import socket
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import PrinterError

if TYPE_CHECKING:  # the hub builds its Printers before it serves: no PDF libraries for that
    from ._source import Printable

__all__ = ["Printers", "send"]

TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Printers:
    """What the hub is configured with (`StoreappSettings`)."""

    printer: str | None = None  # CUPS queue for PDFs; None: no PDF printer
    pdf_print_command: str = "lp -d {printer}"
    label_printer: str | None = None  # "host:9100" of a ZPL label printer

    def takes(self, printable: Printable) -> bool:
        """Whether a printer here takes this document."""
        return bool(self.printer) if printable.is_pdf else bool(self.label_printer)

    @property
    def any(self) -> bool:
        return bool(self.printer or self.label_printer)


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host:
        return address, 9100
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise PrinterError(f"The label printer's address {address!r} is not host:port.") from None


def _send_zpl(address: str, content: bytes) -> str:
    host, port = _split_address(address)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
            conn.sendall(content)
            conn.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrinterError(
            f"The label printer at {host}:{port} did not answer ({exc.strerror or exc})."
        ) from exc
    return f"Sent to the label printer at {host}:{port}."


def _send_pdf(printers: Printers, printable: Printable) -> str:
    assert printers.printer
    argv = shlex.split(printers.pdf_print_command.format(printer=printers.printer))
    if not argv:
        raise PrinterError("The PDF print command is empty.")
    try:
        done = subprocess.run(
            [*argv, "-t", printable.filename],
            input=printable.content,
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PrinterError(f"Could not run {argv[0]!r} to print ({exc}).") from exc
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise PrinterError(
            f"The printer {printers.printer!r} refused the job"
            + (f": {said[-1][:200]}" if said else f" (exit {done.returncode}).")
        )
    out = done.stdout.decode(errors="replace").strip()
    return f"Sent to the printer {printers.printer}." + (f" {out[:200]}" if out else "")


def send(printers: Printers, printable: Printable) -> str:
    """Print on the hub's printer; returns a sentence for the screen. Raises PrinterError."""
    if printable.is_pdf:
        if not printers.printer:
            raise PrinterError("No store printer is set up on this hub (STOREAPP_PRINTER).")
        return _send_pdf(printers, printable)
    if not printers.label_printer:
        raise PrinterError("No label printer is set up on this hub (STOREAPP_LABEL_PRINTER).")
    return _send_zpl(printers.label_printer, printable.content)
