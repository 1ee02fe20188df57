"""BackoffPolicy: bounded, monotone capped delays, jitter in range, and tenacity giving up at attempts_max."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearway.platform.retry import DELAY_MS_LIMIT, BackoffPolicy, any_error

policies = st.builds(
    lambda attempts_max, initial_ms, extra_ms, multiplier, jitter_share: BackoffPolicy(
        attempts_max=attempts_max,
        initial_ms=initial_ms,
        maximum_ms=min(DELAY_MS_LIMIT, initial_ms + extra_ms),
        multiplier=multiplier,
        jitter_ms=round(jitter_share * min(DELAY_MS_LIMIT, initial_ms + extra_ms)),
    ),
    st.integers(2, 100),
    st.integers(0, 10_000),
    st.integers(0, 100_000),
    st.floats(1.0, 10.0),
    st.floats(0.0, 1.0),
)


class RecordedSleeps:
    def __init__(self) -> None:
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


@pytest.mark.parametrize(
    "arguments",
    [
        {"attempts_max": 0, "initial_ms": 1, "maximum_ms": 1},
        {"attempts_max": 101, "initial_ms": 1, "maximum_ms": 1},
        {"attempts_max": 3, "initial_ms": -1, "maximum_ms": 1},
        {"attempts_max": 3, "initial_ms": 2, "maximum_ms": 1},
        {"attempts_max": 3, "initial_ms": 1, "maximum_ms": DELAY_MS_LIMIT + 1},
        {"attempts_max": 3, "initial_ms": 1, "maximum_ms": 10, "multiplier": 0.5},
        {"attempts_max": 3, "initial_ms": 1, "maximum_ms": 10, "multiplier": 11},
        {"attempts_max": 3, "initial_ms": 1, "maximum_ms": 10, "jitter_ms": 11},
        {"attempts_max": 3, "initial_ms": 1, "maximum_ms": 10, "jitter_ms": -1},
    ],
)
def test_a_policy_out_of_bounds_is_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(AssertionError):
        BackoffPolicy(**arguments)  # type: ignore[arg-type]


def test_the_delay_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    policy = BackoffPolicy(attempts_max=10, initial_ms=400, maximum_ms=5_000)
    assert [policy.delay_ms(n) for n in range(1, 10)] == [400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000, 5_000]
    assert policy.worst_case_delay_ms() == 400 + 800 + 1_600 + 3_200 + 5 * 5_000


def test_there_is_no_delay_after_the_last_attempt() -> None:
    policy = BackoffPolicy(attempts_max=3, initial_ms=100, maximum_ms=1_000)
    with pytest.raises(AssertionError):
        policy.delay_ms(3)
    with pytest.raises(AssertionError):
        policy.delay_ms(0)


def test_an_unbounded_loop_keeps_the_cap_however_long_it_fails() -> None:
    policy = BackoffPolicy(attempts_max=None, initial_ms=500, maximum_ms=30_000)
    assert policy.delay_ms(10**9) == 30_000
    with pytest.raises(AssertionError):
        policy.retrying(retry_if=any_error)
    with pytest.raises(AssertionError):
        policy.worst_case_delay_ms()


@given(policies)
def test_delays_are_monotone_and_capped(policy: BackoffPolicy) -> None:
    assert policy.attempts_max is not None
    delays_ms = [policy.delay_ms(n) for n in range(1, policy.attempts_max)]
    assert delays_ms == sorted(delays_ms)
    assert all(policy.initial_ms <= delay_ms <= policy.maximum_ms for delay_ms in delays_ms)


@given(policies, st.integers(1, 99), st.floats(0.0, 1.0))
def test_jitter_stays_between_the_delay_and_the_cap(policy: BackoffPolicy, attempt: int, share: float) -> None:
    assert policy.attempts_max is not None
    attempt = min(attempt, policy.attempts_max - 1)
    jittered_ms = policy.jittered_delay_ms(attempt, uniform=lambda low, high: low + share * (high - low))
    delay_ms = policy.delay_ms(attempt)
    assert delay_ms <= jittered_ms <= min(policy.maximum_ms, delay_ms + policy.jitter_ms)


def test_jitter_uses_the_whole_range() -> None:
    policy = BackoffPolicy(attempts_max=4, initial_ms=50, maximum_ms=2_000, jitter_ms=1_000)
    samples = {policy.jittered_delay_ms(1) for _ in range(2_000)}
    assert min(samples) < 150 and max(samples) > 950
    assert all(50 <= sample <= 1_050 for sample in samples)


async def test_retrying_stops_after_attempts_max_and_reraises_the_last_error() -> None:
    policy = BackoffPolicy(attempts_max=4, initial_ms=100, maximum_ms=250)
    sleeps, calls = RecordedSleeps(), 0
    with pytest.raises(ConnectionError, match="attempt 4"):
        async for attempt in policy.retrying(retry_if=any_error, sleep=sleeps):
            with attempt:
                calls += 1
                raise ConnectionError(f"attempt {calls}")
    assert calls == 4
    assert sleeps.delays_s == [0.1, 0.2, 0.25]


async def test_retrying_gives_up_at_once_on_an_error_it_does_not_retry() -> None:
    policy = BackoffPolicy(attempts_max=4, initial_ms=100, maximum_ms=1_000)
    sleeps, calls = RecordedSleeps(), 0
    with pytest.raises(ValueError):
        async for attempt in policy.retrying(retry_if=lambda error: isinstance(error, ConnectionError), sleep=sleeps):
            with attempt:
                calls += 1
                raise ValueError("refused")
    assert (calls, sleeps.delays_s) == (1, [])


async def test_retrying_returns_the_first_success() -> None:
    policy = BackoffPolicy(attempts_max=3, initial_ms=10, maximum_ms=10)
    sleeps, calls = RecordedSleeps(), 0
    async for attempt in policy.retrying(retry_if=any_error, sleep=sleeps, what="flaky call"):
        with attempt:
            calls += 1
            if calls < 2:
                raise ConnectionError("once")
    assert (calls, sleeps.delays_s) == (2, [0.01])
