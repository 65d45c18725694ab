"""The wire contract between a store tablet and central (PROTOCOL.md).

Requests are `extra="forbid"`; responses the tablet parses are
`extra="ignore"` so a newer server may add fields. Change the format only by
adding optional fields or a new `type_v`.

Push envelopes are parsed in two steps: `RawEnvelope` (or, failing that,
`LooseEnvelope`: only an op without a usable `op_id` or `seq` makes the whole
push a 422) and then `validate_payload` per op (a bad envelope, type or payload
makes only that op `rejected INVALID_OP`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, Union, cast
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from fulfillment import pins
from fulfillment.barcodes import InvalidBarcode, normalize_gtin
from fulfillment.model import OrderType, Policy, Role, ShortReason
from fulfillment.plans import AbcClass, PlanBy
from fulfillment.receiving import parse_sscc
from fulfillment.returns import Condition, Disposition, ReturnReason

__all__ = [
    "ADDED_OPTIONAL",
    "INT32_MAX",
    "MAX_INSTANT",
    "MAX_PUSH_BYTES",
    "MAX_PUSH_OPS",
    "MIN_INSTANT",
    "OPS",
    "PLAIN_PATTERN",
    "Change",
    "DeviceHealth",
    "DeviceStatus",
    "Document",
    "EnrollRequest",
    "EnrollResponse",
    "ErrorBody",
    "Instant",
    "LooseEnvelope",
    "Op",
    "OpResult",
    "OpSpec",
    "PullRequest",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "RawEnvelope",
    "ReplicaKind",
    "ReplicaReport",
    "Text",
    "may_perform",
    "op_error",
    "validate_payload",
]

MAX_PUSH_OPS = 500
MAX_PUSH_BYTES = 1024 * 1024


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _gtin(value: str) -> str:
    try:
        return normalize_gtin(value)
    except InvalidBarcode as exc:
        raise ValueError(str(exc)) from exc


# --- bounded values: what both databases (SQLite and PostgreSQL) and both ends can hold ---

INT32_MAX = 2**31 - 1  # an Integer column on PostgreSQL
MIN_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive: the last instant is in 2199

# NUL cannot be stored in a PostgreSQL text; no other control character belongs in an id or
# a name; a lone surrogate (JSON "\ud800") cannot be encoded for either database.
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
PLAIN_PATTERN = "^[^\\x00-\\x1f\\x7f]*$"  # the same rules, as the OpenAPI document says them
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL or a line break)")
    return value


def _text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError(
            "must not contain control characters (such as NUL) other than tab and line breaks"
        )
    return value


def _instant(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_INSTANT <= utc < MAX_INSTANT:
        raise ValueError("must lie between 2000-01-01 and 2199-12-31 (UTC)")
    return value


def _instant_or_none(value: datetime | None) -> datetime | None:
    try:
        return None if value is None else _instant(value)
    except ValueError:
        return None


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone, such as Europe/London or UTC") from None
    return value


def _web_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// address")
    if any(c.isspace() for c in value):
        raise ValueError("must be an address without spaces")
    return value


# A string without control characters (ids, names, codes, places): bound it where used.
Plain = Annotated[str, AfterValidator(_plain), Field(json_schema_extra={"pattern": PLAIN_PATTERN})]
# Free text a person typed: tab and newline allowed, other control characters not.
FreeText = Annotated[str, AfterValidator(_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]

Gtin = Annotated[Plain, Field(min_length=1, max_length=100), AfterValidator(_gtin)]
Id = Annotated[Plain, Field(min_length=1, max_length=64)]
Label = Annotated[Plain, Field(min_length=1, max_length=40)]  # a location, a carrier
Reason = Annotated[FreeText, Field(min_length=1, max_length=200)]
Text = Annotated[FreeText, Field(max_length=500)]
Qty = Annotated[int, Field(gt=0, le=9999)]
# An aware datetime whose UTC value lies in [2000-01-01, 2200-01-01): a year 1 or 9999 with an
# offset is a 422 here, not an OverflowError on a tablet.
Instant = Annotated[AwareDatetime, AfterValidator(_instant)]
# What a tablet says of its own clock, for information only: a time outside that range is
# dropped (None), never refused, so a tablet whose clock is wrong still pulls.
ReportedInstant = Annotated[AwareDatetime | None, AfterValidator(_instant_or_none)]
TimeZone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        json_schema_extra={
            "pattern": "^[A-Za-z][A-Za-z0-9_+\\-/]*$",
            "examples": ["Europe/London"],
        },
    ),
    AfterValidator(_zone),
]
WebUrl = Annotated[
    Plain,
    Field(max_length=2048, json_schema_extra={"pattern": "^https?://\\S+$", "format": "uri"}),
    AfterValidator(_web_url),
]


# --- errors ---------------------------------------------------------------------


class ErrorBody(Response):
    """Every 4xx/5xx body: a code from the table in docs/errors.md and a sentence."""

    code: str
    message: str
    expected_seq: int | None = None
    errors: list[dict[str, Any]] | None = None


# --- enrollment -----------------------------------------------------------------


class EnrollRequest(Request):
    code: Annotated[Plain, Field(min_length=4, max_length=64)]
    device_name: Annotated[Plain, Field(min_length=1, max_length=80)]
    app_version: Annotated[Plain, Field(max_length=40)] | None = None


class EnrollResponse(Response):
    device_id: str
    store_id: str
    token: str


# --- op payloads ----------------------------------------------------------------


class OrderRef(Request):
    order_id: Id


class PickScan(Request):
    order_id: Id
    line_id: Id
    gtin: Gtin
    qty: Qty = 1
    location: Annotated[Plain, Field(max_length=40)] = ""


class PickUnscan(Request):
    order_id: Id
    line_id: Id
    qty: Qty = 1


class PickShort(Request):
    order_id: Id
    line_id: Id
    qty: Qty
    reason: ShortReason


class OrderStage(Request):
    order_id: Id
    staging_location: Label
    packages: Annotated[int, Field(ge=0, le=99)] = 0


class OrderShip(Request):
    order_id: Id
    carrier: Label
    tracking: Annotated[Plain, Field(min_length=4, max_length=64)]
    packages: Annotated[int, Field(ge=1, le=99)] = 1


class HandoffLine(Request):
    line_id: Id
    qty: Qty


class HandoffProof(Request):
    """Who collected a pickup order (issue #11): the customer or the alternate the OMS named,
    with the ID's type and its last digits where the store's policy asks (never the whole
    number)."""

    collected_by: Literal["customer", "alternate"] = "customer"
    name: Annotated[Plain, Field(max_length=120)] = ""
    id_type: Literal["driving_licence", "passport", "id_card", "other"] | None = None
    id_last4: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{2,4}$")] | None = None

    @model_validator(mode="after")
    def _id_with_its_type(self) -> HandoffProof:
        if self.id_last4 and not self.id_type:
            raise ValueError("the ID's last digits need the ID's type")
        return self


class OrderHandoff(Request):
    order_id: Id
    verified_by: Literal["pickup_code", "id"]
    lines: Annotated[list[HandoffLine], Field(min_length=1, max_length=200)]
    proof: HandoffProof | None = None  # added (issue #11): older tablets send none


ReasonCode = Annotated[Plain, Field(min_length=1, max_length=40)]


class OrderReject(Request):
    order_id: Id
    reason: Reason
    code: ReasonCode | None = None  # added (issue #11): one of the store's reject reasons


class LineReject(Request):
    """Reject some units of one line for one of the store's reasons (issue #11)."""

    order_id: Id
    line_id: Id
    qty: Qty
    code: ReasonCode
    note: Text = ""


class OrderContact(Request):
    """Correct the customer's contact (issue #11): the OMS is told, it tells the customer."""

    order_id: Id
    email: Annotated[Plain, Field(max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[Plain, Field(max_length=40, pattern=r"^$|^[+0-9 ()./-]{4,40}$")] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> OrderContact:
        if self.email is None and self.phone is None:
            raise ValueError("give the new email or phone")
        return self


class OrderAssign(Request):
    order_id: Id
    associate_id: Id


class OrderPrioritize(Request):
    order_id: Id
    priority: Annotated[int, Field(ge=0, le=9)]


class ReturnLineIn(Request):
    """One line of a return: the order's line, or a sku when the order is not on the tablet."""

    line_id: Id | None = None
    sku: Id | None = None
    qty: Qty
    reason: ReturnReason
    note: Text = ""
    condition: Condition
    disposition: Disposition

    @model_validator(mode="after")
    def _names_a_line(self) -> ReturnLineIn:
        if not self.line_id and not self.sku:
            raise ValueError("a return line needs its line_id or a sku")
        if self.disposition is Disposition.RESTOCK and self.condition is not Condition.SELLABLE:
            raise ValueError(f"only sellable goods can be restocked, not {self.condition} ones")
        return self


class ReturnReceive(Request):
    return_id: Id
    order_id: Id | None = None
    receipt: Id | None = None  # the order number or receipt typed when the order is not there
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=200)]
    refund: Literal["original_tender"] = "original_tender"

    @model_validator(mode="after")
    def _names_the_sale(self) -> ReturnReceive:
        if not self.order_id and not self.receipt:
            raise ValueError("a return needs the order_id or the receipt it was bought on")
        if not self.order_id and any(not x.sku for x in self.lines):
            raise ValueError("a return on the receipt alone names each line by its sku")
        return self


class ReturnOverride(Request):
    return_id: Id
    reason: Reason


class CountRecord(Request):
    """A blind count: what was on the shelf at `counted_at` (zero is a count too)."""

    count_id: Id
    task_id: Id | None = None
    sku: Id
    location: Label
    qty: Annotated[int, Field(ge=0, le=99999)]
    # any aware time: a tablet's wrong clock must not refuse a count; central clamps it into
    # the window it accepts `occurred_at` in, with CLOCK_SKEW
    counted_at: AwareDatetime


class CountDecision(Request):
    count_id: Id


class StockAdjust(Request):
    sku: Id
    location: Label
    delta: Annotated[int, Field(ge=-9999, le=9999)]
    reason: Reason

    @model_validator(mode="after")
    def _moves_something(self) -> StockAdjust:
        if self.delta == 0:
            raise ValueError("an adjustment of 0 units changes nothing")
        return self


class ExceptionResolve(Request):
    """A manager settles an exception: what was done about it, in words."""

    exception_id: Id
    note: Annotated[FreeText, Field(min_length=1, max_length=500)]


class TaskDone(Request):
    task_id: Id
    note: Text = ""


def _sscc(value: str) -> str:
    found = parse_sscc(value)
    if found is None:
        raise ValueError("must be an SSCC: 18 digits with a right check digit (or AI 00)")
    return found


Sscc = Annotated[Plain, Field(min_length=18, max_length=24), AfterValidator(_sscc)]
Delta = Annotated[int, Field(ge=-9999, le=9999)]


class InboundCount(Request):
    """Units of one sku counted on an inbound shipment (negative: a miscount taken off);
    `damaged`: how many more of them are damaged (negative: not damaged after all)."""

    shipment_id: Id
    sku: Id
    qty: Delta = 0
    damaged: Delta = 0

    @model_validator(mode="after")
    def _counts_something(self) -> InboundCount:
        if self.qty == 0 and self.damaged == 0:
            raise ValueError("a count of 0 units and 0 damaged changes nothing")
        return self


class InboundCarton(Request):
    shipment_id: Id
    sscc: Sscc


class InboundRef(Request):
    shipment_id: Id


class TransferLineIn(Request):
    sku: Id
    qty: Qty


class TransferCreate(Request):
    """A manager sends stock to another store: picked and shipped like a parcel."""

    transfer_id: Id
    destination: Id  # the store it goes to
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=200)]
    due_at: Instant | None = None


