"""Every op type of the wire contract is known at every place an op passes: roles, the
tablet's local apply, central's apply, the sync screen's words and the docs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fulfillment.model import Role
from fulfillment.picking import ORDER_RULES
from storeapp.local import LocalStore
from storeapp.viewmodels.sync_status import describe_op
from sync.protocol import OPS, PAYLOADS, Document, may_perform
from tests.support.central import Central, TestStore
from tests.support.device import RawDevice
from tests.support.faults import FaultyTransport
from tests.support.tablet import enroll_tablet
from tests.sync.conftest import MakeTablet

DOCS = Path(__file__).resolve().parents[2] / "docs" / "design-notes.md"


def samples(store: TestStore, order_id: str) -> dict[str, dict[str, Any]]:
    """A valid payload of each op type (a new type needs one here)."""
    sku = store.skus[0]
    line = {"order_id": order_id, "line_id": "1"}
    return {
        "order.claim": {"order_id": order_id},
        "order.release": {"order_id": order_id},
        "order.stage": {"order_id": order_id, "staging_location": "STAGE-1", "packages": 1},
        "order.ship": {"order_id": order_id, "carrier": "DHL", "tracking": "123456"},
        "order.handoff": {
            "order_id": order_id,
            "verified_by": "pickup_code",
            "lines": [{"line_id": "1", "qty": 1}],
        },
        "order.reject": {"order_id": order_id, "reason": "Shelf empty"},
        "line.reject": {**line, "qty": 1, "code": "damaged"},
        "order.notify": {"order_id": order_id},
        "order.contact": {"order_id": order_id, "phone": "+44 20 7946 0000"},
        "order.assign": {"order_id": order_id, "associate_id": "E1"},
        "order.prioritize": {"order_id": order_id, "priority": 5},
        "pick.scan": {**line, "gtin": store.gtins[sku]},
        "pick.unscan": {**line, "qty": 1},
        "pick.short": {**line, "qty": 1, "reason": "not_found"},
        "return.receive": {
            "return_id": "R-CAT-1",
            "order_id": order_id,
            "lines": [
                {
                    "line_id": "1",
                    "qty": 1,
                    "reason": "changed_mind",
                    "condition": "sellable",
                    "disposition": "restock",
                }
            ],
        },
        "return.override": {"return_id": "R-CAT-1", "reason": "Customer kept the receipt"},
        "count.record": {
            "count_id": "C-CAT-1",
            "sku": sku,
            "location": store.locations[sku],
            "qty": 3,
            "counted_at": datetime.now(UTC).isoformat(),
        },
        "count.approve": {"count_id": "C-CAT-1"},
        "count.recount": {"count_id": "C-CAT-1"},
        "stock.adjust": {
            "sku": sku,
            "location": store.locations[sku],
            "delta": 1,
            "reason": "Found one",
        },
        "exception.resolve": {"exception_id": "X-CAT-1", "note": "Checked the shelf"},
        "task.done": {"task_id": "T-CAT-1"},
        "inbound.count": {"shipment_id": "S-CAT-1", "sku": sku, "qty": 2, "damaged": 1},
        "inbound.carton": {"shipment_id": "S-CAT-1", "sscc": "376123450000000016"},
        "inbound.close": {"shipment_id": "S-CAT-1"},
        "transfer.create": {
            "transfer_id": "TR-CAT-1",
            "destination": "S-OTHER",
            "lines": [{"sku": sku, "qty": 1}],
        },
        "countplan.create": {
            "plan_id": "P-CAT-1",
            "name": "Catalogue check",
            "by": "list",
            "skus": [sku],
            "due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    }


def test_every_op_type_has_a_sample_payload_that_the_contract_accepts(
    store: TestStore,
) -> None:
    payloads = samples(store, "W-1")
    assert set(payloads) == set(PAYLOADS)
    for op_type, payload in payloads.items():
        PAYLOADS[op_type].model_validate(payload)


def test_every_op_type_is_allowed_to_some_role() -> None:
    for op_type in PAYLOADS:
        assert any(may_perform(role, op_type) for role in Role), f"{op_type}: nobody may do it"


def test_every_op_type_is_applied_on_the_tablet_not_refused_as_unknown(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 1)])
    tablet = make_tablet()
    tablet.sync()
    with tablet.local() as local:
        for op_type, payload in samples(store, order["order_id"]).items():
            got = local.act("M1", op_type, payload, datetime.now(UTC))
            assert got.code not in ("INVALID_OP", "INVALID_INPUT", "FORBIDDEN"), f"{op_type}: {got}"
        assert local.act("M1", "order.teleport", {}, datetime.now(UTC)).code == "INVALID_OP"


def test_every_op_type_is_applied_by_central_not_refused_as_unsupported(
    central: Central, store: TestStore
) -> None:
    order = central.order(store, [(store.skus[0], 1)])
    device = RawDevice(central, store)
    try:
        ops = samples(store, order["order_id"])
        results = device.push(*(device.op(t, p, actor="M1") for t, p in ops.items()))
    finally:
        device.close()
    assert len(results) == len(ops)
    for op_type, got in zip(ops, results, strict=True):
        assert got.get("code") not in ("NOT_SUPPORTED", "INVALID_OP", "FORBIDDEN"), (
            f"{op_type}: {got}"
        )


def test_every_op_type_is_told_in_words_on_the_sync_screen(store: TestStore) -> None:
    for op_type, payload in samples(store, "W-1").items():
        words = describe_op(op_type, payload)
        assert words and words != op_type and "." not in words.split()[0], f"{op_type} has no words"


def test_every_op_type_is_listed_in_the_design_notes_op_catalogue() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## The op catalogue", 1)[1].split("\n## ", 1)[0]
    entries = re.findall(r"^- `([a-z]+\.[a-z]+)`(.*)$", section, re.MULTILINE)
    assert {op_type for op_type, _ in entries} == set(OPS)
    for op_type, rest in entries:
        spec = OPS[op_type]
        assert ("(fact)" in rest) == spec.fact, f"{op_type}: the notes and OPS disagree on fact"
        assert ("manager only" in rest) == spec.manager_only, f"{op_type}: who may do it"


def test_every_op_on_an_order_has_its_one_rule_in_fulfillment() -> None:
    on_orders = {name for name, spec in OPS.items() if spec.document is Document.ORDER}
    assert on_orders == set(ORDER_RULES)


def test_a_manager_only_op_is_refused_to_an_associate_and_an_unknown_one_to_all() -> None:
    assert not may_perform(Role.ASSOCIATE, "stock.adjust")
    assert may_perform(Role.MANAGER, "stock.adjust")
    assert may_perform(Role.ASSOCIATE, "pick.scan")
    assert not may_perform(Role.MANAGER, "order.teleport")


def test_storeapp_sync_runs_one_pass_with_or_without_once(
    central: Central, store: TestStore, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from storeapp.cli import app

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    transport = FaultyTransport()
    enroll_tablet(central, store.store_id, data_dir / "store.db", transport, "tablet-1")
    transport.shutdown()
    order = central.order(store, [(store.skus[0], 1)])
    for args in (["--once"], []):
        done = CliRunner().invoke(app, ["sync", "--data-dir", str(data_dir), *args])
        assert done.exit_code == 0, done.output
        assert done.output.startswith("sync ok: pushed 0, pulled "), done.output
    with LocalStore(data_dir / "store.db") as local:
        assert local.order(order["order_id"]) is not None
