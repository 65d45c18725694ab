"""The PIN attempt rule: a growing wait after wrong PINs, then a lockout (time as argument)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fulfillment.signin import PinAttempts, failed, failure_message, refusal, wait_left

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FRESH = PinAttempts()


def test_two_wrong_pins_cost_nothing_then_the_wait_grows_and_the_fifth_locks() -> None:
    a = FRESH
    words = []
    for _ in range(5):
        a = failed(a, T0)
        words.append((failure_message(a, "E100"), wait_left(a, T0)))
    assert words == [
        ("Wrong PIN. 4 tries left before a manager must unlock E100.", timedelta(0)),
        ("Wrong PIN. 3 tries left before a manager must unlock E100.", timedelta(0)),
        ("Wrong PIN. 2 tries left before a manager must unlock E100.", timedelta(seconds=1)),
        ("Wrong PIN. 1 try left before a manager must unlock E100.", timedelta(seconds=2)),
        ("Wrong PIN. Locked: ask a manager to unlock.", timedelta(seconds=4)),
    ]
    assert a.locked


def test_while_waiting_the_pin_is_not_even_tried_and_afterwards_it_is() -> None:
    a = failed(failed(failed(FRESH, T0), T0), T0)
    assert refusal(a, FRESH, T0) == "Too many wrong PINs: wait 1 s, then try again."
    assert refusal(a, FRESH, T0 + timedelta(milliseconds=1500)) is None


def test_a_locked_id_stays_locked_however_long_one_waits() -> None:
    a = FRESH
    for _ in range(5):
        a = failed(a, T0)
    assert refusal(a, FRESH, T0 + timedelta(days=30)) == "Locked: ask a manager to unlock."


def test_the_device_slows_down_after_ten_wrong_pins_across_ids_but_never_locks() -> None:
    device = FRESH
    for _ in range(12):
        device = failed(device, T0, lock=False)
    assert not device.locked
    assert refusal(FRESH, device, T0) == "Too many wrong PINs: wait 2 s, then try again."
    for _ in range(40):
        device = failed(device, T0, lock=False)
    assert wait_left(device, T0, free=10) == timedelta(minutes=5)  # capped
