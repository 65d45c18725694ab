"""Pickup codes as customers bring them: typed, or the QR code from their email."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

__all__ = ["pickup_code_from_scan"]

_PARAMS = ("pickup_code", "code", "c")


def pickup_code_from_scan(text: str) -> str:
    """The pickup code in a scan or a typed string, upper-cased.

    Accepts a bare code (`pk1001`), a tagged one (`PICKUP:PK1001`) and a link whose
    query carries it (`https://shop.example/pickup?order=W-1001&code=PK1001`).
    Anything else comes back as it was typed (trimmed), to be searched as a name,
    email or phone.
    """
    raw = (text or "").strip()
    if "://" in raw:
        query = parse_qs(urlsplit(raw).query)
        for name in _PARAMS:
            if query.get(name):
                return query[name][0].strip().upper()
        return raw
    head, sep, tail = raw.partition(":")
    if sep and head.strip().upper() in ("PICKUP", "PICKUP_CODE"):
        return tail.strip().upper()
    return raw
