"""SQLite central: this process's writers queue on one lock before SQLite's own (issue #9:
a push waited seconds in SQLite's busy handler while others went through). Whatever way a
write transaction ends, the next writer goes at once; a reader never waits for a writer."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from central.db.engine import make_engine, reading

# far below the 30 s a writer would wait on a lock nobody gives back
PROMPT_S = 10.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def _writes_promptly(engine: Engine) -> bool:
    """Another thread's write transaction commits within PROMPT_S."""
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(PROMPT_S)


def _commit(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))


def _raise(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        _ = 1 / 0


def _roll_back_a_savepoint_then_commit(engine: Engine) -> None:
    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        savepoint.rollback()


def _writing(engine: Engine) -> Connection:
    """A connection in the middle of a write transaction (it holds the writers' lock)."""
    conn = engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    return conn


def _close_without_commit(engine: Engine) -> None:
    _writing(engine).close()


def _drop_without_closing(engine: Engine) -> None:
    _writing(engine)  # unreferenced at once: the pool gets it back from the garbage collector
    gc.collect()


def _invalidate(engine: Engine) -> None:
    conn = _writing(engine)
    conn.invalidate()
    conn.close()


@pytest.mark.parametrize(
    "end",
    [
        _commit,
        _raise,
        _roll_back_a_savepoint_then_commit,
        _close_without_commit,
        _drop_without_closing,
        _invalidate,
    ],
)
def test_the_next_writer_goes_at_once_however_the_last_write_ended(
    engine: Engine, end: Callable[[Engine], None]
) -> None:
    end(engine)
    assert _writes_promptly(engine)
    assert _writes_promptly(engine)


def test_a_reader_sees_its_snapshot_while_a_writer_holds_the_lock(engine: Engine) -> None:
    _commit(engine)
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))
        with reading(engine) as conn, conn.begin():
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    with reading(engine) as conn, conn.begin():
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


def test_writers_from_many_threads_all_commit(engine: Engine) -> None:
    def write_many() -> None:
        for _ in range(50):
            _commit(engine)

    threads = [threading.Thread(target=write_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with reading(engine) as conn, conn.begin():
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 400


def test_one_connection_writes_again_after_a_rollback_and_a_commit(engine: Engine) -> None:
    done = threading.Event()

    def write_three_times() -> None:
        with engine.connect() as conn:
            conn.begin()
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.rollback()
            conn.begin()
            conn.execute(text("INSERT INTO t VALUES (2)"))
            conn.commit()
            conn.begin()
            conn.execute(text("INSERT INTO t VALUES (3)"))
            conn.commit()
        done.set()

    threading.Thread(target=write_three_times, daemon=True).start()
    assert done.wait(PROMPT_S)
    with reading(engine) as conn, conn.begin():
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [2, 3]
