"""A scenario's campaign: its marketing SMS made through the real send path, how far it has
drained, and what became of each message, judged against what the gateway received.

Customers are made once for the whole run (benchmarks.send.data: one `INSERT … SELECT` each for
customers, identities and consents); each scenario takes its own range, so every message of the
run has its own phone number and the gateway's record of a number is the record of one message.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from benchmarks.send.data import SMS_TEXT

# Statuses a message can still leave by itself (a worker, the sweeper or a report moves it on).
PENDING = ("queued",)
SEND_THREADS = 4


def campaign_send(*, first_customer: int, count: int, source_ref: str) -> list[int]:
    """`message_send` for customers first_customer … first_customer + count - 1, as a campaign
    does: each row is committed, then its id goes to the `send` queue. Returns the message ids.

    A few threads call it at once, as several web or journey workers would; one alone makes about
    40 messages a second on a busy two-core machine, which would make creation the longest part.
    """
    from customers.models import Customer

    customers = list(
        Customer.objects.filter(pk__gte=first_customer, pk__lt=first_customer + count).order_by(
            "pk"
        )
    )
    if len(customers) != count:
        raise RuntimeError(f"{len(customers)} customers in range, expected {count}")
    slices = [customers[start::SEND_THREADS] for start in range(SEND_THREADS)]
    with ThreadPoolExecutor(SEND_THREADS) as pool:
        return sorted(
            pk for ids in pool.map(lambda part: _send(part, source_ref), slices) for pk in ids
        )


def _send(customers: list, source_ref: str) -> list[int]:
    from django.db import connection

    from channels.models import MessageStatus
    from channels.services.messages import message_send

    ids = []
    try:
        for customer in customers:
            message = message_send(
                customer=customer,
                channel="sms",
                category="marketing",
                source="campaign",
                source_ref=source_ref,
                body=SMS_TEXT,
                idempotency_key=f"{source_ref}-{customer.pk}",
            )
            if message.status != MessageStatus.QUEUED or message.send_after is not None:
                raise RuntimeError(
                    f"message_send did not queue the message to customer {customer.pk}: "
                    f"{message.status} ({message.status_reason}), send_after {message.send_after}"
                )
            ids.append(message.pk)
    finally:
        connection.close()  # this thread's own connection
    return ids


def campaign_enqueue_in_chunks(ids: list[int]) -> None:
    """Replace the campaign's one-id tasks (message_send enqueues each message on its own) with
    tasks of 100 ids, as `messages_enqueue` sends a bulk campaign and the sweeper's catch-up, so a
    killed thread has a whole chunk in flight. Only while no send worker runs."""
    from channels.services.messages import SEND_QUEUE, messages_enqueue
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(SEND_QUEUE)
    messages_enqueue(ids)


def status_counts(url: str, source_ref: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return dict(
            connection.execute(
                "SELECT status, count(*) FROM kaskad_channels_message WHERE source_ref = %s "
                "GROUP BY status",
                [source_ref],
            ).fetchall()
        )


@dataclass
class Outcome:
    messages: int
    exactly_once: int  # reached the gateway once
    lost: int  # never reached it, yet not failed or unconfirmed (still queued counts here)
    duplicated: int  # reached it more than once
    extra_copies: int  # texts beyond the first, over all duplicated messages
    failed: int
    failed_but_delivered: int  # failed in Kaskad although the gateway took it
    unconfirmed: int | None  # None: the code under test has no such status
    unconfirmed_but_delivered: int  # unconfirmed although the gateway took it (no resend needed)
    still_pending: int  # not settled by the deadline
    statuses: dict[str, int]
    attempts_max: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def campaign_outcome(url: str, source_ref: str, deliveries: dict[str, int]) -> Outcome:
    """Each message's status next to the number of times the gateway took it."""
    from channels.models import MessageStatus
    from channels.providers.exolve import exolve_number

    has_unconfirmed = "unconfirmed" in MessageStatus.values
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT address, status, attempts FROM kaskad_channels_message WHERE source_ref = %s",
            [source_ref],
        ).fetchall()
    exactly_once = lost = duplicated = extra = failed = failed_delivered = 0
    unconfirmed = unconfirmed_delivered = 0
    pending = 0
    statuses: dict[str, int] = {}
    for address, status, _attempts in rows:
        statuses[status] = statuses.get(status, 0) + 1
        taken = deliveries.get(exolve_number(address), 0)
        if taken == 1:
            exactly_once += 1
        elif taken > 1:
            duplicated += 1
            extra += taken - 1
        if status == "failed":
            failed += 1
            failed_delivered += taken > 0
        elif status == "unconfirmed":
            unconfirmed += 1
            unconfirmed_delivered += taken > 0
        elif taken == 0:
            lost += 1
        if status in PENDING:
            pending += 1
    return Outcome(
        messages=len(rows),
        exactly_once=exactly_once,
        lost=lost,
        duplicated=duplicated,
        extra_copies=extra,
        failed=failed,
        failed_but_delivered=failed_delivered,
        unconfirmed=unconfirmed if has_unconfirmed else None,
        unconfirmed_but_delivered=unconfirmed_delivered,
        still_pending=pending,
        statuses=statuses,
        attempts_max=max((row[2] for row in rows), default=0),
    )
