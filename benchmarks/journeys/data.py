"""What the journeys run on: 1M customers made inside PostgreSQL, then Kaskad's own objects.

Customers come from the segments benchmark's generator (`benchmarks/segments/generate.py`, as the
broadcast benchmark uses it: no orders, no events), every one opted in to email (one upsert).
Kaskad's services make the rest: the segment of everyone reachable by email (`segment_create`,
`segment_refresh`), the email template (`template_create`), the delivery settings (no frequency
cap, no quiet hours: the policy runs for every message and lets it through) and the journeys
(`journey_create`; publishing the first one is measurement (a)).
"""

from __future__ import annotations

from datetime import datetime
from time import perf_counter

import psycopg

SEGMENT_NAME = "Everyone reachable by email (journeys benchmark)"
SEGMENT_RULES = {"reachable": "email"}
TEMPLATE_NAME = "Journeys benchmark: welcome"
WEEK = 7 * 86400
# (b): a wait of a minute, the email, then a long wait (the run stays open, asleep).
PAUSE_SECONDS = 60
EMAIL = {
    "subject": "{{ customer.first_name | default: 'Hello' }}, something for you",
    "html": "<p>Hello {{ customer.first_name | default: 'there' }},</p>"
    '<p>New arrivals are in: <a href="https://shop.example.com/new">have a look</a>.</p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
}
LATENCY_EVENT = "bench_ping"


def customers_generate(url: str, customers: int, anchor: datetime) -> dict:
    from benchmarks.broadcast.data import customers_generate as generate

    timings = generate(url, customers, anchor)
    with psycopg.connect(url) as connection:
        started = perf_counter()
        rows = connection.execute(
            "INSERT INTO customers_consent (customer_id, channel, status, source, updated_at) "
            "SELECT id, 'email', 'opted_in', 'bench', %s FROM customers_customer "
            "ON CONFLICT (customer_id, channel) DO UPDATE SET status = 'opted_in'",
            [anchor],
        ).rowcount
        connection.commit()
        seconds = perf_counter() - started
        timings["customers_consent (email opted in)"] = {"rows": rows, "seconds": round(seconds, 2)}
        print(f"  {'customers_consent (email opted in)':<36} {rows:>11,} rows {seconds:7.1f} s")
    return timings


def vacuum_analyze(url: str, table: str | None = None) -> float:
    with psycopg.connect(url, autocommit=True) as connection:
        started = perf_counter()
        connection.execute(f"VACUUM ANALYZE {table or ''}")
        return round(perf_counter() - started, 2)


def segment_fill():
    """The audience: a dynamic segment, created and filled by Kaskad's full refresh."""
    from customers.services.segments import segment_create, segment_refresh

    segment = segment_create(name=SEGMENT_NAME, kind="dynamic", rules=SEGMENT_RULES)
    started = perf_counter()
    result = segment_refresh(segment=segment)
    seconds = perf_counter() - started
    print(
        f"  segment_refresh ({SEGMENT_RULES})  {result.member_count:>11,} members {seconds:5.1f} s"
    )
    return segment, {"members": result.member_count, "refresh_seconds": round(seconds, 2)}


def template_make():
    from campaigns.message_templates.services import template_create

    return template_create(name=TEMPLATE_NAME, category="marketing", variants={"email": EMAIL})


def staff_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-journeys",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.com"},
    )
    return user


def _create(name: str, definition: dict, actor):
    from campaigns.journeys.services.authoring import journey_create

    return journey_create(name=name, definition=definition, actor=actor)


def _publish(journey, actor):
    from campaigns.journeys.services.authoring import journey_publish

    journey_publish(journey=journey, actor=actor)
    journey.refresh_from_db()
    return journey


def welcome_journey(segment_id: int, template_id: int, actor):
    """(a) and (b): entered with the segment (its current members too), a minute's pause, the
    email, a week's rest. Created as a draft: publishing it is what (a) times."""
    return _create(
        "Journeys benchmark: welcome",
        {
            "trigger": {
                "kind": "segment_entered",
                "segment_id": segment_id,
                "include_current": True,
            },
            "entry": {"policy": "once"},
            "start": "pause",
            "steps": [
                {
                    "id": "pause",
                    "type": "wait",
                    "mode": "duration",
                    "seconds": PAUSE_SECONDS,
                    "next": "mail",
                },
                {
                    "id": "mail",
                    "type": "send",
                    "template_id": template_id,
                    "channel": "email",
                    "on_unreachable": "continue",
                    "next": "rest",
                },
                {"id": "rest", "type": "wait", "mode": "duration", "seconds": WEEK},
            ],
        },
        actor,
    )


def outcome_journey(template_id: int, actor):
    """(c): an API trigger, the email, then a wait for it to be opened or for an event."""
    return _publish(
        _create(
            "Journeys benchmark: outcomes",
            {
                "trigger": {"kind": "api"},
                "entry": {"policy": "one_active"},
                "start": "mail",
                "steps": [
                    {
                        "id": "mail",
                        "type": "send",
                        "template_id": template_id,
                        "channel": "email",
                        "on_unreachable": "exit",
                        "next": "react",
                    },
                    {
                        "id": "react",
                        "type": "wait",
                        "mode": "outcomes",
                        "outcomes": [
                            {
                                "name": "opened",
                                "kind": "message",
                                "status": "opened",
                                "next": "after_open",
                            },
                            {
                                "name": "pinged",
                                "kind": "event",
                                "event": LATENCY_EVENT,
                                "next": "after_event",
                            },
                        ],
                        "timeout_seconds": WEEK,
                        "timeout_next": None,
                    },
                    {"id": "after_open", "type": "wait", "mode": "duration", "seconds": WEEK},
                    {"id": "after_event", "type": "wait", "mode": "duration", "seconds": WEEK},
                ],
            },
            actor,
        ),
        actor,
    )


def timer_journey(actor):
    """(d): an API trigger, a timed wait, then a long one (the step change is the pick-up)."""
    return _publish(
        _create(
            "Journeys benchmark: timers",
            {
                "trigger": {"kind": "api"},
                "entry": {"policy": "one_active"},
                "start": "pause",
                "steps": [
                    {
                        "id": "pause",
                        "type": "wait",
                        "mode": "duration",
                        "seconds": PAUSE_SECONDS,
                        "next": "rest",
                    },
                    {"id": "rest", "type": "wait", "mode": "duration", "seconds": WEEK},
                ],
            },
            actor,
        ),
        actor,
    )
