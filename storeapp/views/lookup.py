"""Stock lookup (issue #11): scan or search an item; on hand, reserved, available, doubtful per
place, the last count, and — online — the chain's other stores and the latest movements."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from storeapp.viewmodels.lookup import LookupScreen, LookupVM

from .context import Ui
from .screen import ScreenView
from .widgets import BIG, TEXT, TITLE, button, fill, handle, label, message, show, text_field

__all__ = ["LookupView"]

_MUTED = ft.Colors.BLUE_GREY_700


class LookupView(ScreenView):
    def __init__(self, ui: Ui, vm: LookupVM) -> None:
        self.ui, self.vm = ui, vm
        self.scan = text_field(
            "Scan or type sku or name",
            autofocus=True,
            expand=True,
            on_submit=ui.handler(self._find),
        )
        self.text, self.box = message("lookup-message")
        self.title = label("", size=TITLE, bold=True)
        self.totals = label("", size=BIG, bold=True)
        self.body = ft.ListView(spacing=6, expand=True)
        self.focus_target = self.scan
        self.root = ft.Column(
            [
                label("Stock lookup", size=TITLE, bold=True),
                ft.Row([self.scan, button("Find", ui.handler(self._find), icon=ft.Icons.SEARCH)]),
                self.box,
                handle("lookup-item", self.title),
                handle("lookup-totals", self.totals),
                self.body,
            ],
            expand=True,
            spacing=10,
        )
        self.render(vm.screen())

    def render(self, s: LookupScreen) -> None:
        show(self.text, self.box, s.message, s.tone)
        self.title.value = f"{s.item.name} · {s.item.sku}" if s.item else ""
        on_hand, reserved, available = s.totals
        self.totals.value = (
            f"On hand {on_hand} · reserved {reserved} · available {available}" if s.item else ""
        )
        fill(self.body, s, lambda: self._rows(s))

    def _rows(self, s: LookupScreen) -> list[ft.Control]:
        if s.item is None:
            return [
                button(f"{i.name} ({i.sku})", self.ui.handler(lambda e, k=i.sku: self._pick(k)))
                for i in s.matches
            ]
        rows: list[ft.Control] = [
            label(
                f"{p.location}{' (home)' if p.home else ''}: on hand {p.on_hand}, reserved"
                f" {p.reserved}, available {p.available}{' — doubtful' if p.doubtful else ''}",
                size=TEXT,
                bold=p.home,
            )
            for p in s.places
        ]
        rows.append(label(f"Last count: {s.last_count or 'none on this tablet'}", color=_MUTED))
        rows += [label(p, color=_MUTED) for p in s.pending]
        if s.online is None:
            rows.append(button("Other stores", self.ui.handler(self._nearby), icon=ft.Icons.STORE))
        for n in s.nearby:
            rows.append(label(f"{n.name} ({n.store_id}): {n.available} available"))
        if s.online and not s.nearby:
            rows.append(label("No other store of the chain has it.", color=_MUTED))
        for m in s.moves:
            rows.append(label(f"{m.when} {m.what} · {m.who}{' · ' + m.why if m.why else ''}"))
        return rows

    def _find(self, e: Any = None) -> None:
        code = self.ui.take_scan(self.scan)
        self.render(self.vm.find(code))
        self.ui.focus_after(self.scan)

    def _pick(self, sku: str) -> None:
        self.render(self.vm.select(sku))

    async def _nearby(self, e: Any = None) -> None:
        # a network call: off the event loop, which serves every tablet of the hub
        answer = await asyncio.to_thread(self.vm.ask_central)
        self.render(self.vm.shown(answer))
