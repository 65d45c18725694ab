"""Reject with a reason (issue #11): the store's reasons for the pick list's selected stop."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from storeapp.viewmodels.picking import StopRow
from storeapp.viewmodels.rejecting import EFFECT_WORDS, RejectScreen, RejectVM

from .context import Ui
from .widgets import TITLE, button, label, text_field

__all__ = ["ask_reject"]


def ask_reject(
    ui: Ui, vm: RejectVM, stop: StopRow, on_done: Callable[[RejectScreen | None], None]
) -> None:
    """Open the reason list; a reason rejects the typed number of units of the stop."""
    open_units = sum(x.remaining + x.picked for x in stop.splits)
    qty = text_field("Units", value="1", width=120)
    note = text_field("Note (optional)", expand=True)
    targets = [(x.order_id, x.line_id) for x in stop.splits]

    def choose(code: str | None) -> None:
        ui.close_dialog()
        if code is None:
            on_done(None)
            return
        try:
            n = int(str(qty.value or "0").strip())
        except ValueError:
            n = 0
        on_done(vm.reject_units(targets, n, code, str(note.value or "")))

    ui.show_dialog(
        ft.AlertDialog(
            title=label(f"Reject {stop.name} at {stop.location}?", size=TITLE),
            content=ft.Column(
                [label(f"Up to {open_units} unit(s). Why?"), ft.Row([qty, note])], tight=True
            ),
            actions=[
                *(
                    button(
                        f"{r.label} ({EFFECT_WORDS[r.effect]})",
                        ui.handler(lambda e, c=r.code: choose(c)),
                    )
                    for r in vm.reasons()
                ),
                ft.TextButton("Cancel", height=48, on_click=ui.handler(lambda e: choose(None))),
            ],
        )
    )
