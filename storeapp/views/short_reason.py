""" "Can't find it": a short list of reasons for marking a pick-list stop short."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from storeapp.viewmodels.counting import SHORT_REASON_WORDS
from storeapp.viewmodels.picking import SHORT_REASONS, StopRow

from .context import Ui
from .widgets import TITLE, button, label

__all__ = ["REASON_WORDS", "ask_short_reason"]

REASON_WORDS = SHORT_REASON_WORDS


def ask_short_reason(
    ui: Ui, stop: StopRow, on_reason: Callable[[str], None], *, on_cancel: Callable[[], None]
) -> None:
    """Open the reason picker; closing it calls `on_reason(reason)` or `on_cancel()`."""

    def choose(reason: str | None) -> None:
        ui.close_dialog()
        if reason is None:
            on_cancel()
        else:
            on_reason(reason)

    ui.show_dialog(
        ft.AlertDialog(
            title=label(f"Can't find {stop.name} at {stop.location}?", size=TITLE),
            content=label(f"{stop.remaining} unit(s) will be marked short. Why?"),
            actions=[
                *(
                    button(REASON_WORDS.get(r, r), ui.handler(lambda e, r=r: choose(r)))
                    for r in SHORT_REASONS
                ),
                ft.TextButton("Cancel", height=48, on_click=ui.handler(lambda e: choose(None))),
            ],
        )
    )