class CountPlanCreate(Request):
    """A manager's plan of blind counts (issue #12). `by` names the selection and the fields
    it needs: `location_range` (location_from, location_to: aisle/bay, e.g. "A-01" … "A-03"),
    `category`, `abc` (abc_class over the units moved in the last `days`), `doubtful`
    (negative or doubtful stock: nothing more), `list` (skus and/or places). Central makes
    the tasks: the ABC class needs its ledger."""

    plan_id: Id
    name: Annotated[Plain, Field(min_length=1, max_length=80)]
    by: PlanBy
    location_from: Label | None = None
    location_to: Label | None = None
    category: Annotated[Plain, Field(min_length=1, max_length=60)] | None = None
    abc_class: AbcClass | None = None
    days: Annotated[int, Field(ge=1, le=365)] = 30
    skus: Annotated[list[Id], Field(max_length=500)] = []
    places: Annotated[list[Label], Field(max_length=200)] = []
    due_at: Instant
    assignees: Annotated[list[Id], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _names_its_selection(self) -> CountPlanCreate:
        if self.by is PlanBy.LOCATION_RANGE and not self.location_from:
            raise ValueError("a plan by location range needs location_from (and location_to)")
        if self.by is PlanBy.CATEGORY and not self.category:
            raise ValueError("a plan by category needs the category")
        if self.by is PlanBy.ABC and self.abc_class is None:
            raise ValueError("a plan by ABC class needs abc_class (A, B or C)")
        if self.by is PlanBy.LIST and not self.skus and not self.places:
            raise ValueError("a plan by list needs skus or places")
        if len(set(self.assignees)) != len(self.assignees):
            raise ValueError("an assignee is named twice")
        return self


class Document(StrEnum):
    """What an op acts on: each end has one apply step per document kind."""

    ORDER = "order"
    RETURN = "return"
    COUNT = "count"
    STOCK = "stock"
    EXCEPTION = "exception"
    TASK = "task"
    INBOUND = "inbound"
    TRANSFER = "transfer"
    COUNT_PLAN = "count_plan"


@dataclass(frozen=True)
class OpSpec:
    """All the contract knows about one op type (PROTOCOL.md, "Op catalogue").

    `fact`: a physical fact, never refused for the state it finds: the tablet queues it even
    where its local rule refuses it or lacks the document, and central compensates instead of
    rejecting. `key`: the payload field naming the document (None: the document is named by
    several fields, as `sku`@`location`). `words`: the sync screen's sentence, a format string
    over the payload's fields and the derived `{thing}`, `{item}`, `{units}`, `{parcel}`, `{sale}`
    (storeapp/viewmodels/sync_status.py fills them)."""

    name: str
    payload: type[Request]
    document: Document
    key: str | None
    words: str
    fact: bool = False
    manager_only: bool = False
    version: int = 1

    def may_perform(self, role: Role | str) -> bool:
        return Role(role) is Role.MANAGER or not self.manager_only


def _ops(*specs: OpSpec) -> dict[str, OpSpec]:
    return {spec.name: spec for spec in specs}


_ORDER, _RETURN, _COUNT = Document.ORDER, Document.RETURN, Document.COUNT

OPS: Mapping[str, OpSpec] = MappingProxyType(
    _ops(
        OpSpec("order.claim", OrderRef, _ORDER, "order_id", "Claim of order {order_id}"),
        OpSpec("order.release", OrderRef, _ORDER, "order_id", "Release of order {order_id}"),
        OpSpec(
            "order.stage",
            OrderStage,
            _ORDER,
            "order_id",
            "Staging of order {order_id} at {staging_location}",
        ),
        OpSpec("order.ship", OrderShip, _ORDER, "order_id", "Shipment of order {order_id}{parcel}"),
        OpSpec(
            "order.handoff",
            OrderHandoff,
            _ORDER,
            "order_id",
            "Hand-over of {units} item(s) of order {order_id}",
        ),
        OpSpec("order.reject", OrderReject, _ORDER, "order_id", "Sending back order {order_id}"),
        OpSpec(
            "line.reject",
            LineReject,
            _ORDER,
            "order_id",
            "Rejection of {qty} × {thing} on order {order_id}",
        ),
        OpSpec(
            "order.notify",
            OrderRef,
            _ORDER,
            "order_id",
            "Ready-for-pickup notice again for order {order_id}",
        ),
        OpSpec(
            "order.contact", OrderContact, _ORDER, "order_id", "New contact for order {order_id}"
        ),
        OpSpec(
            "order.assign",
            OrderAssign,
            _ORDER,
            "order_id",
            "Assignment of order {order_id} to {associate_id}",
            manager_only=True,
        ),
        OpSpec(
            "order.prioritize",
            OrderPrioritize,
            _ORDER,
            "order_id",
            "Priority {priority} for order {order_id}",
            manager_only=True,
        ),
        OpSpec(
            "pick.scan",
            PickScan,
            _ORDER,
            "order_id",
            "Pick of {qty} × {thing} for order {order_id}",
            fact=True,
        ),
        OpSpec(
            "pick.unscan",
            PickUnscan,
            _ORDER,
            "order_id",
            "Put-back of {qty} × {thing} from order {order_id}",
            fact=True,
        ),
        OpSpec(
            "pick.short",
            PickShort,
            _ORDER,
            "order_id",
            "Short of {qty} × {thing} on order {order_id}",
            fact=True,
        ),
        OpSpec(
            "return.receive",
            ReturnReceive,
            _RETURN,
            "return_id",
            "Return {return_id} of {units} item(s) from order {sale}",
            fact=True,
        ),
        OpSpec(
            "return.override",
            ReturnOverride,
            _RETURN,
            "return_id",
            "Manager's approval of return {return_id}",
            manager_only=True,
        ),
        OpSpec(
            "count.record",
            CountRecord,
            _COUNT,
            "count_id",
            "Count of {item} at {location}",
            fact=True,
        ),
        OpSpec(
            "count.approve",
            CountDecision,
            _COUNT,
            "count_id",
            "Manager's approval of count {count_id}",
            manager_only=True,
        ),
        OpSpec(
            "count.recount",
            CountDecision,
            _COUNT,
            "count_id",
            "Recount asked for count {count_id}",
            manager_only=True,
        ),
        OpSpec(
            "stock.adjust",
            StockAdjust,
            Document.STOCK,
            None,
            "Stock adjustment of {item} at {location}",
            manager_only=True,
        ),
        OpSpec(
            "exception.resolve",
            ExceptionResolve,
            Document.EXCEPTION,
            "exception_id",
            "Exception settled",
            manager_only=True,
        ),
        OpSpec("task.done", TaskDone, Document.TASK, "task_id", "Task marked done"),
        OpSpec(
            "inbound.count",
            InboundCount,
            Document.INBOUND,
            "shipment_id",
            "Receiving count of {item} on shipment {shipment_id}",
            fact=True,
        ),
        OpSpec(
            "inbound.carton",
            InboundCarton,
            Document.INBOUND,
            "shipment_id",
            "Carton {sscc} of shipment {shipment_id} received",
            fact=True,
        ),
        OpSpec(
            "inbound.close",
            InboundRef,
            Document.INBOUND,
            "shipment_id",
            "Receipt of shipment {shipment_id} closed",
        ),
        OpSpec(
            "transfer.create",
            TransferCreate,
            Document.TRANSFER,
            "transfer_id",
            "Transfer {transfer_id} to store {destination}",
            manager_only=True,
        ),
        OpSpec(
            "countplan.create",
            CountPlanCreate,
            Document.COUNT_PLAN,
            "plan_id",
            "Count plan \u201c{name}\u201d",
            manager_only=True,
        ),
    )
)
"""The op catalogue: one entry per op type; both ends apply an op through its entry."""

# optional payload fields added after a type shipped: a tablet leaves them out when empty,
# so its op is exactly what a server that predates them reads (extra="forbid")
ADDED_OPTIONAL: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"order.handoff": ("proof",), "order.reject": ("code",)}
)

