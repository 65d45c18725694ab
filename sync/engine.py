"""One sync pass of a tablet: push the outbox, then pull the store's changes.

    run_once()
      ├─ push: outbox in batches (≤ 500 ops, halved on BatchTooLarge) until empty;
      │        replica.acknowledge(results) after each batch
      │        Offline / Unauthorized → the pass ends here
      │        any other failure (SeqGap, SeqReused, a refused request, a 5xx)
      │        → told in words, and the pass goes on to pull
      │        a poke (`poke()`, from the event stream) while a batch is in flight or
      │        between two: a pull at once, beside the push (a cancel is learned mid-drain);
      │        it writes nothing at central (no `status`), so it never waits for the push
      ├─ pull: no cursor yet → the snapshot; then pages until has_more is false,
      │        replica.apply_pull(page) per page; a page with `reset` → the snapshot
      ├─ check: at the head, central's checksums against the replica's, per kind; a kind
      │        that differs is reloaded alone (`?kinds=`), pulled to the head again and
      │        checked again; central is told (`replica_report`)
      └─ replica.record_sync(...) always; one log line per pass

The push is a pipeline, so the tablet's share of the work overlaps central's:

    engine thread  read+validate k+1 │ wait k │ ack k, read+validate k+2 │ wait k+1 │ …
    push worker    send k ──── central applies k ────┤ send k+1 ── central applies k+1 ──┤ …

While central applies batch k, the engine thread reads the outbox after k's last seq
(`replica.pending_json(n, after_seq=…)`: each op's JSON text, put together by SQLite)
and validates batch k+1 as the body it will send, and queues that body on the one
push worker thread; the worker sends k+1 the moment response k is parsed, and the
engine acknowledges k while central works on k+1. One request is in flight at a time,
on purpose: central applies a device's ops in seq order under one lock, so a second
request could only wait for that lock (or arrive first and get a SEQ_GAP), and it would
put two batches at risk when a connection breaks; one in flight, sent back to back,
already keeps central busy. The worker sends k+1 only if response k came back whole
(it covers k's last op): when central stops a batch early (a failing op), refuses it
or the connection breaks, k+1 is not sent, and whatever was read ahead is dropped;
the engine then goes on as before, reading again from the first unacknowledged op
(so a batch that stopped early is never turned into a SEQ_GAP of the next). An op
still leaves the outbox only through `replica.acknowledge`, on the engine thread
(the replica's SQLite connection never changes threads); the worker only calls
`client.push_json`. No request is left running when the push ends.

Every trigger (the scheduler, "Sync now", an SSE poke, the CLI) shares one lock,
so passes never overlap. Expected situations (offline, revoked, a stuck queue)
come back as a `SyncReport`, not as exceptions. The engine never touches the UI:
it reports progress through `on_progress`, on the engine's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from fulfillment.clock import duration

from .client import HEARTBEAT_S, CentralClient, ChangeStream
from .errors import (
    BatchTooLarge,
    NotEnrolled,
    Offline,
    RequestRejected,
    SeqGap,
    SeqReused,
    ServerError,
    SyncError,
    Unauthorized,
)
from .protocol import (
    MAX_PUSH_OPS,
    Change,
    DeviceStatus,
    OpResult,
    PullResponse,
    PushRequest,
    PushResponse,
    ReplicaKind,
    ReplicaReport,
)
from .replica import Identity, PendingSummary, Replica

__all__ = ["Progress", "SyncEngine", "SyncReport", "waiting_in_words"]

log = logging.getLogger(__name__)

PULL_LIMIT = 1000
VERIFY_EVERY_S = 60.0  # the replica check runs at most this often (and on an engine's first pass)
EMPTY = "0" * 16  # the checksum of a kind with nothing in it
SNAPSHOT_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Progress:
    """Where a pass is, for the status chip: "Sending 120/540", "Receiving 1000"."""

    phase: Literal["sending", "receiving"]
    done: int
    total: int | None
    elapsed_s: float | None = None  # since this phase began (the snapshot: its first row)

    @property
    def words(self) -> str:
        verb = "Sending" if self.phase == "sending" else "Receiving"
        return f"{verb} {self.done}/{self.total}" if self.total else f"{verb} {self.done}"

    @property
    def rate(self) -> float | None:
        """Rows (or ops) per second so far; None before there is a measure."""
        if not self.elapsed_s or self.done <= 0:
            return None
        return self.done / self.elapsed_s

    @property
    def left_s(self) -> float | None:
        """Seconds still to go at the rate so far; None when the total or the rate is unknown."""
        rate = self.rate
        if rate is None or not self.total:
            return None
        return max(self.total - self.done, 0) / rate

    @property
    def detail(self) -> str:
        """`words` with the rate and the time left, for a terminal: "Receiving 25,000 of
        100,006 · 12,400/s · about 6 s left"."""
        verb = "Sending" if self.phase == "sending" else "Receiving"
        line = f"{verb} {self.done:,}" + (f" of {self.total:,}" if self.total else "")
        if self.rate is not None:
            line += f" · {self.rate:,.0f}/s"
        if self.left_s is not None and self.total and self.done < self.total:
            line += f" · about {self.left_s:.0f} s left"
        return line


