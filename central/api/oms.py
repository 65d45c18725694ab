"""/v1/oms: what the e-commerce order system calls, with an integration key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fulfillment.count_export import csv_filename
from fulfillment.counts import CountState
from fulfillment.returns import Condition, Disposition, ReturnReason, ReturnState
from sync.protocol import (
    PLAIN_PATTERN,
    CancelIn,
    CheckInIn,
    EnrollmentCodeOut,
    ErrorBody,
    ItemIn,
    OrderIn,
    RejectReasonIn,
    SaleLineIn,
    SalesOut,
    StaffIn,
    StockIn,
    StoreIn,
)

from ..service import auth, oms, pickups, plans, sales
from ..service.errors import Invalid
from .deps import EngineDep, oms_router
from .ndjson import NDJSON

router = oms_router(
    {
        404: "unknown store or order",
        422: "INVALID_REQUEST with `errors` per row; nothing written",
    }
)

# path and query values are bounded like the ids they name (the boundary refuses a control
# character anywhere in the address before a route sees it)
StoreId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]
OrderIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]
Sku = Query(default=None, max_length=64, pattern=PLAIN_PATTERN)
OrderId = Query(
    default=None,
    max_length=64,
    pattern=PLAIN_PATTERN,
    description="only the returns of this order",
)
CountSku = Query(
    default=None, max_length=64, pattern=PLAIN_PATTERN, description="only the counts of this sku"
)
CountStateQ = Query(default=None, description="only the counts in this state")


class ReturnLineOut(BaseModel):
    line_id: str | None
    sku: str
    name: str
    qty: int  # units brought back
    accepted: int  # counted against the order (qty - refused)
    refused: int  # more than was sold and not yet returned: manager review
    restocked: int  # back on sale (sellable + restock)
    price: str
    reason: ReturnReason
    note: str
    condition: Condition
    disposition: Disposition
    location: str  # where the accepted units went: the shelf, or DAMAGED-BIN


class RefundOut(BaseModel):
    refund_id: str
    amount: str
    tender: str
    state: str  # requested (the payment system executes it)
    op_id: str
    created_at: datetime


class ReturnOut(BaseModel):
    return_id: str
    order_id: str | None
    receipt: str | None
    state: ReturnState
    verified: bool
    refund_amount: str
    tender: str
    refund_requested: bool
    breaches: list[str]
    received_by: str
    received_by_name: str
    received_at: datetime
    device_name: str
    override_by: str | None
    override_by_name: str | None
    override_reason: str | None
    override_at: datetime | None
    lines: list[ReturnLineOut]
    refunds: list[RefundOut]


class CountOut(BaseModel):
    count_id: str
    task_id: str | None  # the recount task it was counted for
    sku: str
    location: str
    name: str
    counted: int  # units on the shelf at counted_at
    counted_at: datetime
    book: int  # the ledger's balance at counted_at (late movements included)
    variance: int  # counted - book
    adjustment: int  # what has posted as count_adjust (re-derived when late movements arrive)
    unit_cost: Decimal | None = None  # the item's cost (else price) when counted
    value: Decimal | None = None  # the variance in money: variance × unit_cost
    state: CountState
    counted_by: str
    counted_by_name: str
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    message: str
    recorded_at: datetime  # when central recorded the count
    updated_at: datetime  # when central last changed it (approved, sent back, re-derived)


@router.put("/stores/{store_id}")
def put_store(store_id: StoreId, body: StoreIn, engine: EngineDep) -> dict[str, Any]:
    return oms.upsert_store(engine, store_id, body)


@router.put("/stores/{store_id}/items")
def put_items(store_id: StoreId, body: list[ItemIn], engine: EngineDep) -> dict[str, int]:
    """Add or replace items of the store's catalogue.

    The body: a JSON array of rows, or with `Content-Type: application/x-ndjson` one JSON
    row a line (blank lines skipped). Every row is validated before any is written."""
    return {"upserted": oms.upsert_items(engine, store_id, body)}


@router.post("/stores/{store_id}/stock")
def post_stock(store_id: StoreId, body: list[StockIn], engine: EngineDep) -> dict[str, int]:
    """Record receipts, or set stock levels (a `set` row).

    The body: a JSON array of rows, or with `Content-Type: application/x-ndjson` one JSON
    row a line (blank lines skipped). Every row is validated before any is written."""
    return {"recorded": oms.add_stock(engine, store_id, body)}


_SALE_LINES_SCHEMA = {
    "type": "array",
    "items": SaleLineIn.model_json_schema(),
}


@router.post(
    "/stores/{store_id}/sales",
    response_model=SalesOut,
    responses={202: {"model": SalesOut, "description": "an NDJSON stream, written as it came"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _SALE_LINES_SCHEMA}},
        }
    },
)
async def post_sales(store_id: StoreId, request: Request, engine: EngineDep) -> Response:
    """Record the store's till sales (`qty` > 0) and till returns (`qty` < 0): each line one
    ledger movement (`sale` / `till_return`) at the item's home location, dated `sold_at`.

    Idempotent by (store, sale_id, line): a line recorded before is a duplicate and changes
    nothing, so a batch may be sent again after a lost answer. Each line is judged alone: a
    wrong field, an unknown sku or a `sold_at` in the future refuses that line (listed with
    its row and code) and the others are recorded. Lines are written in transactions of
    5,000; each moved place's stock document goes to the tablets once per transaction.

    The body: a JSON array of lines (8 MiB at most) → 200; or, with `Content-Type:
    application/x-ndjson`, one line a row, as long as the stream runs (blank lines skipped;
    every 5,000 rows are written as they arrive, so a cut stream keeps what was written and
    may simply be sent again) → 202. Both answer how many lines were accepted, duplicates
    and rejected, with the first 100 duplicate keys and rejections."""
    await run_in_threadpool(sales.check_store, engine, store_id)
    tally = sales.Tally()
    if not _is_ndjson(request):
        body = await request.body()

        def write_array() -> None:
            sales.ingest(engine, store_id, sales.parse_array(body, tally), tally)

        await run_in_threadpool(write_array)
        return JSONResponse(tally.answer().model_dump(mode="json"))

    first_row = 0

    def write_rows(rows: list[bytes], first: int) -> None:
        sales.ingest(engine, store_id, sales.parse_ndjson(rows, first, tally), tally)

    rows: list[bytes] = []
    rest = b""
    async for chunk in request.stream():
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        rows += [p for p in (part.strip() for part in parts) if p]
        while len(rows) >= sales.SALES_BATCH:  # a batch is exactly SALES_BATCH rows
            batch, rows = rows[: sales.SALES_BATCH], rows[sales.SALES_BATCH :]
            await run_in_threadpool(write_rows, batch, first_row)
            first_row += len(batch)
    if rest.strip():
        rows.append(rest.strip())
    if rows:
        await run_in_threadpool(write_rows, rows, first_row)
    return JSONResponse(tally.answer().model_dump(mode="json"), status_code=202)


def _is_ndjson(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind == NDJSON.decode()


@router.put("/stores/{store_id}/staff")
def put_staff(store_id: StoreId, body: list[StaffIn], engine: EngineDep) -> dict[str, int]:
    """Add or replace staff (PINs are stored hashed).

    The body: a JSON array of rows, or with `Content-Type: application/x-ndjson` one JSON
    row a line (blank lines skipped). Every row is validated before any is written."""
    return {"upserted": oms.upsert_staff(engine, store_id, body)}


@router.post("/stores/{store_id}/enrollment-codes", response_model=EnrollmentCodeOut)
def post_enrollment_code(store_id: StoreId, engine: EngineDep) -> EnrollmentCodeOut:
    code, expires = auth.create_enrollment_code(engine, store_id)
    return EnrollmentCodeOut(code=code, expires_at=expires)


@router.post("/orders", status_code=201, responses={200: {"description": "already released"}})
def post_order(body: OrderIn, engine: EngineDep, response: Response) -> dict[str, Any]:
    order, created = oms.create_order(engine, body)
    if not created:
        response.status_code = 200
    return oms.order_view(engine, order.order_id)


@router.post("/orders/{order_id}/cancel", responses={409: {"model": ErrorBody}})
def post_cancel(order_id: OrderIdPath, body: CancelIn, engine: EngineDep) -> dict[str, Any]:
    oms.cancel_order(engine, order_id, body.reason)
    return oms.order_view(engine, order_id)


@router.get("/orders/{order_id}")
def get_order(order_id: OrderIdPath, engine: EngineDep) -> dict[str, Any]:
    return oms.order_view(engine, order_id)


@router.get("/stores/{store_id}/stock")
def get_stock(store_id: StoreId, engine: EngineDep, sku: str | None = Sku) -> list[dict[str, Any]]:
    return oms.stock_view(engine, store_id, sku)


@router.get("/stores/{store_id}/ledger")
def get_ledger(store_id: StoreId, engine: EngineDep, sku: str | None = Sku) -> list[dict[str, Any]]:
    return oms.ledger_view(engine, store_id, sku)


@router.get("/stores/{store_id}/returns", response_model=list[ReturnOut])
def get_returns(
    store_id: StoreId, engine: EngineDep, order_id: str | None = OrderId
) -> list[dict[str, Any]]:
    """The store's returns, newest first, with their lines and refund requests."""
    return oms.returns_view(engine, store_id, order_id)