PAYLOADS: Mapping[str, type[Request]] = MappingProxyType(
    {op_type: spec.payload for op_type, spec in OPS.items()}
)


def may_perform(role: Role | str, op_type: str) -> bool:
    """Whether someone of `role` may perform `op_type` (DOMAIN.md, Roles); an unknown type: no."""
    spec = OPS.get(op_type)
    return spec is not None and spec.may_perform(role)


# --- the envelope ---------------------------------------------------------------


class RawEnvelope(Request):
    """An op as the push body must carry it; `payload` is checked per type later."""

    op_id: UUID
    device_id: Id
    seq: Annotated[int, Field(ge=1)]
    actor_id: Id
    type: Annotated[str, Field(min_length=1, max_length=40)]
    type_v: Annotated[int, Field(ge=1)] = 1
    payload: dict[str, Any]
    occurred_at: AwareDatetime
    base_seq: Annotated[int, Field(ge=0)] | None = None


_MARKS = re.compile(r"[\x00-\x1f\x7f]+")


def _shown(value: Any, limit: int = 60) -> str:
    """A client's value quoted in a sentence: printable, and never longer than `limit`."""
    text = _MARKS.sub(" ", value if isinstance(value, str) else repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LooseEnvelope(Request):
    """An op that names its `op_id` and `seq` but whose envelope is not a `RawEnvelope` (no
    `type`, a non-string one, a payload that is not an object, an `actor_id` of 10k
    characters, a field no version of the protocol has …).

    Such an op does not make the push a 422, which would stop the tablet's queue for good: it
    is that op's `rejected INVALID_OP` (`problem()` says which field), and the queue moves on.
    Only what makes the body no push at all stays a 422: an op without a usable `op_id` or
    `seq`, or one naming another device."""

    model_config = ConfigDict(extra="allow")

    op_id: UUID
    seq: Annotated[int, Field(ge=1)]
    device_id: Any = None
    actor_id: Any = None
    type: Any = None

    def problem(self) -> str:
        """One printable sentence, at most a few hundred characters, naming the first bad field."""
        try:
            RawEnvelope.model_validate(self.model_dump(exclude_unset=True))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "op"
            if first["type"] == "extra_forbidden":
                return f"{_shown(where)}: not a field of an op"
            return f"{_shown(where)}: {_shown(first['msg'], 200)}"
        return "op: not a valid op"  # unreachable: a valid envelope never parses as this


def _envelope(spec: OpSpec) -> type[RawEnvelope]:
    name = "".join(part.title() for part in spec.name.replace(".", "_").split("_")) + "Op"
    annotations = {
        "type": Literal[spec.name],
        "type_v": Literal[spec.version],
        "payload": spec.payload,
    }
    namespace = {"__annotations__": annotations, "__module__": __name__, "type_v": spec.version}
    return type(name, (RawEnvelope,), namespace)


_TYPED = [_envelope(spec) for spec in OPS.values()]
Op = Annotated[Union[tuple(_TYPED)], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
# a union built at run time is no static type: hand it over as Any (pydantic checks it)
_OP_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, Op))


