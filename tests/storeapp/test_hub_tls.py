"""`storeapp hub` serves HTTPS with --certfile/--keyfile, and refuses plain HTTP beyond
loopback unless --insecure-lan says so."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from storeapp.cli import app
from storeapp.local import LocalStore
from tests.e2e.browser import free_port
from tests.storeapp.builders import ENROLLED, Feed


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "hub.pem", tmp_path / "hub.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def enrolled_data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "hub"
    data_dir.mkdir()
    with LocalStore(data_dir / "store.db") as store:
        store.enroll(ENROLLED, "http://127.0.0.1:9")  # central is away: the hub works offline
        store.apply_pull(Feed().basics())
    return data_dir


def test_the_hub_serves_its_page_over_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    data_dir, port = enrolled_data_dir(tmp_path), free_port()
    argv = [
        sys.executable, "-c", "from storeapp.cli import main; main()", "hub",
        "--data-dir", str(data_dir), "--port", str(port),
        "--certfile", str(cert), "--keyfile", str(key),
    ]  # fmt: skip
    log = (tmp_path / "hub.log").open("w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        page = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"https://127.0.0.1:{port}/", verify=trust, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None, (tmp_path / "hub.log").read_text()
        assert page.status_code == 200
        assert "flutter" in page.text.lower()
        with pytest.raises(httpx.TransportError):  # nothing answers in clear on that port
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_hub_refuses_plain_http_beyond_loopback_in_words(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["hub", "--data-dir", str(tmp_path / "hub"), "--host", "0.0.0.0"]
    )
    assert done.exit_code == 2
    assert "Refusing to serve on 0.0.0.0 over plain HTTP: staff PINs would cross" in done.output
    assert "--insecure-lan" in done.output
    half = CliRunner().invoke(
        app, ["hub", "--data-dir", str(tmp_path), "--certfile", str(tmp_path / "x.pem")]
    )
    assert half.exit_code == 2
    assert "Give both --certfile and --keyfile" in half.output


def test_an_insecure_lan_or_loopback_is_the_stores_choice() -> None:
    from storeapp.settings import StoreappSettings, exposure_problem

    assert exposure_problem(StoreappSettings(host="0.0.0.0", insecure_lan=True)) is None
    assert exposure_problem(StoreappSettings(host="127.0.0.1")) is None
    assert exposure_problem(StoreappSettings(host="::1")) is None
    assert exposure_problem(StoreappSettings(host="192.168.1.20")) is not None
