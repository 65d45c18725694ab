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
    "action_bar",
    "button",
    "choice",
    "fill",
    "handle",
    "label",
    "look_ready",
    "message",
    "right",
    "show",
    "stepper",
    "text_field",
]

TEXT = 18  # body text
TITLE = 24
BIG = 32  # quantities
TARGET = 56  # button height
FIELD_LABEL = 16  # a field's floating label (Flutter's default is 12)
NARROW = 900  # content narrower than this (portrait tablet, phone): rows reflow into lines
PHONE = 600  # a page narrower than this: the rail shows only the chosen entry's label

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
    """A 56 px button. A primary one that is not ready yet stays tappable (the tap says
    why) but looks grey: `look_ready(btn, False)`; a disabled one looks disabled too."""
    bg = ft.Colors.RED_700 if danger else (ft.Colors.BLUE_700 if primary else None)
    btn = ft.Button(text, icon=icon, on_click=on_click, height=TARGET)
    btn.data = bg
    look_ready(btn, True)
    return btn


def look_ready(btn: ft.Button, ready: bool) -> None:
    """Colour `btn` as ready (its own colour) or not (grey, like a disabled button)."""
    grey, grey_text = ft.Colors.BLUE_GREY_100, ft.Colors.BLUE_GREY_500
    own: str | None = btn.data if ready else grey
    fg: str | None = ft.Colors.WHITE if ready and btn.data else (None if ready else grey_text)
    bgcolor: dict[ft.ControlState, str] = {ft.ControlState.DISABLED: grey}
    color: dict[ft.ControlState, str] = {ft.ControlState.DISABLED: grey_text}
    if own is not None:
        bgcolor[ft.ControlState.DEFAULT] = own
    if fg is not None:
        color[ft.ControlState.DEFAULT] = fg
    btn.style = ft.ButtonStyle(
        text_style=ft.TextStyle(size=TEXT, weight=ft.FontWeight.W_600),
        padding=ft.Padding.symmetric(horizontal=24),
        bgcolor=bgcolor,
        color=color,
        icon_color=color,
    )


def action_bar(*controls: ft.Control) -> ft.Container:
    """The screen's bottom bar: its actions, right-aligned (the thumb's reach), wrapping
    onto a second line on a narrow screen instead of leaving the screen."""
    return right(ft.Row(list(controls), wrap=True, spacing=8, run_spacing=8))


def right(row: ft.Row) -> ft.Container:
    """`row` (a wrapping one: Flutter's Wrap is as wide as its children) at the right edge."""
    row.alignment = ft.MainAxisAlignment.END
    return ft.Container(row, alignment=ft.Alignment.CENTER_RIGHT, padding=ft.Padding.only(top=8))


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
    return ft.TextField(
        label=text_label,
        text_size=TEXT + 2,
        height=64,
        label_style=ft.TextStyle(size=FIELD_LABEL),
        **kw,
    )


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
    """− [value] + with 56 px buttons; returns the number's Text to update.

    The buttons are named by a Semantics label, not a tooltip: a tooltip shown under a
    resting pointer took the keyboard and cut a scan in half (issue #10, finding 3)."""
    number = label(str(value), size=BIG, bold=True, text_align=ft.TextAlign.CENTER, width=64)
    row = ft.Row(
        [
            ft.Semantics(
                label="Less",
                button=True,
                content=ft.IconButton(
                    ft.Icons.REMOVE,
                    on_click=on_minus,
                    icon_size=32,
                    width=TARGET,
                    height=TARGET,
                    data="Less",
                ),
            ),
            handle(identifier, number),
            ft.Semantics(
                label="More",
                button=True,
                content=ft.IconButton(
                    ft.Icons.ADD,
                    on_click=on_plus,
                    icon_size=32,
                    width=TARGET,
                    height=TARGET,
                    data="More",
                ),
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