def validate_payload(raw: RawEnvelope) -> Request:
    """The typed payload of an already-validated envelope (a push's hot path).

    Raises ValidationError, worded by `op_error` (`payload.<field>`), for an unknown
    type, an unknown `type_v` or a bad payload."""
    spec = OPS.get(raw.type)
    if spec is not None and raw.type_v == spec.version:
        try:
            return spec.payload.model_validate(raw.payload)
        except ValidationError:
            pass  # validate again the slow way, for an error that names `payload.<field>`
    op = _OP_ADAPTER.validate_python(raw.model_dump())
    return op.payload  # type: ignore[no-any-return]  # unreachable for a bad op: it raised


def op_error(exc: ValidationError) -> str:
    """One printable sentence naming the first bad field of an op (a client's values in it are
    cut short: the sentence goes into a result, a dead letter and a manager's exception)."""
    first = exc.errors()[0]
    if first["type"] == "union_tag_invalid":
        return f"type: unknown op type {_shown(first['ctx']['tag'])!r}"
    where = ".".join(str(p) for p in first["loc"][1:]) or "op"
    if where == "type_v":
        return "type_v: this server does not know that payload version"
    return f"{_shown(where)}: {_shown(first['msg'], 200)}"


# --- push -----------------------------------------------------------------------


