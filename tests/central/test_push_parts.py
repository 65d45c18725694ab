"""A long push holds its store's lock a part at a time (`push_lock_budget_s`).

A tablet draining 500 queued ops must not hold its store for the whole push: an OMS cancel
sent meanwhile commits between two parts, and the scans after it are answered as scans of a
cancelled order. Cut in parts or not, a push answers every op once, in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def lock_budget(any_central: Central) -> Iterator[Any]:
    """Set the running central's budget for a test (the PostgreSQL central is shared)."""
    app = any_central.server.app
    assert app is not None
    saved = app.state.settings

    def set_to(seconds: float) -> None:
        app.state.settings = saved.model_copy(update={"push_lock_budget_s": seconds})

    yield set_to
    app.state.settings = saved


def _scans(device: RawDevice, store: TestStore, sku: str, oid: str, n: int) -> list[Any]:
    payload = {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku]}
    return [device.op("pick.scan", payload) for _ in range(n)]


def _claimed_with_scans(
    central: Central, store: TestStore, device: RawDevice, sku: str
) -> tuple[str, list[Any]]:
    """An order of 300 units of `sku` the device has claimed, and its 300 scans (not sent)."""
    oid = central.order(store, [(sku, 300)])["order_id"]
    device.push_one("order.claim", {"order_id": oid})
    return oid, _scans(device, store, sku, oid, 300)


def test_a_cancel_sent_during_a_long_push_commits_between_its_parts(
    any_central: Central, store: TestStore, device: RawDevice, lock_budget: Any
) -> None:
    lock_budget(0.0)  # a part per op: the cancel surely lands inside the push
    sku = store.skus[0]
    oid, scans = _claimed_with_scans(any_central, store, device, sku)
    answer: dict[str, Any] = {}

    def push() -> None:
        with httpx.Client(base_url=any_central.url, timeout=120) as http:
            response = http.post(
                "/v1/sync/push",
                json={"device_id": device.device_id, "ops": scans},
                headers={"Authorization": f"Bearer {device.token}"},
            )
        answer["status"], answer["body"] = response.status_code, response.json()

    pushing = threading.Thread(target=push)
    pushing.start()
    deadline = time.monotonic() + 60
    while any_central.get_order(oid)["lines"][0]["picked"] == 0:  # the push has begun
        assert time.monotonic() < deadline, "the push never applied its first scan"
        time.sleep(0.005)
    ok(any_central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "customer"}))
    cancelled_while_pushing = pushing.is_alive()
    pushing.join(timeout=120)

    assert answer["status"] == 200
    results = answer["body"]["results"]
    assert [r["seq"] for r in results] == [op["seq"] for op in scans]
    assert answer["body"]["next_expected_seq"] == scans[-1]["seq"] + 1
    outcomes = [(r["status"], r["code"]) for r in results]
    first_refused = outcomes.index(("compensated", "ORDER_CANCELLED"))
    assert cancelled_while_pushing and 0 < first_refused < len(scans)
    assert set(outcomes[:first_refused]) == {("applied", None)}
    assert set(outcomes[first_refused:]) == {("compensated", "ORDER_CANCELLED")}


def test_a_push_cut_in_parts_answers_as_one_and_a_resend_gets_the_stored_results(
    any_central: Central, store: TestStore, device: RawDevice, lock_budget: Any
) -> None:
    lock_budget(0.0)
    sku = store.skus[1]
    oid = any_central.order(store, [(sku, 40)])["order_id"]
    ops = [device.op("order.claim", {"order_id": oid}), *_scans(device, store, sku, oid, 40)]
    first = device.push(*ops)
    assert [(r["seq"], r["status"]) for r in first] == [(op["seq"], "applied") for op in ops]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 40
    again = device.push(*ops)  # the answer was lost: the tablet sends the same ops again
    assert [(r["op_id"], r["status"]) for r in again] == [(op["op_id"], "duplicate") for op in ops]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 40


def test_a_part_that_cannot_be_written_leaves_the_parts_before_it_answered(
    any_central: Central, store: TestStore, device: RawDevice, lock_budget: Any
) -> None:
    # the tablet is revoked while its long push is being applied: the parts committed before
    # are answered (200, a shorter list, as a push that stopped early), none after applies
    from central.service.auth import revoke_device

    lock_budget(0.0)
    sku = store.skus[2]
    oid, scans = _claimed_with_scans(any_central, store, device, sku)
    answer: dict[str, Any] = {}

    def push() -> None:
        response = device.push_raw(scans)
        answer["status"], answer["body"] = response.status_code, response.json()

    pushing = threading.Thread(target=push)
    pushing.start()
    deadline = time.monotonic() + 60
    while any_central.get_order(oid)["lines"][0]["picked"] == 0:
        assert time.monotonic() < deadline, "the push never applied its first scan"
        time.sleep(0.005)
    app = any_central.server.app
    assert app is not None
    revoke_device(app.state.engine, device.device_id)  # central's own engine: its writers' queue
    revoked_while_pushing = pushing.is_alive()
    pushing.join(timeout=120)

    assert answer["status"] == 200
    results = answer["body"]["results"]
    assert revoked_while_pushing and 0 < len(results) < len(scans)
    assert [r["seq"] for r in results] == [op["seq"] for op in scans[: len(results)]]
    assert {r["status"] for r in results} == {"applied"}
    assert answer["body"]["next_expected_seq"] == results[-1]["seq"] + 1
    assert any_central.get_order(oid)["lines"][0]["picked"] == len(results)
    again = device.push_raw(scans[len(results) :])
    assert (again.status_code, again.json()["code"]) == (401, "DEVICE_REVOKED")
