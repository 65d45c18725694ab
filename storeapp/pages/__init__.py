"""Plain HTTP pages the hub serves beside the Flet app (printable documents, the demo's scan
sheet): a browser opens them in a new tab, where its own print dialog prints them.

Flet's web app mounts its static files at "/", which matches every path, so a route added
after it is never reached; :func:`add_pages` puts our routes in front of that mount. Each
kind of page is one module here with an ``router`` (a FastAPI ``APIRouter``) listed in
:data:`ROUTERS`; a router that needs the tablet's database reads it from
``request.app.state.settings`` (a :class:`~storeapp.settings.StoreappSettings`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import Mount

from storeapp.settings import StoreappSettings

from . import routes

#: every page router the hub serves; a new kind of page adds its route to `routes`
ROUTERS: list[APIRouter] = [routes.router]


def add_pages(
    app: FastAPI, settings: StoreappSettings, routers: list[APIRouter] | None = None
) -> None:
    """Serve `routers` (default :data:`ROUTERS`) from Flet's ASGI app `app`, before its "/" mount."""
    app.state.settings = settings
    for router in ROUTERS if routers is None else routers:
        app.include_router(router)
    routes = app.router.routes
    catch_all = [r for r in routes if isinstance(r, Mount) and r.path in ("", "/")]
    for route in catch_all:
        routes.remove(route)
        routes.append(route)
