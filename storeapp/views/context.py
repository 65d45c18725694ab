"""What the screens of one browser session share: the page, navigation, messages, focus, tones.

Every event handler goes through `Ui.handler`: an exception becomes a message on
screen (a snack bar), never "Error running app"; the page is updated once at the
end, then, at the same time, a field asked for with `focus_after` gets the keyboard
back (a scanner types into the focused field) and a tone asked for with
`play_after` sounds (so the colour, the tone and the focus arrive together).

The focus rule of the app (issue #10): when a handler asked for no field, the current
screen's scan field (`scan_field()`, set by the shell) gets the keyboard back, whatever
was tapped: a button, a dropdown, a chip, a dialog's answer. Only a field's own focus
and blur events (`handler(fn, refocus=False)`) and an open dialog leave it where it is,
so a tap into another field is not undone.

`width` is the page's width (the client tells it at start and on each resize): the
views read `narrow` (the screen's content is narrower than `NARROW`) to stack a row's
parts instead of squeezing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import flet as ft

from storeapp.viewmodels.printing import PrintVM
from storeapp.viewmodels.screen import Tone

from .sound import Tones
from .widgets import NARROW, PHONE, TEXT, TONE_BG, TONE_FG

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
        self.scan_field: Callable[[], ft.Control | None] = lambda: None
        self.dialog_open = False
        # the tones asked for, counted, where a browser test can read them: a
        # 1 px node in the page's overlay that nobody sees (issue #10, finding 11)
        self.tones_played: dict[Tone, int] = {"ok": 0, "error": 0}
        self.tone_node = ft.Semantics(
            identifier="tone-played",
            label=self._tones_text(),
            content=ft.Container(width=1, height=1),
        )

    def _tones_text(self) -> str:
        # "ok 2 · fail 1" (not "error": tests look for error text on screen)
        ok, fail = self.tones_played["ok"], self.tones_played["error"]
        return f"ok {ok} · fail {fail}"

    # --- layout ---------------------------------------------------------------------------

    @property
    def width(self) -> float:
        return float(self.page.width or 1280)

    @property
    def phone(self) -> bool:
        """A phone-sized page: the rail shows only the chosen entry's label."""
        return self.width < PHONE

    @property
    def content_width(self) -> float:
        """What a screen has beside the rail (80 px on a phone, 96 px otherwise)."""
        return self.width - (80 if self.phone else 96) - 32

    @property
    def narrow(self) -> bool:
        """The screen's rows stack their parts (portrait tablet, phone)."""
        return self.content_width < NARROW

    def fit(self, width: float) -> float:
        """`width`, or the screen's content width when that is less (a phone)."""
        return min(width, self.content_width)

    # --- dialogs --------------------------------------------------------------------------

    def show_dialog(self, dialog: ft.AlertDialog) -> None:
        """Open `dialog`; the scan field gets the keyboard back when it closes."""
        self.dialog_open = True
        dialog.on_dismiss = self.handler(self._dismissed)
        self.page.show_dialog(dialog)

    def close_dialog(self) -> None:
        self.dialog_open = False
        self.page.pop_dialog()

    def _dismissed(self, e: Any) -> None:
        self.dialog_open = False

    def notify(self, text: str, tone: Tone = "info") -> None:
        """A short message at the bottom of the screen."""
        self.page.show_dialog(
            ft.SnackBar(ft.Text(text, size=TEXT, color=TONE_FG[tone]), bgcolor=TONE_BG[tone])
        )

    def focus_after(self, control: ft.Control) -> None:
        """Give `control` the keyboard once the running handler has updated the page."""
        self._focus = control

    def focus_again_soon(self, control: ft.Control) -> None:
        """Ask `control`'s focus once more shortly: a field that appears in the update that
        asks for its focus now and then gets the request before it exists in the browser,
        and a scanner would then type into the field before it."""

        async def again() -> None:
            await asyncio.sleep(0.3)
            if control.visible and not self.dialog_open:
                with contextlib.suppress(Exception):  # the screen was left meanwhile
                    await cast(Any, control).focus()

        self.page.run_task(again)

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

    def handler(self, fn: Callable[..., Any], *, refocus: bool = True) -> Handler:
        """Wrap an event handler: errors become messages, one update, then focus (the
        field asked for, else the screen's scan field unless `refocus` is False)."""

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
            if self._focus is None and refocus and not self.dialog_open:
                self._focus = self.scan_field()
            tone, self._tone = self._tone, None
            if tone in self.tones_played:
                self.tones_played[tone] += 1
                self.tone_node.label = self._tones_text()
            self.page.update()
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