@dataclass(frozen=True)
class SyncReport:
    """What one pass did. `ok` only when the outbox was drained (or empty) and the pull finished."""

    pushed: int = 0  # ops acknowledged by central this pass (duplicates included)
    pulled: int = 0  # changes received (pages and snapshot)
    duplicates: int = 0  # acknowledged as already applied (a retry after a lost response)
    attention: int = 0  # ops refused or compensated this pass: the attention list grew
    ok: bool = True
    error_in_words: str | None = None
    offline: bool = False
    needs_enrollment: bool = False  # not enrolled, or the token was revoked
    waiting: int = 0  # ops still in the outbox after the pass
    ms: int = 0
    healed: tuple[str, ...] = ()  # kinds whose replica differed from central's and was reloaded
    unhealed: tuple[str, ...] = ()  # kinds that still differed after the reload


class _PushStopped(Exception):
    """The outbox cannot be sent this pass, for a reason told in words; pull still runs."""


@dataclass(eq=False)
class _Batch:
    """Ops read from the outbox for one push request, and that request's fate."""

    count: int  # ops in it
    first_seq: int
    last_seq: int
    body: bytes | None = None  # the request's JSON, validated as a PushRequest
    damaged: _PushStopped | None = None  # an op does not validate: told when its turn comes
    sent: Future[PushResponse | None] | None = None  # on the push worker


def _send_after(
    client: CentralClient, batch: _Batch, previous: _Batch | None
) -> PushResponse | None:
    """On the push worker: send `batch`, unless the batch before it did not come back whole.

    The worker runs its tasks in order, so `previous` is settled when this runs. None: not
    sent (the engine drops it and reads again from the first unacknowledged op)."""
    if previous is not None:
        sent = previous.sent
        if sent is None or sent.cancelled() or sent.exception() is not None:
            return None
        response = sent.result()
        if response is None or not _whole(response, previous):
            return None
    assert batch.body is not None
    return client.push_json(batch.body, batch.count)


def _damaged(first_seq: int, problems: int) -> _PushStopped:
    return _PushStopped(
        f"A change waiting on this tablet (from #{first_seq}) is damaged and "
        f"cannot be sent ({problems} problem{'s' if problems != 1 else ''}); call support."
    )


def _whole(response: PushResponse, batch: _Batch) -> bool:
    """Central answered for every op of the batch (it did not stop early)."""
    return any(result.seq == batch.last_seq for result in response.results)


@dataclass
class _Tally:
    pushed: int = 0
    pulled: int = 0
    duplicates: int = 0
    attention: int = 0
    server_time: datetime | None = None
    error: str | None = None
    healed: tuple[str, ...] = ()
    unhealed: tuple[str, ...] = ()


