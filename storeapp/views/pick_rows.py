"""Rows of the pick list: a tote per order, a stop per location (tap to select it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from storeapp.viewmodels.picking import StopRow, ToteRow

from .widgets import TITLE, label

__all__ = ["short_words", "stop_row", "tote_chip"]


def short_words(x: StopRow) -> str:
    """ "short 2", "rejected 1", "rejected 1 · short 1" (rejected units count in short)."""
    other = x.short - x.rejected
    parts = ([f"rejected {x.rejected}"] if x.rejected else []) + (
        [f"short {other}"] if other else []
    )
    return " · ".join(parts)


def tote_chip(t: ToteRow) -> ft.Control:
    words = f"{t.tote}: {t.order_id} · {t.type.replace('_', ' ')} · {t.customer}"
    return ft.Container(
        label(words, size=16), padding=8, border_radius=8, bgcolor=ft.Colors.AMBER_100
    )


def stop_row(x: StopRow, selected: bool, on_click: Callable[[Any], Any]) -> ft.Control:
    if selected:
        bg = ft.Colors.BLUE_100
    else:
        bg = ft.Colors.GREEN_50 if x.done else ft.Colors.BLUE_GREY_50
    return ft.Container(
        ft.Row(
            [
                label(x.location, bold=True, width=96),
                ft.Column(
                    [
                        label(x.name),
                        label(f"GTIN {x.gtin}", size=13, color=ft.Colors.BLUE_GREY_700),
                    ]
                    if x.gtin
                    else [label(x.name)],
                    spacing=0,
                    expand=True,
                    alignment=ft.MainAxisAlignment.CENTER,
                ),
                label(short_words(x), color=ft.Colors.ORANGE_900),
                label(f"{x.picked}/{x.qty}", size=TITLE, bold=True),
                ft.Icon(
                    ft.Icons.CHECK_CIRCLE if x.done else ft.Icons.RADIO_BUTTON_UNCHECKED,
                    color=ft.Colors.GREEN_700 if x.done else ft.Colors.BLUE_GREY_300,
                ),
            ]
        ),
        padding=ft.Padding.symmetric(vertical=8, horizontal=12),
        height=64,  # the name and, small under it, the GTIN to scan
        border_radius=8,
        bgcolor=bg,
        ink=True,
        on_click=on_click,
    )
