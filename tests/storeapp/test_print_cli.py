"""`storeapp print` prints from the tablet's replica with central stopped: to a file, to the
hub's CUPS printer (a stand-in `lp` first on PATH records what it got) and to a ZPL label
printer (a loopback TCP listener on a 9100-style port receives the exact bytes)."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.central import ok, running_central
from tests.support.faults import FaultyTransport
from tests.support.printed import codes, text
from tests.support.tablet import enroll_tablet

ZPL = b"^XA^FO40,40^BCN,120^FD1Z999AA10123456784^FS^XZ\n"


@dataclass(frozen=True)
class Hub:
    data_dir: Path
    ship_id: str
    pickup_id: str


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub that pulled a ship-from-store order (with the OMS's ZPL label) and a pickup
    order, then lost central: central is stopped before the tests print (read only)."""
    tmp_path = tmp_path_factory.mktemp("print-cli")
    data_dir = tmp_path / "hub"
    data_dir.mkdir()
    with running_central(f"sqlite:///{tmp_path / 'central.db'}") as central:
        store = central.new_store()
        ship = central.order(store, [(store.skus[0], 2)], type="ship_from_store")["order_id"]
        pickup = central.order(store, [(store.skus[1], 1)], pickup_code="PK4711")["order_id"]
        label = {"format": "zpl", "content_base64": base64.b64encode(ZPL).decode()}
        ok(central.oms.put(f"/v1/oms/stores/{store.store_id}/orders/{ship}/label", json=label))
        transport = FaultyTransport()
        try:
            enroll_tablet(central, store.store_id, data_dir / "store.db", transport, "hub").sync()
        finally:
            transport.shutdown()
    yield Hub(data_dir, ship, pickup)


def storeapp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `storeapp` command in its own process (this worktree's code)."""
    return subprocess.run(
        [sys.executable, "-c", "from storeapp.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_documents_print_to_files_with_central_stopped(hub: Hub, tmp_path: Path) -> None:
    d = str(hub.data_dir)
    slip = tmp_path / "slip.pdf"
    done = storeapp("print", "slip", hub.ship_id, "--data-dir", d, "--out", str(slip))
    assert done.returncode == 0, done.stderr
    assert f"Packing slip - order {hub.ship_id}" in text(slip.read_bytes())
    tag = tmp_path / "tag.pdf"
    assert (
        storeapp("print", "tag", hub.pickup_id, "--data-dir", d, "--out", str(tag)).returncode == 0
    )
    assert [v for _, v in codes(tag.read_bytes())] == ["PK4711", hub.pickup_id]
    # the OMS's ZPL label as it sent it; asked as a .pdf, a simple PDF label and why
    zpl, pdf = tmp_path / "label.zpl", tmp_path / "label.pdf"
    assert (
        storeapp("print", "label", hub.ship_id, "--data-dir", d, "--out", str(zpl)).returncode == 0
    )
    assert zpl.read_bytes() == ZPL
    done = storeapp("print", "label", hub.ship_id, "--data-dir", d, "--out", str(pdf))
    assert "ZPL" in done.stdout and pdf.read_bytes().startswith(b"%PDF-")
    picklist = tmp_path / "picklist.pdf"
    done = storeapp("print", "picklist", hub.ship_id, "--data-dir", d, "--out", str(picklist))
    assert done.returncode == 0 and "1 order(s), 2 unit(s)" in text(picklist.read_bytes())


def test_a_document_that_is_not_there_is_a_sentence_and_exit_1(hub: Hub, tmp_path: Path) -> None:
    out = str(tmp_path / "x.pdf")
    done = storeapp("print", "slip", "W-NOPE", "--data-dir", str(hub.data_dir), "--out", out)
    assert (done.returncode, done.stderr.strip()) == (1, "Order W-NOPE is not on this tablet.")
    done = storeapp("print", "tag", hub.ship_id, "--data-dir", str(hub.data_dir), "--out", out)
    assert done.returncode == 1 and "no pickup shelf tag" in done.stderr
    assert not Path(out).exists()


def _fake_lp(bin_dir: Path, record: Path, exit_code: int = 0) -> None:
    bin_dir.mkdir(exist_ok=True)
    lp = bin_dir / "lp"
    lp.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(record)!r} + '.argv', 'w').write(json.dumps(sys.argv[1:]))\n"
        f"open({str(record)!r} + '.pdf', 'wb').write(sys.stdin.buffer.read())\n"
        + ("print('request id is front-42 (1 file(s))')\n" if exit_code == 0 else "")
        + (
            f"sys.stderr.write('lp: The printer or class does not exist.\\n'); sys.exit({exit_code})\n"
            if exit_code
            else ""
        )
    )
    lp.chmod(0o755)


def test_a_pdf_goes_to_the_hub_s_cups_printer_through_lp(hub: Hub, tmp_path: Path) -> None:
    bin_dir, record = tmp_path / "bin", tmp_path / "lp-got"
    _fake_lp(bin_dir, record)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STOREAPP_PRINTER": "front"}
    done = storeapp(
        "print", "slip", hub.ship_id, "--data-dir", str(hub.data_dir), "--printer", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "Sent to the printer front. request id is front-42" in done.stdout
    assert Path(f"{record}.argv").read_text() == f'["-d", "front", "-t", "slip-{hub.ship_id}.pdf"]'
    assert f"Packing slip - order {hub.ship_id}" in text(Path(f"{record}.pdf").read_bytes())


def test_a_printer_that_refuses_the_job_is_said_in_words(hub: Hub, tmp_path: Path) -> None:
    bin_dir, record = tmp_path / "bin", tmp_path / "lp-got"
    _fake_lp(bin_dir, record, exit_code=1)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STOREAPP_PRINTER": "back"}
    done = storeapp(
        "print", "slip", hub.ship_id, "--data-dir", str(hub.data_dir), "--printer", env=env
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "The printer 'back' refused the job: lp: The printer or class does not exist."
    )
    no_printer = storeapp(
        "print", "slip", hub.ship_id, "--data-dir", str(hub.data_dir), "--printer"
    )
    assert no_printer.returncode == 1 and "No store printer is set up" in no_printer.stderr


def test_a_zpl_label_goes_raw_to_the_label_printer_s_port(hub: Hub) -> None:
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def accept() -> None:
            conn, _ = server.accept()
            with conn:
                while chunk := conn.recv(65536):
                    received.extend(chunk)

        listener = threading.Thread(target=accept)
        listener.start()
        env = {"STOREAPP_LABEL_PRINTER": f"127.0.0.1:{port}"}
        done = storeapp(
            "print", "label", hub.ship_id, "--data-dir", str(hub.data_dir), "--printer", env=env
        )
        listener.join(30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Sent to the label printer at 127.0.0.1:{port}.")
    assert bytes(received) == ZPL


def test_a_label_printer_that_does_not_answer_is_said_in_words(hub: Hub) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed when the block ends: nobody listens there
    env = {"STOREAPP_LABEL_PRINTER": f"127.0.0.1:{port}"}
    done = storeapp(
        "print", "label", hub.ship_id, "--data-dir", str(hub.data_dir), "--printer", env=env
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"The label printer at 127.0.0.1:{port} did not answer")
