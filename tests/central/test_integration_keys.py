"""`central integration-key revoke`: a revoked key is refused on its next call."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from central.cli import app
from central.db.engine import make_engine
from central.service.auth import create_integration_key
from tests.support.central import Central


def _new_key(central: Central, name: str) -> str:
    engine = make_engine(central.server.database_url)
    try:
        return create_integration_key(engine, name)
    finally:
        engine.dispose()


def _cli(central: Central, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app, ["integration-key", *args, "--database-url", central.server.database_url]
    )


def _store_call(central: Central, key: str) -> httpx.Response:
    return httpx.put(
        f"{central.url}/v1/oms/stores/SKEY1",
        json={"name": "Key test store", "policy": {}},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_key_revoked_by_id_gets_401_on_its_next_call_and_other_keys_still_work(
    any_central: Central,
) -> None:
    key = _new_key(any_central, "oms-old")
    assert _store_call(any_central, key).status_code == 200
    listed = _cli(any_central, "list")
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if "oms-old" in row)
    assert line.endswith("live")
    key_id = line.split()[0]

    done = _cli(any_central, "revoke", "--key-id", key_id)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"integration key {key_id} revoked"

    refused = _store_call(any_central, key)
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "KEY_REVOKED",
        "message": "This integration key was revoked: ask for a new one",
    }
    assert _store_call(any_central, any_central.key).status_code == 200
    after = _cli(any_central, "list").output
    assert next(r for r in after.splitlines() if r.startswith(key_id)).split()[-3] == "revoked"


def test_revoke_by_name_revokes_every_live_key_of_that_name(any_central: Central) -> None:
    name = f"oms-{id(any_central)}"
    first, second = _new_key(any_central, name), _new_key(any_central, name)
    done = _cli(any_central, "revoke", "--name", name)
    assert done.exit_code == 0, done.output
    assert len(done.output.strip().splitlines()) == 2
    assert _store_call(any_central, first).status_code == 401
    assert _store_call(any_central, second).status_code == 401


def test_revoking_a_key_that_does_not_exist_says_so(any_central: Central) -> None:
    done = _cli(any_central, "revoke", "--key-id", "no-such-key")
    assert done.exit_code == 1
    assert "No integration key with id no-such-key" in done.output
    both = _cli(any_central, "revoke", "--key-id", "a", "--name", "b")
    assert both.exit_code == 2
    assert "Give either --key-id or --name" in both.output
