"""Webhooks (issue #11): subscriptions, and the worker that delivers the event feed to them.

A subscription (`create`) names a URL, the event types (or "*") and optionally stores. The
worker, in rounds:

1. numbers committed events (`events.sequence`);
2. fans new events out: one `webhook_deliveries` row (pending) per matching event and live
   subscription, in one INSERT … SELECT per subscription (`scanned_pos` says how far);
3. per stream — one subscription's events of one store — takes the pending rows from the
   lowest position while their head is due, POSTs them one after the other, and stops the
   stream at the first that fails (it is retried with backoff, the same event id, and the
   next ones wait: per-store order). An event still failing a day (`webhook_retry_for_s`)
   after its first try is marked failed for good and the stream moves on.

Everything is in the database, so a worker killed at any point loses nothing: a delivery
whose outcome was not written yet is sent again (at least once, never out of order). One
process delivers: the holder of `WEBHOOK_LOCK` (central/service/leader.py; with SQLite,
`serve` is one process, which always leads — run `central deliver` only with
`CENTRAL_DELIVER_WEBHOOKS=false` on the serve side).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, and_, func, insert, literal, select, update

from ..db.engine import reading
from ..db.tables import events, stores, webhook_deliveries, webhooks
from ..settings import CentralSettings
from . import events as feed_events
from .clock import utcnow
from .errors import Invalid, NotFound
from .leader import Leader

__all__ = [
    "WEBHOOK_LOCK",
    "DeliveryWorker",
    "create_webhook",
    "delete_webhook",
    "list_webhooks",
    "sign",
    "verify",
]

log = logging.getLogger("central.webhooks")

WEBHOOK_LOCK = 0x53544F5245_02  # "STORE", 2: the webhook delivery worker
STREAM_BATCH = 100  # deliveries sent per stream per round before their outcomes are written
MAX_DELAY_S = 3600.0  # the backoff's cap between two tries


def sign(secret: str, body: bytes, t: int) -> str:
    """The `X-Storeapp-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float, tolerance_s: float = 300) -> bool:
    """What a receiver does (README): the signature matches and its time is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - t) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, t), header)


# --- subscriptions -------------------------------------------------------------------------


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            "The webhook URL must be an http or https address with a host", code="INVALID_URL"
        )
    return url


def create_webhook(
    engine: Engine, url: str, types: Sequence[str], store_ids: Sequence[str] | None
) -> dict[str, Any]:
    """A new subscription, from the feed's current end on; its secret is returned only here."""
    _check_url(url)
    wanted = feed_events.check_types(types, allow_all=True)
    if not wanted:
        raise Invalid('Name at least one event type, or "*" for all', code="UNKNOWN_EVENT_TYPE")
    if "*" in wanted:
        wanted = ["*"]
    feed_events.sequence(engine)
    webhook_id = "wh_" + uuid.uuid4().hex[:16]
    secret = "whsec_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if store_ids is not None:
            known = set(
                conn.execute(
                    select(stores.c.store_id).where(stores.c.store_id.in_(list(store_ids)))
                ).scalars()
            )
            missing = [s for s in store_ids if s not in known]
            if missing:
                raise NotFound(f"No store {missing[0]}", code="UNKNOWN_STORE")
        last, _ = feed_events.positions(conn)
        conn.execute(
            insert(webhooks).values(
                webhook_id=webhook_id,
                url=url,
                events=wanted,
                store_ids=None if store_ids is None else sorted(set(store_ids)),
                secret=secret,
                scanned_pos=last,
                created_at=utcnow(),
            )
        )
    return {"webhook_id": webhook_id, "secret": secret}


def list_webhooks(engine: Engine, failed_shown: int = 20) -> list[dict[str, Any]]:
    """Live subscriptions with their deliveries counted by state and the latest failed ones."""
    d = webhook_deliveries
    with reading(engine) as conn, conn.begin():
        hooks = conn.execute(
            select(webhooks).where(webhooks.c.deleted_at.is_(None)).order_by(webhooks.c.created_at)
        ).all()
        counts: dict[str, dict[str, int]] = {}
        for webhook_id, state, n in conn.execute(
            select(d.c.webhook_id, d.c.state, func.count()).group_by(d.c.webhook_id, d.c.state)
        ):
            counts.setdefault(webhook_id, {})[state] = n
        out = []
        for h in hooks:
            failed = conn.execute(
                select(d, events.c.type)
                .join(events, events.c.pos == d.c.pos, isouter=True)
                .where(d.c.webhook_id == h.webhook_id, d.c.state == "failed")
                .order_by(d.c.pos.desc())
                .limit(failed_shown)
            ).all()
            mine = counts.get(h.webhook_id, {})
            out.append(
                {
                    "webhook_id": h.webhook_id,
                    "url": h.url,
                    "events": h.events,
                    "store_ids": h.store_ids,
                    "created_at": h.created_at.isoformat(),
                    "deliveries": {s: mine.get(s, 0) for s in ("pending", "delivered", "failed")},
                    "failed": [
                        {
                            "event_id": f"ev_{f.pos}",
                            "type": f.type,
                            "store_id": f.store_id,
                            "attempts": f.attempts,
                            "last_status": f.last_status,
                            "last_error": f.last_error,
                            "failed_at": None if f.done_at is None else f.done_at.isoformat(),
                        }
                        for f in failed
                    ],
                }
            )
    return out


def delete_webhook(engine: Engine, webhook_id: str) -> None:
    """Stop a subscription: nothing more is sent to it (its pending deliveries go)."""
    with engine.begin() as conn:
        done = conn.execute(
            update(webhooks)
            .where(webhooks.c.webhook_id == webhook_id, webhooks.c.deleted_at.is_(None))
            .values(deleted_at=utcnow())
        ).rowcount
        if not done:
            raise NotFound(f"No webhook {webhook_id}", code="UNKNOWN_WEBHOOK")
        conn.execute(
            webhook_deliveries.delete().where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.state == "pending",
            )
        )


# --- the queue -----------------------------------------------------------------------------


def fan_out(engine: Engine) -> int:
    """Queue the numbered events each live subscription has not seen yet; returns how many."""
    queued = 0
    with reading(engine) as conn, conn.begin():
        last, _ = feed_events.positions(conn)
        behind = conn.execute(
            select(webhooks).where(webhooks.c.deleted_at.is_(None), webhooks.c.scanned_pos < last)
        ).all()
    now = utcnow()
    for h in behind:
        with engine.begin() as conn:
            # the subscription's row locked: two fan-outs never queue an event twice
            scanned = conn.execute(
                select(webhooks.c.scanned_pos)
                .where(webhooks.c.webhook_id == h.webhook_id)
                .with_for_update()
            ).scalar_one()
            if scanned >= last:
                continue
            match = [events.c.pos > scanned, events.c.pos <= last]
            if h.events != ["*"]:
                match.append(events.c.type.in_(h.events))
            if h.store_ids is not None:
                match.append(events.c.store_id.in_(h.store_ids))
            queued += conn.execute(
                insert(webhook_deliveries).from_select(
                    ["webhook_id", "pos", "store_id", "state", "attempts", "next_at"],
                    select(
                        literal(h.webhook_id),
                        events.c.pos,
                        events.c.store_id,
                        literal("pending"),
                        literal(0),
                        literal(now, type_=webhook_deliveries.c.next_at.type),
                    ).where(and_(*match)),
                )
            ).rowcount
            conn.execute(
                update(webhooks)
                .where(webhooks.c.webhook_id == h.webhook_id)
                .values(scanned_pos=last)
            )
    return max(queued, 0)


@dataclass
class Delivery:
    webhook_id: str
    url: str
    secret: str
    pos: int
    store_id: str
    attempts: int
    first_tried_at: datetime | None
    body: bytes
    # the outcome, filled in by the worker
    state: str = "pending"
    status: int | None = None
    error: str | None = None
    next_at: datetime | None = None
    done_at: datetime | None = None


def due_streams(
    engine: Engine, now: datetime, per_stream: int = STREAM_BATCH
) -> list[list[Delivery]]:
    """Each stream whose head is due: its first pending deliveries, in position order."""
    d = webhook_deliveries
    with reading(engine) as conn, conn.begin():
        heads = conn.execute(
            select(d.c.webhook_id, d.c.store_id, func.min(d.c.pos).label("pos"))
            .where(d.c.state == "pending")
            .group_by(d.c.webhook_id, d.c.store_id)
        ).all()
        if not heads:
            return []
        hooks = {
            h.webhook_id: h
            for h in conn.execute(
                select(webhooks.c.webhook_id, webhooks.c.url, webhooks.c.secret).where(
                    webhooks.c.webhook_id.in_({h.webhook_id for h in heads}),
                    webhooks.c.deleted_at.is_(None),
                )
            )
        }
        streams = []
        for head in heads:
            hook = hooks.get(head.webhook_id)
            if hook is None:
                continue
            rows = conn.execute(
                select(d, events)
                .join(events, events.c.pos == d.c.pos)
                .where(
                    d.c.webhook_id == head.webhook_id,
                    d.c.store_id == head.store_id,
                    d.c.state == "pending",
                )
                .order_by(d.c.pos)
                .limit(per_stream)
            ).all()
            if not rows or rows[0].next_at > now:
                continue  # its head waits for its next try: so does the rest of the stream
            streams.append(
                [
                    Delivery(
                        hook.webhook_id,
                        hook.url,
                        hook.secret,
                        r.pos,
                        r.store_id,
                        r.attempts,
                        r.first_tried_at,
                        json.dumps(feed_events.event_out(r), separators=(",", ":")).encode(),
                    )
                    for r in rows
                ]
            )
    return streams


def record_outcomes(engine: Engine, done: Sequence[Delivery]) -> None:
    d = webhook_deliveries
    if not done:
        return
    with engine.begin() as conn:
        for x in done:
            conn.execute(
                update(d)
                .where(d.c.webhook_id == x.webhook_id, d.c.pos == x.pos, d.c.state == "pending")
                .values(
                    state=x.state,
                    attempts=x.attempts,
                    first_tried_at=x.first_tried_at,
                    next_at=x.next_at or x.done_at or utcnow(),
                    done_at=x.done_at,
                    last_status=x.status,
                    last_error=None if x.error is None else x.error[:200],
                )
            )


class DeliveryWorker:
    """Delivers the queue, in rounds, while it leads (`WEBHOOK_LOCK`)."""

    def __init__(self, engine: Engine, settings: CentralSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.leader = Leader(engine, WEBHOOK_LOCK)
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        timeout = httpx.Timeout(self.settings.webhook_timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            try:
                # Polls every webhook_poll_s while there is work; after each empty round the
                # wait doubles, up to webhook_idle_poll_s (a quiet central polled every 50 ms
                # spent 3–4 % of a core on it, in every process); a process that does not
                # lead only looks that often whether the leader is gone.
                wait = self.settings.webhook_poll_s
                while not self._stop.is_set():
                    busy = leads = False
                    try:
                        leads = await asyncio.to_thread(self.leader.holds)
                        if leads:
                            busy = await self.round(client)
                    except Exception as e:
                        log.warning("webhook_round_failed exc=%s", type(e).__name__)
                    if busy:
                        wait = self.settings.webhook_poll_s
                        continue
                    idle_most = self.settings.webhook_idle_poll_s
                    try:
                        await asyncio.wait_for(
                            self._stop.wait(), timeout=wait if leads else idle_most
                        )
                    except TimeoutError:
                        pass
                    wait = min(wait * 2, idle_most)
            finally:
                await asyncio.to_thread(self.leader.close)

    async def round(self, client: httpx.AsyncClient) -> bool:
        """One round; True when it sent something (the next round starts at once)."""
        if not await asyncio.to_thread(self._prepare):
            return False
        streams = await asyncio.to_thread(due_streams, self.engine, utcnow())
        if not streams:
            return False
        limit = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def one(stream: list[Delivery]) -> list[Delivery]:
            async with limit:
                return await self.deliver_stream(client, stream)

        results = await asyncio.gather(*(one(s) for s in streams))
        await asyncio.to_thread(record_outcomes, self.engine, [x for r in results for x in r])
        return True

    def _prepare(self) -> bool:
        """Number and fan out new events; False when there is no subscription at all (an
        idle central without webhooks costs one small query per poll)."""
        with reading(self.engine) as conn:
            live = conn.execute(
                select(webhooks.c.webhook_id).where(webhooks.c.deleted_at.is_(None)).limit(1)
            ).first()
        if live is None:
            return False
        feed_events.sequence(self.engine)
        fan_out(self.engine)
        return True

    async def deliver_stream(
        self, client: httpx.AsyncClient, stream: list[Delivery]
    ) -> list[Delivery]:
        """Send a stream's deliveries in order; stop at the first that must be tried again."""
        done = []
        for x in stream:
            if self._stop.is_set():
                break
            await self.send(client, x)
            done.append(x)
            if x.state == "pending":
                break
        return done

    async def send(self, client: httpx.AsyncClient, x: Delivery) -> None:
        now = utcnow()
        x.attempts += 1
        if x.first_tried_at is None:
            x.first_tried_at = now
        t = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "storeapp-webhooks/1",
            "X-Storeapp-Event-Id": f"ev_{x.pos}",
            "X-Storeapp-Signature": sign(x.secret, x.body, t),
        }
        try:
            response = await client.post(x.url, content=x.body, headers=headers)
            x.status = response.status_code
            ok = 200 <= response.status_code < 300
            x.error = None if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as e:
            ok = False
            x.status = None
            x.error = f"{type(e).__name__}: {e}"[:200]
        now = utcnow()
        if ok:
            x.state, x.done_at = "delivered", now
            return
        tried_for = (now - x.first_tried_at).total_seconds()
        if tried_for >= self.settings.webhook_retry_for_s:
            x.state, x.done_at = "failed", now
            log.warning("webhook_failed webhook=%s event=ev_%s", x.webhook_id, x.pos)
            return
        delay = min(self.settings.webhook_backoff_s * 2 ** (x.attempts - 1), MAX_DELAY_S)
        x.next_at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
