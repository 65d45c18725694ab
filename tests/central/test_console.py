"""What central gives the manager's console, on SQLite and PostgreSQL: the store's tablets
and their sync health (GET /v1/sync/devices), and settling an exception
(`exception.resolve`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def pull_saying(device: RawDevice, **status: object) -> None:
    body = {"cursor": None, "limit": 10, "status": status}
    ok(device.http.post("/v1/sync/pull", json=body))


def test_the_device_list_shows_each_tablets_outbox_and_last_sync(
    any_central: Central, store: TestStore
) -> None:
    desk, aisle = RawDevice(any_central, store, "desk"), RawDevice(any_central, store, "aisle-3")
    elsewhere = RawDevice(any_central, any_central.new_store(), "other store")
    oldest = datetime.now(UTC) - timedelta(hours=3)
    try:
        pull_saying(aisle, pending=37, oldest_pending_at=oldest.isoformat(), app_version="1.2.0")
        pull_saying(desk, pending=0)
        listed = ok(desk.http.get("/v1/sync/devices"))
        assert [d["name"] for d in listed] == ["aisle-3", "desk"]  # longest unseen first
        by_name = {d["name"]: d for d in listed}
        assert set(by_name) == {"desk", "aisle-3"}  # this store's tablets only
        aisle_seen = by_name["aisle-3"]
        assert (aisle_seen["pending"], aisle_seen["app_version"]) == (37, "1.2.0")
        assert datetime.fromisoformat(aisle_seen["oldest_pending_at"]) == oldest
        assert aisle_seen["last_seen_at"] is not None and not aisle_seen["revoked"]
        assert by_name["desk"]["pending"] == 0
    finally:
        for device in (desk, aisle, elsewhere):
            device.close()


def test_an_integration_key_cannot_read_the_device_list(
    any_central: Central, store: TestStore
) -> None:
    refused = any_central.oms.get("/v1/sync/devices")
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"


def test_a_manager_settles_an_exception_once_and_an_associate_may_not(
    any_central: Central, store: TestStore
) -> None:
    tablet = RawDevice(any_central, store, "desk")
    try:
        receipt = {"return_id": f"R-{uuid.uuid4().hex[:8]}", "receipt": "W-404"}
        unverified = {
            **receipt,
            "lines": [
                {
                    "sku": store.skus[0],
                    "qty": 1,
                    "reason": "changed_mind",
                    "condition": "sellable",
                    "disposition": "restock",
                }
            ],
        }
        assert tablet.push_one("return.receive", unverified)["code"] == "RETURN_UNVERIFIED"
        path = f"/v1/oms/stores/{store.store_id}/exceptions"
        [exception] = ok(any_central.oms.get(path))
        xid = exception["exception_id"]

        by_associate = tablet.push_one("exception.resolve", {"exception_id": xid, "note": "ok"})
        assert (by_associate["status"], by_associate["code"]) == ("rejected", "FORBIDDEN")
        settle = {"exception_id": xid, "note": "receipt checked at the desk"}
        done = tablet.push_one("exception.resolve", settle, actor="M1")
        assert done["status"] == "applied", done
        assert ok(any_central.oms.get(path)) == []  # open ones only
        again = tablet.push_one("exception.resolve", settle, actor="M1")
        assert (again["status"], again["code"]) == ("rejected", "NOT_OPEN")
        unknown = tablet.push_one(
            "exception.resolve", {"exception_id": "X-0", "note": "?"}, actor="M1"
        )
        assert (unknown["status"], unknown["code"]) == ("rejected", "UNKNOWN_EXCEPTION")

        docs = [c for c in tablet.pull_all() if c["kind"] == "exception" and c["id"] == xid]
        assert docs[-1]["data"]["state"] == "resolved"
        assert docs[-1]["data"]["resolved_by"] == "M1"
        assert docs[-1]["data"]["resolution"] == "receipt checked at the desk"
    finally:
        tablet.close()


def test_a_managers_override_settles_the_exception_its_return_raised(
    any_central: Central, store: TestStore
) -> None:
    tablet = RawDevice(any_central, store, "desk")
    return_id = f"R-{uuid.uuid4().hex[:8]}"
    line = {"sku": store.skus[0], "qty": 1, "reason": "changed_mind"}
    line |= {"condition": "sellable", "disposition": "restock"}
    try:
        received = tablet.push_one(
            "return.receive", {"return_id": return_id, "receipt": "W-404", "lines": [line]}
        )
        assert received["code"] == "RETURN_UNVERIFIED"
        path = f"/v1/oms/stores/{store.store_id}/exceptions"
        [exception] = ok(any_central.oms.get(path))
        approve = {"return_id": return_id, "reason": "receipt from the old shop system"}
        assert tablet.push_one("return.override", approve, actor="M1")["status"] == "applied"
        assert ok(any_central.oms.get(path)) == []
        settled = [
            c["data"]
            for c in tablet.pull_all()
            if c["kind"] == "exception" and c["id"] == exception["exception_id"]
        ][-1]
        assert (settled["state"], settled["resolved_by"]) == ("resolved", "M1")
        assert settled["resolution"] == (
            f"Return {return_id} approved by Maria: receipt from the old shop system"
        )
    finally:
        tablet.close()
