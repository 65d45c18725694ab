"""Till sales and till returns into the one ledger (issue #12).

`POST /v1/oms/stores/{store_id}/sales` hands lines here, in batches of at most
`SALES_BATCH`. For each batch:

1. Outside the store's lock: each line judged alone (`fulfillment.sales.judge`: the clock,
   the item's home location read for the whole batch in one query); a (sale_id, line)
   repeated in the batch is a duplicate when it says the same, `REPEATED_LINE` when not.
2. Under the lock, one transaction: the lines go into `till_sales` with multi-row
   `INSERT … ON CONFLICT DO NOTHING RETURNING (sale_id, line)` (SQLite and PostgreSQL
   alike); what comes back is new, the rest were recorded before (a re-sent batch changes
   nothing). Each new line is one ledger movement dated `sold_at` (`sale` / `till_return`
   at the item's home). "Is there a count at or after it?" is answered for every place of
   the batch by one grouped query (`count_docs.expect_counted_at`); a line dated before a
   count re-derives it exactly as a late online sale does (`ledger.late_movement`).
3. The flush writes the ledger rows with one executemany, moves `stock` and publishes each
   moved place's stock document once; a place taken below zero gets the `NEGATIVE_STOCK`
   exception and recount task (`StoreTx.flush`).

A line is recorded whole or not at all: its `till_sales` row and its movement are in the
same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Engine, select

from fulfillment.codes import LineCode
from fulfillment.sales import Refusal, SaleLine, judge, movement
from sync.protocol import INT32_MAX, SaleLineIn, SaleLineKey, SaleLineRefusal, SalesOut

from ..db.engine import reading
from ..db.tables import items, stores, till_sales
from . import ledger as ledger_service
from .clock import utcnow
from .count_docs import expect_counted_at
from .errors import Invalid, NotFound
from .feed import store_tx
from .staging import _sqlite_datetime

__all__ = [
    "LISTED",
    "SALES_BATCH",
    "Tally",
    "check_store",
    "ingest",
    "judge_rows",
    "parse_array",
    "parse_ndjson",
]

# lines per transaction: the store's lock is held for one batch's write at a time, and a
# batch's places stay within one statement's parameters on both databases
SALES_BATCH = 5000
# (sale_id, line) rows per INSERT statement (9 parameters a row on SQLite)
_INSERT_ROWS = 1000
# duplicates and rejections listed in the answer (the counts are always whole)
LISTED = 100


@dataclass
class Tally:
    """What a request's lines came to, over all its batches."""

    received: int = 0
    accepted: int = 0
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)
    duplicates: int = 0
    rejections: list[SaleLineRefusal] = field(default_factory=list)
    rejected: int = 0

    def duplicate(self, key: tuple[str, int]) -> None:
        self.duplicates += 1
        if len(self.duplicate_keys) < LISTED:
            self.duplicate_keys.append(key)

    def refuse(self, row: int, sale_id: str | None, line: int | None, refusal: Refusal) -> None:
        self.rejected += 1
        if len(self.rejections) < LISTED:
            self.rejections.append(
                SaleLineRefusal(
                    row=row,
                    sale_id=sale_id,
                    line=line,
                    code=refusal.code.value,
                    field=refusal.field,
                    message=refusal.message,
                )
            )

    def answer(self) -> SalesOut:
        return SalesOut(
            received=self.received,
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=self.rejected,
            duplicate_keys=[SaleLineKey(sale_id=s, line=n) for s, n in self.duplicate_keys],
            rejections=self.rejections,
            capped=self.duplicates > len(self.duplicate_keys)
            or self.rejected > len(self.rejections),
        )


def check_store(engine: Engine, store_id: str) -> None:
    """404 `UNKNOWN_STORE` before a stream is read (the integration key may call any store)."""
    with reading(engine) as conn:
        found = conn.execute(select(stores.c.store_id).where(stores.c.store_id == store_id))
        if found.first() is None:
            raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")