class PushRequest(Request):
    """A batch of ops. Each op is a `RawEnvelope`, or else a `LooseEnvelope` (that op alone is
    `rejected INVALID_OP`); an op that is neither (no usable `op_id` or `seq`) is a 422."""

    device_id: Id
    device_time: AwareDatetime | None = None
    # at most MAX_PUSH_OPS: more is a 413, not a 422
    ops: list[Annotated[RawEnvelope | LooseEnvelope, Field(union_mode="left_to_right")]]


class Followup(Response):
    task_id: str
    kind: str
    sku: str = ""
    location: str = ""
    qty: int = 0
    order_id: str | None = None
    reason: str = ""


class OpResult(Response):
    op_id: UUID
    seq: int
    status: Literal["applied", "compensated", "rejected", "duplicate"]
    original_status: Literal["applied", "compensated", "rejected"] | None = None  # on duplicate
    code: str | None = None
    message: str | None = None
    followups: list[Followup] = []


class PushResponse(Response):
    next_expected_seq: int
    server_time: datetime
    results: list[OpResult]


# --- pull -----------------------------------------------------------------------


class DeviceStatus(Request):
    """What a tablet says of itself on each pull, for the manager's device list."""

    pending: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0  # ops in its outbox
    oldest_pending_at: ReportedInstant = None  # dropped when the tablet's clock is absurd
    app_version: Annotated[Plain, Field(max_length=40)] | None = None


