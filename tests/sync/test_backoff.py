from datetime import UTC, datetime, timedelta

import pytest

from sync.backoff import Backoff


def no_jitter() -> Backoff:
    return Backoff(rand=lambda: 0.0)


def test_delays_start_at_one_second_and_double() -> None:
    backoff = no_jitter()
    assert [backoff.failed() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_delays_stop_growing_at_five_minutes() -> None:
    backoff = no_jitter()
    delays = [backoff.failed() for _ in range(13)]
    assert delays[8:] == [256.0, 300.0, 300.0, 300.0, 300.0]
    assert max(delays) == 300.0


def test_a_tablet_offline_for_weeks_still_waits_five_minutes() -> None:
    backoff = Backoff(rand=lambda: 0.0, failures=100_000)
    assert backoff.failed() == 300.0


def test_success_resets_to_one_second() -> None:
    backoff = no_jitter()
    for _ in range(5):
        backoff.failed()
    backoff.succeeded()
    assert backoff.failed() == 1.0


def test_jitter_only_shortens_a_delay_and_by_at_most_a_quarter() -> None:
    low = Backoff(rand=lambda: 0.999999)
    high = Backoff(rand=lambda: 0.0)
    for _ in range(15):
        shortest, longest = low.failed(), high.failed()
        assert 0.75 * longest <= shortest <= longest <= 300.0


def test_jitter_spreads_tablets_that_failed_together() -> None:
    values = iter([0.1, 0.9])
    backoff = Backoff(rand=lambda: next(values))
    first = backoff.failed()
    backoff.succeeded()
    second = backoff.failed()
    assert first == pytest.approx(0.975) and second == pytest.approx(0.775)


def test_next_try_is_now_plus_the_delay() -> None:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    backoff = no_jitter()
    assert backoff.next_try(now) == now + timedelta(seconds=1)
    assert backoff.next_try(now) == now + timedelta(seconds=2)


def test_peek_tells_the_next_delay_without_counting_a_failure() -> None:
    backoff = no_jitter()
    assert backoff.peek() == 1.0
    assert backoff.peek() == 1.0
    assert backoff.failures == 0


@pytest.mark.parametrize(
    ("initial", "maximum", "jitter"), [(0, 300, 0.25), (10, 5, 0.25), (1, 300, 1.0)]
)
def test_nonsense_settings_are_refused(initial: float, maximum: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial=initial, maximum=maximum, jitter=jitter)
