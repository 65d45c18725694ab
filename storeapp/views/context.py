"""What the screens of one browser session share: the page, navigation, messages, focus, tones.

Every event handler goes through `Ui.handler`: an exception becomes a message on
screen (a snack bar), never "Error running app"; the page is updated once at the
end, then, at the same time, a field asked for with `focus_after` gets the keyboard
back (a scanner types into the focused field) and a tone asked for with
`play_after` sounds (so the colour, the tone and the focus arrive together).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import flet as ft

from storeapp.viewmodels.printing import PrintVM
from storeapp.viewmodels.screen import Tone

from .sound import Tones
from .widgets import TEXT, TONE_BG, TONE_FG

__all__ = ["Ui"]

log = logging.getLogger(__name__)

FOCUS_TIMEOUT_S = 3.0

Handler = Callable[[Any], Awaitable[None]]


class Ui:
    def __init__(
        self,
        page: ft.Page,
        go: Callable[..., None],
        *,
        on_error: Callable[[BaseException], None] | None = None,
        tones: Tones | None = None,
        on_action: Callable[[], None] | None = None,
    ) -> None:
        self.page = page
        self._on_action = on_action  # every handled event: the idle sign-out starts again
        self.go = go  # go("pick", order_ids=(...)): show another screen
        self._focus: ft.Control | None = None
        self._tone: Tone | None = None
        self._on_error = on_error
        self._tones = tones  # None: a silent tablet
        self.printing: PrintVM | None = None  # the Print dialog's (set by the frame)

    def notify(self, text: str, tone: Tone = "info") -> None:
        """A short message at the bottom of the screen."""
        self.page.show_dialog(
            ft.SnackBar(ft.Text(text, size=TEXT, color=TONE_FG[tone]), bgcolor=TONE_BG[tone])
        )

    def focus_after(self, control: ft.Control) -> None:
        """Give `control` the keyboard once the running handler has updated the page."""
        self._focus = control

    def take_scan(self, field: ft.TextField) -> str:
        """What was scanned into `field`: the field is cleared and keeps the keyboard."""
        code, field.value = (field.value or "").strip(), ""
        self.focus_after(field)
        return code

    def play_after(self, tone: Tone) -> None:
        """Sound `tone` ("ok", "error"; others are silent) once the page is updated."""
        self._tone = tone

    async def play(self, tone: Tone) -> None:
        """Sound `tone` now; never raises (see `Tones.play`)."""
        if self._tones is not None:
            await self._tones.play(tone)

    def handler(self, fn: Callable[..., Any]) -> Handler:
        """Wrap an event handler: errors become messages, one update, then focus."""

        async def run(e: Any = None) -> None:
            try:
                if self._on_action is not None:
                    self._on_action()
                result = fn(e)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                log.exception("view handler %s failed", getattr(fn, "__qualname__", fn))
                if self._on_error is not None:
                    self._on_error(exc)
                self.notify(f"That did not work: {exc}", "error")
            self.page.update()
            tone, self._tone = self._tone, None
            if tone is None:
                await self.take_focus()
            else:
                await asyncio.gather(self.take_focus(), self.play(tone))

        return run

    async def take_focus(self) -> None:
        target, self._focus = self._focus, None
        if target is None or self.page.session.index.get(target._i) is not target:
            return  # none asked for, or the field left the screen meanwhile
        try:
            # Flet types focus() on each focusable control class, not on Control
            await asyncio.wait_for(cast(Any, target).focus(), FOCUS_TIMEOUT_S)
        except (TimeoutError, RuntimeError):
            log.debug("focus skipped", exc_info=True)