@router.get("/stores/{store_id}/counts", response_model=list[CountOut])
def get_counts(
    store_id: StoreId,
    engine: EngineDep,
    sku: str | None = CountSku,
    state: CountState | None = CountStateQ,
) -> list[dict[str, Any]]:
    """The store's cycle counts, newest first (by when counted, then when recorded)."""
    return oms.counts_view(engine, store_id, sku, state.value if state else None)


CsvFrom = Query(
    default=None,
    alias="from",
    description="counts counted at or after this time (RFC 3339; a time without offset is UTC)",
)
CsvTo = Query(default=None, alias="to", description="counts counted before this time")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@router.get(
    "/stores/{store_id}/counts.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row a count"}},
)
def get_counts_csv(
    store_id: StoreId,
    engine: EngineDep,
    first: datetime | None = CsvFrom,
    last: datetime | None = CsvTo,
) -> Response:
    """The store's count results as CSV (fulfillment.count_export.COLUMNS), oldest first."""
    sales.check_store(engine, store_id)
    first, last = _utc(first), _utc(last)
    if first is not None and last is not None and first > last:
        raise Invalid(
            "'from' is after 'to': no count can be in that window",
            errors=[{"field": "from", "message": "after 'to'"}],
        )
    body = oms.counts_csv_view(engine, store_id, first, last)
    name = csv_filename(store_id, first, last)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/stores/{store_id}/count-plans")
