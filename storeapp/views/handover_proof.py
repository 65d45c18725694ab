"""Proof of pickup (issue #11): who collects and the ID's last digits; the customers who
checked in (curbside) first, with their bay; the ready-for-pickup notice again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from storeapp.viewmodels.handover import HandoverOrder, HandoverScreen, HandoverVM

from .context import Ui
from .widgets import TITLE, button, choice, label, text_field

__all__ = ["arrival_rows", "ask_collector"]

ID_TYPES = {"driving_licence": "Driving licence", "passport": "Passport", "id_card": "ID card"}


def ask_collector(
    ui: Ui, vm: HandoverVM, order: HandoverOrder, on_done: Callable[[HandoverScreen], None]
) -> None:
    """Who collects (the customer or the alternate the OMS named) and, for an ID, its type
    (one button each) and last digits."""
    who = ft.RadioGroup(
        value=order.collected_by,
        content=ft.Row(
            [
                ft.Radio(value="customer", label=f"Customer: {order.customer}"),
                *(
                    [ft.Radio(value="alternate", label=f"Alternate: {order.alternate}")]
                    if order.alternate
                    else []
                ),
            ],
            wrap=True,
        ),
    )
    digits = text_field("ID last digits", width=220, max_length=4)

    def save(id_type: str | None) -> None:
        ui.close_dialog()
        on_done(
            vm.collector(
                str(who.value or "customer"),
                id_type=id_type,
                id_last4=str(digits.value or "") if id_type else None,
            )
        )

    needed = "This order needs the collector's ID." if order.id_needed else "ID is optional."
    ui.show_dialog(
        ft.AlertDialog(
            title=label("Who collects?", size=TITLE),
            content=ft.Column([who, label(needed), digits], tight=True),
            actions=[
                *(
                    button(words, ui.handler(lambda e, k=key: save(k)))
                    for key, words in ID_TYPES.items()
                ),
                button("No ID", ui.handler(lambda e: save(None))),
            ],
        )
    )


def arrival_rows(s: HandoverScreen, click: Callable[[str], Any]) -> list[ft.Control]:
    """The customers who said "I'm here", first come first."""
    return [
        choice(
            f"Here: {a.order_id} · {a.customer}"
            + (f" · bay {a.bay}" if a.bay else "")
            + f" · since {a.since}",
            click(a.order_id),
            padding=12,
        )
        for a in s.arrived
    ]
