"""Devices, enrollment codes and integration keys. Only hashes are stored.

Tokens and keys are 256-bit random strings, so a plain SHA-256 is the right
hash for them (a slow hash protects low-entropy secrets such as PINs, which
use scrypt in `fulfillment.pins`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from sync.protocol import EnrollResponse

from ..db.engine import reading
from ..db.tables import devices, enrollment_codes, integration_keys, stores
from .clock import as_utc, utcnow
from .devices import DeviceRow, check_enrolled
from .errors import NotFound, Unauthorized

__all__ = [
    "create_enrollment_code",
    "create_integration_key",
    "device_for_token",
    "enroll",
    "hash_secret",
    "integration_key_ok",
    "integration_key_revoked",
    "list_integration_keys",
    "revoke_device",
    "revoke_integration_key",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed on a tablet
CODE_TTL = timedelta(hours=24)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def create_enrollment_code(
    engine: Engine, store_id: str, now: datetime | None = None
) -> tuple[str, datetime]:
    now = now or utcnow()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    expires = now + CODE_TTL
    with engine.begin() as conn:
        if (
            conn.execute(select(stores.c.store_id).where(stores.c.store_id == store_id)).first()
            is None
        ):
            raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
        conn.execute(
            insert(enrollment_codes).values(
                code_hash=hash_secret(code), store_id=store_id, expires_at=expires
            )
        )
    return f"{code[:4]}-{code[4:]}", expires


def enroll(
    engine: Engine, code: str, device_name: str, app_version: str | None = None
) -> EnrollResponse:
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(
            select(enrollment_codes).where(
                enrollment_codes.c.code_hash == hash_secret(_normalize_code(code))
            )
        ).first()
        if row is None:
            raise Unauthorized(
                "That enrollment code is not known: ask for a new one", code="INVALID_CODE"
            )
        if row.used_at is not None:
            raise Unauthorized(
                "That enrollment code was already used: ask for a new one", code="CODE_USED"
            )
        if as_utc(row.expires_at) < now:  # type: ignore[operator]
            raise Unauthorized(
                "That enrollment code has expired: ask for a new one", code="CODE_EXPIRED"
            )
        device_id = f"D-{uuid.uuid4().hex[:12]}"
        token = secrets.token_urlsafe(32)
        conn.execute(
            insert(devices).values(
                device_id=device_id,
                store_id=row.store_id,
                name=device_name,
                token_hash=hash_secret(token),
                app_version=app_version,
                last_applied_seq=0,
                enrolled_at=now,
            )
        )
        conn.execute(
            update(enrollment_codes)
            .where(enrollment_codes.c.code_hash == row.code_hash)
            .values(used_at=now, device_id=device_id)
        )
    return EnrollResponse(device_id=device_id, store_id=row.store_id, token=token)


def device_for_token(engine: Engine, token: str) -> DeviceRow | None:
    with reading(engine) as conn:
        row = conn.execute(
            select(devices).where(devices.c.token_hash == hash_secret(token))
        ).first()
    if row is None:
        return None
    check_enrolled(True, row.revoked_at)
    return DeviceRow.of(row)


def revoke_device(engine: Engine, device_id: str) -> None:
    """Revoke a tablet under its store's lock; the feed gets `device.revoked` with it."""
    from . import events
    from .feed import store_tx  # the store's lock and its events

    with reading(engine) as conn:
        found = conn.execute(
            select(devices.c.store_id, devices.c.name).where(devices.c.device_id == device_id)
        ).first()
    if found is None:
        raise NotFound(f"No device {device_id}", code="UNKNOWN_DEVICE")
    with store_tx(engine, found.store_id) as tx:
        tx.conn.execute(
            update(devices).where(devices.c.device_id == device_id).values(revoked_at=tx.now)
        )
        events.record(tx, "device.revoked", {"device_id": device_id, "name": found.name})


def create_integration_key(engine: Engine, name: str) -> str:
    """A new key, returned once (only its hash is kept); `name` says who uses it."""
    key = "sk_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(integration_keys).values(
                key_id=uuid.uuid4().hex, name=name, key_hash=hash_secret(key), created_at=utcnow()
            )
        )
    return key


def _integration_key(engine: Engine, key: str) -> Any:
    """The key's row (its `revoked_at`), or None for a key that was never made."""
    with reading(engine) as conn:
        return conn.execute(
            select(integration_keys.c.revoked_at).where(
                integration_keys.c.key_hash == hash_secret(key)
            )
        ).first()


def integration_key_ok(engine: Engine, key: str) -> bool:
    row = _integration_key(engine, key)
    return row is not None and row.revoked_at is None


def integration_key_revoked(engine: Engine, key: str) -> bool:
    """True when `key` is a real integration key that was revoked."""
    row = _integration_key(engine, key)
    return row is not None and row.revoked_at is not None


def revoke_integration_key(
    engine: Engine, *, key_id: str | None = None, name: str | None = None
) -> list[str]:
    """Revoke the key with `key_id`, or every live key named `name`; returns their ids.

    Its next call is refused (401 `KEY_REVOKED`). Revoking a revoked key again is a
    no-op that still names it; no key at all is `NotFound` (`UNKNOWN_KEY`).
    """
    if (key_id is None) == (name is None):
        raise ValueError("give exactly one of key_id and name")
    match = (
        integration_keys.c.key_id == key_id
        if key_id is not None
        else integration_keys.c.name == name
    )
    with engine.begin() as conn:
        rows = conn.execute(
            select(integration_keys.c.key_id, integration_keys.c.revoked_at)
            .where(match)
            .order_by(integration_keys.c.created_at, integration_keys.c.key_id)
        ).all()
        if not rows:
            which = f"id {key_id}" if key_id is not None else f"name {name!r}"
            raise NotFound(f"No integration key with {which}", code="UNKNOWN_KEY")
        live = [r.key_id for r in rows if r.revoked_at is None]
        if live:
            conn.execute(
                update(integration_keys)
                .where(integration_keys.c.key_id.in_(live))
                .values(revoked_at=utcnow())
            )
    return [r.key_id for r in rows]


def list_integration_keys(engine: Engine) -> list[Any]:
    """Every integration key: id, name, created_at, revoked_at (never the key itself)."""
    with reading(engine) as conn:
        return list(
            conn.execute(
                select(
                    integration_keys.c.key_id,
                    integration_keys.c.name,
                    integration_keys.c.created_at,
                    integration_keys.c.revoked_at,
                ).order_by(integration_keys.c.created_at, integration_keys.c.key_id)
            ).all()
        )
