"""The manager's console on a real tablet file: exceptions, devices, KPIs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storeapp.local import LocalStore
from storeapp.viewmodels import SessionVM
from storeapp.viewmodels.console import DevicesVM, ExceptionsVM, KpisVM
from sync.errors import Offline
from sync.protocol import DeviceHealth
from tests.storeapp.builders import T0, Feed, count_doc, order_doc

from .conftest import FakeClock


def exception_doc(exception_id: str, code: str, message: str, **kw: object) -> dict[str, object]:
    return {
        "exception_id": exception_id,
        "code": code,
        "message": message,
        "state": "open",
        "actor_id": "E1",
        "created_at": (T0 - timedelta(minutes=12)).isoformat(),
        **kw,
    }


def with_exceptions(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(
        feed.page(
            feed.change(
                "exception",
                "X-1",
                exception_doc("X-1", "ALREADY_RETURNED", "Return R-1: 1 × Kettle refused"),
            ),
            feed.change(
                "exception", "X-2", exception_doc("X-2", "QUARANTINED", "old", state="resolved")
            ),
        )
    )


def test_a_manager_sees_open_exceptions_with_who_when_and_what_to_do(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    with_exceptions(store, feed)
    screen = ExceptionsVM(store, maria, clock=clock).screen()
    [row] = screen.rows
    assert (row.exception_id, row.what, row.who, row.when) == (
        "X-1",
        "Return R-1: 1 × Kettle refused",
        "Ana",
        "12 min ago",
    )
    assert row.action == "Find the extra units: back to the customer, or write them off"


def test_negative_stock_and_a_reused_op_id_tell_the_manager_what_to_do(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.page(
            feed.change("exception", "X-3", exception_doc("X-3", "NEGATIVE_STOCK", "-3 at A-1")),
            feed.change("exception", "X-4", exception_doc("X-4", "OP_ID_REUSED", "#7 again")),
        )
    )
    actions = {r.code: r.action for r in ExceptionsVM(store, maria, clock=clock).screen().rows}
    assert actions["NEGATIVE_STOCK"].startswith("Have the place recounted")
    assert actions["OP_ID_REUSED"].startswith("Call support")


def test_settling_an_exception_needs_a_note_and_queues_it_for_central(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    with_exceptions(store, feed)
    vm = ExceptionsVM(store, maria, clock=clock)
    assert vm.resolve("X-1", "  ").message == "Say what was done about it (a few words)."
    done = vm.resolve("X-1", "customer kept one; written off")
    assert (done.message, done.rows) == ("Settled.", ())
    [op] = store.outbox()
    assert (op.type, op.actor_id, op.payload) == (
        "exception.resolve",
        "M1",
        {"exception_id": "X-1", "note": "customer kept one; written off"},
    )


def test_an_associate_sees_no_console(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    with_exceptions(store, feed)
    assert ExceptionsVM(store, ana, clock=clock).screen().rows == ()
    assert ExceptionsVM(store, ana, clock=clock).resolve("X-1", "x").rows == ()
    assert store.outbox() == []
    assert KpisVM(store, ana, clock=clock).screen().message == "Only a manager can see this."


def health(name: str, **kw: Any) -> DeviceHealth:
    return DeviceHealth(device_id=f"D-{name}", name=name, **kw)


def test_devices_show_sync_health_in_words_and_flag_the_worrying_ones(
    maria: SessionVM, clock: FakeClock
) -> None:
    devices = [
        health("desk", last_seen_at=T0 - timedelta(seconds=40), pending=0, clock_offset_s=3),
        health(
            "aisle-3",
            last_seen_at=T0 - timedelta(hours=2),
            pending=37,
            oldest_pending_at=T0 - timedelta(hours=3, minutes=12),
            clock_offset_s=-300,
            app_version="1.0.0",
        ),
        health("old", revoked=True),
    ]
    vm = DevicesVM(maria, lambda: devices, clock=clock)
    screen = vm.refresh()
    assert [r.name for r in screen.rows] == ["desk", "aisle-3"]
    desk, aisle = screen.rows
    assert (desk.last_sync, desk.waiting, desk.clock, desk.worry) == (
        "synced 40 s ago",
        "nothing waiting",
        "clock right",
        "",
    )
    assert (aisle.waiting, aisle.clock) == ("37 waiting · oldest 3 h 12 min", "clock 5 min slow")
    assert aisle.worry == ("silent for 2 h; a change has waited 3 h 12 min; clock 5 min slow")
    assert screen.as_of == "09:00"


def test_devices_offline_keep_the_last_list_and_say_why(maria: SessionVM, clock: FakeClock) -> None:
    answers: list[object] = [[health("desk", last_seen_at=T0)], Offline("no network")]

    def fetch() -> list[DeviceHealth]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    vm = DevicesVM(maria, fetch, clock=clock)
    assert [r.name for r in vm.refresh().rows] == ["desk"]
    again = vm.refresh()
    assert [r.name for r in again.rows] == ["desk"]
    assert again.tone == "warning"
    assert again.message.startswith("Could not reach central: ")
    assert again.message.endswith("Showing the list as it was.")


def test_kpis_of_today_from_what_the_tablet_holds(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    def ready(order_id: str, due_in: timedelta) -> dict[str, Any]:
        doc = order_doc(order_id, [("1", "DOG2", 2)], state="staged", picked={"1": 2})
        doc["staged_at"] = (T0 - timedelta(hours=1)).isoformat()  # 08:00
        doc["due_at"] = (T0 - timedelta(hours=1) + due_in).isoformat()
        return doc

    store.apply_pull(
        feed.orders(ready("W-1", timedelta(hours=1)), ready("W-2", -timedelta(hours=2)))
    )
    store.apply_pull(
        feed.page(
            feed.change("count", "C-1", count_doc("C-1", "DOG2", counted=10, book=10)),
            feed.change("count", "C-2", count_doc("C-2", "DOG2", counted=2, book=10)),
        )
    )
    with_exceptions(store, feed)
    screen = KpisVM(store, maria, clock=clock).screen()
    assert [(b.hour, b.orders, b.share) for b in screen.bars] == [("08", 2, 1.0)]
    assert screen.ready_today == 2
    assert screen.on_time_pickup == "50 % (1 of 2)"
    assert screen.count_accuracy == "50 % (1 of 2)"
    assert screen.open_exceptions == 1


def test_an_exception_not_open_here_cannot_be_settled(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    with_exceptions(store, feed)
    vm = ExceptionsVM(store, maria, clock=clock)
    assert vm.resolve("X-2", "again").message == "Exception X-2 was already settled"
    assert vm.resolve("X-404", "what").message == "No exception X-404 in this store"
    assert store.outbox() == []
