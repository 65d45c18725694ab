"""Wrong PINs on the tablet: a growing wait, a lockout a manager lifts, kept across a
restart; the same answers for an id nobody has; idle sign-out keeps pending work."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storeapp.local import LocalStore
from storeapp.viewmodels import SessionVM
from tests.storeapp.builders import T0, Feed, order_doc

S = timedelta(seconds=1)


def test_ten_wrong_pins_then_the_right_one_does_not_sign_in(store: LocalStore) -> None:
    session = SessionVM(store)
    for n in range(10):
        session.sign_in("E1", "0000", now=T0 + n * 10 * S)
    screen = session.sign_in("E1", "1234", now=T0 + 200 * S)
    assert (screen.signed_in, screen.message, screen.locked_id) == (
        False,
        "Locked: ask a manager to unlock.",
        "E1",
    )


def test_wrong_pins_cost_a_growing_wait_and_the_fifth_locks(store: LocalStore) -> None:
    session = SessionVM(store)
    said = [session.sign_in("E1", "0000", now=T0).message for _ in range(3)]
    assert said == [
        "Wrong PIN. 4 tries left before a manager must unlock E1.",
        "Wrong PIN. 3 tries left before a manager must unlock E1.",
        "Wrong PIN. 2 tries left before a manager must unlock E1.",
    ]
    # while the wait runs even the right PIN is not tried (and nothing is counted)
    waiting = session.sign_in("E1", "1234", now=T0)
    assert (waiting.signed_in, waiting.message) == (
        False,
        "Too many wrong PINs: wait 1 s, then try again.",
    )
    assert session.sign_in("E1", "0000", now=T0 + S).message == (
        "Wrong PIN. 1 try left before a manager must unlock E1."
    )
    assert session.sign_in("E1", "1234", now=T0 + 2 * S).message == (
        "Too many wrong PINs: wait 1 s, then try again."
    )
    locked = session.sign_in("E1", "0000", now=T0 + 3 * S)
    assert (locked.message, locked.locked_id) == (
        "Wrong PIN. Locked: ask a manager to unlock.",
        "E1",
    )


def test_a_right_pin_before_the_lock_starts_the_count_again(store: LocalStore) -> None:
    session = SessionVM(store)
    for _ in range(2):
        session.sign_in("E1", "0000", now=T0)
    assert session.sign_in("E1", "1234", now=T0).signed_in
    session.sign_out()
    assert session.sign_in("E1", "0000", now=T0).message == (
        "Wrong PIN. 4 tries left before a manager must unlock E1."
    )


def test_an_id_nobody_has_gets_exactly_the_answers_a_real_one_gets(store: LocalStore) -> None:
    session = SessionVM(store)

    def answers(employee_id: str, start: timedelta) -> list[str]:
        return [
            session.sign_in(employee_id, "0000", now=T0 + start + n * 10 * S).message.replace(
                employee_id, "<id>"
            )
            for n in range(6)
        ]

    assert answers("E2", timedelta(0)) == answers("E999", timedelta(hours=1))


def test_a_lockout_survives_a_restart_and_a_manager_lifts_it(
    db_path: Path, store: LocalStore
) -> None:
    session = SessionVM(store)
    for n in range(5):
        session.sign_in("E1", "0000", now=T0 + n * 10 * S)
    store.close()

    with LocalStore(db_path) as again:  # the app restarted
        session = SessionVM(again)
        assert session.sign_in("E1", "1234", now=T0 + 3600 * S).message == (
            "Locked: ask a manager to unlock."
        )
        ben = session.unlock("E2", "5678", "E1", now=T0 + 3600 * S)
        assert (ben.message, ben.locked_id) == ("Ben is not a manager: a manager unlocks.", "E1")
        wrong = session.unlock("M1", "1111", "E1", now=T0 + 3600 * S)
        assert wrong.message == "Wrong PIN. 4 tries left before a manager must unlock M1."
        done = session.unlock("M1", "9999", "E1", now=T0 + 3600 * S)
        assert (done.message, done.tone) == ("E1 unlocked by Maria: sign in again.", "ok")
        assert session.sign_in("E1", "1234", now=T0 + 3601 * S).signed_in


def test_wrong_pins_across_many_ids_slow_the_whole_tablet(store: LocalStore) -> None:
    session = SessionVM(store)
    for n in range(11):  # ten wrong PINs in a row cost nothing, the eleventh a wait
        session.sign_in(f"X{n}", "1234", now=T0)
    assert session.sign_in("X11", "1234", now=T0).message == (
        "Too many wrong PINs: wait 1 s, then try again."
    )
    assert session.sign_in("E1", "1234", now=T0 + S).signed_in  # a right PIN resets it


def test_a_manager_approving_a_return_is_held_to_the_same_limits(store: LocalStore) -> None:
    for n in range(5):
        store.check_pin("M1", "0000", T0 + n * 10 * S)
    assert store.check_pin("M1", "9999", T0 + 100 * S).message == "Locked: ask a manager to unlock."


def test_after_five_idle_minutes_the_session_signs_out_and_pending_work_is_kept(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    session = SessionVM(store)
    assert session.sign_in("E1", "1234", now=T0).signed_in
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    session.touch(T0 + 4 * 60 * S)
    assert session.sign_out_if_idle(T0 + 8 * 60 * S) is None  # 4 min since the last action
    out = session.sign_out_if_idle(T0 + 9 * 60 * S)
    assert out is not None and not out.signed_in
    assert out.message == "Signed out Ana after 5 min without use. Work not yet sent is kept."
    assert session.associate is None
    assert store.pending_summary().count == 1


def test_the_idle_time_is_a_setting(store: LocalStore) -> None:
    session = SessionVM(store, idle_after=timedelta(minutes=2))
    assert session.sign_in("E1", "1234", now=T0).signed_in
    assert session.sign_out_if_idle(T0 + 119 * S) is None
    assert session.sign_out_if_idle(T0 + 120 * S) is not None