def _homes(conn: Connection, store_id: str, skus: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(skus))
    homes: dict[str, str] = {}
    for start in range(0, len(wanted), 2000):
        part = wanted[start : start + 2000]
        for sku, location in conn.execute(
            select(items.c.sku, items.c.location).where(
                items.c.store_id == store_id, items.c.sku.in_(part)
            )
        ):
            homes[sku] = location
    return homes


def ingest(
    engine: Engine,
    store_id: str,
    lines: Sequence[tuple[int, SaleLine]],
    tally: Tally,
    now: datetime | None = None,
) -> None:
    """Record one batch of judged-valid lines (`(row, line)`: the line's position in the
    body); counts go into `tally`. At most `SALES_BATCH` lines are written per transaction."""
    for start in range(0, len(lines), SALES_BATCH):
        _ingest_batch(engine, store_id, lines[start : start + SALES_BATCH], tally, now)


def _ingest_batch(
    engine: Engine,
    store_id: str,
    lines: Sequence[tuple[int, SaleLine]],
    tally: Tally,
    now: datetime | None,
) -> None:
    now = now or utcnow()
    with reading(engine) as conn:
        homes = _homes(conn, store_id, (ln.sku for _, ln in lines))
    fresh: dict[tuple[str, int], tuple[SaleLine, str]] = {}
    repeats: list[tuple[str, int]] = []
    for row, line in lines:
        refusal = judge(line, now, homes.get(line.sku))
        if refusal is not None:
            tally.refuse(row, line.sale_id, line.line, refusal)
            continue
        earlier = fresh.get(line.key)
        if earlier is None:
            fresh[line.key] = (line, homes[line.sku])
        elif earlier[0] == line:
            repeats.append(line.key)  # sent twice in one batch: the second changes nothing
        else:
            tally.refuse(
                row,
                line.sale_id,
                line.line,
                Refusal(
                    LineCode.REPEATED_LINE,
                    "line",
                    f"sale {line.sale_id} line {line.line} is earlier in this batch with "
                    "other values: the first was kept",
                ),
            )
    if not fresh:
        for key in repeats:
            tally.duplicate(key)
        return
    with store_tx(engine, store_id, now) as tx:
        new = _insert_new(tx.conn, store_id, list(fresh.values()), tx.now)
        expect_counted_at(tx, {(line.sku, home) for line, home in fresh.values()})
        for key, (line, home) in fresh.items():
            if key not in new:
                tally.duplicate(key)
                continue
            ledger_service.record_movements(
                tx,
                (movement(line, home),),
                occurred_at=line.sold_at,
                op_id=None,
                actor_id=line.till_id,
                note=f"sale {line.sale_id} line {line.line}",
            )
            tally.accepted += 1
    for key in repeats:
        tally.duplicate(key)


_COLUMNS = (
    "store_id",
    "sale_id",
    "line",
    "sku",
    "qty",
    "till_id",
    "location",
    "sold_at",
    "recorded_at",
)
_PG_TYPES = ("text", "text", "int", "text", "int", "text", "text", "timestamptz", "timestamptz")


def _insert_new(
    conn: Connection,
    store_id: str,
    lines: list[tuple[SaleLine, str]],
    now: datetime,
) -> set[tuple[str, int]]:
    """Insert the lines not recorded before; the keys of those inserted."""
    rows: list[tuple[Any, ...]] = [
        (store_id, ln.sale_id, ln.line, ln.sku, ln.qty, ln.till_id, home, ln.sold_at, now)
        for ln, home in lines
    ]
    tail = " ON CONFLICT (store_id, sale_id, line) DO NOTHING RETURNING sale_id, line"
    head = f"INSERT INTO {till_sales.name} ({', '.join(_COLUMNS)}) "
    new: set[tuple[str, int]] = set()
    if conn.dialect.name == "postgresql":
        # one statement per chunk, a column an array (as oms.bulk_upsert)
        casts = ", ".join(f"%s::{t}[]" for t in _PG_TYPES)
        sql = head + f"SELECT * FROM unnest({casts})" + tail
        for start in range(0, len(rows), SALES_BATCH):
            part = rows[start : start + SALES_BATCH]
            columns = tuple(list(col) for col in zip(*part, strict=True))
            new.update((s, int(n)) for s, n in conn.exec_driver_sql(sql, columns))
        return new
    for start in range(0, len(rows), _INSERT_ROWS):
        part = rows[start : start + _INSERT_ROWS]
        marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(part))
        params = tuple(
            v
            for r in part
            for v in (*r[:7], _sqlite_datetime(r[7].astimezone(UTC)), _sqlite_datetime(now))
        )
        new.update(
            (s, int(n)) for s, n in conn.exec_driver_sql(head + "VALUES " + marks + tail, params)
        )
    return new


