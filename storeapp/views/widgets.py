"""Small shared pieces of the tablet's look: sizes, tone colours, big buttons, test handles.

Touch targets are at least 48 px (buttons here are 56 px high), text at least 16 px.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import flet as ft

from storeapp.viewmodels.screen import Tone

__all__ = [
    "BIG",
    "TARGET",
    "TEXT",
    "TITLE",
    "TONE_BG",
    "TONE_FG",
    "button",
    "choice",
    "fill",
    "handle",
    "label",
    "message",
    "show",
    "stepper",
    "text_field",
]

TEXT = 18  # body text
TITLE = 24
BIG = 32  # quantities
TARGET = 56  # button height

TONE_FG: dict[Tone, str] = {
    "info": ft.Colors.BLUE_GREY_900,
    "ok": ft.Colors.GREEN_900,
    "warning": ft.Colors.ORANGE_900,
    "error": ft.Colors.RED_900,
}
TONE_BG: dict[Tone, str] = {
    "info": ft.Colors.BLUE_GREY_50,
    "ok": ft.Colors.GREEN_100,
    "warning": ft.Colors.ORANGE_100,
    "error": ft.Colors.RED_100,
}


def handle(identifier: str, control: ft.Control) -> ft.Semantics:
    """A stable handle for browser tests; keep `control` small (Flutter merges texts)."""
    return ft.Semantics(identifier=identifier, content=control)


def label(text: str = "", *, size: int = TEXT, bold: bool = False, **kw: Any) -> ft.Text:
    return ft.Text(text, size=size, weight=ft.FontWeight.BOLD if bold else None, **kw)


def button(
    text: str,
    on_click: Callable[..., Any] | None,
    *,
    icon: ft.IconData | None = None,
    primary: bool = False,
    danger: bool = False,
) -> ft.Button:
    bg = ft.Colors.RED_700 if danger else (ft.Colors.BLUE_700 if primary else None)
    return ft.Button(
        text,
        icon=icon,
        on_click=on_click,
        height=TARGET,
        bgcolor=bg,
        color=ft.Colors.WHITE if bg else None,
        style=ft.ButtonStyle(
            text_style=ft.TextStyle(size=TEXT, weight=ft.FontWeight.W_600),
            padding=ft.Padding.symmetric(horizontal=24),
        ),
    )


def choice(text: str, on_click: Any, *, padding: int) -> ft.Container:
    """One line to tap among several (the orders a search found)."""
    return ft.Container(
        label(text),
        padding=padding,
        border_radius=8,
        ink=True,
        bgcolor=ft.Colors.BLUE_GREY_50,
        on_click=on_click,
    )


def text_field(text_label: str, **kw: Any) -> ft.TextField:
    return ft.TextField(label=text_label, text_size=TEXT + 2, height=64, **kw)


def message(identifier: str) -> tuple[ft.Text, ft.Container]:
    """A coloured message line: (the text to set, the box to place)."""
    text = label("", size=TEXT + 2, bold=True)
    box = ft.Container(handle(identifier, text), padding=12, border_radius=8, visible=False)
    return text, box


def show(text: ft.Text, box: ft.Container, words: str, tone: Tone) -> None:
    text.value = words
    text.color = TONE_FG[tone]
    box.bgcolor = TONE_BG[tone]
    box.visible = bool(words)


def stepper(
    value: int, on_minus: Callable[..., Any], on_plus: Callable[..., Any], identifier: str
) -> tuple[ft.Text, ft.Row]:
    """− [value] + with 56 px buttons; returns the number's Text to update."""
    number = label(str(value), size=BIG, bold=True, text_align=ft.TextAlign.CENTER, width=64)
    row = ft.Row(
        [
            ft.IconButton(
                ft.Icons.REMOVE,
                on_click=on_minus,
                icon_size=32,
                width=TARGET,
                height=TARGET,
                tooltip="Less",
            ),
            handle(identifier, number),
            ft.IconButton(
                ft.Icons.ADD,
                on_click=on_plus,
                icon_size=32,
                width=TARGET,
                height=TARGET,
                tooltip="More",
            ),
        ],
        spacing=4,
        vertical_alignment=ft.CrossAxisAlignment.CENTER,
    )
    return number, row


def fill(holder: Any, key: object, build: Callable[[], list[ft.Control]]) -> None:
    """Set `holder.controls = build()` only when `key` (the rows shown) changed.

    A background refresh (a sync pass) must not replace buttons that did not change:
    a tap on a replaced button is lost (its control id is gone).
    """
    if holder.data == key and holder.controls:
        return
    holder.data = key
    holder.controls = build()


def keeping_message(new: Any, last: Any) -> Any:
    """A background refresh (a sync pass): the new data with the message the person was
    reading — it must not vanish under them. `new` and `last` are one screen dataclass."""
    if last is None:
        return new
    return replace(new, message=last.message, tone=last.tone)
