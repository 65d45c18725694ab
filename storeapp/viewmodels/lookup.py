"""Stock lookup (issue #11): scan or search an item, see what the store holds of it.

    find(text) ── a scanned GTIN, a sku, or words of the name ──▶ that item, or a list
    select(sku) ──▶ one of the list
    nearby() ──▶ (online) the chain's other stores holding it and the latest movements with
                 who and why, from central; offline the screen says it shows this tablet's
                 copy only (`fetch` is injected: the app passes its CentralClient's call)

What the tablet holds is shown at once: on hand, reserved, available and doubtful per
place (the item's home place first), the last counts, and this tablet's own changes of
the item that central has not answered yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fulfillment.barcodes import InvalidBarcode, parse_scan
from fulfillment.model import Line
from storeapp.local import Item, LocalStore
from sync.errors import SyncError
from sync.protocol import StockLookup

from .screen import Clock, Tone, local_time, utc_now
from .session import SessionVM

__all__ = ["LookupScreen", "LookupVM", "MoveRow", "NearbyRow", "PlaceRow"]

Fetch = Callable[[str], StockLookup]

OFFLINE = "Offline: this is what this tablet holds; other stores show when it is online."

# a ledger movement's kind, in words
KINDS: dict[str, str] = {
    "receipt": "Received",
    "pick": "Picked",
    "put_back": "Put back",
    "ship": "Shipped",
    "handoff": "Handed over",
    "return_restock": "Returned to shelf",
    "return_damaged": "Returned damaged",
    "adjust": "Adjusted",
    "count_adjust": "Count adjustment",
    "damaged": "To the damaged bin",
    "reject_writeoff": "Written off (not found)",
}


@dataclass(frozen=True)
class PlaceRow:
    location: str
    home: bool
    on_hand: int
    reserved: int
    available: int
    doubtful: bool


@dataclass(frozen=True)
class MoveRow:
    what: str  # "To the damaged bin −1 at A-01-1"
    who: str  # "Maria" / "central"
    why: str  # the note, or the order
    when: str  # "10:42"


@dataclass(frozen=True)
class NearbyRow:
    store_id: str
    name: str
    available: int


@dataclass(frozen=True)
class LookupScreen:
    query: str
    matches: tuple[Item, ...]
    item: Item | None
    places: tuple[PlaceRow, ...]
    last_count: str  # "12 at A-01-1, 10:42 by Ana (posted)" or ""
    pending: tuple[str, ...]  # this tablet's changes of the item not yet answered
    moves: tuple[MoveRow, ...]
    nearby: tuple[NearbyRow, ...]
    online: bool | None  # None: not asked yet
    message: str = ""
    tone: Tone = "info"

    @property
    def totals(self) -> tuple[int, int, int]:
        return (
            sum(p.on_hand for p in self.places),
            sum(p.reserved for p in self.places),
            sum(p.available for p in self.places),
        )


class LookupVM:
    def __init__(
        self,
        store: LocalStore,
        session: SessionVM,
        *,
        fetch: Fetch | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._store, self._session, self._fetch, self._clock = store, session, fetch, clock
        self._query = ""
        self._matches: tuple[Item, ...] = ()
        self._sku: str | None = None
        self._online: StockLookup | None = None
        self._asked = False

    # --- gestures -----------------------------------------------------------------------

    def find(self, text: str) -> LookupScreen:
        self._query, self._sku, self._matches = text.strip(), None, ()
        self._online, self._asked = None, False
        if not self._query:
            return self.screen("Scan an item or type its sku or name.", "error")
        item = self._scanned(self._query) or self._store.item(self._query)
        if item is not None:
            self._sku = item.sku
            return self.screen()
        found = tuple(self._store.search_items(self._query))
        if not found:
            return self.screen(f"No item of this store matches “{self._query}”.", "error")
        if len(found) == 1:
            self._sku = found[0].sku
            return self.screen()
        self._matches = found
        return self.screen(f"{len(found)} items match: choose one.")

    def select(self, sku: str) -> LookupScreen:
        if self._store.item(sku) is None:
            return self.screen(f"{sku} is not an item of this store.", "error")
        self._sku, self._online, self._asked = sku, None, False
        return self.screen()

    def ask_central(self) -> StockLookup | None:
        """The network part alone (no SQLite: the view runs it on a worker thread); None
        when central cannot be reached."""
        sku = self._sku
        if sku is None or self._fetch is None:
            return None
        try:
            return self._fetch(sku)
        except SyncError:
            return None

    def shown(self, answer: StockLookup | None) -> LookupScreen:
        """The screen with central's answer (None: offline)."""
        if self._sku is None:
            return self.screen("Find an item first.", "error")
        self._asked = True
        self._online = answer if answer is not None and answer.sku == self._sku else None
        return self.screen("" if self._online is not None else OFFLINE)

    def nearby(self) -> LookupScreen:
        """Ask central and show its answer (blocking: tests and the command line)."""
        return self.shown(self.ask_central())

    # --- what the screen shows -----------------------------------------------------------

    def _scanned(self, text: str) -> Item | None:
        if not text.isdigit() and not text.startswith("]"):
            return None
        try:
            gtin = parse_scan(text).gtin
        except InvalidBarcode:
            return None
        return self._store.item_by_gtin(gtin)

    def screen(self, message: str = "", tone: Tone = "info") -> LookupScreen:
        item = self._store.item(self._sku) if self._sku else None
        if item is None:
            return LookupScreen(
                self._query, self._matches, None, (), "", (), (), (), None, message, tone
            )
        zone, now = self._store.timezone(), self._clock()
        places = sorted(
            (
                PlaceRow(
                    str(r["location"]),
                    r["location"] == item.location,
                    int(r["on_hand"] or 0),
                    int(r["reserved"] or 0),
                    int(r["available"] or 0),
                    bool(r["doubtful"]),
                )
                for r in self._store.stock_of(item.sku)
            ),
            key=lambda p: (not p.home, p.location),
        )
        if not any(p.home for p in places):
            places.insert(0, PlaceRow(item.location, True, 0, 0, 0, False))
        counts = self._store.last_counts(item.sku, limit=1)
        last = ""
        if counts:
            c = counts[0]
            last = (
                f"{c.counted} at {c.location}, {local_time(c.counted_at, now, zone)}"
                f" by {c.counted_by_name} ({c.state})"
            )
        pending = tuple(
            f"Waiting to send: {op.type} by {op.actor_id}"
            for op in self._store.outbox()
            if op.payload.get("sku") == item.sku
            or any(x.sku == item.sku for x in self._lines_of(op.payload.get("order_id")))
        )
        moves: tuple[MoveRow, ...] = ()
        nearby: tuple[NearbyRow, ...] = ()
        online: bool | None = None
        if self._online is not None:
            online = True
            moves = tuple(
                MoveRow(
                    f"{KINDS.get(m.kind, m.kind)} {m.qty:+d} at {m.location}",
                    m.actor_name or m.actor_id or "central",
                    m.note or (f"order {m.order_id}" if m.order_id else ""),
                    local_time(m.occurred_at, now, zone),
                )
                for m in self._online.movements
            )
            nearby = tuple(NearbyRow(s.store_id, s.name, s.available) for s in self._online.stores)
        elif self._asked:
            online = False
            if not message:
                message = OFFLINE
        return LookupScreen(
            self._query,
            self._matches,
            item,
            tuple(places),
            last,
            pending,
            moves,
            nearby,
            online,
            message,
            tone,
        )

    def _lines_of(self, order_id: object) -> tuple[Line, ...]:
        if not isinstance(order_id, str):
            return ()
        order = self._store.order(order_id)
        return order.lines if order is not None else ()
