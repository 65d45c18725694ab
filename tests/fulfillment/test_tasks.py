"""Closing a task and settling an exception decide the same on both ends."""

from __future__ import annotations

from fulfillment.codes import Code
from fulfillment.outcome import Status
from fulfillment.tasks import close_task, settle_exception


def test_an_open_task_is_closed() -> None:
    done = close_task("T1", "open")
    assert (done.status, done.code, done.changes) == (Status.APPLIED, None, True)


def test_a_task_closed_already_is_done_without_a_change() -> None:
    done = close_task("T1", "done")
    assert (done.status, done.code, done.changes) == (Status.APPLIED, Code.ALREADY_DONE, False)
    assert done.message == "That task was already closed"


def test_a_task_nobody_has_is_refused_in_words() -> None:
    done = close_task("T9", None)
    assert (done.status, done.code, done.changes) == (Status.REJECTED, Code.UNKNOWN_TASK, False)
    assert "T9" in (done.message or "")


def test_an_exception_is_settled_once() -> None:
    assert settle_exception("X1", "open").changes
    again = settle_exception("X1", "resolved")
    assert (again.status, again.code) == (Status.REJECTED, Code.NOT_OPEN)
    assert "already settled" in (again.message or "")
    missing = settle_exception("X2", None)
    assert (missing.status, missing.code) == (Status.REJECTED, Code.UNKNOWN_EXCEPTION)
