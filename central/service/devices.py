"""The store's tablets as central sees them: the manager's device list (DOMAIN.md, Manager's
view — last sync, pending ops, oldest pending op, clock offset, app version)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from sync.protocol import DeviceHealth, DeviceStatus, ReplicaReport

from ..db.engine import reading
from ..db.tables import devices
from .clock import as_utc
from .errors import Unauthorized

__all__ = [
    "DeviceRow",
    "check_enrolled",
    "record_replica_report",
    "record_status",
    "store_devices",
]


def check_enrolled(found: bool, revoked_at: datetime | None) -> None:
    """Refuse a request of a tablet revoked (or gone) since its token was last looked up:
    checked where the request reads its device row, in its own transaction."""
    if not found:
        raise Unauthorized("Unknown device token: enroll this tablet again")
    if revoked_at is not None:
        raise Unauthorized("This tablet was revoked: enroll it again", code="DEVICE_REVOKED")


@dataclass(frozen=True)
class DeviceRow:
    """A tablet as a request (and a push's apply steps) sees it: read where its token is
    checked (`auth.device_for_token`), and again, locked, where a push starts."""

    device_id: str
    store_id: str
    name: str
    app_version: str | None
    last_applied_seq: int
    last_server_time: datetime | None  # aware UTC; None before its first push
    clock_offset_s: int | None

    @classmethod
    def of(cls, row: Any) -> DeviceRow:
        """From a `devices` row."""
        return cls(
            device_id=row.device_id,
            store_id=row.store_id,
            name=row.name,
            app_version=row.app_version,
            last_applied_seq=int(row.last_applied_seq),
            last_server_time=as_utc(row.last_server_time),
            clock_offset_s=row.clock_offset_s,
        )


def record_status(engine: Engine, device_id: str, status: DeviceStatus, now: datetime) -> None:
    """What a tablet said of itself at the start of a pull (one small write per sync pass)."""
    values: dict[str, Any] = {
        "last_seen_at": now,
        "pending_ops": status.pending,
        "oldest_pending_at": status.oldest_pending_at,
    }
    if status.app_version:
        values["app_version"] = status.app_version
    with engine.begin() as conn:  # not for a tablet revoked meanwhile (its pull is refused)
        conn.execute(
            update(devices)
            .where(devices.c.device_id == device_id, devices.c.revoked_at.is_(None))
            .values(**values)
        )


def record_replica_report(
    engine: Engine, device_id: str, report: ReplicaReport, now: datetime
) -> None:
    """The tablet's last replica report: when, which kinds, whether reloading healed them."""
    kinds = ",".join(sorted({k.kind for k in report.kinds}))[:200]
    with engine.begin() as conn:
        conn.execute(
            update(devices)
            .where(devices.c.device_id == device_id)
            .values(
                last_seen_at=now,
                replica_mismatch_at=min(report.detected_at or now, now),
                replica_kinds=kinds,
                replica_healed=all(k.healed for k in report.kinds),
            )
        )


def store_devices(engine: Engine, store_id: str) -> list[DeviceHealth]:
    """Every tablet of the store, longest unseen first (the one to worry about on top)."""
    with reading(engine) as conn:
        rows = conn.execute(select(devices).where(devices.c.store_id == store_id)).all()
    out = [
        DeviceHealth(
            device_id=r.device_id,
            name=r.name,
            app_version=r.app_version,
            enrolled_at=as_utc(r.enrolled_at),
            last_seen_at=as_utc(r.last_seen_at),
            last_applied_seq=r.last_applied_seq or 0,
            pending=r.pending_ops,
            oldest_pending_at=as_utc(r.oldest_pending_at),
            clock_offset_s=r.clock_offset_s,
            revoked=r.revoked_at is not None,
            replica_mismatch_at=as_utc(r.replica_mismatch_at),
            replica_kinds=r.replica_kinds.split(",") if r.replica_kinds else [],
            replica_healed=r.replica_healed,
        )
        for r in rows
    ]
    never = datetime.min.replace(tzinfo=UTC)  # a tablet that never synced comes first
    return sorted(out, key=lambda d: (d.revoked, d.last_seen_at or never))
