"""Drive Flet 1.0.5 views without a browser.

A real :class:`flet.messaging.session.Session` runs on a recording
:class:`Connection` (the approach of flet-dev/flet's own
``tests/test_session_disconnect_buffering.py``): ``main(page)`` runs exactly as in
web mode, events go through ``Session.dispatch_event`` (so auto-update, async and
generator handlers behave as in production), every outgoing message is
MessagePack-encoded like the web transport does (which also feeds Flet's
list-diff snapshots), and client method calls (``await field.focus()``,
``page.push_route``) are answered by the fake client.

Flet 1.0.5's own ``flet.testing`` / ``flet_app`` pytest fixtures need a built
Flutter test host (``flet test`` / flet-cli, downloads Flutter) and pytest-asyncio:
not usable here. This harness is synchronous: it owns an ``asyncio.Runner``, so
tests are plain ``def test_...`` functions.

Example::

    with FletFake(main) as app:
        app.type(app.find(ft.TextField, label="Employee id"), "Ann")
        app.click(app.find(ft.Button, text="Sign in"))
        assert app.text_of("welcome") == "Welcome Ann"
        app.submit(app.find(ft.TextField, label="Scan"), "0123")
        assert app.method_calls[-1].name == "focus"

Uses Flet internals (``Session``, ``Connection``, ``protocol``): pinned to 1.0.5.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar, cast

import flet as ft
import msgpack
from flet.controls.base_control import BaseControl
from flet.controls.context import _context_page, context
from flet.messaging.connection import Connection
from flet.messaging.protocol import (
    Message,
    MessageAction,
    RegisterClientResponseBody,
    configure_encode_object_for_msgpack,
)
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

__all__ = [
    "FletFake",
    "FletHandlerError",
    "MethodCall",
    "RecordingConnection",
    "UnsentChangesError",
]

C = TypeVar("C", bound=BaseControl)
# The default of a `type: type[C]` parameter: with no type given, any control matches.
_ANY_CONTROL: Any = BaseControl

# What a Chromium client at 1280x800 reports in REGISTER_CLIENT (captured from
# the web transport's debug log with FLET_LOG_LEVEL=debug).
_CLIENT_PAGE_PROPS: dict[str, Any] = {
    "route": "/",
    "pwa": False,
    "web": True,
    "debug": False,
    "wasm": True,
    "test": False,
    "multi_view": False,
    "pyodide": False,
    "platform_brightness": "light",
    "platform": "linux",
    "window": {},
}


class FletHandlerError(AssertionError):
    """A handler (or main) raised: in a browser the tablet shows "Error running app"."""


class UnsentChangesError(AssertionError):
    """Control properties changed but never sent: the tablet would not show them
    (e.g. a ``page.run_task`` coroutine or a thread that forgot ``page.update()``)."""


class MethodCall(NamedTuple):
    control: BaseControl | None
    name: str
    args: Any


class _CountingExecutor(ThreadPoolExecutor):
    """Executor for ``page.run_thread`` that knows whether work is in flight."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="flet-fake")
        self._lock = threading.Lock()
        self.in_flight = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self.in_flight += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._lock:
            self.in_flight -= 1


