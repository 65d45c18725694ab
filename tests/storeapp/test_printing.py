"""The store's documents, printed from the tablet's replica: the text a person reads and the
codes a scanner reads."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from fulfillment.returns import (
    Condition,
    Disposition,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnState,
)
from storeapp.local import LocalStore
from storeapp.printing import PDF, ZPL, DocKind, NothingToPrint, kinds_for, printable
from tests.storeapp.builders import T0, Feed, order_doc
from tests.support.printed import codes, text


def _load(store: LocalStore, feed: Feed, *changes: Any) -> None:
    store.apply_pull(feed.page(*changes))


def _values(pdf: bytes) -> list[str]:
    return [value for _, value in codes(pdf)]


def test_a_pick_list_walks_the_store_and_has_a_barcode_per_tote_and_per_order(
    store: LocalStore, feed: Feed
) -> None:
    ana: dict[str, Any] = {"assignee": "E1", "assignee_name": "Ana", "state": "picking"}
    _load(
        store,
        feed,
        feed.change("order", "W-1", order_doc("W-1", [("1", "BOWL", 1), ("2", "DOG2", 2)], **ana)),
        feed.change("order", "W-2", order_doc("W-2", [("1", "DOG2", 1), ("2", "CAT1", 3)], **ana)),
        feed.change("order", "W-3", order_doc("W-3", [("1", "DOG12", 1)])),  # nobody holds it
    )
    doc = printable(store, "picklist", "W-2", T0)
    words = text(doc.content)
    assert doc.media_type == PDF and "2 order(s), 7 unit(s)" in words
    # walking order: A-12 (Dog Food 2 kg, both orders) before B-03 before C-01
    assert words.index("A-12") < words.index("B-03") < words.index("C-01")
    assert "Tote 1: 2, Tote 2: 1" in words
    assert "W-3" not in words
    assert _values(doc.content) == ["Tote 1", "W-1", "Tote 2", "W-2"]


def test_an_order_nobody_holds_prints_a_pick_list_of_its_own(store: LocalStore, feed: Feed) -> None:
    _load(store, feed, feed.change("order", "W-3", order_doc("W-3", [("1", "DOG12", 2)])))
    doc = printable(store, DocKind.PICKLIST, "W-3", T0)
    assert "1 order(s), 2 unit(s)" in text(doc.content)
    assert _values(doc.content) == ["Tote 1", "W-3"]


def test_a_packing_slip_lists_what_was_sent_what_was_short_and_a_returns_qr(
    store: LocalStore, feed: Feed
) -> None:
    doc_ = order_doc(
        "W-5",
        [("1", "DOG2", 2), ("2", "BOWL", 1)],
        type="ship_from_store",
        state="picked",
        picked={"1": 2},
    )
    doc_["lines"][1]["short"] = 1
    _load(store, feed, feed.change("order", "W-5", doc_))
    slip = printable(store, "slip", "W-5", T0).content
    words = text(slip)
    sent, short = words.split("Not available")
    assert "Dog Food 2 kg DOG2 2 2" in sent and "Steel Bowl" not in sent
    assert "Steel Bowl BOWL 1" in short
    assert "service desk" in short
    assert codes(slip) == [("QR Code", "W-5")]


def test_a_shelf_tag_shows_the_shelf_a_short_name_and_the_pickup_code_as_a_barcode(
    store: LocalStore, feed: Feed
) -> None:
    doc_ = order_doc(
        "W-6",
        [("1", "CAT1", 1)],
        state="staged",
        picked={"1": 1},
        pickup_code="PK7Q2",
        customer=("Zoë Van Dyke", "z@example.com", "1"),
    )
    doc_["staging_location"] = "SHELF-4"
    _load(store, feed, feed.change("order", "W-6", doc_))
    tag = printable(store, "tag", "W-6", T0).content
    words = text(tag)
    assert "Order W-6" in words and "Zoë D." in words and "Shelf SHELF-4" in words
    assert "Van Dyke" not in words  # the shelf is seen by every customer passing
    assert _values(tag) == ["PK7Q2", "W-6"]


def _return(return_id: str, requested: bool = True) -> dict[str, Any]:
    return Return(
        return_id=return_id,
        order_id="W-7",
        state=ReturnState.COMPLETED if requested else ReturnState.AWAITING_OVERRIDE,
        lines=(
            ReturnLine(
                line_id="1",
                sku="DOG2",
                name="Dog Food 2 kg",
                qty=2,
                refused=1,
                price=Decimal("9.99"),
                reason=ReturnReason.DAMAGED,
                condition=Condition.DAMAGED,
                disposition=Disposition.DAMAGED_BIN,
                location="DAMAGED-BIN",
            ),
        ),
        refund_amount=Decimal("9.99"),
        tender="gift_card",
        refund_requested=requested,
        received_by="E1",
        received_by_name="Ana",
        received_at=T0,
    ).model_dump(mode="json")


def test_a_return_receipt_says_what_came_back_and_the_refund_to_which_tender(
    store: LocalStore, feed: Feed
) -> None:
    _load(
        store,
        feed,
        feed.change("return", "R-1", _return("R-1")),
        feed.change("return", "R-2", _return("R-2", requested=False)),
    )
    by_order = printable(store, "receipt", "W-7", T0).content
    words = text(by_order)
    assert "Return receipt - R-1" in words and "Return receipt - R-2" in words
    assert "Dog Food 2 kg DOG2 1 damaged damaged DAMAGED-BIN" in words
    assert "1 unit(s) more than were sold" in words
    assert "Refund requested: 9.99 to the gift card" in words
    assert "Refund of 9.99 waits for a manager" in words
    assert _values(by_order) == ["R-1", "R-2"]
    one = printable(store, "receipt", "R-2", T0).content
    assert "R-1" not in text(one) and _values(one) == ["R-2"]


def test_the_shipping_label_is_the_oms_s_when_it_attached_one(
    store: LocalStore, feed: Feed
) -> None:
    order = order_doc("W-8", [("1", "DOG2", 1)], type="ship_from_store", state="staged")
    zpl = b"^XA^FO50,50^BCN,100^FD1Z999^FS^XZ"
    _load(
        store,
        feed,
        feed.change("order", "W-8", order),
        feed.change(
            "label",
            "W-8",
            {"order_id": "W-8", "format": "zpl", "content_base64": base64.b64encode(zpl).decode()},
        ),
    )
    label = printable(store, "label", "W-8", T0)
    assert (label.media_type, label.content, label.filename) == (ZPL, zpl, "label-W-8.zpl")
    in_browser = printable(store, "label", "W-8", T0, pdf_only=True)
    assert in_browser.media_type == PDF and "ZPL" in in_browser.note


def test_without_an_oms_label_the_label_carries_the_tracking_number_typed_at_ship(
    store: LocalStore, feed: Feed
) -> None:
    order = order_doc("W-9", [("1", "DOG2", 1)], type="ship_from_store", state="shipped")
    order.update(carrier="DPD", tracking="15501234567890", packages=2)
    _load(store, feed, feed.change("order", "W-9", order))
    label = printable(store, "label", "W-9", T0)
    assert label.media_type == PDF
    assert "DPD tracking" in text(label.content) and "2 package(s)" in text(label.content)
    assert _values(label.content) == ["15501234567890", "W-9"]


def test_a_document_that_does_not_exist_is_a_sentence(store: LocalStore, feed: Feed) -> None:
    _load(store, feed, feed.change("order", "W-1", order_doc("W-1", [("1", "DOG2", 1)])))
    cases = [
        (("slip", "W-404"), "Order W-404 is not on this tablet."),
        (("tag", "W-404"), "Order W-404 is not on this tablet."),
        (("label", "W-1"), "Order W-1 is a pickup: it has no shipping label."),
        (("receipt", "W-1"), "No return of order W-1 (nor return W-1) on this tablet."),
        (
            ("invoice", "W-1"),
            "No document called 'invoice': print one of picklist, slip, tag, receipt, label.",
        ),
    ]
    for (kind, doc_id), sentence in cases:
        with pytest.raises(NothingToPrint) as raised:
            printable(store, kind, doc_id, T0)
        assert str(raised.value) == sentence


def test_the_dialog_lists_the_documents_an_order_has(store: LocalStore, feed: Feed) -> None:
    _load(
        store,
        feed,
        feed.change("order", "P-1", order_doc("P-1", [("1", "DOG2", 1)])),
        feed.change("order", "S-1", order_doc("S-1", [("1", "DOG2", 1)], type="ship_from_store")),
    )
    pickup, ship = store.order("P-1"), store.order("S-1")
    assert pickup is not None and ship is not None
    assert kinds_for(pickup, has_returns=False) == ["picklist", "slip", "tag"]
    assert kinds_for(ship, has_returns=True) == ["picklist", "slip", "label", "receipt"]
