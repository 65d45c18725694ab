"""A manager's PIN has at least 6 digits; an associate's 4 to 8 (docs/security.md)."""

from __future__ import annotations

from tests.support.central import Central


def _staff(central: Central, store_id: str, rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return central.oms.put(f"/v1/oms/stores/{store_id}/staff", json=rows)


def test_a_four_digit_manager_pin_is_refused_naming_the_row_and_nothing_is_written(
    any_central: Central,
) -> None:
    store = any_central.new_store(items=1)
    rows = [
        {"employee_id": "E7", "name": "Ana", "role": "associate", "pin": "4321"},
        {"employee_id": "M7", "name": "Maria", "role": "manager", "pin": "4321"},
    ]
    refused = _staff(any_central, store.store_id, rows)
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "INVALID_REQUEST"
    assert "M7: a manager's PIN needs at least 6 digits" in body["message"]
    assert body["errors"][0]["field"] == "1"  # the second row
    assert "E7" not in _staff_ids(any_central, store.store_id)


def test_a_six_digit_manager_pin_and_a_four_digit_associate_pin_are_accepted(
    any_central: Central,
) -> None:
    store = any_central.new_store(items=1)
    rows = [
        {"employee_id": "E8", "name": "Ben", "role": "associate", "pin": "4321"},
        {"employee_id": "M8", "name": "Maria", "role": "manager", "pin": "482916"},
    ]
    assert _staff(any_central, store.store_id, rows).status_code == 200
    assert {"E8", "M8"} <= _staff_ids(any_central, store.store_id)


def _staff_ids(central: Central, store_id: str) -> set[str]:
    from sqlalchemy import select

    from central.db.engine import make_engine
    from central.db.tables import staff

    engine = make_engine(central.server.database_url)
    try:
        with engine.connect() as conn:
            return {
                r[0]
                for r in conn.execute(
                    select(staff.c.employee_id).where(staff.c.store_id == store_id)
                )
            }
    finally:
        engine.dispose()
