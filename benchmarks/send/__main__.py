"""Send benchmark: a campaign's marketing SMS and email from `queued` to `sent`, next to the ceiling
of the gateway they go to.

    python -m benchmarks.send               # 100k SMS and 100k emails
    python -m benchmarks.send --scale 0.05  # 5k of each, for a quick run
    python -m benchmarks.send --only sms

Two loopback gateways run in processes of their own: an HTTP server speaking the MTS Exolve SMS
contract that answers each request after 20 ms, and an aiosmtpd SMTP server. For each channel, in
one run: the sink's ceiling (the same client stack Kaskad uses, with the same number of processes
and threads, sending straight to it), then Kaskad itself (queued messages made as a campaign makes
them, delivered by real Celery workers on the `send` queue over Redis, on PostgreSQL). Afterwards
every message must be `sent` exactly once. Goal: ≥ 1,000 messages/s and ≥ 50 % of the ceiling.
"""

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks.ingest import database
from benchmarks.options import add_postgres_option, add_redis_option
from benchmarks.report import goal, goals_print, report_save
from benchmarks.send import ceiling, cpu, data, delivery
from benchmarks.send.sinks import ExolveSink, SmtpSink

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_bench_send"
CHANNELS = ("sms", "email")
GOAL_MESSAGES_PER_SECOND = 1000
GOAL_SHARE_OF_CEILING = 0.5
EXOLVE_API_KEY = "bench-exolve-key"
EXOLVE_SENDER = "79990000000"
FROM_EMAIL = "Каскад <news@kaskad.example>"
KASKAD_SMTP_BACKEND = "channels.providers.smtp.EmailBackend"
DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# High enough never to hold a message back, so the shared Redis counter is exercised but the
# limit is not what is measured.
RATE_LIMIT_PER_SECOND = 1_000_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.send",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k of each (default)")
    parser.add_argument("--only", choices=CHANNELS, help="one channel only")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (2)")
    parser.add_argument(
        "--pool",
        default="threads",
        choices=("threads", "prefork", "solo"),
        help="Celery pool (threads: the 20 ms wait is I/O, so threads overlap it cheaply)",
    )
    # The providers' pooled HTTP session keeps 20 connections (channels/providers/http.py); more
    # threads per worker than that would open and drop extra connections.
    parser.add_argument("--concurrency", type=int, default=20, help="pool size per worker (20)")
    parser.add_argument(
        "--email-backend",
        default=KASKAD_SMTP_BACKEND,
        help=f"EMAIL_BACKEND for Kaskad and the ceiling alike ({KASKAD_SMTP_BACKEND}; "
        f"{DJANGO_SMTP_BACKEND} to compare with Django's stock one)",
    )
    parser.add_argument("--latency", type=float, default=0.02, help="Exolve sink latency (0.02 s)")
    parser.add_argument(
        "--ceiling-messages",
        type=int,
        default=20_000,
        help="messages sent straight to each sink for its ceiling (20,000, or fewer at scale)",
    )
    parser.add_argument(
        "--sample", type=int, default=100, help="messages made through message_send (100)"
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=120,
        help="give up when no message changes status for this long (120)",
    )
    add_postgres_option(parser)
    add_redis_option(parser)
    parser.add_argument(
        "--cache",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
        help="Redis database for the cache (shared rate-limit counters); emptied",
    )
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database for inspection"
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    total = max(1000, round(100_000 * args.scale))
    channels = (args.only,) if args.only else CHANNELS
    started_at = datetime.now(UTC)
    url = database.database_url(args.postgres, args.database)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    exolve = ExolveSink(api_key=EXOLVE_API_KEY, sender=EXOLVE_SENDER, latency=args.latency)
    smtp = SmtpSink()
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": args.redis,
        "CELERY_RESULT_BACKEND": args.redis,
        "CACHE_URL": args.cache,
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MESSAGING_SANDBOX": "0",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": exolve.url,
        "EXOLVE_API_KEY": EXOLVE_API_KEY,
        "EXOLVE_SENDER": EXOLVE_SENDER,
        "TWILIO_ACCOUNT_SID": "",  # no failover gateway: every SMS must go through Exolve
        "EMAIL_URL": smtp.url,
        "EMAIL_BACKEND": args.email_backend,
        "DEFAULT_FROM_EMAIL": FROM_EMAIL,
        "PROVIDER_RATE_LIMITS": orjson.dumps(
            {"exolve": RATE_LIMIT_PER_SECOND, "email": RATE_LIMIT_PER_SECOND}
        ).decode(),
    }
    # This process calls Kaskad's services itself, on the benchmark database and broker.
    os.environ.update(env)
    import django

    django.setup()
    import redis

    brokers = [redis.Redis.from_url(args.redis), redis.Redis.from_url(args.cache)]

    print(
        f"Send benchmark: {total:,} marketing {' and '.join(channels)} messages each; "
        f"{args.workers} Celery workers × {args.concurrency} ({args.pool} pool) on the send queue; "
        f"Exolve sink latency {args.latency * 1000:.0f} ms; rate limits "
        f"{RATE_LIMIT_PER_SECOND:,}/s per provider (counted in Redis, never throttling); "
        f"load average {_load()}"
    )
    report: dict = {
        "started_at": started_at.isoformat(),
        "messages_per_channel": total,
        "settings": {
            "workers": args.workers,
            "pool": args.pool,
            "concurrency": args.concurrency,
            "email_backend": args.email_backend,
            "exolve_latency_seconds": args.latency,
            "rate_limit_per_second": RATE_LIMIT_PER_SECOND,
            "sample_through_message_send": args.sample,
        },
        "channels": {},
    }
    try:
        for broker in brokers:
            broker.flushdb()
        database.create(args.postgres, args.database)
        database.manage(env, "migrate", "--no-input")
        print("\nCustomers (each with an SMS and an email address, opted in on both)")
        with exolve, smtp:
            report["customers"] = data.customers_create(url, total, started_at)
            data.delivery_settings_open()
            for channel in channels:
                sink = exolve if channel == "sms" else smtp
                report["channels"][channel] = run_channel(channel, sink, args, env, url, total)
                for broker in brokers:
                    broker.flushdb()
        report["postgres"] = database.server_version(url)
    finally:
        from django.db import connections

        connections.close_all()
        for broker in brokers:
            broker.flushdb()
            broker.close()
        if not args.keep_database:
            database.drop(args.postgres, args.database)

    report["bench_memory_peak_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    report["goals"] = goals(report)
    report["database_kept"] = args.keep_database
    print_report(report)
    path = report_save(report, "send", started_at)
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    ok = all(result["verification"]["ok"] for result in report["channels"].values())
    return 0 if ok else 1


def run_channel(channel: str, sink, args, env: dict[str, str], url: str, total: int) -> dict:
    result: dict = {}
    count = min(total, args.ceiling_messages)
    print(f"\n{channel.upper()}: the sink's ceiling, {count:,} messages straight from the client")
    sink.reset()
    before, load = cpu.snapshot(sink_pids=[sink.pid]), os.getloadavg()
    result["ceiling"] = ceiling.measure(
        "http" if channel == "sms" else "smtp",
        _ceiling_job(channel, sink, args),
        _addresses(channel, count),
        processes=args.workers,
        threads=args.concurrency,
    )
    result["ceiling"]["cpu"] = cpu.usage(before, cpu.snapshot(sink_pids=[sink.pid]))
    result["ceiling"]["load_average_before"] = load
    result["ceiling"]["sink"] = sink.stats()
    print(
        f"  {result['ceiling']['messages_per_second']:8,.0f} messages/s "
        f"({result['ceiling']['seconds']:.1f} s, {result['ceiling']['errors']} errors; "
        f"sink accepted {result['ceiling']['sink']['accepted']:,})",
        flush=True,
    )

    print(f"{channel.upper()}: Kaskad, {total:,} queued marketing messages")
    sink.reset()
    started = time.perf_counter()
    sample = data.sample_send(channel, min(args.sample, total))
    copied = data.messages_copy(url, channel, sample[0])
    ids = data.queued_ids(url, channel)
    result["creation"] = {
        "through_message_send": len(sample),
        "copied_in_sql": copied,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"  {len(sample)} made by message_send, {copied:,} copied in SQL "
        f"({result['creation']['seconds']:.1f} s)",
        flush=True,
    )
    if len(ids) != total:
        raise RuntimeError(f"{len(ids):,} queued {channel} messages, expected {total:,}")
    # message_send enqueued the sample on commit, before any worker ran; the whole campaign is
    # enqueued at once when the clock starts instead.
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    with delivery.celery_workers(
        env,
        count=args.workers,
        pool=args.pool,
        concurrency=args.concurrency,
        log_prefix=RESULTS_DIR / f"send-{channel}-worker",
    ) as workers:
        pids = list(workers.pids().values())
        snapshot = {"sink_pids": [sink.pid], "worker_pids": pids}
        before, load = cpu.snapshot(**snapshot), os.getloadavg()
        result["kaskad"] = delivery.deliver(url, channel, ids, stall_seconds=args.stall_seconds)
        result["kaskad"]["cpu"] = cpu.usage(before, cpu.snapshot(**snapshot))
        result["kaskad"]["load_average_before"] = load
        result["kaskad"]["load_average_after"] = os.getloadavg()
        result["worker_memory_peak_mib"] = workers.peak_rss_mib()
    result["verification"] = delivery.verify(url, channel, total, sink.stats())
    k = result["kaskad"]
    result["share_of_ceiling"] = round(
        k["messages_per_second"] / result["ceiling"]["messages_per_second"], 3
    )
    print(
        f"  {k['messages_per_second']:8,.0f} messages/s ({k['seconds']:.1f} s), "
        f"{result['share_of_ceiling']:.0%} of the ceiling; queued→sent "
        f"p50 {k['queued_to_sent_seconds']['p50']} s, p95 {k['queued_to_sent_seconds']['p95']} s; "
        f"{'verified' if result['verification']['ok'] else 'VERIFICATION FAILED'}",
        flush=True,
    )
    return result


def _addresses(channel: str, count: int) -> list[str]:
    # The same addresses the campaign sends to (customers 1…count), written as each client
    # writes them: Exolve numbers without the "+".
    if channel == "sms":
        return [f"7900{n:07d}" for n in range(1, count + 1)]
    return [f"customer{n}@example.com" for n in range(1, count + 1)]


def _ceiling_job(channel: str, sink, args):
    if channel == "sms":
        return ceiling.HttpJob(
            url=sink.url + "/messaging/v1/SendSMS",
            api_key=EXOLVE_API_KEY,
            sender=EXOLVE_SENDER,
            text=data.SMS_TEXT,
        )
    from channels.services.messages import SEND_CHUNK_SIZE

    return ceiling.SmtpJob(
        backend=args.email_backend,
        host="127.0.0.1",
        port=sink.port,
        from_email=FROM_EMAIL,
        subject=data.EMAIL_SUBJECT,
        text=data.EMAIL_TEXT,
        html=data.EMAIL_HTML,
        batch=SEND_CHUNK_SIZE,
    )


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def goals(report: dict) -> list[dict]:
    rows = []
    for channel, result in report["channels"].items():
        k, c = result["kaskad"], result["ceiling"]
        rows.append(
            goal(
                f"{channel}: Kaskad queued→sent",
                k["messages_per_second"],
                "msg/s",
                f"≥ {GOAL_MESSAGES_PER_SECOND:,}",
                k["messages_per_second"] >= GOAL_MESSAGES_PER_SECOND,
            )
        )
        rows.append(
            goal(f"{channel}: sink ceiling, same client", c["messages_per_second"], "msg/s")
        )
        rows.append(
            goal(
                f"{channel}: Kaskad / ceiling",
                result["share_of_ceiling"] * 100,
                "%",
                f"≥ {GOAL_SHARE_OF_CEILING:.0%}",
                result["share_of_ceiling"] >= GOAL_SHARE_OF_CEILING,
            )
        )
        latency = k["queued_to_sent_seconds"]
        rows.append(goal(f"{channel}: queued→sent p50", latency["p50"] or 0, "s"))
        rows.append(goal(f"{channel}: queued→sent p95", latency["p95"] or 0, "s"))
        rows.append(
            goal(
                f"{channel}: peak RSS per worker (max)",
                max(result["worker_memory_peak_mib"].values()),
                "MiB",
            )
        )
    return rows


def print_report(report: dict) -> None:
    goals_print(report["goals"], what_width=44, value_format=",.1f")
    print()
    for channel, result in report["channels"].items():
        memory = ", ".join(f"{k} {v:.0f}" for k, v in result["worker_memory_peak_mib"].items())
        print(f"{channel}: peak RSS (MiB) {memory}")
        for phase in ("ceiling", "kaskad"):
            usage = result[phase]["cpu"]
            print(
                f"{channel} {phase} CPU s: workers {usage['workers_cpu_seconds']:.1f}, "
                f"sink {usage['sink_cpu_seconds']:.1f}, "
                f"PostgreSQL (whole server) {usage['postgres_cpu_seconds']:.1f}, "
                f"Redis {usage['redis_cpu_seconds']:.1f}, "
                f"benchmark/client {usage['client_cpu_seconds']:.1f}, "
                f"other processes {usage['other_processes_cpu_seconds']:.1f} "
                f"({usage['other_processes_share']:.0%} of the machine); "
                f"load before {result[phase]['load_average_before'][0]:.2f}"
            )
        k = result["kaskad"]
        per_message = {
            key: k["cpu"][f"{key}_cpu_seconds"] * 1000 / max(1, k["sent"])
            for key in ("workers", "postgres", "redis", "sink")
        }
        print(
            f"{channel} kaskad CPU per message sent: "
            + ", ".join(f"{key} {value:.2f} ms" for key, value in per_message.items())
        )
        verification = result["verification"]
        if verification["ok"]:
            print(
                f"{channel}: verified: {report['messages_per_channel']:,} sent exactly once "
                f"(sink: {verification['sink']['accepted']:,} accepted, "
                f"{verification['sink']['distinct_recipients']:,} distinct recipients; "
                f"distinct provider ids; {verification['retried_messages']} retried)"
            )
        else:
            print(f"{channel}: VERIFICATION FAILED: {verification['problems']}", file=sys.stderr)
    print(
        f"Benchmark process peak RSS {report['bench_memory_peak_mib']:.0f} MiB; "
        f"load average at the end {_load()}"
    )


if __name__ == "__main__":
    sys.exit(main())
