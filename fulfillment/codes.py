"""One code table for both ends: every per-op result code and manager-exception code.

In the manner of Kinto's `ERRORS`: `Code` names each situation once, `CODES` gives its
status where it is fixed (None when it depends on the op) and its meaning in words. The
tablet's local results and central's push results use these same codes for the same
situation; central's codes are the wire contract (PROTOCOL.md), so a code here is only
ever added. docs/errors.md lists exactly these (tests/fulfillment/test_codes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CODES", "LINE_CODES", "Code", "CodeInfo", "LineCode"]


class Code(StrEnum):
    # the op itself
    INVALID_OP = "INVALID_OP"
    OP_ID_REUSED = "OP_ID_REUSED"
    FORBIDDEN = "FORBIDDEN"
    QUARANTINED = "QUARANTINED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    CLOCK_SKEW = "CLOCK_SKEW"
    # the thing it names is not there
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    UNKNOWN_TASK = "UNKNOWN_TASK"
    UNKNOWN_RETURN = "UNKNOWN_RETURN"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    UNKNOWN_COUNT = "UNKNOWN_COUNT"
    UNKNOWN_EXCEPTION = "UNKNOWN_EXCEPTION"
    UNKNOWN_ASSOCIATE = "UNKNOWN_ASSOCIATE"
    # orders
    ALREADY_CLAIMED = "ALREADY_CLAIMED"
    NOT_YOURS = "NOT_YOURS"
    LINES_OPEN = "LINES_OPEN"
    NOTHING_PICKED = "NOTHING_PICKED"
    PARTIAL_NOT_ALLOWED = "PARTIAL_NOT_ALLOWED"
    NOT_READY = "NOT_READY"
    WRONG_ORDER_TYPE = "WRONG_ORDER_TYPE"
    NOT_EXPIRED = "NOT_EXPIRED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ORDER_EXPIRED = "ORDER_EXPIRED"
    ORDER_REJECTED = "ORDER_REJECTED"
    ORDER_CLOSED = "ORDER_CLOSED"
    WRONG_ITEM = "WRONG_ITEM"
    OVER_PICK = "OVER_PICK"
    NOTHING_TO_PUT_BACK = "NOTHING_TO_PUT_BACK"
    NOTHING_TO_SHORT = "NOTHING_TO_SHORT"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    INVALID_GTIN = "INVALID_GTIN"
    OVER_HANDOFF = "OVER_HANDOFF"
    ALREADY_HANDED_OVER = "ALREADY_HANDED_OVER"
    ALREADY_SHIPPED = "ALREADY_SHIPPED"
    HANDED_OVER_AFTER_CANCEL = "HANDED_OVER_AFTER_CANCEL"
    HANDED_OVER_AFTER_EXPIRY = "HANDED_OVER_AFTER_EXPIRY"
    SHIPPED_AFTER_CANCELLED = "SHIPPED_AFTER_CANCELLED"
    SHIPPED_AFTER_EXPIRED = "SHIPPED_AFTER_EXPIRED"
    SHIPPED_AFTER_REJECTED = "SHIPPED_AFTER_REJECTED"
    NOTHING_TO_REJECT = "NOTHING_TO_REJECT"
    ID_NOT_RECORDED = "ID_NOT_RECORDED"
    # returns
    DUPLICATE_RETURN = "DUPLICATE_RETURN"
    ALREADY_RETURNED = "ALREADY_RETURNED"
    NOTHING_TO_RETURN = "NOTHING_TO_RETURN"
    OUTSIDE_POLICY = "OUTSIDE_POLICY"
    RETURN_UNVERIFIED = "RETURN_UNVERIFIED"
    NOT_WAITING = "NOT_WAITING"
    SAME_PERSON = "SAME_PERSON"
    # counts
    DUPLICATE_COUNT = "DUPLICATE_COUNT"
    VARIANCE_OVER_THRESHOLD = "VARIANCE_OVER_THRESHOLD"
    COUNT_DISAGREES = "COUNT_DISAGREES"
    COUNT_DISPUTED = "COUNT_DISPUTED"
    # receiving and transfers
    UNKNOWN_SHIPMENT = "UNKNOWN_SHIPMENT"
    UNKNOWN_CARTON = "UNKNOWN_CARTON"
    RECEIPT_CLOSED = "RECEIPT_CLOSED"
    RECEIPT_DIFFERS = "RECEIPT_DIFFERS"
    UNKNOWN_STORE = "UNKNOWN_STORE"
    SAME_STORE = "SAME_STORE"
    # count plans
    DUPLICATE_PLAN = "DUPLICATE_PLAN"
    EMPTY_PLAN = "EMPTY_PLAN"
    # tasks and exceptions
    ALREADY_DONE = "ALREADY_DONE"
    NOT_OPEN = "NOT_OPEN"
    # the tablet alone: never on the wire
    INVALID_INPUT = "INVALID_INPUT"
    NOT_SAVED = "NOT_SAVED"
    # manager exceptions central opens on its own
    NEGATIVE_STOCK = "NEGATIVE_STOCK"


REJECTED, APPLIED, COMPENSATED = "rejected", "applied", "compensated"


@dataclass(frozen=True)
class CodeInfo:
    status: str | None  # the per-op status this code always comes with; None: it depends
    meaning: str


CODES: dict[Code, CodeInfo] = {
    Code.INVALID_OP: CodeInfo(REJECTED, "the op could not be understood"),
    Code.OP_ID_REUSED: CodeInfo(REJECTED, "the op's op_id was already used by another op"),
    Code.FORBIDDEN: CodeInfo(REJECTED, "the actor is not active staff, or the role may not"),
    Code.QUARANTINED: CodeInfo(REJECTED, "the op failed on the server 3 times"),
    Code.NOT_SUPPORTED: CodeInfo(REJECTED, "a valid op type this server does not handle yet"),
    Code.CLOCK_SKEW: CodeInfo(APPLIED, "occurred_at was clamped"),
    Code.UNKNOWN_ORDER: CodeInfo(None, "no such order in this store (or on this tablet)"),
    Code.UNKNOWN_TASK: CodeInfo(REJECTED, "no such task in this store (or on this tablet)"),
    Code.UNKNOWN_RETURN: CodeInfo(REJECTED, "no such return in this store (or on this tablet)"),
    Code.UNKNOWN_ITEM: CodeInfo(REJECTED, "no such sku in this store's catalogue"),
    Code.UNKNOWN_COUNT: CodeInfo(REJECTED, "no such count in this store (or on this tablet)"),
    Code.UNKNOWN_EXCEPTION: CodeInfo(REJECTED, "no such exception in this store"),
    Code.UNKNOWN_ASSOCIATE: CodeInfo(REJECTED, "assign to someone not on the staff"),
    Code.ALREADY_CLAIMED: CodeInfo(REJECTED, "another associate holds the order"),
    Code.NOT_YOURS: CodeInfo(REJECTED, "release by neither the holder nor a manager"),
    Code.LINES_OPEN: CodeInfo(REJECTED, "units still to pick or mark short"),
    Code.NOTHING_PICKED: CodeInfo(REJECTED, "nothing was picked"),
    Code.PARTIAL_NOT_ALLOWED: CodeInfo(REJECTED, "the order may not leave partly picked"),
    Code.NOT_READY: CodeInfo(REJECTED, "hand-over of an order not picked yet"),
    Code.WRONG_ORDER_TYPE: CodeInfo(REJECTED, "ship a pickup or hand over a shipment"),
    Code.NOT_EXPIRED: CodeInfo(REJECTED, "an expired-order action on an order still on hold"),
    Code.ORDER_CANCELLED: CodeInfo(None, "the order was cancelled"),
    Code.ORDER_EXPIRED: CodeInfo(None, "the order expired"),
    Code.ORDER_REJECTED: CodeInfo(None, "the order was sent back"),
    Code.ORDER_CLOSED: CodeInfo(None, "the order already left or was staged"),
    Code.WRONG_ITEM: CodeInfo(COMPENSATED, "the scanned product is not the line's"),
    Code.OVER_PICK: CodeInfo(COMPENSATED, "more units than the line still needed"),
    Code.NOTHING_TO_PUT_BACK: CodeInfo(COMPENSATED, "the fact changed nothing"),
    Code.NOTHING_TO_SHORT: CodeInfo(COMPENSATED, "the fact changed nothing"),
    Code.LINE_NOT_FOUND: CodeInfo(COMPENSATED, "the fact named no line of the order"),
    Code.INVALID_GTIN: CodeInfo(COMPENSATED, "the scanned code is not a GTIN"),
    Code.OVER_HANDOFF: CodeInfo(COMPENSATED, "more units handed over than were picked"),
    Code.ALREADY_HANDED_OVER: CodeInfo(COMPENSATED, "handed over twice"),
    Code.ALREADY_SHIPPED: CodeInfo(COMPENSATED, "shipped twice"),
    Code.HANDED_OVER_AFTER_CANCEL: CodeInfo(COMPENSATED, "handed over after a cancel"),
    Code.HANDED_OVER_AFTER_EXPIRY: CodeInfo(COMPENSATED, "handed over after expiry"),
    Code.SHIPPED_AFTER_CANCELLED: CodeInfo(COMPENSATED, "shipped after a cancel"),
    Code.SHIPPED_AFTER_EXPIRED: CodeInfo(COMPENSATED, "shipped after expiry"),
    Code.SHIPPED_AFTER_REJECTED: CodeInfo(COMPENSATED, "shipped after it was sent back"),
    Code.NOTHING_TO_REJECT: CodeInfo(REJECTED, "a line reject on a line with no unit left"),
    Code.ID_NOT_RECORDED: CodeInfo(COMPENSATED, "handed over without the ID the order needs"),
    Code.DUPLICATE_RETURN: CodeInfo(REJECTED, "a return number already recorded"),
    Code.ALREADY_RETURNED: CodeInfo(None, "more units than sold − already returned"),
    Code.NOTHING_TO_RETURN: CodeInfo(REJECTED, "a return with no unit to accept"),
    Code.OUTSIDE_POLICY: CodeInfo(APPLIED, "recorded; the refund waits for a manager"),
    Code.RETURN_UNVERIFIED: CodeInfo(COMPENSATED, "the order the return names is not here"),
    Code.NOT_WAITING: CodeInfo(REJECTED, "a decision on something already decided"),
    Code.SAME_PERSON: CodeInfo(REJECTED, "a manager deciding on their own work"),
    Code.DUPLICATE_COUNT: CodeInfo(REJECTED, "a count number already recorded"),
    Code.VARIANCE_OVER_THRESHOLD: CodeInfo(APPLIED, "recorded; posts after a manager decides"),
    Code.COUNT_DISAGREES: CodeInfo(COMPENSATED, "two counts disagree: blind recount"),
    Code.COUNT_DISPUTED: CodeInfo(REJECTED, "a disputed count can only be recounted"),
    Code.UNKNOWN_SHIPMENT: CodeInfo(None, "no such inbound shipment in this store"),
    Code.UNKNOWN_CARTON: CodeInfo(COMPENSATED, "a carton (SSCC) the shipment does not list"),
    Code.RECEIPT_CLOSED: CodeInfo(COMPENSATED, "counted after the receipt was closed"),
    Code.RECEIPT_DIFFERS: CodeInfo(APPLIED, "closed with over, short or damaged units"),
    Code.UNKNOWN_STORE: CodeInfo(REJECTED, "a transfer to a store central does not know"),
    Code.SAME_STORE: CodeInfo(REJECTED, "a transfer to the store it leaves from"),
    Code.DUPLICATE_PLAN: CodeInfo(REJECTED, "a count plan number already used"),
    Code.EMPTY_PLAN: CodeInfo(REJECTED, "a count plan that selects no place to count"),
    Code.ALREADY_DONE: CodeInfo(APPLIED, "task.done of a task already closed"),
    Code.NOT_OPEN: CodeInfo(REJECTED, "exception.resolve of an exception already settled"),
    Code.INVALID_INPUT: CodeInfo(REJECTED, "the tablet refused a payload before queueing it"),
    Code.NOT_SAVED: CodeInfo(REJECTED, "another op of the same gesture was refused"),
    Code.NEGATIVE_STOCK: CodeInfo(None, "a write left on-hand below zero"),
}


class LineCode(StrEnum):
    """Why one line of a till-sales batch (`POST /v1/oms/stores/{id}/sales`) was not recorded.
    The rest of the batch is; docs/errors.md lists exactly these."""

    INVALID_LINE = "INVALID_LINE"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    SOLD_IN_FUTURE = "SOLD_IN_FUTURE"
    REPEATED_LINE = "REPEATED_LINE"


LINE_CODES: dict[LineCode, str] = {
    LineCode.INVALID_LINE: "a field of the line is missing or wrong; the field is named",
    LineCode.UNKNOWN_ITEM: "the sku is not in this store's catalogue",
    LineCode.SOLD_IN_FUTURE: "sold_at is later than central's clock plus the clock skew allowed",
    LineCode.REPEATED_LINE: "the same sale_id and line earlier in this batch said something else",
}