def get_count_plans(store_id: StoreId, engine: EngineDep) -> list[dict[str, Any]]:
    """The store's count plans (by due time) with their progress: counted, total, overdue,
    and the places not counted yet."""
    sales.check_store(engine, store_id)
    return plans.plans_view(engine, store_id, datetime.now(UTC))


@router.get("/stores/{store_id}/exceptions")
def get_exceptions(store_id: StoreId, engine: EngineDep) -> list[dict[str, Any]]:
    return oms.exceptions_view(engine, store_id)


@router.get("/stores/{store_id}/notifications")
def get_notifications(store_id: StoreId, engine: EngineDep) -> list[dict[str, Any]]:
    return oms.notifications_view(engine, store_id)


@router.put("/stores/{store_id}/reject-reasons")
def put_reject_reasons(
    store_id: StoreId, body: list[RejectReasonIn], engine: EngineDep
) -> list[dict[str, Any]]:
    """Replace the store's reasons to reject an order or some units (issue #11), each with
    its stock effect (`damaged`: to the damaged bin; `doubtful`: the place is recounted;
    `none`) and whether a doubtful place's units are taken off available stock until the
    count. They reach the store's tablets with the store document."""
    return pickups.set_reject_reasons(engine, store_id, body)


@router.post(
    "/stores/{store_id}/orders/{order_id}/checkin",
    responses={409: {"model": ErrorBody, "description": "the order is closed or not a pickup"}},
)
def post_checkin(
    store_id: StoreId, order_id: OrderIdPath, body: CheckInIn, engine: EngineDep
) -> dict[str, Any]:
    """The customer is here ("I'm here", curbside): the order shows at the top of the store's
    hand-over queue with the bay."""
    pickups.check_in_order(engine, store_id, order_id, body)
    return oms.order_view(engine, order_id)
