"""The base of every screen whose actions are done for the signed-in associate."""

from __future__ import annotations

from typing import Generic, TypeVar

from fulfillment.barcodes import InvalidBarcode, parse_scan
from fulfillment.codes import Code
from storeapp.local import Item, LocalStore

from .screen import SIGN_IN_FIRST, Clock, OnChange, Tone, nothing, utc_now
from .session import SessionVM

__all__ = ["NOT_SAVED", "ActingVM"]

# only when the tablet refused an action without a reason of its own
NOT_SAVED = "That was not saved on this tablet. Try again, or ask a manager."

S = TypeVar("S")


class ActingVM(Generic[S]):
    """Holds the store, who is signed in, the clock and the "something changed" hook.

    `_act` is the one path from a screen to `LocalStore.act`: a refusal comes back as
    the screen with the refusal's sentence; a queued op pokes the sync engine."""

    def __init__(
        self,
        store: LocalStore,
        session: SessionVM,
        *,
        clock: Clock = utc_now,
        on_change: OnChange = nothing,
    ) -> None:
        self._store, self._session, self._clock, self._on_change = store, session, clock, on_change
        self._start()

    def _start(self) -> None:
        """The screen's own state, set up once (a subclass's hook instead of its __init__)."""

    def screen(self, message: str = "", tone: Tone = "info") -> S:
        raise NotImplementedError

    def _timezone(self) -> str:
        return self._store.timezone()

    def _scanned_item(self, code: str) -> Item | str:
        """The store's item a scanned code names, or the sentence saying why there is none."""
        try:
            gtin = parse_scan(code).gtin
        except InvalidBarcode as exc:
            return str(exc)
        item = self._store.item_by_gtin(gtin)
        if item is None:
            return f"{code.strip()} is not an item of this store."
        return item

    def _act(self, op_type: str, payload: dict[str, object], done: str) -> S:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        result = self._store.act(who.employee_id, op_type, payload, self._clock())
        if not result.ok:
            return self.screen(result.message or NOT_SAVED, "error")
        self._on_change()
        if result.code == Code.ALREADY_DONE:  # queued as central would apply it: nothing changed
            return self.screen(result.message or done, "info")
        return self.screen(done, "ok")
