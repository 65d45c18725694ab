"""An https central is checked against the CA bundle: a certificate nobody signed is refused
before any request is sent (a plain-http central, the store's LAN hub or loopback, loads no
bundle: `CentralClient` skips it for speed, and it must not skip the check for https)."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from sync.client import CentralClient
from sync.errors import SyncError
from tests.storeapp.test_hub_tls import self_signed


class _Counting(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    cert, key = self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_self_signed_https_central_is_refused_before_any_request(tls_server: str) -> None:
    _Counting.seen.clear()
    client = CentralClient(tls_server, token="t")
    try:
        with pytest.raises(SyncError):
            client.pull(None, 10)
    finally:
        client.close()
    assert _Counting.seen == []
