"""The one verdict every drill ends with (issue #7): after a final sync of every tablet,

    lost        0: every op a tablet enqueued has exactly one stored result at central
                   (`op_results`, by op_id), with the tablet's seq, and the tablet holds it
                   in its op log with nothing left in its outbox
    doubled     0: no op has two results or two sets of ledger rows (an op's movements were
                   all written by one request), no op moved more units than it carried, and
                   central's stock projection is its ledger counted once (on_hand = Σ deltas,
                   reserved = what the open orders hold)
    replicas    every tablet's server state equals central's documents: its `srv_docs` are
                   central's live `sync_docs` (kind, id, version, data), and the tables the
                   screens read (orders with lines, stock, tasks, counts, returns) are those
                   documents; central's own rows (orders, stock, tasks, exceptions) are the
                   documents it sent
    visible     every conflict reaches a manager with an action: a physical fact that was
                   compensated or refused has a follow-up task or an exception (its result's
                   follow-ups, or a task / exception made by that op); a refused intent (a
                   claim someone else won) is on its tablet's attention list; every negative
                   on-hand has an open exception and an open recount task

`check(...)` returns a `Verdict` with the figures and every problem found, grouped by
check, so a failing drill says which rule broke and where.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from central.db.engine import make_engine
from central.db.tables import exceptions, ledger, op_results, orders, stock, sync_docs, tasks
from fulfillment.model import Order
from fulfillment.picking import reservations

__all__ = ["FACTS", "NOTHING_CHANGED", "Verdict", "check"]

# physical facts (PROTOCOL.md principle 3): never refused, only compensated
FACTS = frozenset(
    {
        "pick.scan",
        "pick.unscan",
        "pick.short",
        "order.handoff",
        "order.ship",
        "return.receive",
        "count.record",
    }
)
# codes of a compensated fact that changed nothing, so nothing is left for anyone to do
# (docs/errors.md: "the fact changed nothing"); a rejected intent is never a stock conflict
NOTHING_CHANGED = frozenset({"NOTHING_TO_PUT_BACK", "NOTHING_TO_SHORT", "LINE_NOT_FOUND"})


@dataclass
class Verdict:
    ops: int = 0
    lost: int = 0
    doubled: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def fail(self, check: str, problem: str) -> None:
        self.problems[check].append(problem)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def words(self, limit: int = 12) -> str:
        out = []
        for name, found in self.problems.items():
            if found:
                out.append(f"[{name}] {len(found)} problem(s):")
                out.extend(f"  - {p}" for p in found[:limit])
        return "\n".join(out)


def _canon(data: Any) -> str:
    if isinstance(data, str):
        data = json.loads(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def _tablet(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        device_id, next_seq = conn.execute(
            "SELECT device_id, next_seq FROM sync_state WHERE id = 1"
        ).fetchone()
        return {
            "device_id": device_id,
            "next_seq": next_seq,
            "outbox": conn.execute("SELECT seq, op_id FROM outbox ORDER BY seq").fetchall(),
            "op_log": {
                r[0]: r[1:]
                for r in conn.execute(
                    "SELECT op_id, seq, type, status, original_status, code, seen FROM op_log"
                )
            },
            "docs": {
                (r[0], r[1]): (r[2], _canon(r[3]))
                for r in conn.execute("SELECT kind, id, version, data FROM srv_docs")
            },
            "orders": {
                r[0]: (r[1], r[2], json.loads(r[3]))
                for r in conn.execute("SELECT order_id, state, assignee, data FROM orders")
            },
            "stock": {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    "SELECT id, sku, location, on_hand, reserved, available FROM stock"
                )
            },
            "tasks": {
                r[0]: tuple(r[1:])
                for r in conn.execute("SELECT task_id, kind, sku, qty, state FROM tasks")
            },
            "counts": {r[0]: r[1] for r in conn.execute("SELECT count_id, state FROM counts")},
            "returns": {r[0]: r[1] for r in conn.execute("SELECT return_id, state FROM returns")},
        }


def _rows(conn: Any, table: Any, store_id: str) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute(select(table).where(table.c.store_id == store_id)).mappings()
    ]


def check(
    database_url: str,
    store_id: str,
    tablets: Iterable[Path],
    *,
    logged: Mapping[Path, Iterable[str]] | None = None,
) -> Verdict:
    """The verdict over central's database and the tablets' files. `logged`: per tablet, the
    op_ids its driver saw made durably (a crash must not have lost any of them)."""
    verdict = Verdict()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            results = _rows(conn, op_results, store_id)
            moves = _rows(conn, ledger, store_id)
            stock_rows = _rows(conn, stock, store_id)
            task_rows = _rows(conn, tasks, store_id)
            exception_rows = _rows(conn, exceptions, store_id)
            order_rows = _rows(conn, orders, store_id)
            docs = {
                (r["kind"], r["entity_id"]): (int(r["version"]), _canon(r["data"]))
                for r in _rows(conn, sync_docs, store_id)
                if not r["deleted"]
            }
    finally:
        engine.dispose()

    by_op = Counter(r["op_id"] for r in results)
    result_of = {r["op_id"]: r for r in results}
    paths = list(tablets)
    states = {path: _tablet(path) for path in paths}
    payloads: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in paths:
        with sqlite3.connect(path) as conn:
            for op_id, type_, payload in conn.execute("SELECT op_id, type, payload FROM op_log"):
                payloads[op_id] = (type_, json.loads(payload))

    _lost(verdict, states, result_of, by_op, logged or {})
    _doubled(verdict, results, by_op, moves, payloads, stock_rows, order_rows)
    _replicas(verdict, states, docs, order_rows, stock_rows, task_rows, exception_rows)
    _visible(verdict, states, results, task_rows, exception_rows, stock_rows, payloads)
    return verdict


# --- lost ---------------------------------------------------------------------------------


def _lost(
    verdict: Verdict,
    states: Mapping[Path, dict[str, Any]],
    result_of: Mapping[str, dict[str, Any]],
    by_op: Counter[str],
    logged: Mapping[Path, Iterable[str]],
) -> None:
    for path, t in states.items():
        name = path.stem
        made = t["next_seq"] - 1
        verdict.ops += made
        if t["outbox"]:
            verdict.fail("lost", f"{name}: {len(t['outbox'])} op(s) still in the outbox")
            verdict.lost += sum(1 for _, op_id in t["outbox"] if op_id not in result_of)
        seqs = sorted(v[0] for v in t["op_log"].values()) + [s for s, _ in t["outbox"]]
        if seqs != list(range(1, made + 1)):
            missing = sorted(set(range(1, made + 1)) - set(seqs))
            verdict.fail(
                "lost", f"{name}: seqs 1..{made} not all on the tablet, missing {missing[:10]}"
            )
        for op_id, (seq, *_rest) in t["op_log"].items():
            row = result_of.get(op_id)
            if row is None:
                verdict.lost += 1
                verdict.fail("lost", f"{name}: op {op_id} (seq {seq}) has no result at central")
            elif row["device_id"] != t["device_id"] or int(row["seq"]) != seq:
                verdict.lost += 1
                verdict.fail(
                    "lost",
                    f"{name}: op {op_id} is stored as {row['device_id']}#{row['seq']}, "
                    f"not {t['device_id']}#{seq}",
                )
        for op_id in logged.get(path, ()):
            if op_id not in t["op_log"] and op_id not in {o for _, o in t["outbox"]}:
                verdict.lost += 1
                verdict.fail(
                    "lost", f"{name}: op {op_id} the driver saw saved is not on the tablet"
                )
            elif op_id not in result_of:
                verdict.lost += 1
                verdict.fail(
                    "lost", f"{name}: op {op_id} the driver saw saved never reached central"
                )
        at_central = sum(1 for r in result_of.values() if r["device_id"] == t["device_id"])
        if at_central != made:
            verdict.fail(
                "lost", f"{name}: central holds {at_central} results, the tablet made {made}"
            )


# --- doubled ------------------------------------------------------------------------------

_MOVED_BY = {  # op type -> ledger kinds its own movements have
    "pick.scan": {"pick", "put_back"},
    "pick.unscan": {"put_back"},
    "order.handoff": {"handoff"},
    "order.ship": {"ship"},
    "return.receive": {"return_restock", "return_damaged"},
}


def _carried(type_: str, payload: Mapping[str, Any]) -> int | None:
    """The most units an op can move (None: no bound from the payload alone)."""
    if type_ in ("pick.scan", "pick.unscan"):
        return int(payload["qty"])
    if type_ in ("order.handoff", "return.receive"):
        return sum(int(x["qty"]) for x in payload["lines"])
    return None


def _doubled(
    verdict: Verdict,
    results: list[dict[str, Any]],
    by_op: Counter[str],
    moves: list[dict[str, Any]],
    payloads: Mapping[str, tuple[str, dict[str, Any]]],
    stock_rows: list[dict[str, Any]],
    order_rows: list[dict[str, Any]],
) -> None:
    for op_id, n in by_op.items():
        if n > 1:
            verdict.doubled += 1
            verdict.fail("doubled", f"op {op_id} has {n} results at central")
    seen_seq = Counter((r["device_id"], int(r["seq"])) for r in results)
    for key, n in seen_seq.items():
        if n > 1:
            verdict.fail("doubled", f"{key[0]}#{key[1]} has {n} results")
    by_op_moves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in moves:
        if m["op_id"] and m["actor_id"] != "system":  # a count's re-derivation is its own
            by_op_moves[m["op_id"]].append(m)
    for op_id, rows in by_op_moves.items():
        if len({r["recorded_at"] for r in rows}) > 1:
            verdict.doubled += 1
            verdict.fail("doubled", f"op {op_id}'s movements were written by two requests")
            continue
        if op_id not in payloads:
            continue
        type_, payload = payloads[op_id]
        bound = _carried(type_, payload)
        kinds = _MOVED_BY.get(type_)
        if bound is None or kinds is None:
            continue
        own = [r for r in rows if r["kind"] in kinds]
        for kind in kinds:
            moved = sum(abs(int(r["qty"])) for r in own if r["kind"] == kind)
            if moved > bound:
                verdict.doubled += 1
                verdict.fail(
                    "doubled", f"{type_} {op_id} moved {moved} × {kind}, it carried {bound}"
                )
    # the stock projection is the ledger counted once
    on_hand: Counter[tuple[str, str]] = Counter()
    for m in moves:
        if m["kind"] != "return_damaged":
            on_hand[(m["sku"], m["location"])] += int(m["on_hand_delta"])
    held: Counter[tuple[str, str]] = Counter()
    for r in order_rows:
        for place, qty in reservations(Order.model_validate(r["data"])).items():
            held[place] += qty
    for s in stock_rows:
        place = (s["sku"], s["location"])
        if int(s["on_hand"]) != on_hand.get(place, 0):
            verdict.fail(
                "doubled",
                f"stock {place}: on_hand {s['on_hand']}, the ledger says {on_hand[place]}",
            )
        if int(s["reserved"]) != held.get(place, 0):
            verdict.fail(
                "doubled",
                f"stock {place}: reserved {s['reserved']}, open orders hold {held[place]}",
            )


# --- replicas -----------------------------------------------------------------------------


def _replicas(
    verdict: Verdict,
    states: Mapping[Path, dict[str, Any]],
    docs: Mapping[tuple[str, str], tuple[int, str]],
    order_rows: list[dict[str, Any]],
    stock_rows: list[dict[str, Any]],
    task_rows: list[dict[str, Any]],
    exception_rows: list[dict[str, Any]],
) -> None:
    # central's rows are the documents it sent
    for r in order_rows:
        doc = docs.get(("order", r["order_id"]))
        if doc is None or json.loads(doc[1]) != json.loads(_canon(r["data"])):
            verdict.fail("replicas", f"central: order {r['order_id']} differs from its document")
    for s in stock_rows:
        found = [
            json.loads(d)
            for (k, _), (_, d) in docs.items()
            if k == "stock"
            and json.loads(d).get("sku") == s["sku"]
            and json.loads(d).get("location") == s["location"]
        ]
        if [(d.get("on_hand"), d.get("reserved")) for d in found] != [
            (s["on_hand"], s["reserved"])
        ]:
            verdict.fail(
                "replicas", f"central: stock {s['sku']}@{s['location']} vs document {found}"
            )
    for t in task_rows:
        doc = docs.get(("task", t["task_id"]))
        if doc is None or json.loads(doc[1]).get("state") != t["state"]:
            verdict.fail("replicas", f"central: task {t['task_id']} ({t['state']}) vs its document")
    for x in exception_rows:
        doc = docs.get(("exception", x["exception_id"]))
        if doc is None or json.loads(doc[1]).get("state") != x["state"]:
            verdict.fail("replicas", f"central: exception {x['exception_id']} vs its document")

    for path, t in states.items():
        name = path.stem
        mine = t["docs"]
        for key in sorted(set(docs) | set(mine)):
            if key not in mine:
                verdict.fail("replicas", f"{name}: lacks {key[0]} {key[1]} (v{docs[key][0]})")
            elif key not in docs:
                verdict.fail("replicas", f"{name}: has {key[0]} {key[1]} central does not")
            elif mine[key] != docs[key]:
                verdict.fail(
                    "replicas",
                    f"{name}: {key[0]} {key[1]} is v{mine[key][0]}, central's v{docs[key][0]}"
                    + (" (data differs)" if mine[key][1] != docs[key][1] else ""),
                )
        _screens_show_docs(verdict, name, t)


def _screens_show_docs(verdict: Verdict, name: str, t: dict[str, Any]) -> None:
    """The tables the screens read are the documents (nothing pending after a final sync)."""
    docs = {k: json.loads(v[1]) for k, v in t["docs"].items()}
    of: defaultdict[str, dict[str, Any]] = defaultdict(dict)
    for (kind, id_), data in docs.items():
        of[kind][id_] = data
    if set(t["orders"]) != set(of["order"]):
        verdict.fail(
            "replicas", f"{name}: orders table {len(t['orders'])} vs {len(of['order'])} docs"
        )
    for oid, (state, assignee, data) in t["orders"].items():
        doc = of["order"].get(oid)
        if doc is None:
            continue

        def lines(o: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [
                (x["line_id"], x["qty"], x["picked"], x["short"], x["fulfilled"], x["returned"])
                for x in o["lines"]
            ]

        if (state, assignee, lines(data)) != (doc["state"], doc.get("assignee"), lines(doc)):
            verdict.fail("replicas", f"{name}: order {oid} on screen differs from central's")
    shown_stock = {
        (sku, loc): (on_hand, reserved, available)
        for sku, loc, on_hand, reserved, available in t["stock"].values()
    }
    doc_stock = {
        (d.get("sku"), d.get("location")): (d.get("on_hand"), d.get("reserved"), d.get("available"))
        for d in of["stock"].values()
    }
    if shown_stock != doc_stock:
        diff = {
            k: (shown_stock.get(k), doc_stock.get(k))
            for k in set(shown_stock) | set(doc_stock)
            if shown_stock.get(k) != doc_stock.get(k)
        }
        verdict.fail("replicas", f"{name}: stock on screen differs: {dict(list(diff.items())[:5])}")
    shown_tasks = {k: v[-1] for k, v in t["tasks"].items()}
    doc_tasks = {k: d.get("state") for k, d in of["task"].items()}
    if shown_tasks != doc_tasks:
        verdict.fail("replicas", f"{name}: tasks on screen differ from central's")
    if t["counts"] != {k: d.get("state") for k, d in of["count"].items()}:
        verdict.fail("replicas", f"{name}: counts on screen differ from central's")
    if t["returns"] != {k: d.get("state") for k, d in of["return"].items()}:
        verdict.fail("replicas", f"{name}: returns on screen differ from central's")


# --- visible ------------------------------------------------------------------------------


def _visible(
    verdict: Verdict,
    states: Mapping[Path, dict[str, Any]],
    results: list[dict[str, Any]],
    task_rows: list[dict[str, Any]],
    exception_rows: list[dict[str, Any]],
    stock_rows: list[dict[str, Any]],
    payloads: Mapping[str, tuple[str, dict[str, Any]]],
) -> None:
    tasks_by_op = {t["op_id"] for t in task_rows if t["op_id"]}
    exceptions_by_op = {x["op_id"] for x in exception_rows if x["op_id"]}
    attention = {}
    for path, t in states.items():
        for op_id, (_seq, _type, status, original, _code, seen) in t["op_log"].items():
            attention[op_id] = (path.stem, (original or status), seen)
    for r in results:
        if r["status"] not in ("rejected", "compensated"):
            continue
        op_id, code = r["op_id"], r["code"]
        if r["type"] in FACTS:
            if code in NOTHING_CHANGED or r["type"] == "pick.unscan":
                # putting units back on the shelf is itself the corrective action
                continue
            if not (r["followups"] or op_id in tasks_by_op or op_id in exceptions_by_op):
                verdict.fail(
                    "visible",
                    f"{r['type']} {op_id} {r['status']} {code}: no follow-up task, no exception",
                )
        elif op_id in attention and attention[op_id][2]:
            # a refused intent is told on its tablet; only a person marks it seen
            verdict.fail("visible", f"{r['type']} {op_id} {code} is not on its attention list")
    open_x = [x for x in exception_rows if x["state"] == "open"]
    open_recounts = {
        (t["sku"], t["location"])
        for t in task_rows
        if t["kind"] == "recount" and t["state"] == "open"
    }
    for s in stock_rows:
        if int(s["on_hand"]) >= 0:
            continue
        key = (s["sku"], s["location"])
        told = [x for x in open_x if x["code"] == "NEGATIVE_STOCK" and s["sku"] in x["message"]]
        if not told:
            verdict.fail(
                "visible",
                f"{s['sku']}@{s['location']} is at {s['on_hand']} on hand: no open exception",
            )
        if key not in open_recounts:
            verdict.fail(
                "visible",
                f"{s['sku']}@{s['location']} is at {s['on_hand']} on hand: no open recount",
            )


# --- the end of every drill ---------------------------------------------------------------


def conclude(verdict: Verdict, figures: Any, seed: int) -> None:
    """One run's verdict: see `conclude_all`."""
    conclude_all([(verdict, figures, seed)])


def conclude_all(runs: Iterable[tuple[Verdict, Any, int]]) -> None:
    """Record each run's figures, then fail the drill, in words, on any problem."""
    words = []
    for verdict, figures, seed in runs:
        figures.ops, figures.lost, figures.doubled = verdict.ops, verdict.lost, verdict.doubled
        if not verdict.ok:
            words.append(f"DRILLS_SEED={seed} reproduces this run.\n{verdict.words()}")
    if words:
        raise AssertionError("\n".join(words))