# --- the body's lines -------------------------------------------------------------------------

_LINES = TypeAdapter(list[SaleLineIn])


def _line(model: SaleLineIn) -> SaleLine:
    return SaleLine(model.sale_id, model.line, model.sku, model.qty, model.till_id, model.sold_at)


def _refuse_raw(tally: Tally, row: int, raw: Any, refusal: Refusal) -> None:
    sale_id = raw.get("sale_id") if isinstance(raw, dict) else None
    line = raw.get("line") if isinstance(raw, dict) else None
    tally.refuse(
        row,
        sale_id
        if isinstance(sale_id, str) and len(sale_id) <= 64 and sale_id.isprintable()
        else None,
        line if type(line) is int and 1 <= line <= INT32_MAX else None,
        refusal,
    )


def _invalid(error: ValidationError) -> Refusal:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "line"
    return Refusal(LineCode.INVALID_LINE, where, f"{where}: {first['msg']}")


def _judge_one(raw: Any, row: int, tally: Tally) -> SaleLine | None:
    if not isinstance(raw, dict):
        refusal = Refusal(LineCode.INVALID_LINE, "line", "a line must be a JSON object")
        _refuse_raw(tally, row, raw, refusal)
        return None
    try:
        return _line(SaleLineIn.model_validate(raw))
    except ValidationError as error:
        _refuse_raw(tally, row, raw, _invalid(error))
        return None


def judge_rows(raws: Sequence[Any], first_row: int, tally: Tally) -> list[tuple[int, SaleLine]]:
    """The lines (parsed JSON values) that have the wire shape, with their row numbers; each
    other one is refused `INVALID_LINE` naming its first wrong field."""
    tally.received += len(raws)
    good: list[tuple[int, SaleLine]] = []
    for i, raw in enumerate(raws):
        line = _judge_one(raw, first_row + i, tally)
        if line is not None:
            good.append((first_row + i, line))
    return good


def parse_array(body: bytes, tally: Tally) -> list[tuple[int, SaleLine]]:
    """A JSON array of lines: one validation of the whole array when every line is right (the
    common case), else line by line. Not a JSON array at all: 422, nothing written."""
    try:
        lines = _LINES.validate_json(body)
    except ValidationError:
        pass
    else:
        tally.received += len(lines)
        return [(i, _line(m)) for i, m in enumerate(lines)]
    try:
        raws = json.loads(body)
    except ValueError:
        raws = None
    if not isinstance(raws, list):
        raise Invalid(
            "The body must be a JSON array of sale lines (or NDJSON: one line a row)",
            errors=[{"field": "body", "message": "not a JSON array"}],
        )
    return judge_rows(raws, 0, tally)


def parse_ndjson(
    lines: Sequence[bytes], first_row: int, tally: Tally
) -> list[tuple[int, SaleLine]]:
    """NDJSON rows (non-empty lines, `first_row` the first one's number): validated together,
    else one by one (a row that is not JSON is refused `INVALID_LINE`, the rest go on)."""
    try:
        models = _LINES.validate_json(b"[" + b",".join(lines) + b"]")
    except ValidationError:
        pass
    else:
        tally.received += len(models)
        return [(first_row + i, _line(m)) for i, m in enumerate(models)]
    tally.received += len(lines)
    good: list[tuple[int, SaleLine]] = []
    for i, text in enumerate(lines):
        row = first_row + i
        try:
            raw = json.loads(text)
        except ValueError:
            tally.refuse(
                row, None, None, Refusal(LineCode.INVALID_LINE, "line", "the row is not JSON")
            )
            continue
        line = _judge_one(raw, row, tally)
        if line is not None:
            good.append((row, line))
    return good