class PullRequest(Request):
    cursor: Annotated[Plain, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    status: DeviceStatus | None = None  # added: older tablets send none


class DeviceHealth(Response):
    """One tablet of the store as central last saw it (GET /v1/sync/devices)."""

    device_id: str
    name: str
    app_version: str | None = None
    enrolled_at: datetime | None = None
    last_seen_at: datetime | None = None  # its last push or pull
    last_applied_seq: int = 0
    pending: int | None = None  # its outbox, as it said on its last pull
    oldest_pending_at: datetime | None = None
    clock_offset_s: int | None = None  # its clock minus central's, at its last push
    revoked: bool = False
    # added (issue #12): the last time its replica differed from central's checksums
    replica_mismatch_at: datetime | None = None
    replica_kinds: list[str] = []  # the kinds that differed then
    replica_healed: bool | None = None  # whether reloading those kinds made them match


class Change(Response):
    kind: str
    id: str
    version: int
    op: Literal["upsert", "delete"] = "upsert"
    data: dict[str, Any] = {}


class Reset(Response):
    reason: str


class PullResponse(Response):
    cursor: str
    has_more: bool
    server_time: datetime
    last_applied_seq: int
    changes: list[Change]
    reset: Reset | None = None
    # added (issue #12): per document kind, the checksum of central's view of the store at
    # this cursor (sync/checksums.py); only on a page at the head (has_more false)
    checksums: dict[str, str] | None = None


class SnapshotHeader(Response):
    """First NDJSON line of GET /v1/sync/snapshot; every later line is a `Change`."""

    snapshot: Literal[True] = True
    cursor: str
    last_applied_seq: int
    server_time: datetime
    count: int
    checksums: dict[str, str] | None = None  # added (issue #12): as on a pull at the head
    kinds: list[str] | None = None  # added: a snapshot of these kinds only (`?kinds=`)


class ReplicaKind(Request):
    """One kind whose checksum differed on a tablet (POST /v1/sync/replica-report)."""

    kind: Annotated[Plain, Field(min_length=1, max_length=20)]
    expected: Annotated[Plain, Field(max_length=16)]  # central's checksum
    found: Annotated[Plain, Field(max_length=16)]  # the tablet's, before it healed
    healed: bool  # reloading the kind made it match


class ReplicaReport(Request):
    """A tablet's replica differed from central's checksums at `detected_at` (issue #12)."""

    detected_at: ReportedInstant = None
    kinds: Annotated[list[ReplicaKind], Field(min_length=1, max_length=50)]


# --- OMS / integration ----------------------------------------------------------


class RejectReasonIn(Request):
    """One of a store's reasons to reject (PUT /v1/oms/stores/{store_id}/reject-reasons)."""

    code: Annotated[Plain, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
    label: Annotated[Plain, Field(min_length=1, max_length=80)]
    effect: Literal["damaged", "doubtful", "none"] = "none"
    lowers_available: bool = False


class CheckInIn(Request):
    """The customer is here (curbside): POST /v1/oms/stores/{store_id}/orders/{order_id}/checkin."""

    bay: Annotated[Plain, Field(min_length=1, max_length=20)] | None = None
    note: Annotated[FreeText, Field(max_length=200)] | None = None


class NearbyStore(Response):
    store_id: str
    name: str
    available: int


class StockMove(Response):
    kind: str
    location: str
    qty: int
    occurred_at: datetime
    actor_id: str | None = None
    actor_name: str | None = None
    note: str | None = None
    order_id: str | None = None


class StockLookup(Response):
    """GET /v1/sync/stock/{sku}/nearby: the chain's other stores holding the sku, and this
    store's latest movements of it (issue #11)."""

    sku: str
    stores: list[NearbyStore] = []
    movements: list[StockMove] = []


class StorePolicyIn(Request):
    return_window_days: Annotated[int, Field(ge=0, le=365)] = 30
    offline_return_limit: Annotated[
        Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=2, allow_inf_nan=False)
    ] = Decimal("100")
    variance_units: Annotated[int, Field(ge=0, le=100_000)] = 2
    variance_pct: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 5.0
    variance_value: (
        Annotated[
            Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=2, allow_inf_nan=False)
        ]
        | None
    ) = None
    pickup_hold_days: Annotated[int, Field(ge=1, le=60)] = 5
    allow_partial: bool = True
    at_risk_minutes: Annotated[int, Field(ge=0, le=1440)] = 30
    max_orders_per_pick_list: Annotated[int, Field(ge=1, le=50)] = 10
    carriers: Annotated[
        tuple[Label, ...],
        Field(min_length=1, max_length=20),
    ] = Policy().carriers
    # added (issue #11)
    id_check_over: (
        Annotated[
            Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=2, allow_inf_nan=False)
        ]
        | None
    ) = None
    pickup_reminder_hours: Annotated[int, Field(ge=0, le=24 * 30)] = 24


