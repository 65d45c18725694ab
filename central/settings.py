"""Settings for central, from CENTRAL_* environment variables or flags."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CentralSettings"]


class CentralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CENTRAL_", extra="ignore")

    database_url: str = "sqlite:///central.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # how often the pickup-expiry job runs; 0 turns it off (tests drive it by hand)
    expiry_interval_s: int = 300
    # the pruning job (central/service/pruning.py) removes change-log rows (tombstones, ended
    # orders' documents) and op results older than this; a pull cursor older than what it
    # removed gets `reset`. PROTOCOL.md: results are kept at least 90 days.
    retention_days: int = 90
    # how often the pruning job runs (it also marks each store's change-seq with the time:
    # the clock the retention is measured by); 0 turns it off
    prune_interval_s: int = 3600
    # SSE keep-alive comment interval
    events_keepalive_s: float = 15.0
    # SQLite: how often the process's one poller reads its open streams' store seqs
    # (PostgreSQL is told at once through LISTEN/NOTIFY)
    events_poll_s: float = 0.2
    log_level: str = "info"
    # a push holds its store's lock at most about this long at a time: a longer one commits
    # what it applied and goes on in a new transaction (central/service/push.py); 0: after
    # every op; the OMS and the store's other tablets wait at most this long behind a drain
    push_lock_budget_s: float = 0.05
    # PostgreSQL connection pool, per serve process (SQLite ignores them). Size it so that
    # processes x (db_pool_size + db_pool_max_overflow) + the admin's few stays under the
    # server's max_connections (docs/deploy.md, "Capacity (issue #9)"): 2 workers x (5 + 5) = 20
    # of PostgreSQL's default 100. A request holds a connection only for its transaction.
    db_pool_size: int = 5
    db_pool_max_overflow: int = 5
    # a round trip on every checkout to find connections the server dropped; off by default
    # (a dropped connection fails that request with 503 and is replaced), on behind a proxy
    # or failover that drops idle connections
    db_pool_pre_ping: bool = False
    # seconds after which a pooled connection is replaced (-1: never)
    db_pool_recycle_s: int = 1800
    # failed attempts per client IP and window before 429 RATE_LIMITED (0: no limit);
    # in memory, per serve process (central/service/limits.py says why that is enough)
    enroll_failure_limit: int = 10
    token_failure_limit: int = 30
    failure_window_s: float = 600.0
    # webhooks (central/service/webhooks.py): `serve` runs the delivery worker unless this is
    # false (then run `central deliver`); how often an idle worker looks for new events; one
    # POST's timeout; the first retry's delay (doubling, capped at an hour); how long an event
    # is retried before it is marked failed; how many streams are sent to at once
    deliver_webhooks: bool = True
    webhook_poll_s: float = 0.05
    webhook_idle_poll_s: float = 1.0  # the poll's slowest pace after empty rounds (doubling)
    webhook_timeout_s: float = 10.0
    webhook_backoff_s: float = 5.0
    webhook_retry_for_s: float = 86400.0
    webhook_concurrency: int = 16