def _default_client(identity: Identity) -> CentralClient:
    return CentralClient(identity.server_url, identity.token)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    def __init__(
        self,
        open_replica: Callable[[], Replica],
        make_client: Callable[[Identity], CentralClient] = _default_client,
        *,
        clock: Callable[[], datetime] = _utcnow,
        on_progress: Callable[[Progress], None] | None = None,
        pull_limit: int = PULL_LIMIT,
        app_version: str | None = None,
        verify_every_s: float = VERIFY_EVERY_S,
    ) -> None:
        self._open_replica = open_replica
        self._app_version = app_version
        self._make_client = make_client
        self._clock = clock
        self._on_progress = on_progress
        self._pull_limit = pull_limit
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._wake = threading.Event()  # a poke, or the batch in flight came back
        # the last pass's result word (its log line); a first pass that moved nothing and
        # went well says nothing either (the hub starts quiet)
        self._last_result: str | None = "ok"
        # the replica check (issue #12): when it last ran, the checksum of a kind a reload
        # could not heal (not reloaded again while central's stays the same), and a report
        # central has not taken yet
        self._verify_every_s = verify_every_s
        self._verified_at: float | None = None
        self._unhealable: dict[str, str] = {}
        self._report: ReplicaReport | None = None

    def poke(self) -> None:
        """Central says the store changed (an SSE poke): a pass pulls soon, and a pass busy
        pushing a long outbox pulls between two batches rather than only at its end."""
        self._poked.set()
        self._wake.set()

    def run_once(self) -> SyncReport:
        """One full pass; waits for a pass already running on another thread to end."""
        with self._lock:
            started = time.monotonic()
            replica = self._open_replica()
            with _closing_if_closable(replica):
                report = self._pass(replica, started)
        # a terminal gets a line when a pass moved something or its result changed (ok →
        # offline → ok), not one every interval for nothing (DEBUG keeps those)
        result = _result_word(report)
        quiet = not (report.pushed or report.pulled or report.attention)
        level = logging.DEBUG if quiet and result == self._last_result else logging.INFO
        self._last_result = result
        log.log(
            level,
            "sync_pass pushed=%d pulled=%d conflicts=%d duplicates=%d waiting=%d result=%s ms=%d",
            report.pushed,
            report.pulled,
            report.attention,
            report.duplicates,
            report.waiting,
            result,
            report.ms,
        )
        return report

    def listen(
        self, *, read_timeout: float | None = None, heartbeat: float | None = HEARTBEAT_S
    ) -> Iterator[int]:
        """Pokes (newest store change-seq) from central's event stream, for the scheduler;
        with a `heartbeat` (default: every second), a silent link raises Offline within
        a few seconds (`CentralClient.events`).

        Raises NotEnrolled before enrollment, and the client's errors otherwise.
        """
        replica = self._open_replica()
        with _closing_if_closable(replica):
            identity = replica.identity()
        if identity is None:
            raise NotEnrolled("this tablet is not enrolled yet")
        with self._make_client(identity) as client:
            if read_timeout is None:
                yield from client.events(heartbeat=heartbeat)
            else:
                yield from client.events(read_timeout=read_timeout, heartbeat=heartbeat)

    # --- the pass ----------------------------------------------------------------

    def _pass(self, replica: Replica, started: float) -> SyncReport:
        self._poked.clear()  # the pass ends with a pull anyway
        tally = _Tally()
        needs_enrollment = False
        offline = False
        identity = replica.identity()
        if identity is None:
            tally.error = "This tablet is not enrolled yet: enroll it with a code from a manager."
            needs_enrollment = True
        else:
            try:
                with self._make_client(identity) as client:
                    try:
                        self._push(replica, client, identity, tally)
                    except _PushStopped as exc:
                        tally.error = str(exc)
                    self._pull(replica, client, tally, check=True)
            except Offline:
                offline = True
            except Unauthorized:
                needs_enrollment = True
                tally.error = (
                    "Central no longer accepts this tablet (its enrollment was revoked or its "
                    "token is wrong): enroll it again. Changes waiting on it are kept."
                )
            except SyncError as exc:  # the pull failed for another reason
                tally.error = _join(tally.error, f"Receiving failed: {_error_words(exc)}")

        summary = replica.pending_summary()
        now = self._clock()
        if offline:
            tally.error = waiting_in_words(summary, now, prefix="Offline")
        ok = tally.error is None and not offline
        replica.record_sync(at=now, ok=ok, error=tally.error, server_time=tally.server_time)
        return SyncReport(
            pushed=tally.pushed,
            pulled=tally.pulled,
            duplicates=tally.duplicates,
            attention=tally.attention,
            ok=ok,
            error_in_words=tally.error,
            offline=offline,
            needs_enrollment=needs_enrollment,
            waiting=summary.count,
            ms=round((time.monotonic() - started) * 1000),
            healed=tally.healed,
            unhealed=tally.unhealed,
        )

    def _push(
        self, replica: Replica, client: CentralClient, identity: Identity, tally: _Tally
    ) -> None:
        total = replica.pending_summary().count
        batch_size = MAX_PUSH_OPS
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push")
        try:
            # the head is sent or being sent; at most one more waits behind it, ready
            ahead: deque[_Batch] = deque()
            after_seq = 0  # the last seq read into a batch; 0: from the first unacknowledged op
            while True:
                while len(ahead) < 2 and (not ahead or ahead[-1].sent is not None):
                    batch = self._read_batch(replica, identity, batch_size, after_seq)
                    if batch is None:
                        break  # the outbox is read to its end
                    if batch.body is not None:
                        previous = ahead[-1] if ahead else None
                        batch.sent = worker.submit(_send_after, client, batch, previous)
                    ahead.append(batch)
                    after_seq = batch.last_seq
                if not ahead:
                    return
                batch = ahead.popleft()
                if batch.sent is not None:
                    self._wait_pulling(replica, client, tally, batch.sent)
                response = self._outcome(batch)
                if response is None:  # too large: halved; read again from the first unacknowledged
                    batch_size = max(1, batch.count // 2)
                    ahead.clear()
                    after_seq = 0
                    continue
                replica.acknowledge(response.results)
                tally.server_time = response.server_time
                _count_results(response.results, tally)
                if batch.first_seq not in {r.seq for r in response.results}:
                    raise _PushStopped(
                        f"Central could not process change #{batch.first_seq} yet; it will be "
                        "retried."
                    )
                total = max(total, tally.pushed)
                self._progress(Progress("sending", tally.pushed, total))
                if not _whole(response, batch):
                    # central stopped early: the batch read ahead was not sent (the worker
                    # checks), so it is dropped, not told as a SEQ_GAP; go on from the first
                    # op still in the outbox, as without the pipeline
                    ahead.clear()
                    after_seq = 0
        finally:
            # nothing may still be sending when the pull starts (or the client closes)
            worker.shutdown(wait=True, cancel_futures=True)

    def _wait_pulling(
        self, replica: Replica, client: CentralClient, tally: _Tally, sent: Future[Any]
    ) -> None:
        """Wait for the batch in flight; a poke meanwhile is pulled at once (central serves
        the pull beside the push), so a long drain learns of a cancel within a pull."""
        sent.add_done_callback(lambda _: self._wake.set())
        while True:
            if self._poked.is_set():
                self._pull_between(replica, client, tally)
            if sent.done():
                return
            self._wake.wait()
            self._wake.clear()

    def _pull_between(self, replica: Replica, client: CentralClient, tally: _Tally) -> None:
        """A pull while the push goes on (the next batch may be in flight: central reads a
        store without waiting for its writes): a cancel is learned mid-drain. A failure other
        than offline or revoked is left to the pull that ends the pass. It says nothing of the
        tablet (`status`, one write per pass, by the pull that ends it): that write would wait
        for the store's lock the push holds, and the pull with it."""
        self._poked.clear()
        try:
            self._pull(replica, client, tally, status=False)
        except (Offline, Unauthorized):
            raise
        except SyncError as exc:
            log.info("sync_pull_between failed reason=%s", type(exc).__name__)

    def _read_batch(
        self, replica: Replica, identity: Identity, size: int, after_seq: int
    ) -> _Batch | None:
        """The next `size` ops after `after_seq` as a request body (None: no more).

        The body is put together from the outbox's stored JSON text (`pending_json`), not
        built into dicts and models and written out again; it is validated as the
        `PushRequest` it must be (the models are dropped at once: a batch in flight holds
        one bytes object, not a thousand objects for the garbage collector to walk), and
        sent as it is. An op that cannot be written, or a body that is no PushRequest,
        stops the push in words when the batch's turn comes."""
        ops = replica.pending_json(size, after_seq=after_seq)
        if not ops:
            return None
        batch = _Batch(len(ops), ops[0][0], ops[-1][0])
        texts: list[str] = []
        for _, text in ops:
            if text is None:
                batch.damaged = _damaged(batch.first_seq, 1)
                return batch
            texts.append(text)
        head = orjson.dumps({"device_id": identity.device_id, "device_time": self._clock()})
        body = b"".join((head[:-1], b',"ops":[', ",".join(texts).encode(), b"]}"))
        try:
            PushRequest.model_validate_json(body)
        except ValidationError as exc:
            batch.damaged = _damaged(batch.first_seq, exc.error_count())
            batch.damaged.__cause__ = exc
            return batch
        batch.body = body
        return batch

    @staticmethod
    def _outcome(batch: _Batch) -> PushResponse | None:
        """Central's response to `batch`, or None when it was too large and can be halved.

        Raises _PushStopped (told in words) or the errors that end the pass."""
        if batch.damaged is not None:
            raise batch.damaged
        assert batch.sent is not None
        first_seq = batch.first_seq
        try:
            response = batch.sent.result()
        except BatchTooLarge as exc:
            if batch.count == 1:
                raise _PushStopped(
                    f"Change #{first_seq} is too large to send; sending is stopped, call support."
                ) from exc
            return None
        except SeqGap as exc:
            raise _PushStopped(_seq_gap_words(exc.expected_seq, first_seq)) from exc
        except SeqReused as exc:
            raise _PushStopped(
                "Central already has different changes with this tablet's numbers "
                f"(from #{first_seq}); was the tablet restored from a backup? Sending is "
                "stopped, receiving goes on; call support."
            ) from exc
        except (RequestRejected, ServerError) as exc:
            raise _PushStopped(f"Sending failed: {_error_words(exc)}") from exc
        # the head batch always follows a whole one (or none), so the worker sent it
        assert response is not None, "a batch after one that came back short reached the head"
        return response

    def _pull(
        self,
        replica: Replica,
        client: CentralClient,
        tally: _Tally,
        *,
        check: bool = False,
        status: bool = True,
    ) -> None:
        """Pages until the head; with `check`, the replica is then checked (and healed); with
        `status`, the first page tells central what waits here (`DeviceStatus`), and a replica
        report central has not taken is sent (without: nothing is written at central)."""
        head = self._pull_pages(replica, client, tally, status=status)
        if check and head.checksums is not None:
            self._check(replica, client, tally, head)
        if status and self._report is not None:
            self._send_report(client)

    def _pull_pages(
        self, replica: Replica, client: CentralClient, tally: _Tally, *, status: bool = True
    ) -> PullResponse:
        """Pull pages until has_more is false; the last page."""
        cursor = replica.cursor()
        if cursor is None:
            cursor = self._first_download(replica, client, tally)
        resets = 0
        told: DeviceStatus | None = None
        if status:  # told to central on the first page, for managers
            waiting = replica.pending_summary()
            told = DeviceStatus(
                pending=waiting.count,
                oldest_pending_at=waiting.oldest_occurred_at,
                app_version=self._app_version,
            )
        while True:
            page = client.pull(cursor, self._pull_limit, status=told)
            told = None
            tally.server_time = page.server_time
            if page.reset is not None:
                resets += 1
                if resets > 1:
                    raise ServerError("central asked this tablet to start over twice in one pass")
                cursor = self._load_snapshot(replica, client, tally)
                continue
            replica.apply_pull(page)
            tally.pulled += len(page.changes)
            self._progress(Progress("receiving", tally.pulled, None))
            if not page.has_more:
                return page
            cursor = page.cursor

    def _check(
        self, replica: Replica, client: CentralClient, tally: _Tally, head: PullResponse
    ) -> None:
        """Compare central's checksums at the head with the replica's; reload each kind that
        differs, pull to the head again, and look again. Runs on the first pass of this
        engine and then at most every `verify_every_s` (hashing a large replica costs the
        tablet a fraction of a second; a difference is a fault, not a daily event)."""
        expected = head.checksums or {}
        now = time.monotonic()
        if self._verified_at is not None and now - self._verified_at < self._verify_every_s:
            return
        found = replica.checksums(head.server_time)
        self._verified_at = now
        differ = [
            kind
            for kind in _differing(expected, found)
            if self._unhealable.get(kind) != expected.get(kind, EMPTY)
        ]
        if not differ:
            return
        log.warning("replica_mismatch kinds=%s", ",".join(differ))
        header, stream = client.snapshot(kinds=differ)
        with stream:
            replica.reload_kinds(header, self._counted(stream, tally))
        # the kinds were read at central's newest change, maybe past the cursor: catch up
        again = self._pull_pages(replica, client, tally)
        after = replica.checksums(again.server_time)
        expected_after = again.checksums or {}
        unhealed = [k for k in differ if expected_after.get(k, EMPTY) != after.get(k, EMPTY)]
        for kind in unhealed:  # central's own sum and its documents disagree: not again
            self._unhealable[kind] = expected_after.get(kind, EMPTY)
            log.error("replica_unhealed kind=%s", kind)
        tally.healed += tuple(k for k in differ if k not in unhealed)
        tally.unhealed += tuple(unhealed)
        self._report = ReplicaReport(
            detected_at=self._clock(),
            kinds=[
                ReplicaKind(
                    kind=k,
                    expected=expected.get(k, EMPTY),
                    found=found.get(k, EMPTY),
                    healed=k not in unhealed,
                )
                for k in differ[:50]
            ],
        )

    def _send_report(self, client: CentralClient) -> None:
        """Tell central; a report it did not take waits for the next pass."""
        assert self._report is not None
        try:
            client.replica_report(self._report)
        except (Offline, Unauthorized):
            raise
        except SyncError as exc:
            log.info("replica_report failed reason=%s", type(exc).__name__)
            return
        self._report = None

    def _first_download(self, replica: Replica, client: CentralClient, tally: _Tally) -> str | None:
        """The first sync: the snapshot (or, if central has none, paging from the start)."""
        try:
            return self._load_snapshot(replica, client, tally)
        except RequestRejected as exc:
            if exc.status_code in (404, 405):
                return None
            raise

    def _load_snapshot(self, replica: Replica, client: CentralClient, tally: _Tally) -> str:
        header, stream = client.snapshot()
        with stream:
            replica.load_snapshot(header, self._counted(stream, tally))
        tally.server_time = header.server_time
        return header.cursor

    def _counted(self, stream: ChangeStream, tally: _Tally) -> Iterator[Change]:
        total = stream.header.count
        started = time.monotonic()
        self._progress(Progress("receiving", 0, total, 0.0))
        for n, change in enumerate(stream, start=1):
            tally.pulled += 1
            if n % SNAPSHOT_PROGRESS_EVERY == 0 or n == total:
                self._progress(Progress("receiving", n, total, time.monotonic() - started))
            yield change

    def _progress(self, progress: Progress) -> None:
        if self._on_progress is not None:
            self._on_progress(progress)


# --- words -------------------------------------------------------------------------


def waiting_in_words(summary: PendingSummary, now: datetime, *, prefix: str = "") -> str:
    """ "Offline · 37 changes waiting · oldest 3 h 12 min" (the status chip)."""
    parts = [prefix] if prefix else []
    if summary.count == 0:
        parts.append("nothing waiting")
    else:
        parts.append(f"{summary.count} change{'s' if summary.count != 1 else ''} waiting")
        if summary.oldest_occurred_at is not None:
            parts.append(f"oldest {duration(now - summary.oldest_occurred_at)}")
    return " · ".join(parts)


def _seq_gap_words(expected_seq: int, first_seq: int) -> str:
    if expected_seq < first_seq:
        missing = (
            f"#{expected_seq}"
            if expected_seq == first_seq - 1
            else f"#{expected_seq}–#{first_seq - 1}"
        )
        return (
            f"Central is missing this tablet's change {missing}, which is no longer on the "
            f"tablet; the changes from #{first_seq} cannot be sent. Sending is stopped, "
            "receiving goes on; call support."
        )
    return (
        f"Central expects change #{expected_seq} but this tablet sent #{first_seq}. Sending is "
        "stopped, receiving goes on; call support."
    )


def _error_words(exc: SyncError) -> str:
    if isinstance(exc, RequestRejected):
        return f"central refused it: {exc.message} ({exc.code})"
    if isinstance(exc, ServerError):
        return "central had an internal error; it will be retried"
    return exc.message


def _join(first: str | None, second: str) -> str:
    return f"{first} {second}" if first else second


def _differing(expected: dict[str, str], found: dict[str, str]) -> list[str]:
    """The kinds whose checksums differ (a kind one side lacks counts as empty)."""
    return sorted(
        k for k in expected.keys() | found.keys() if expected.get(k, EMPTY) != found.get(k, EMPTY)
    )


def _count_results(results: list[OpResult], tally: _Tally) -> None:
    for result in results:
        tally.pushed += 1
        status = result.status
        if status == "duplicate":
            tally.duplicates += 1
            status = result.original_status or "applied"
        if status in ("rejected", "compensated"):
            tally.attention += 1


def _result_word(report: SyncReport) -> str:
    if report.ok:
        return "ok"
    if report.offline:
        return "offline"
    if report.needs_enrollment:
        return "needs_enrollment"
    return "error"


def _closing_if_closable(replica: Any) -> AbstractContextManager[Any]:
    """Close the replica after use when it has a `close()` (its own SQLite connection)."""
    if callable(getattr(replica, "close", None)):
        return closing(replica)
    return nullcontext(replica)
