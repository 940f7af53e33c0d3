"""Per-provider rate limits (channels/services/ratelimit.py) and how delivery defers what they hold
back (channels/services/delivery.py), with the real cache and the real database.

The limiter reads the wall clock, since every worker must agree on which second it is; these tests
set that clock (and pass the same instant to `messages_deliver` as its `now`).
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from channels.models import Message, MessageStatus, SandboxMessage
from channels.services import ratelimit
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.ratelimit import rate_limit_take

# 0.4 s into a second, so the rest of that second is 0.6 s.
START = datetime(2026, 3, 2, 10, 0, 0, 400_000, tzinfo=UTC)


class Clock:
    """Stands in for the `time` module inside ratelimit.py: `time()` is whatever the test set."""

    def __init__(self, at: datetime):
        self.at = at

    def time(self) -> float:
        return self.at.timestamp()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


@pytest.fixture
def limits(settings):
    """limits(provider=n, …) sets PROVIDER_RATE_LIMITS to exactly these."""

    def set_limits(**per_second: int) -> None:
        settings.PROVIDER_RATE_LIMITS = per_second

    return set_limits


def test_a_limit_of_n_per_second_grants_n_and_says_when_the_rest_may_go(clock, limits):
    limits(exolve=3)
    granted, wait = rate_limit_take("exolve", 5)
    assert granted == 3
    assert wait == pytest.approx(0.6, abs=0.001)  # the rest of this second
    # The second is used up: a later caller in it gets nothing.
    granted, wait = rate_limit_take("exolve", 1)
    assert granted == 0
    assert wait > 0


def test_a_caller_within_the_limit_is_not_told_to_wait(clock, limits):
    limits(exolve=3)
    assert rate_limit_take("exolve", 2) == (2, 0.0)
    assert rate_limit_take("exolve", 1) == (1, 0.0)


def test_a_new_second_grants_again(clock, limits):
    limits(exolve=3)
    assert rate_limit_take("exolve", 3) == (3, 0.0)
    assert rate_limit_take("exolve", 1)[0] == 0
    clock.at = START + timedelta(seconds=1)
    assert rate_limit_take("exolve", 3) == (3, 0.0)


@pytest.mark.parametrize("configured", [{"exolve": 3}, {"exolve": 3, "twilio": 0}])
def test_a_provider_without_a_limit_is_never_throttled(clock, settings, configured):
    settings.PROVIDER_RATE_LIMITS = configured
    for _ in range(3):
        assert rate_limit_take("twilio", 10_000) == (10_000, 0.0)


def test_two_callers_share_one_count_and_each_provider_has_its_own(clock, limits):
    limits(exolve=3, twilio=3)
    assert rate_limit_take("exolve", 2) == (2, 0.0)
    granted, wait = rate_limit_take("exolve", 2)  # another worker, same second
    assert granted == 1
    assert wait == pytest.approx(0.6, abs=0.001)
    assert rate_limit_take("twilio", 3) == (3, 0.0)


def test_callers_on_many_threads_at_once_get_no_more_than_the_limit_between_them(clock, limits):
    limits(exolve=5)
    start = threading.Barrier(8)
    granted = []

    def take() -> None:
        start.wait()
        granted.append(rate_limit_take("exolve", 2)[0])

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 5


def test_callers_held_back_wait_for_their_place_in_the_queue_not_all_for_the_next_second(
    clock, limits
):
    limits(exolve=10)
    assert rate_limit_take("exolve", 10) == (10, 0.0)
    # Ten go in the next second and ten in the one after: the third caller need not come back
    # next second only to be held back again.
    _, second_caller = rate_limit_take("exolve", 10)
    _, third_caller = rate_limit_take("exolve", 10)
    _, fourth_caller = rate_limit_take("exolve", 5)
    assert second_caller == pytest.approx(0.6, abs=0.001)
    assert third_caller == pytest.approx(1.6, abs=0.001)
    assert fourth_caller == pytest.approx(2.6, abs=0.001)


def transactional_emails(reachable_customer, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        message = message_send(
            customer=reachable_customer("email"),
            channel="email",
            category="transactional",
            source="api",
            subject="Your order",
            body="Shipped",
            now=START,
        )
        ids.append(message.pk)
    return ids


def test_a_batch_over_the_limit_sends_n_and_defers_the_rest_without_counting_an_attempt(
    reachable_customer, sandbox, clock, limits, enqueued
):
    limits(sandbox=3)
    ids = transactional_emails(reachable_customer, 5)
    report = messages_deliver(ids, now=START)

    assert report.sent == 3
    assert SandboxMessage.objects.count() == 3
    assert set(report.later) == set(ids[3:])
    wait = report.later[ids[3]]
    assert wait == pytest.approx(0.6, abs=0.001)
    for message in Message.objects.filter(pk__in=ids[3:]):
        assert message.status == MessageStatus.QUEUED
        assert message.status_reason == "rate limit"
        assert message.send_after == START + timedelta(seconds=wait)
        assert message.attempts == 0  # the provider was never called
        assert message.claimed_until is None
    assert Message.objects.filter(pk__in=ids[:3], status=MessageStatus.SENT).count() == 3
    assert enqueued == [(ids[3:], round(wait, 1))]

    # Asked again within the same second, nothing more goes out.
    assert messages_deliver(ids, now=START).sent == 0
    clock.at = START + timedelta(seconds=wait)
    again = messages_deliver(ids[3:], now=clock.at)
    assert (again.sent, again.later) == (2, {})
    assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == 5
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_a_deferred_message_is_due_by_the_time_its_task_arrives(
    reachable_customer, sandbox, clock, limits, enqueued
):
    # 0.557 s into the second: the rest of it is 0.443 s, which the enqueue's countdown (tenths)
    # must not round down, or the task finds the message not yet due and drops it; the sweeper
    # would pick it up only 30 s later.
    now = START.replace(microsecond=557_000)
    clock.at = now
    limits(sandbox=1)
    ids = transactional_emails(reachable_customer, 2)
    assert messages_deliver(ids, now=now).sent == 1
    [(deferred, countdown)] = enqueued
    assert deferred == ids[1:]
    assert Message.objects.get(pk=ids[1]).send_after <= now + timedelta(seconds=countdown)

    clock.at = now + timedelta(seconds=countdown)
    assert messages_deliver(deferred, now=clock.at).sent == 1


def test_a_backlog_drains_at_the_limit_with_each_message_deferred_at_most_once(
    reachable_customer, sandbox, clock, limits, enqueued
):
    """Nine messages in three chunks, three a second: done in three seconds, as a worker would
    run the tasks (each at its countdown)."""
    limits(sandbox=3)
    ids = transactional_emails(reachable_customer, 9)
    chunks = [ids[0:3], ids[3:6], ids[6:9]]
    tasks = [(0.0, chunk) for chunk in chunks]
    deferrals = dict.fromkeys(ids, 0)
    sent = 0
    while tasks:
        tasks.sort(key=lambda task: task[0])
        due, chunk = tasks.pop(0)
        clock.at = START + timedelta(seconds=due)
        enqueued.clear()
        report = messages_deliver(chunk, now=clock.at)
        sent += report.sent
        for message_id in report.later:
            deferrals[message_id] += 1
        tasks += [(due + countdown, later_ids) for later_ids, countdown in enqueued]
        assert due < 3, "the backlog should be gone within three seconds"
    assert sent == 9
    assert max(deferrals.values()) == 1


@pytest.mark.parametrize(("per_second", "window"), [(0.5, 2), (0.3, 4), (2.5, 1), (1, 1), (100, 1)])
def test_a_limit_is_never_exceeded_whatever_its_fraction(clock, limits, per_second, window):
    limits(exolve=per_second)
    granted_in_window = 0
    for _ in range(3):
        granted_in_window += rate_limit_take("exolve", 1_000)[0]
    assert granted_in_window == max(1, int(per_second))  # the rest waits for the next window
    assert granted_in_window / window <= per_second


def test_half_a_send_a_second_is_one_send_every_two_seconds(clock, limits):
    limits(exolve=0.5)
    clock.at = datetime(2026, 3, 2, 10, 0, 0, 500_000, tzinfo=UTC)  # 0.5 s into a 2 s window
    assert rate_limit_take("exolve", 3) == (1, 1.5)
    clock.at += timedelta(seconds=1.5)
    assert rate_limit_take("exolve", 2)[0] == 1
