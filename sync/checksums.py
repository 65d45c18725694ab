"""Replica checksums (issue #12): one definition both ends compute.

A kind's checksum is the sum, mod 2**64, of one 64-bit hash per live document of that kind
in the set a tablet is supposed to hold; it is written as 16 hex digits. A sum is
order-independent and can be kept incrementally (add the new document's hash, subtract the
old one's), so central never rehashes a store to answer a pull.

A document's hash is BLAKE2b-64 of `kind \\x1f id \\x1f version \\x1f canonical JSON of its
data`: a row deleted, added, set to another version or given other content changes it.
Canonical JSON is `json.dumps(data, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`; the tablet stores its copy of central's documents in exactly that
form, so it hashes the stored text without parsing it.

The horizon: a tablet holds every live document except orders that ended long ago (central's
snapshot leaves out orders that ended more than `RETURN_LOOKBACK` returns windows ago;
pruning deletes still older ones from central, while a tablet keeps its copy). So an order
counts in the `order` checksum only when it is open, or when it ended on a UTC day
(`updated_at`) on or after `order_cutoff(server_time, return_window_days)`: the first whole
day inside the horizon, a day both ends compute from the pull's `server_time` and the
store's policy. Central keeps each order's hash in a bucket (`open`, or the day it ended),
so the `order` checksum is the `open` bucket plus the buckets from the cutoff on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

import orjson

from fulfillment.model import OPEN_STATES

__all__ = [
    "MASK",
    "OPEN",
    "RETURN_LOOKBACK",
    "UNCHECKED",
    "bucket_of",
    "canonical",
    "canonical_plain",
    "doc_hash",
    "hex_of",
    "in_horizon",
    "order_cutoff",
    "signed",
    "sum_of",
    "total",
    "unsigned",
]

MASK = (1 << 64) - 1
#: kinds not compared: an OMS shipping label is a print-only blob that leaves a tablet's
#: download together with its order (central/service/feed.py), which the label's own
#: document cannot tell; a wrong label is replaced by the OMS's next one
UNCHECKED = frozenset({"label"})

OPEN = "open"  # the bucket of every document but an ended order

# how many returns windows back a tablet keeps the orders that ended: a late return within it
# is a manager's override on the tablet, not a lookup
RETURN_LOOKBACK = 2

_OPEN_STATES = frozenset(s.value for s in OPEN_STATES)
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical(data: Mapping[str, Any]) -> str:
    """The one JSON text of a document's data that both ends hash."""
    return _dumps(data)


def canonical_plain(data: Mapping[str, Any]) -> str:
    """`canonical(data)` for data its caller knows holds no float (a tablet loading a
    snapshot, issue #9): orjson writes the same text as `canonical` for text, integers,
    flags, null, lists and objects (keys sorted by code point alike), five times faster,
    but a float in a form of its own. What orjson refuses (a lone surrogate, an integer
    beyond 64 bits, a key that is not text) goes through `canonical`."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError included
        return canonical(data)


def doc_hash(kind: str, id_: str, version: int, text: str) -> int:
    """A document's 64-bit hash (unsigned); `text` is `canonical(data)`."""
    raw = f"{kind}\x1f{id_}\x1f{version}\x1f{text}".encode()
    return int.from_bytes(blake2b(raw, digest_size=8).digest(), "big")


def sum_of(kind: str, rows: Iterable[tuple[str, int, str]]) -> int:
    """The sum (mod 2**64) of `doc_hash` over (id, version, canonical text) rows of one kind;
    the same as adding `doc_hash` one by one, with the call inlined (a tablet hashes its
    whole replica: 100,000 documents)."""
    b2 = blake2b
    big = int.from_bytes
    return (
        sum(
            big(
                b2(f"{kind}\x1f{id_}\x1f{version}\x1f{text}".encode(), digest_size=8).digest(),
                "big",
            )
            for id_, version, text in rows
        )
        & MASK
    )


def signed(value: int) -> int:
    """An unsigned 64-bit value as the signed integer a BIGINT column holds."""
    value &= MASK
    return value - (1 << 64) if value >> 63 else value


def unsigned(value: int) -> int:
    return value & MASK


def hex_of(total: int) -> str:
    return f"{total & MASK:016x}"


def _ended_day(updated_at: Any) -> str | None:
    if not isinstance(updated_at, str):
        return None
    try:
        moment = datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).date().isoformat()
    except OverflowError:
        return None


def bucket_of(kind: str, state: Any, updated_at: Any) -> str:
    """`open`, or for an order that ended, the UTC day it last changed (`YYYY-MM-DD`).

    An ended order whose `updated_at` cannot be read stays `open` (always counted)."""
    if kind != "order" or state in _OPEN_STATES:
        return OPEN
    return _ended_day(updated_at) or OPEN


def order_cutoff(server_time: datetime, return_window_days: int) -> str:
    """The first UTC day whose ended orders are inside the horizon (ISO date).

    The day after `server_time − RETURN_LOOKBACK × window`: an order that ended on it or
    later was inside the horizon of every snapshot taken before `server_time`."""
    edge = server_time.astimezone(UTC) - timedelta(days=return_window_days * RETURN_LOOKBACK)
    return (edge.date() + timedelta(days=1)).isoformat()


def in_horizon(bucket: str, cutoff: str) -> bool:
    return bucket == OPEN or bucket >= cutoff


def total(hashes: Iterable[int]) -> int:
    return sum(hashes) & MASK
