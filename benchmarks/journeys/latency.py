"""(c) From an outcome to the run's next step, and (d) from a timer falling due to its pick-up,
through the real workers, with the tick running every 5 s as beat would.

(c) Runs of the outcomes journey are started with `journey_enrol` in this process (the email is
stored at once, the run waits at `react` for it to be opened or for a `bench_ping` event). Then,
one at a time, alternately: the email is marked opened with `message_status_apply` (in a
transaction, as the tracking pixel and the delivery webhooks do; after the commit it publishes
`journey_message_signal`), or a `bench_ping` event is stored with `event_ingest_batch` (which
publishes `journey_events_signal` after its commit). The benchmark polls the enrollment's step
every 2 ms; the latency is from the commit (the call's return) to the new step being visible.
The first WARM_UP runs are not counted.

(d) Runs of the timers journey are started with `journey_enrol_many` and, in the same
transaction, put at the `pause` step (a 60 s wait) with `wake_at` spread evenly over the next
minute (starting 5 s ahead). The lag of a run is its new step's `step_entered_at` (the moment the
batch that moved it began, which is when it was claimed) minus its `wake_at`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from time import perf_counter

import psycopg

from benchmarks.journeys.data import LATENCY_EVENT, PAUSE_SECONDS

WARM_UP = 10
POLL_SECONDS = 0.002
STEP_TIMEOUT_SECONDS = 30
TIMER_SPREAD_SECONDS = 60
TIMER_LEAD_SECONDS = 5
TIMER_GRACE_SECONDS = 60


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def summary(values: list[float], unit: str = "ms") -> dict:
    if not values:
        return {}
    return {
        f"p50_{unit}": round(percentile(values, 0.50), 1),
        f"p95_{unit}": round(percentile(values, 0.95), 1),
        f"max_{unit}": round(max(values), 1),
        f"mean_{unit}": round(sum(values) / len(values), 1),
        "count": len(values),
    }


def sample_customers(url: str, count: int, offset: int) -> list[tuple[int, str]]:
    """`count` customers in a fixed pseudo-random order, skipping the first `offset`."""
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT id, external_id FROM customers_customer "
            "ORDER BY hashint4(id::int), id OFFSET %s LIMIT %s",
            [offset, count],
        ).fetchall()


def outcomes_measure(url: str, journey, customers: list[tuple[int, str]]) -> dict:
    from django.db import transaction

    from campaigns.journeys.services.triggers import journey_enrol
    from channels.services.status import message_status_apply
    from customers.api.schemas import EventIn
    from customers.services.events import event_ingest_batch

    runs = []
    started = perf_counter()
    for customer_id, external_id in customers:
        result = journey_enrol(journey=journey, customer_id=customer_id)
        enrollment = result.enrollment
        if enrollment is None or enrollment.step != "react":
            raise RuntimeError(f"customer {customer_id}: no run waiting at react ({result})")
        runs.append((enrollment.pk, enrollment.context["last_message"], external_id))
    enrol_seconds = perf_counter() - started
    latencies: dict[str, list[float]] = {"opened": [], "event": []}
    calls: dict[str, list[float]] = {"opened": [], "event": []}
    timeouts = 0
    with psycopg.connect(url, autocommit=True) as poller:
        probe = poller.cursor()
        for number, (enrollment_id, message_id, external_id) in enumerate(runs):
            kind = "opened" if number % 2 == 0 else "event"
            call_started = perf_counter()
            if kind == "opened":
                with transaction.atomic():
                    message_status_apply(message_id=message_id, status="opened", source="bench")
            else:
                event_ingest_batch(
                    items=[
                        EventIn(
                            event_id=f"bench-journey-ping-{enrollment_id}",
                            customer_external_id=external_id,
                            name=LATENCY_EVENT,
                            properties={},
                            occurred_at=datetime.now(UTC),
                        )
                    ],
                    source="bench",
                )
            committed = perf_counter()
            deadline = committed + STEP_TIMEOUT_SECONDS
            while True:
                step = probe.execute(
                    "SELECT step FROM campaigns_enrollment WHERE id = %s", [enrollment_id]
                ).fetchone()[0]
                now = perf_counter()
                if step != "react" or now > deadline:
                    break
                time.sleep(POLL_SECONDS)
            if number < WARM_UP:
                continue
            if step == "react":
                timeouts += 1
                continue
            latencies[kind].append((now - committed) * 1000)
            calls[kind].append((committed - call_started) * 1000)
    both = latencies["opened"] + latencies["event"]
    return {
        "runs": len(runs),
        "warm_up": WARM_UP,
        "enrol_seconds": round(enrol_seconds, 2),
        "timeouts": timeouts,
        "commit_to_step": summary(both),
        "opened_commit_to_step": summary(latencies["opened"]),
        "event_commit_to_step": summary(latencies["event"]),
        "opened_call": summary(calls["opened"]),
        "event_call": summary(calls["event"]),
    }


def timers_setup(journey, customer_ids: list[int]) -> dict[int, datetime]:
    """Start the runs and, in the same transaction, spread their wake-ups over the next minute;
    returns {enrollment id: wake_at}."""
    from django.db import connection, transaction

    from campaigns.journeys.services.triggers import journey_enrol_many

    first = datetime.now(UTC) + timedelta(seconds=TIMER_LEAD_SECONDS)
    with transaction.atomic():
        journey_enrol_many(
            journey=journey,
            customers_sql="SELECT id FROM customers_customer WHERE id = ANY(%s)",
            params=[customer_ids],
            entry={},
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE campaigns_enrollment e
                SET state = 'waiting', wake_at = d.wake_at,
                    step_entered_at = d.wake_at - make_interval(secs => %s)
                FROM (SELECT id, %s + (row_number() OVER (ORDER BY id) - 1)
                             * make_interval(secs => %s) AS wake_at
                      FROM campaigns_enrollment WHERE journey_id = %s) d
                WHERE e.id = d.id
                RETURNING e.id, e.wake_at
                """,
                [
                    PAUSE_SECONDS,
                    first,
                    TIMER_SPREAD_SECONDS / max(1, len(customer_ids)),
                    journey.pk,
                ],
            )
            return dict(cursor.fetchall())


def timers_measure(url: str, journey_id: int, wake: dict[int, datetime]) -> dict:
    deadline = max(wake.values()).timestamp() + TIMER_GRACE_SECONDS
    with psycopg.connect(url, autocommit=True) as connection:
        while True:
            left = connection.execute(
                "SELECT count(*) FROM campaigns_enrollment WHERE journey_id = %s AND step = 'pause'",
                [journey_id],
            ).fetchone()[0]
            if not left or time.time() > deadline:
                break
            time.sleep(1)
        moved = connection.execute(
            "SELECT id, step_entered_at FROM campaigns_enrollment "
            "WHERE journey_id = %s AND step = 'rest'",
            [journey_id],
        ).fetchall()
    lags = [(at - wake[pk]).total_seconds() for pk, at in moved]
    early = sum(1 for lag in lags if lag < 0)
    return {
        "runs": len(wake),
        "picked_up": len(moved),
        "not_picked_up": left,
        "picked_up_early": early,
        "spread_seconds": TIMER_SPREAD_SECONDS,
        "lag": summary(lags, "s"),
    }
