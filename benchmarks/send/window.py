"""The duplicate window: how long after a gateway accepted a send its `sent` status is committed.

    python -m benchmarks.send.window                # 2,000 SMS in chunks of 100
    python -m benchmarks.send.window --messages 500

A worker killed inside that window sends the message again once its claim expires, so the window
is what "at most one duplicate per killed worker thread" rests on. This runs delivery in this
process, on PostgreSQL, against the benchmark's loopback Exolve sink (`ExolveSink`, in a process
of its own): queued SMS are delivered by `messages_deliver` in chunks of SEND_CHUNK_SIZE, as a
worker does, with two clocks added around Kaskad's own code: when the provider's `send()` has
read the gateway's answer (accepted), and when the `sent` record for that message has returned
from the database (committed). It prints the window's median, 99th percentile and maximum, and
a whole send for scale, and (when PostgreSQL runs on this machine) the CPU its backend spent per
record.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

from benchmarks.ingest import database
from benchmarks.options import add_postgres_option
from benchmarks.send.sinks import ExolveSink

DATABASE = "kaskad_bench_window"
EXOLVE_API_KEY = "bench-exolve-key"
EXOLVE_SENDER = "79990000000"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.send.window",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=2000, help="SMS to deliver (2,000)")
    parser.add_argument("--latency", type=float, default=0.02, help="sink latency (0.02 s)")
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    add_postgres_option(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    sink = ExolveSink(api_key=EXOLVE_API_KEY, sender=EXOLVE_SENDER, latency=args.latency)
    env = {
        "DATABASE_URL": database.database_url(args.postgres, args.database),
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MESSAGING_SANDBOX": "0",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": sink.url,
        "EXOLVE_API_KEY": EXOLVE_API_KEY,
        "EXOLVE_SENDER": EXOLVE_SENDER,
        "TWILIO_ACCOUNT_SID": "",
        "PROVIDER_RATE_LIMITS": "{}",
    }
    os.environ.update(env)
    database.create(args.postgres, args.database)
    try:
        database.manage(env, "migrate", "--no-input")
        with sink:
            windows, sends, statements, backend_cpu = measure(args.messages)
    finally:
        database.drop(args.postgres, args.database)
    windows_ms = sorted(w * 1000 for w in windows)
    p99 = windows_ms[min(len(windows_ms) - 1, int(len(windows_ms) * 0.99))]
    print(f"{len(windows_ms):,} SMS, sink latency {args.latency * 1000:.0f} ms")
    print(
        f"window from accepted to committed: median {statistics.median(windows_ms):.2f} ms, "
        f"p99 {p99:.2f} ms, max {windows_ms[-1]:.2f} ms"
    )
    statement_ms = statistics.median(statements) * 1000
    print(f"  of which the record's statement: median {statement_ms:.2f} ms")
    if backend_cpu is not None:
        print(f"PostgreSQL backend CPU per message: {backend_cpu / len(windows) * 1000:.2f} ms")
    print(
        f"a whole send (request, answer, record): median {statistics.median(sends) * 1000:.1f} ms"
    )
    return 0


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a PostgreSQL backend, if it runs on this machine (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(count: int) -> tuple[list[float], list[float], list[float], float | None]:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from channels.models import Message
    from channels.providers.exolve import ExolveSmsProvider
    from channels.services import delivery, delivery_records
    from channels.services.messages import SEND_CHUNK_SIZE
    from customers.models import Customer

    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"window-{n}", phone=f"+7916{n:07d}") for n in range(count)
    )
    messages = Message.objects.bulk_create(
        Message(
            customer=customer,
            channel="sms",
            category="transactional",
            source="api",
            address=customer.phone,
            body="Code 1234",
            queued_at=now,
            updated_at=now,
        )
        for customer in customers
    )
    started, accepted, committed = {}, {}, {}
    send, mark_sent = ExolveSmsProvider.send, delivery.messages_mark_sent

    def timed_send(self, message):
        started[message.pk] = time.perf_counter()
        result = send(self, message)
        accepted[message.pk] = time.perf_counter()
        return result

    def timed_mark_sent(messages, provider, sent_at):
        mark_sent(messages, provider, sent_at)
        at = time.perf_counter()
        committed.update(dict.fromkeys((m.pk for m in messages), at))

    statement_seconds: list[float] = []
    mark_sent_postgresql = delivery_records._mark_sent_postgresql

    def timed_statement(cursor, *args):
        before = time.perf_counter()
        updated = mark_sent_postgresql(cursor, *args)
        statement_seconds.append(time.perf_counter() - before)
        return updated

    ExolveSmsProvider.send, delivery.messages_mark_sent = timed_send, timed_mark_sent
    delivery_records._mark_sent_postgresql = timed_statement
    ids = [m.pk for m in messages]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before = backend_cpu_seconds(backend)
    for start in range(0, len(ids), SEND_CHUNK_SIZE):
        delivery.messages_deliver(ids[start : start + SEND_CHUNK_SIZE])
    cpu_after = backend_cpu_seconds(backend)
    # Includes the claims (one statement per chunk) and the reads; nearly all is the records.
    backend_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    unsent = Message.objects.filter(pk__in=ids).exclude(status="sent").count()
    if unsent:
        raise SystemExit(f"{unsent} messages were not sent")
    windows = [committed[pk] - accepted[pk] for pk in ids]
    sends = [committed[pk] - started[pk] for pk in ids]
    return windows, sends, statement_seconds, backend_cpu


if __name__ == "__main__":
    raise SystemExit(main())
