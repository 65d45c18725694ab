"""Failed enrollment codes and unknown tokens are slowed down per client address (429).

Each test runs its own central (on SQLite and on PostgreSQL): the counts live in the
serve process, so a shared central would carry them into other tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.service.errors import RateLimited
from central.service.limits import FailureLimiter
from tests.support.central import Central, fresh_pg_database, pg_url, running_central

WINDOW_S = 600


@pytest.fixture(params=["sqlite", "postgresql"])
def own_central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Central]:
    if request.param == "sqlite":
        with running_central(f"sqlite:///{tmp_path / 'central.db'}", rate_limits=True) as c:
            yield c
        return
    url = pg_url()
    if url is None:
        pytest.skip("CENTRAL_TEST_PG is not set: PostgreSQL runs are skipped")
    with fresh_pg_database(url) as db_url, running_central(db_url, rate_limits=True) as c:
        yield c


def _enroll(central: Central, code: str) -> httpx.Response:
    return httpx.post(
        f"{central.url}/v1/devices/enroll", json={"code": code, "device_name": "guess"}
    )


def test_the_eleventh_wrong_enrollment_code_from_one_address_is_429_with_retry_after(
    own_central: Central,
) -> None:
    store = own_central.new_store(items=1)
    for i in range(10):
        wrong = _enroll(own_central, f"ZZZZ-ZZ{i:02d}")
        assert (wrong.status_code, wrong.json()["code"]) == (401, "INVALID_CODE")

    limited = _enroll(own_central, "ZZZZ-ZZZZ")
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert limited.json()["message"].startswith(
        "Too many failed enrollment codes from this address: try again in "
    )
    assert 0 < int(limited.headers["Retry-After"]) <= WINDOW_S

    # the right code is not even looked up while the address is limited: guessing stops
    right = _enroll(own_central, own_central.enroll_code(store.store_id))
    assert right.status_code == 429


def test_unknown_tokens_from_one_address_get_429_but_a_known_token_still_syncs(
    own_central: Central,
) -> None:
    store = own_central.new_store(items=1)
    token = own_central.enroll(store)["token"]
    url = f"{own_central.url}/v1/sync/pull"
    for i in range(30):
        r = httpx.post(url, json={}, headers={"Authorization": f"Bearer guess-{i}"})
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHORIZED")

    limited = httpx.post(url, json={}, headers={"Authorization": "Bearer guess-x"})
    assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
    assert 0 < int(limited.headers["Retry-After"]) <= WINDOW_S
    # the OMS API counts the same address: an unknown key is limited there too
    oms = httpx.get(
        f"{own_central.url}/v1/oms/stores/{store.store_id}/exceptions",
        headers={"Authorization": "Bearer sk_guess"},
    )
    assert oms.status_code == 429

    # a store's tablets share an address: one stale token must not lock out the others
    good = httpx.post(url, json={}, headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    assert own_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions").status_code == 200


def test_a_missing_token_is_not_counted_as_a_guess(own_central: Central) -> None:
    for _ in range(40):
        r = httpx.post(f"{own_central.url}/v1/sync/pull", json={})
        assert r.status_code == 401


def test_the_openapi_document_lists_429_where_a_token_or_code_can_fail(
    own_central: Central,
) -> None:
    paths = httpx.get(f"{own_central.url}/openapi.json").json()["paths"]
    assert "429" in paths["/v1/devices/enroll"]["post"]["responses"]
    assert "429" in paths["/v1/sync/pull"]["post"]["responses"]
    assert "429" in paths["/v1/oms/orders"]["post"]["responses"]


# --- the limiter's rule, with time as an argument ----------------------------------------


def test_failures_leave_the_window_and_the_address_may_try_again() -> None:
    limiter = FailureLimiter(3, 600, what="enrollment codes")
    for t in (0.0, 10.0, 20.0):
        limiter.check("10.0.0.7", t)
        limiter.failed("10.0.0.7", t)
    with pytest.raises(RateLimited) as refused:
        limiter.check("10.0.0.7", 30.0)
    assert refused.value.retry_after == 570  # until the first failure is 600 s old
    assert refused.value.headers == {"Retry-After": "570"}
    limiter.check("10.0.0.8", 30.0)  # another address is not concerned
    limiter.check("10.0.0.7", 600.0)  # the first failure left the window


def test_the_limiter_remembers_a_bounded_number_of_addresses() -> None:
    limiter = FailureLimiter(1, 600, what="tokens", max_keys=100)
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(limiter._failures) == 100
    assert limiter.retry_after("10.0.3.231", 1000.0) is not None  # the most recent kept
    assert limiter.retry_after("10.0.0.0", 1000.0) is None  # the oldest forgotten


def test_a_limit_of_zero_turns_the_limiter_off() -> None:
    limiter = FailureLimiter(0, 600, what="tokens")
    for t in range(50):
        limiter.failed("10.0.0.7", float(t))
    limiter.check("10.0.0.7", 50.0)
