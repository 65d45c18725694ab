"""The hub serves plain pages (printable documents, the scan sheet) beside the Flet app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import flet as ft
import httpx
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from storeapp.app import ASSETS_DIR
from storeapp.pages import add_pages
from storeapp.settings import StoreappSettings


def test_a_page_route_is_reached_and_the_app_is_still_served(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/pages/ping")
    def ping() -> PlainTextResponse:
        return PlainTextResponse("pong")

    asgi = ft.run(lambda page: None, no_cdn=True, assets_dir=str(ASSETS_DIR), export_asgi_app=True)
    add_pages(asgi, StoreappSettings(data_dir=tmp_path), [router])

    async def fetch(*paths: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return [await client.get(path) for path in paths]

    ping_page, app_page = asyncio.run(fetch("/pages/ping", "/"))
    assert ping_page.text == "pong"
    assert app_page.status_code == 200 and "flutter" in app_page.text.lower()