class StoreIn(Request):
    name: Annotated[Plain, Field(min_length=1, max_length=120)]
    timezone: TimeZone = "UTC"
    policy: StorePolicyIn = StorePolicyIn()


class ItemIn(Request):
    sku: Id
    gtins: Annotated[list[Gtin], Field(min_length=1, max_length=20)]
    name: Annotated[Plain, Field(min_length=1, max_length=200)]
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    location: Label
    location_seq: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0
    image_url: WebUrl | None = None  # shown on every tablet: http(s) only
    final_sale: bool = False
    # what one unit costs the store: a count's variance in money (None: the price is used)
    unit_cost: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    category: Annotated[Plain, Field(min_length=1, max_length=60)] | None = None


class StockIn(Request):
    sku: Id
    location: Label
    qty: Annotated[int, Field(ge=-100000, le=100000)]
    kind: Literal["receipt", "set"] = "receipt"


class SaleLineIn(Request):
    """One line of a till sale (`qty` > 0) or till return (`qty` < 0), as the POS posts it
    to `POST /v1/oms/stores/{store_id}/sales`; idempotent by (store, sale_id, line)."""

    sale_id: Id
    line: Annotated[int, Field(ge=1, le=INT32_MAX)]
    sku: Id
    qty: Annotated[int, Field(ge=-99_999, le=99_999)]  # not 0
    till_id: Id
    sold_at: Instant


