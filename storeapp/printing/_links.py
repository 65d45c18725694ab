"""Short-lived signed links to a printable document (`/pages/print/{kind}/{id}.pdf?t=…`).

The hub's page route has no Flet session to ask who is signed in, so the screen that offers
the document (signed in) mints a token: HMAC-SHA256 of kind, id and expiry with a key kept
in the data dir (`print-link.key`, owner-only, made on first use). The browser tab it opens
can fetch that one document until the token expires, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

__all__ = ["LINK_TTL", "check_token", "link_key", "print_url", "sign_token"]

LINK_TTL = timedelta(minutes=5)
KEY_FILE = "print-link.key"


def link_key(data_dir: Path) -> bytes:
    """The hub's key for print links, made (owner-only) on first use."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _mac(key: bytes, kind: str, doc_id: str, expires: int) -> str:
    message = f"{kind}\n{doc_id}\n{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def sign_token(key: bytes, kind: str, doc_id: str, now: datetime, ttl: timedelta = LINK_TTL) -> str:
    expires = int((now + ttl).timestamp())
    return f"{expires}.{_mac(key, kind, doc_id, expires)}"


def check_token(key: bytes, kind: str, doc_id: str, token: str, now: datetime) -> bool:
    expires_text, _, mac = token.partition(".")
    if not expires_text.isdigit() or int(expires_text) < now.timestamp():
        return False
    return hmac.compare_digest(mac, _mac(key, kind, doc_id, int(expires_text)))


def print_url(key: bytes, kind: str, doc_id: str, now: datetime) -> str:
    """The hub-relative URL of the document, signed."""
    token = sign_token(key, kind, doc_id, now)
    return f"/pages/print/{quote(kind, safe='')}/{quote(doc_id, safe='')}.pdf?t={token}"
