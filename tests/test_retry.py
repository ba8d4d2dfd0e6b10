"""The one retry policy: the waits it gives and the transactions it runs again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentdesk.retry import RECONNECT, TRANSACTION_ATTEMPTS, Policy, mutation_wait, transaction_attempts


def test_waits_double_from_the_first_up_to_the_cap_with_a_random_part_of_at_most_the_first() -> None:
    policy = Policy(first=0.5, cap=4.0)
    backoff = policy.backoff()
    waits = [backoff.next() for _ in range(6)]
    for wait, base in zip(waits, [0.5, 1.0, 2.0, 4.0, 4.0, 4.0], strict=True):
        assert base <= wait <= min(base + 0.5, 4.0)
    backoff.reset()
    assert 0.5 <= backoff.next() <= 1.0, "after a success the waits start again from the first"


def test_the_sync_loop_never_waits_longer_than_its_cap() -> None:
    backoff = RECONNECT.backoff()
    assert max(backoff.next() for _ in range(50)) <= RECONNECT.cap


def test_a_failed_mutation_waits_two_seconds_doubling_up_to_five_minutes() -> None:
    assert [mutation_wait(n) for n in (1, 2, 3)] == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    assert mutation_wait(20) == timedelta(minutes=5)


class Undone(Exception):
    pass


async def test_a_transaction_worth_retrying_runs_again_and_the_last_failure_is_raised_as_it_is() -> None:
    runs = 0
    with pytest.raises(Undone):
        async for attempt in transaction_attempts(lambda exc: isinstance(exc, Undone)):
            with attempt:
                runs += 1
                raise Undone()
    assert runs == TRANSACTION_ATTEMPTS


async def test_a_transaction_not_worth_retrying_runs_once_and_one_that_recovers_returns() -> None:
    runs = 0
    with pytest.raises(ValueError):
        async for attempt in transaction_attempts(lambda exc: isinstance(exc, Undone)):
            with attempt:
                runs += 1
                raise ValueError("a bug, not a conflict")
    assert runs == 1

    async def second_time_lucky() -> int:
        tries = 0
        async for attempt in transaction_attempts(lambda exc: isinstance(exc, Undone)):
            with attempt:
                tries += 1
                if tries == 1:
                    raise Undone()
                return tries
        raise AssertionError("unreachable")

    assert await second_time_lucky() == 2