class SaleLineKey(Response):
    sale_id: str
    line: int


class SaleLineRefusal(Response):
    row: int  # the line's position in the body (the NDJSON stream's non-empty line), from 0
    sale_id: str | None
    line: int | None
    code: str  # fulfillment.codes.LineCode
    field: str
    message: str


class SalesOut(Response):
    """What a till-sales batch did: every line is accepted (one ledger movement), a duplicate
    (its (sale_id, line) was recorded before: nothing changed) or rejected (why, per line)."""

    received: int
    accepted: int
    duplicates: int
    rejected: int
    duplicate_keys: list[SaleLineKey]  # the first 100
    rejections: list[SaleLineRefusal]  # the first 100
    capped: bool  # more duplicates or rejections than the lists show


class CartonIn(Request):
    sscc: Sscc
    lines: Annotated[list[TransferLineIn], Field(max_length=200)] = []


class InboundIn(Request):
    """`PUT /v1/oms/stores/{store_id}/inbound/{shipment_id}`: a shipment on its way to the
    store (from a DC, another store, or a ship-to-store customer order's goods)."""

    source: Annotated[Plain, Field(min_length=1, max_length=64)]
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=500)]
    cartons: Annotated[list[CartonIn], Field(max_length=500)] = []
    order_id: Id | None = None
    carrier: Label | None = None
    tracking: Annotated[Plain, Field(min_length=4, max_length=64)] | None = None

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> InboundIn:
        skus = [x.sku for x in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku once in lines: add the quantities up")
        ssccs = [c.sscc for c in self.cartons]
        if len(set(ssccs)) != len(ssccs):
            raise ValueError("each carton (sscc) once")
        return self


class TransferIn(Request):
    """`PUT /v1/oms/stores/{store_id}/transfers/{transfer_id}`: the OMS asks the store to
    send stock to another store."""

    destination: Id
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=200)]
    due_at: Instant | None = None


class StaffIn(Request):
    employee_id: Id
    name: Annotated[Plain, Field(min_length=1, max_length=120)]
    role: Role
    pin: Annotated[str, Field(pattern=r"^\d{4,8}$")]  # 4-8 digits; a manager's at least 6

    @model_validator(mode="after")
    def _manager_pin_long_enough(self) -> StaffIn:
        problem = pins.pin_problem(self.role.value, self.pin)
        if problem is not None:
            raise ValueError(f"{self.employee_id}: {problem}")
        return self


class CustomerIn(Request):
    name: Annotated[Plain, Field(max_length=200)] = ""
    email: Annotated[Plain, Field(max_length=200)] = ""
    phone: Annotated[Plain, Field(max_length=40)] = ""


class OrderLineIn(Request):
    line_id: Id
    sku: Id
    qty: Qty
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("0")


class OrderIn(Request):
    order_id: Id
    store_id: Id
    type: OrderType
    customer: CustomerIn = CustomerIn()
    due_at: Instant
    priority: Annotated[int, Field(ge=0, le=9)] = 0
    pickup_code: Annotated[Plain, Field(min_length=4, max_length=32)] | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=200)]
    # added (issue #11): someone else who may collect a pickup order, and an ID check
    alternate: CustomerIn | None = None
    id_required: bool = False

    @model_validator(mode="after")
    def _not_a_transfer(self) -> OrderIn:
        if self.type is OrderType.TRANSFER:
            raise ValueError(
                "a transfer to another store is asked with PUT "
                "/v1/oms/stores/{store_id}/transfers/{transfer_id}, not released as an order"
            )
        return self


class CancelIn(Request):
    reason: Reason = "cancelled by customer"


class EnrollmentCodeOut(Response):
    code: str
    expires_at: datetime
