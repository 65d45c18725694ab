"""How `CentralClient` turns HTTP statuses and transport failures into `sync.errors`.

Status codes are mapped with `httpx.MockTransport` (a unit test of the table);
transport failures come from a real socket or a transport that raises, never
from patching httpx.
"""

import json
import socket
from typing import Any
from uuid import uuid4

import httpx
import pytest

from sync.client import CentralClient
from sync.errors import (
    BatchTooLarge,
    Offline,
    RequestRejected,
    SeqGap,
    SeqReused,
    ServerError,
    SyncError,
    Unauthorized,
)


def answering(status: int, body: object = None, *, text: str | None = None) -> CentralClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=body)

    return CentralClient("http://central.test", "tok", transport=httpx.MockTransport(handler))


def pull_with(client: CentralClient) -> None:
    client.pull(None, 10)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"code": "UNAUTHORIZED", "message": "revoked"}, Unauthorized),
        (403, {"code": "FORBIDDEN", "message": "integration key"}, Unauthorized),
        (413, {"code": "BATCH_TOO_LARGE", "message": "halve it"}, BatchTooLarge),
        (409, {"code": "SEQ_REUSED", "message": "seq 3 has another op"}, SeqReused),
        (409, {"code": "ORDER_CLOSED", "message": "closed"}, RequestRejected),
        (400, {"code": "BAD_REQUEST", "message": "no"}, RequestRejected),
        (404, {"code": "NOT_FOUND", "message": "no route"}, RequestRejected),
        (422, {"code": "INVALID_REQUEST", "message": "ops: not a list"}, RequestRejected),
        (502, {"code": "BAD_GATEWAY", "message": "proxy"}, Offline),
        (503, {"code": "UNAVAILABLE", "message": "db down"}, Offline),
        (504, None, Offline),
        (500, {"code": "INTERNAL", "message": "boom"}, ServerError),
        (507, None, ServerError),
        (302, None, ServerError),
    ],
)
def test_each_status_becomes_its_own_error(
    status: int, body: dict[str, Any] | None, error: type[SyncError]
) -> None:
    with pytest.raises(error) as caught:
        pull_with(answering(status, body))
    assert isinstance(caught.value, SyncError)
    assert caught.value.status_code == status


def test_seq_gap_carries_the_seq_central_expects() -> None:
    client = answering(409, {"code": "SEQ_GAP", "message": "expected 7", "expected_seq": 7})
    with pytest.raises(SeqGap) as caught:
        pull_with(client)
    assert caught.value.expected_seq == 7


def test_a_seq_gap_without_expected_seq_is_a_server_error_not_a_guess() -> None:
    with pytest.raises(ServerError):
        pull_with(answering(409, {"code": "SEQ_GAP", "message": "gap"}))


def test_a_refusal_keeps_central_code_and_sentence() -> None:
    client = answering(422, {"code": "INVALID_REQUEST", "message": "ops: not a list"})
    with pytest.raises(RequestRejected) as caught:
        pull_with(client)
    assert (caught.value.code, caught.value.message) == ("INVALID_REQUEST", "ops: not a list")
    assert str(caught.value) == "INVALID_REQUEST: ops: not a list"


def test_a_refusal_wrapped_in_fastapi_detail_is_read_too() -> None:
    client = answering(400, {"detail": {"code": "NO_STORE", "message": "unknown store"}})
    with pytest.raises(RequestRejected) as caught:
        pull_with(client)
    assert caught.value.code == "NO_STORE"


def test_a_refusal_without_our_body_still_has_a_code() -> None:
    with pytest.raises(RequestRejected) as caught:
        pull_with(answering(418, text="I'm a teapot"))
    assert caught.value.code == "HTTP_418"


def test_a_success_body_that_is_not_the_contract_is_a_server_error() -> None:
    with pytest.raises(ServerError):
        pull_with(answering(200, {"hello": "world"}))


def test_the_token_is_sent_as_a_bearer_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "no"})

    client = CentralClient("http://central.test/", "s3cret", transport=httpx.MockTransport(handler))
    with pytest.raises(Unauthorized):
        pull_with(client)
    assert seen[0].headers["authorization"] == "Bearer s3cret"
    assert seen[0].url == "http://central.test/v1/sync/pull"
    assert json.loads(seen[0].content) == {"cursor": None, "limit": 10}


class Raising(httpx.BaseTransport):
    """A transport that fails the way a network does."""

    def __init__(self, exc_type: type[httpx.TransportError]) -> None:
        self.exc_type = exc_type

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise self.exc_type("simulated", request=request)


@pytest.mark.parametrize(
    "exc_type",
    [
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.PoolTimeout,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
    ],
)
def test_network_failures_are_offline_and_keep_their_cause(
    exc_type: type[httpx.TransportError],
) -> None:
    client = CentralClient("http://central.test", "tok", transport=Raising(exc_type))
    with pytest.raises(Offline) as caught:
        pull_with(client)
    assert isinstance(caught.value.__cause__, exc_type)


def test_a_url_without_a_usable_scheme_is_a_sync_error_not_offline() -> None:
    client = CentralClient("ftp://central.test", "tok")
    with pytest.raises(SyncError) as caught:
        pull_with(client)
    assert not isinstance(caught.value, Offline)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_server_that_is_not_there_is_offline() -> None:
    with CentralClient(f"http://127.0.0.1:{closed_port()}", "tok") as client:
        with pytest.raises(Offline):
            pull_with(client)
        with pytest.raises(Offline):
            client.snapshot()
        with pytest.raises(Offline):
            next(client.events())


class CountingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


def test_a_push_over_one_mebibyte_is_refused_before_it_is_sent() -> None:
    transport = CountingTransport()
    client = CentralClient("http://central.test", "tok", transport=transport)
    op = {
        "device_id": "d1",
        "actor_id": "E1",
        "type": "task.done",
        "payload": {"task_id": "T1", "note": "x" * 4000},
        "occurred_at": "2026-03-01T10:00:00Z",
    }
    ops = [{**op, "op_id": str(uuid4()), "seq": n} for n in range(1, 301)]
    with pytest.raises(BatchTooLarge):
        client.push(device_id="d1", ops=ops)
    assert transport.requests == 0