class RecordingConnection(Connection):
    """Records every message Flet would send to the browser; answers method calls."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        method_results: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # flet's Connection.__init__ is unannotated
        self.loop = loop
        self.executor: _CountingExecutor = _CountingExecutor()
        self.pubsubhub = PubSubHub(loop=loop, executor=self.executor)
        self.page_name = ""
        self.page_url = "http://127.0.0.1/"
        self.messages: list[Message] = []
        self.method_calls: list[MethodCall] = []
        self.method_results: dict[str, Any] = dict(method_results or {})
        self.session: Session | None = None
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._encode = configure_encode_object_for_msgpack(BaseControl)

    def send_message(self, message: Message) -> None:
        # Encode exactly as flet_web's FletApp.send_message does: catches values
        # the client could not receive and updates Flet's __prev_* diff snapshots.
        msgpack.packb([message.action, message.body], default=self._encode)
        with self._lock:
            self.messages.append(message)
        if message.action == MessageAction.INVOKE_METHOD:
            self._answer(message.body)

    def _answer(self, body: Any) -> None:
        assert self.session is not None
        session = self.session
        control = session.index.get(body.control_id)
        self.method_calls.append(MethodCall(control, body.name, body.args))
        result = self.method_results.get(body.name)
        if callable(result):
            result = result(body.args)

        def reply() -> None:
            session.handle_invoke_method_results(body.control_id, body.call_id, result, None)
            if body.name == "push_route" and control is session.page:
                # What the Flutter client does: change route, report it back.
                route = body.args["route"]
                session.apply_page_patch({"route": route})
                task = asyncio.ensure_future(
                    session.dispatch_event(session.page._i, "route_change", {"route": route})
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        self.loop.call_soon_threadsafe(reply)

    def dispose(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class FletFake:
    """One fake browser session running ``main`` (sync facade over asyncio)."""

    def __init__(
        self,
        main: Callable[[ft.Page], Any],
        *,
        route: str = "/",
        width: float = 1280,
        height: float = 800,
        method_results: dict[str, Any] | None = None,
        raise_handler_errors: bool = True,
        check_unsent: bool = True,
    ) -> None:
        self._main = main
        self._route = route
        self._size = (float(width), float(height))
        self._method_results = method_results
        self._raise = raise_handler_errors
        self._check_unsent = check_unsent
        self._runner: asyncio.Runner | None = None
        self.conn: RecordingConnection
        self.session: Session
        self._crashes_seen = 0

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> FletFake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> FletFake:
        self._runner = asyncio.Runner()
        self._run(self._start())
        return self

    def close(self) -> None:
        if self._runner is None:
            return
        try:
            self._run(self._close())
        finally:
            self.conn.dispose()
            self._runner.close()
            self._runner = None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self.conn = RecordingConnection(loop, self._method_results)
        self.session = Session(self.conn)
        self.conn.session = self.session
        page = self.session.page
        _context_page.set(page)
        width, height = self._size
        self.session.apply_page_patch(
            {
                **_CLIENT_PAGE_PROPS,
                "route": self._route,
                "width": width,
                "height": height,
                "media": {
                    "orientation": "landscape" if width >= height else "portrait",
                    "device_pixel_ratio": 1.0,
                },
            }
        )
        self.conn.send_message(
            Message(
                MessageAction.REGISTER_CLIENT,
                RegisterClientResponseBody(
                    session_id=self.session.id,
                    page_patch=self.session.get_page_patch(),
                    error="",
                ),
            )
        )
        # Same steps as flet_web's FletApp.__on_session_created.
        context.reset_auto_update()
        main = self._main
        try:
            if inspect.iscoroutinefunction(main):
                await main(page)
            elif inspect.isasyncgenfunction(main):
                async for _ in main(page):
                    await self.session.after_event(page)
            elif inspect.isgeneratorfunction(main):
                for _ in main(page):
                    await self.session.after_event(page)
            else:
                main(page)
            await self.session.after_event(page)
        except Exception as e:
            raise FletHandlerError(f"main() raised {e!r}") from e
        await self._settle(1.0)
        self._check_crashes()

    async def _close(self) -> None:
        await self._settle(1.0)
        await self.session.disconnect(0)
        self.session.close()
        await asyncio.sleep(0)

    def _run(self, coro: Any) -> Any:
        assert self._runner is not None, "FletFake not started"
        return self._runner.run(coro)

    # -- state -----------------------------------------------------------
    @property
    def page(self) -> ft.Page:
        page: ft.Page = self.session.page
        return page

    @property
    def messages(self) -> list[Message]:
        return self.conn.messages

    @property
    def method_calls(self) -> list[MethodCall]:
        return self.conn.method_calls

    def calls(self, name: str) -> list[MethodCall]:
        """Client method calls named ``name`` (e.g. ``"focus"``), oldest first."""
        return [c for c in self.conn.method_calls if c.name == name]

    @property
    def crashes(self) -> list[str]:
        """Messages of SESSION_CRASHED ("Error running app") sent so far."""
        return [
            m.body.message for m in self.conn.messages if m.action == MessageAction.SESSION_CRASHED
        ]

    def unsent(self) -> list[tuple[BaseControl, list[str]]]:
        """Controls whose changed properties were not sent to the client yet
        (Flet's per-control ``_dirty`` set, cleared when a patch is built)."""
        return [
            (c, sorted(c._dirty))
            for c in self.walk(visible_only=False)
            if getattr(c, "_dirty", None)
        ]

    def _check_crashes(self) -> None:
        crashes = self.crashes
        new, self._crashes_seen = crashes[self._crashes_seen :], len(crashes)
        if new and self._raise:
            raise FletHandlerError("handler crashed the session:\n" + "\n".join(new))
        if self._check_unsent and (unsent := self.unsent()):
            listed = ", ".join(f"{type(c).__name__}{props}" for c, props in unsent)
            raise UnsentChangesError(f"changed but not sent to the client: {listed}")

    # -- the control tree ------------------------------------------------
    def walk(self, root: Any = None, *, visible_only: bool = True) -> Iterator[BaseControl]:
        """Controls under ``root`` (default: the page, incl. dialogs), depth first."""
        seen: set[int] = set()

        def visit(value: Any) -> Iterator[BaseControl]:
            if value is None or isinstance(value, (str, bytes, int, float, bool)):
                return
            if id(value) in seen:
                return
            seen.add(id(value))
            if isinstance(value, BaseControl):
                if visible_only and getattr(value, "visible", True) is False:
                    return
                if visible_only and isinstance(value, ft.DialogControl) and not value.open:
                    return  # closed dialog / snack bar
                yield value
            if dataclasses.is_dataclass(value):
                for f in dataclasses.fields(value):
                    if f.name in ("_parent", "parent") or f.metadata.get("skip"):
                        continue
                    yield from visit(getattr(value, f.name, None))
            elif isinstance(value, (list, tuple)):
                for item in value:
                    yield from visit(item)
            elif isinstance(value, dict):
                for item in value.values():
                    yield from visit(item)

        yield from visit(self.page if root is None else root)

    def find_all(
        self,
        type: type[C] = _ANY_CONTROL,
        *,
        identifier: str | None = None,
        text: str | None = None,
        label: str | None = None,
        where: Callable[[C], bool] | None = None,
        root: Any = None,
        visible_only: bool = True,
    ) -> list[C]:
        """Controls matching every given criterion.

        ``identifier``: ``ft.Semantics(identifier=...)`` (returns the Semantics);
        ``text``: a ``Text`` value or a string ``content`` (``ft.Button("Sign in")``);
        ``label``: a string ``label`` (TextField, Dropdown, rail destination, ...).
        """
        found: list[C] = []
        for c in self.walk(root, visible_only=visible_only):
            if not isinstance(c, type):
                continue
            if identifier is not None and getattr(c, "identifier", None) != identifier:
                continue
            if text is not None and _own_text(c) != text:
                continue
            if label is not None and _str_attr(c, "label") != label:
                continue
            if where is not None and not where(c):
                continue
            found.append(c)
        return found

    def find(self, type: type[C] = _ANY_CONTROL, **criteria: Any) -> C:
        """Exactly one control matching (see :meth:`find_all`), else LookupError."""
        found = self.find_all(type, **criteria)
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} {type.__name__} match {criteria}; tree:\n{self.dump()}"
            )
        return found[0]

    def by_identifier(self, identifier: str) -> ft.Control | None:
        """The ``content`` of ``ft.Semantics(identifier=identifier)``."""
        return self.find(ft.Semantics, identifier=identifier).content

    def texts(self, root: Any = None) -> list[str]:
        """Visible strings in tree order (Text values, string contents and labels)."""
        out = []
        for c in self.walk(root):
            s = _own_text(c) or _str_attr(c, "label")
            if s:
                out.append(s)
        return out

    def text_of(self, identifier: str) -> str:
        """All visible strings under ``Semantics(identifier=...)``, space-joined."""
        return " ".join(self.texts(self.find(ft.Semantics, identifier=identifier)))

    def dump(self, root: Any = None) -> str:
        """An indented outline of the tree, for failure messages."""
        lines: list[str] = []

        def visit(c: BaseControl, depth: int) -> None:
            bits = [type(c).__name__]
            for attr in ("identifier", "label", "value", "content", "text"):
                v = getattr(c, attr, None)
                if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    bits.append(f"{attr}={v!r}")
            lines.append("  " * depth + " ".join(bits))
            for child in _children(c):
                visit(child, depth + 1)

        visit(self.page if root is None else root, 0)
        return "\n".join(lines)

    # -- acting like the client -------------------------------------------
    def type(self, field: BaseControl, text: str) -> None:
        """Type ``text`` into a TextField: value prop update, then ``on_change``."""
        self._require_mounted(field)
        self.session.apply_patch(field._i, {"value": text})
        if getattr(field, "on_change", None) is not None:
            self.fire(field, "change", text)

    def submit(self, field: BaseControl, text: str | None = None) -> None:
        """Optionally type ``text``, then press Enter (``on_submit`` gets the value)."""
        if text is not None:
            self.type(field, text)
        self.fire(field, "submit", getattr(field, "value", None))

    def click(self, control: BaseControl) -> None:
        self.fire(control, "click", None)

    def select(self, dropdown: ft.Dropdown, key: str) -> None:
        """Pick option ``key`` in a Dropdown (value update, then ``on_select``)."""
        self._require_mounted(dropdown)
        self.session.apply_patch(dropdown._i, {"value": key})
        self.fire(dropdown, "select", key)

    def change(self, control: BaseControl, value: Any, prop: str = "value") -> None:
        """Generic client-side change: set ``prop``, then ``on_change`` with it
        (NavigationRail: ``prop="selected_index"``)."""
        self._require_mounted(control)
        self.session.apply_patch(control._i, {prop: value})
        self.fire(control, "change", value)

    def fire(self, control: BaseControl, event: str, data: Any = None) -> None:
        """Dispatch ``on_<event>`` through the session, then let background work settle."""
        self._require_mounted(control)
        self._run(self._fire(control, event, data))
        self._check_crashes()

    async def _fire(self, control: BaseControl, event: str, data: Any) -> None:
        await self.session.dispatch_event(control._i, event, data)
        await self._settle(1.0)

    def settle(self, timeout: float = 2.0) -> bool:
        """Run the loop until tasks (``page.run_task``) and threads
        (``page.run_thread``) are done or ``timeout`` passes. True if idle."""
        idle: bool = self._run(self._settle(timeout))
        self._check_crashes()
        return idle

    def run(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn()`` (sync or async) on the session's loop and page context."""

        async def call() -> Any:
            cast("ContextVar[ft.Page | None]", _context_page).set(self.page)
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            await self._settle(1.0)
            return result

        result = self._run(call())
        self._check_crashes()
        return result

    async def _settle(self, budget_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_s
        me = asyncio.current_task()
        scheduler = self.session._Session__updates_task  # type: ignore[attr-defined]
        quiet_rounds = 0
        while loop.time() < deadline:
            await asyncio.sleep(0)
            busy = self.conn.executor.in_flight > 0 or any(
                t is not me and t is not scheduler and not t.done() for t in asyncio.all_tasks()
            )
            quiet_rounds = 0 if busy else quiet_rounds + 1
            if quiet_rounds >= 3:  # run_thread reaches the executor via call_soon
                return True
            await asyncio.sleep(0.001 if not busy else 0.005)
        return False

    def _require_mounted(self, control: BaseControl) -> None:
        try:
            mounted = control.page is self.page
        except RuntimeError:
            mounted = False
        if not mounted:
            raise LookupError(f"{control!r} is not on the page (a stale control?)")


def _str_attr(c: Any, name: str) -> str | None:
    v = getattr(c, name, None)
    return v if isinstance(v, str) else None


def _own_text(c: BaseControl) -> str | None:
    if isinstance(c, ft.Text):
        return c.value if isinstance(c.value, str) else None
    return _str_attr(c, "content") or _str_attr(c, "text")


def _children(c: BaseControl) -> list[BaseControl]:
    out: list[BaseControl] = []

    def visit(value: Any, top: bool) -> None:
        if isinstance(value, BaseControl) and not top:
            out.append(value)
            return
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                if f.name in ("_parent", "parent") or f.metadata.get("skip"):
                    continue
                visit(getattr(value, f.name, None), False)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, False)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item, False)

    visit(c, True)
    return out


def publish_from_another_thread(fanout: Any, event: Any) -> None:
    """What the sync engine does: publish a progress or a report from its own thread."""
    thread = threading.Thread(target=fanout.publish, args=(event,))
    thread.start()
    thread.join()
