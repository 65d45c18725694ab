"""A raw device for contract tests: builds envelopes and pushes/pulls with plain httpx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from .central import Central, TestStore, ok


class RawDevice:
    def __init__(self, central: Central, store: TestStore, name: str = "tablet") -> None:
        enrolled = central.enroll(store, name)
        self.central = central
        self.store = store
        self.device_id: str = enrolled["device_id"]
        self.token: str = enrolled["token"]
        self.next_seq = 1
        self.cursor: str | None = None
        self.http = httpx.Client(
            base_url=central.url, timeout=30, headers={"Authorization": f"Bearer {self.token}"}
        )

    def op(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        actor: str = "E1",
        occurred_at: datetime | None = None,
        seq: int | None = None,
    ) -> dict[str, Any]:
        """An envelope with the next seq."""
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        return {
            "op_id": str(uuid.uuid4()),
            "device_id": self.device_id,
            "seq": seq,
            "actor_id": actor,
            "type": type,
            "type_v": 1,
            "payload": payload,
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        }

    def push_raw(self, ops: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        return self.http.post(
            "/v1/sync/push", json={"device_id": self.device_id, "ops": ops, **extra}
        )

    def push(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        return list(ok(self.push_raw(list(ops)))["results"])

    def push_one(self, type: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.push(self.op(type, payload, **kw))[0]

    def pull_all(self, limit: int = 1000) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        while True:
            page = ok(self.http.post("/v1/sync/pull", json={"cursor": self.cursor, "limit": limit}))
            changes.extend(page["changes"])
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return changes

    def close(self) -> None:
        self.http.close()
