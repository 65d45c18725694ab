"""Playwright (sync API) harness for driving a Flet 1.0.5 web app in Debian's Chromium.

Flet renders with Flutter on a canvas; the DOM a test can query is Flutter's
accessibility tree (``flt-semantics`` nodes), which Flutter builds only after the
hidden ``flt-semantics-placeholder`` button is clicked. :func:`open_flet_page`
does that, after which:

- a ``TextField(label="PIN")`` is ``<input aria-label="PIN">``:
  ``get_by_role("textbox", name="PIN")`` (also for ``password=True``);
- a ``Button("Sign in")`` is ``<flt-semantics role="button">Sign in</...>``:
  ``get_by_role("button", name="Sign in")``;
- a ``Text("Welcome Ann")`` is a ``flt-semantics`` node whose text is the value:
  ``get_by_text("Welcome Ann")``;
- ``Semantics(identifier="last-scan", content=...)`` is
  ``[flt-semantics-identifier="last-scan"]`` (:func:`by_identifier`).

Never run ``playwright install``: the browser is ``/usr/bin/chromium`` (apt).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "by_identifier",
    "click_button",
    "fill_textbox",
    "flet_server",
    "free_port",
    "launch_chromium",
    "open_flet_page",
    "press_enter",
    "textbox",
    "wait_focused",
    "wait_keyboard_in",
    "wait_text",
]

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DEFAULT_TIMEOUT_MS = 15_000
_SETTLE_MS = 100  # Flutter attaches editing state to a focused <input> within ~10-30 ms
_TAP_FOCUS_MS = 3_000  # a tap that does not focus its field by then is tried again


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def flet_server(
    argv: Sequence[str],
    url: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float = 30.0,
    log_path: str | os.PathLike[str] | None = None,
) -> Iterator[str]:
    """Run a Flet web app in a subprocess; yield ``url`` once it answers HTTP 200.

    ``argv`` must start a process that calls ``ft.run(..., view=ft.AppView.WEB_BROWSER,
    host="127.0.0.1", port=<port in url>, no_cdn=True)``. Readiness is polled over
    HTTP (Flet prints nothing reliable). On exit the process gets SIGTERM (Flet
    shuts uvicorn down gracefully), then SIGKILL after 5 s.
    """
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(list(argv), cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Flet app exited with code {proc.returncode}: {argv}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"Flet app not ready at {url} after {ready_timeout}s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if log_path:
            assert not isinstance(log, int)
            log.close()


@contextlib.contextmanager
def launch_chromium(*, headless: bool = True) -> Iterator[Browser]:
    """Start Debian's Chromium through Playwright; close it on exit."""
    if not Path(CHROMIUM_PATH).exists():
        raise FileNotFoundError(f"{CHROMIUM_PATH} missing: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS), headless=headless
        )
        try:
            yield browser
        finally:
            browser.close()


def open_flet_page(
    browser: Browser,
    url: str,
    *,
    width: int = 1280,
    height: int = 800,
    timeout_ms: int = 30_000,
) -> Page:
    """Open ``url`` in a new context, wait for Flutter, enable the semantics DOM."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    # Enable semantics as soon as the engine creates the placeholder, before the
    # app's first frame. Enabled later, an autofocused TextField keeps editing in
    # a hidden <input> under flt-text-editing-host for the whole session and the
    # labelled semantics <input> never gets focus or value (typing still works).
    # The placeholder sits outside the viewport: a real click fails with
    # "Element is outside of the viewport"; a DOM click event is what Flutter wants.
    placeholder = page.locator("flt-semantics-placeholder")
    placeholder.wait_for(state="attached", timeout=timeout_ms)
    placeholder.dispatch_event("click")
    page.wait_for_selector("#loading", state="detached", timeout=timeout_ms)
    page.wait_for_selector("flt-semantics-host flt-semantics", state="attached")
    return page


# Value of the focused text input if it belongs to the TextField ``label``
# (semantics <input>, or Flutter's hidden editing <input>), else null.
_FOCUSED_VALUE_JS = """(label) => {
    const el = document.activeElement;
    if (!el || !["INPUT", "TEXTAREA"].includes(el.tagName)) return null;
    const ok = el.getAttribute("aria-label") === label
        || el.parentElement.tagName === "FLT-TEXT-EDITING-HOST";
    return ok ? el.value : null;
}"""
_KEYS_IN_JS = f"(label) => ({_FOCUSED_VALUE_JS})(label) !== null"


def by_identifier(page: Page, identifier: str) -> Locator:
    """The node of ``ft.Semantics(identifier=...)``."""
    return page.locator(f'[flt-semantics-identifier="{identifier}"]')


def textbox(page: Page, label: str) -> Locator:
    """The ``<input>`` of a ``TextField(label=label)``."""
    return page.get_by_role("textbox", name=label, exact=True)


def fill_textbox(page: Page, label: str, text: str, *, attempts: int = 3) -> None:
    """Replace the text of the TextField labelled ``label`` by typing ``text``.

    Types real key events (as a keyboard-wedge scanner does). Flutter attaches
    its editing state to the <input> a few ms after ``focusin`` and then resets
    the DOM value, so keys typed in that window (or a ``Locator.fill()``) are
    lost; hence the short settle before typing and the stable-value check.
    A field partly outside its scrolling column is scrolled into view by the tap, and
    the DOM focus can fall to ``<body>``: then it is tapped again.
    """
    for _ in range(attempts):
        textbox(page, label).click()
        try:
            page.wait_for_function(_KEYS_IN_JS, arg=label, timeout=_TAP_FOCUS_MS)
        except PlaywrightTimeoutError:
            continue
        page.wait_for_timeout(_SETTLE_MS)
        if page.evaluate(_FOCUSED_VALUE_JS, label):
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.press("Backspace")
        page.keyboard.type(text)
        page.wait_for_timeout(_SETTLE_MS)
        if page.evaluate(_FOCUSED_VALUE_JS, label) == text:
            return
    raise AssertionError(f"could not type {text!r} into TextField {label!r}")


def press_enter(page: Page, label: str | None = None) -> None:
    """Press Enter in the focused field (fires its ``on_submit``).

    With ``label``, first check that the TextField ``label`` has focus.
    """
    if label is not None:
        wait_keyboard_in(page, label)
    page.keyboard.press("Enter")


def click_button(page: Page, name: str) -> None:
    """Click the button whose text (or tooltip/semantics label) is ``name``."""
    page.get_by_role("button", name=name, exact=True).click()


def wait_text(
    page: Page, text: str | re.Pattern[str], *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> Locator:
    """Wait until a node with exactly ``text`` (or matching a regex) is visible."""
    loc = page.get_by_text(text, exact=True) if isinstance(text, str) else page.get_by_text(text)
    expect(loc.first).to_be_visible(timeout=timeout_ms)
    return loc.first


def wait_focused(page: Page, label: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Wait until the TextField labelled ``label`` has keyboard focus."""
    expect(textbox(page, label)).to_be_focused(timeout=timeout_ms)


def wait_keyboard_in(page: Page, label: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Wait until keys typed now go to the TextField ``label`` (a scanner can type at once).

    That is its labelled ``<input>`` having DOM focus, or Flutter's hidden editing
    ``<input>`` under ``flt-text-editing-host``: after the app focuses a field
    (``await field.focus()``), Chromium's DOM focus sits there, so :func:`wait_focused`
    (the labelled input) does not see it. The hidden input does not say which field
    it edits: check the field's effect (its message) after typing.
    """
    page.wait_for_function(_KEYS_IN_JS, arg=label, timeout=timeout_ms)
