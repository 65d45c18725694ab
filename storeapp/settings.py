"""Tablet/hub settings from STOREAPP_* environment variables or flags."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["StoreappSettings"]


class StoreappSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREAPP_", extra="ignore")

    data_dir: Path = Path("storeapp-data")
    host: str = "127.0.0.1"
    port: int = 8550
    sync_interval_s: float = 15.0
    listen_events: bool = True  # follow central's SSE pokes for near-real-time pulls
    idle_sign_out_min: float = 5.0  # a session with no action for this long signs out

    @property
    def db_path(self) -> Path:
        return self.data_dir / "store.db"
