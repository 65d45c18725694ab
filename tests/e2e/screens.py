"""What a person would see wrong on a screen, measured from Flutter's semantics tree.

`look(page, name)` fails on: a Flutter error box or error text; a glyph the bundled
Roboto does not have (it draws a box); text wrapped about one character per line; a
control cut off at the right or left edge of the screen; and (when asked) a primary
action outside the viewport. It saves a screenshot of what it looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

__all__ = ["Seen", "allowed_char", "look", "problems_in"]

# Every text node and label of the semantics tree, with its box and whether a scrolling
# ancestor holds it (a row scrolled out of sight is not cut off).
_NODES_JS = """() => Array.from(document.querySelectorAll('flt-semantics')).map(n => {
    const r = n.getBoundingClientRect();
    let scrolled = false;
    for (let p = n.parentElement; p; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (/(auto|scroll)/.test(s.overflow + s.overflowY + s.overflowX)) { scrolled = true; break; }
    }
    const leaf = n.querySelector('flt-semantics') === null;
    return {
        role: n.getAttribute('role') || '',
        id: n.getAttribute('flt-semantics-identifier') || '',
        text: ((n.getAttribute('aria-label') || '') + '\\n' + (leaf ? n.textContent : '')).trim(),
        x: r.x, y: r.y, w: r.width, h: r.height, leaf, scrolled,
    };
})"""

# Roboto (the bundled font) covers Basic Latin, Latin-1, Latin Extended-A and the general
# punctuation used here; arrows (U+2190…) and symbols such as "⌫" (U+232B) it does not.
_EXTRA = {"\u2013", "\u2014", "\u2018", "\u2019", "\u201c", "\u201d", "\u2022", "\u2026"}
_EXTRA |= {"\u2212", "\u20ac", "\u2122", "\u00d7"}
_CONTAINERS = {"group", "dialog", "alertdialog", "alert"}
_ERRORS = re.compile(
    r"must be provided|Semantics\.content|Error running app|Exception:|Traceback|overflowed|"
    r"Unknown control|That did not work"
)


def allowed_char(c: str) -> bool:
    o = ord(c)
    return c in "\n\t" or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0x17F or c in _EXTRA


@dataclass(frozen=True)
class Seen:
    name: str
    nodes: list[dict[str, object]]
    width: int
    height: int


def problems_in(seen: Seen, primaries: tuple[str, ...] = ()) -> list[str]:
    """What a person would see wrong: empty when nothing."""
    out: list[str] = []
    vw, vh = seen.width, seen.height
    for n in seen.nodes:
        text = str(n["text"])
        x, y, w, h = (float(n[k]) for k in ("x", "y", "w", "h"))  # type: ignore[arg-type]
        if _ERRORS.search(text):
            out.append(f"error on screen: {text[:120]!r}")
        bad = sorted({c for c in text if not allowed_char(c)})
        if bad:
            out.append(f"glyph missing from the font {bad!r} in {text[:60]!r}")
        lines = [t for t in text.split("\n") if t.strip()]
        longest = max((len(word) for t in lines for word in t.split()), default=0)
        if n["leaf"] and lines and w > 0 and longest >= 5 and w < 5 * min(longest, 8):
            out.append(f"text squeezed to {w:.0f} px: {text[:60]!r}")  # a letter a line
        if lines and h > 48 * len(lines) + 150 and n["role"] not in _CONTAINERS and text != "Alert":
            out.append(f"text wrapped to {h:.0f} px for {len(lines)} line(s): {text[:60]!r}")
        if w > 0 and (x < -1 or x + w > vw + 1) and not n["scrolled"]:
            out.append(f"cut at the edge ({x:.0f}..{x + w:.0f} of {vw}): {text[:60]!r}")
    for name in primaries:
        boxes = [
            n for n in seen.nodes if n["role"] == "button" and str(n["text"]).split("\n")[0] == name
        ]
        if not boxes:
            out.append(f"primary action {name!r} not on screen")
            continue
        b = boxes[0]
        x, y, w, h = (float(b[k]) for k in ("x", "y", "w", "h"))  # type: ignore[arg-type]
        if x < 0 or y < 0 or x + w > vw + 1 or y + h > vh + 1:
            out.append(f"primary action {name!r} outside the viewport at ({x:.0f}, {y:.0f})")
    return out


def look(
    page: Page, name: str, shots: Path, *, primaries: tuple[str, ...] = (), settle_ms: int = 400
) -> Seen:
    """Screenshot the screen and fail on what a person would see wrong on it."""
    page.wait_for_timeout(settle_ms)
    size = page.viewport_size or {"width": 0, "height": 0}
    seen = Seen(name, page.evaluate(_NODES_JS), size["width"], size["height"])
    page.screenshot(path=str(shots / f"{name}.png"))
    problems = problems_in(seen, primaries)
    assert not problems, f"{name}: " + "; ".join(problems)
    return seen
