"""Journeys benchmark: the journey engine at 1M customers on PostgreSQL and Redis, through real
Celery workers, with the tick published every 5 s as beat does.

    python -m benchmarks.journeys               # 1M customers
    python -m benchmarks.journeys --scale 0.01  # 10k, a few minutes

Measures, in one run:
(a) publishing a journey triggered by entering a 1M-member segment, current members included,
    until every member has a run: ≤ 60 s; baseline: an INSERT … SELECT of the same rows into a
    table like the enrollments table;
(b) 1M runs whose waits fell due in the same minute, all advanced and their emails stored as
    `queued` (ids on the `send` queue, which nothing consumes): ≤ 120 s; baseline: a COPY of the
    same message rows;
(c) from a message opened or an event (committed in this process) to the run's next step: p95
    ≤ 1 s;
(d) timer lag, from a run's wake_at to the batch that picked it up: p95 ≤ 10 s;
(e) the peak memory of every process (this one, each worker and its pool processes): ≤ 500 MiB.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path

from benchmarks.broadcast import baseline as copy_baseline
from benchmarks.broadcast import verify as broadcast_verify
from benchmarks.broadcast.workers import profile_summary
from benchmarks.ingest import database
from benchmarks.journeys import advance, data, enrol, latency, workers
from benchmarks.journeys.report import goals, print_report
from benchmarks.options import add_postgres_option
from benchmarks.processes import peak_rss_mib
from benchmarks.report import report_save
from benchmarks.send import cpu

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_bench_journeys"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.journeys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M customers (default)")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (1)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="prefork pool processes per worker (2)"
    )
    parser.add_argument("--tick-seconds", type=float, default=5.0, help="tick period (5)")
    parser.add_argument("--outcomes", type=int, default=200, help="(c) runs, after 10 warm-up")
    parser.add_argument("--timers", type=int, default=600, help="(d) runs, over a minute (600)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="(b) in one solo-pool worker under cProfile, and the queries of one batch of the "
        "engine in this process; prints where the time goes (slower: not a measurement)",
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=120,
        help="(b) gives up when no run leaves `due` for this long (120)",
    )
    add_postgres_option(parser)
    parser.add_argument(
        "--database",
        default=DATABASE,
        help=f"database to create: a name on --postgres, or a full postgres:// URL ({DATABASE})",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_JOURNEYS_REDIS_URL", DEFAULT_REDIS),
        help="Redis database for the Celery broker and results; emptied before and after "
        f"(env BENCH_JOURNEYS_REDIS_URL; {DEFAULT_REDIS})",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep it for inspection")
    args = parser.parse_args()
    if "://" in args.database:
        server, _, name = args.database.rpartition("/")
        args.postgres, args.database = server, name
    return args


def main() -> int:
    args = parse_args()
    customers = max(1000, round(1_000_000 * args.scale))
    started_at = datetime.now(UTC)
    anchor = datetime.combine(started_at.date(), time.min, tzinfo=UTC)
    url = database.database_url(args.postgres, args.database)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": args.redis,
        "CELERY_RESULT_BACKEND": args.redis,
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "KASKAD_VAR_DIR": str(RESULTS_DIR / "journeys-var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    import django
    import redis

    django.setup()
    broker = redis.Redis.from_url(args.redis)
    print(
        f"Journeys benchmark: {customers:,} customers; {args.workers} Celery worker(s) × "
        f"{args.concurrency} (prefork) on the journeys and default queues; tick every "
        f"{args.tick_seconds:g} s; load average {_load()}",
        flush=True,
    )
    report: dict = {
        "started_at": started_at.isoformat(),
        "customers": customers,
        "settings": {
            "workers": args.workers,
            "concurrency": args.concurrency,
            "tick_seconds": args.tick_seconds,
            "profile": args.profile,
        },
    }
    try:
        broker.flushdb()
        database.create(args.postgres, args.database)
        database.manage(env, "migrate", "--no-input")
        objects = generate(url, customers, anchor, report)
        run(args, env, url, objects, report)
        report["postgres"] = database.server_version(url)
    finally:
        from django.db import connections

        connections.close_all()
        broker.flushdb()
        broker.close()
        if not args.keep_database:
            database.drop(args.postgres, args.database)
    report["goals"] = goals(report)
    report["database_kept"] = args.keep_database
    print_report(report)
    path = report_save(report, "journeys", started_at)
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    return 0 if not report["problems"] else 1


def generate(url: str, customers: int, anchor: datetime, report: dict) -> dict:
    from time import perf_counter

    from benchmarks.send.data import delivery_settings_open

    started = perf_counter()
    print("\nCustomers (the segments generator: no orders, no events), opted in to email")
    result: dict = {"customers": data.customers_generate(url, customers, anchor)}
    print("Kaskad's objects", flush=True)
    segment, result["segment"] = data.segment_fill()
    template = data.template_make()
    delivery_settings_open()
    user = data.staff_user()
    journey = data.welcome_journey(segment.pk, template.pk, user)
    result["vacuum_analyze_seconds"] = data.vacuum_analyze(url)
    result["seconds"] = round(perf_counter() - started, 1)
    print(f"  generated in {result['seconds']:.0f} s", flush=True)
    report["generation"] = result
    return {"segment": segment, "template": template, "user": user, "journey": journey}


def run(args: argparse.Namespace, env: dict, url: str, objects: dict, report: dict) -> None:
    segment, user, journey = objects["segment"], objects["user"], objects["journey"]
    problems: list[str] = []
    report["problems"] = problems

    members = report["generation"]["segment"]["members"]
    print(f"\n(a) Publishing a journey on a segment of {members:,}, current members included")
    enrolment = enrol.publish(journey, user)
    print(f"  all enrolled after {enrolment['seconds']:.1f} s ({enrolment['enrolled']:,} runs)")
    enrolment["baseline"] = enrol.baseline(url, segment.pk, journey.pk, enrolment["version_id"])
    print(f"  INSERT … SELECT of the same rows: {enrolment['baseline']['seconds']:.1f} s")
    if enrolment["enrolled"] != members or enrolment["entered_log_rows"] != members:
        problems.append(f"(a) {enrolment['enrolled']:,} runs for {members:,} members")
    report["enrolment"] = enrolment

    print(f"\n(b) {members:,} waits due in the same minute: advance, send, queue", flush=True)
    report["due"] = {"setup": advance.make_due(url, journey.pk)}
    print(f"  set up in {report['due']['setup']['update_seconds']:.0f} s (untimed)", flush=True)
    tick = partial(workers.Ticker, args.tick_seconds)
    profile_path = RESULTS_DIR / "journeys-worker.prof"
    if args.profile:
        report["due"]["one_batch"] = one_batch_queries()
        started_workers = workers.profiled_worker(
            env, log_path=RESULTS_DIR / "journeys-worker-profile.log", profile_path=profile_path
        )
    else:
        started_workers = workers.celery_workers(
            env,
            count=args.workers,
            concurrency=args.concurrency,
            log_prefix=RESULTS_DIR / "journeys-worker",
        )
    with started_workers as pool:
        pids = list(pool.pids().values())
        before, load = cpu.snapshot(sink_pids=[], worker_pids=pids), os.getloadavg()
        result = advance.advance_and_wait(url, journey.pk, tick, stall_seconds=args.stall_seconds)
        result["cpu"] = cpu.usage(before, cpu.snapshot(sink_pids=[], worker_pids=pids))
        result["load_average_before"] = load
        report["due"]["run"] = result
        print(
            f"  all advanced after {result['seconds']:.1f} s ({result['messages']:,} messages, "
            f"{result['messages_per_second']:,.0f}/s)",
            flush=True,
        )
        checks = advance.verify(url, journey.pk, members)
        queue = broadcast_verify.queue_checks(args.redis, checks.pop("queued_ids"))
        report["due"]["verification"] = {"database": checks, "send_queue": queue}
        problems += [f"(b) {p}" for p in checks["problems"] + queue["problems"]]

        print(f"\n(c) Outcome → next step, {args.outcomes} runs (+{latency.WARM_UP})", flush=True)
        outcome_journey = data.outcome_journey(objects["template"].pk, user)
        sample = latency.sample_customers(url, args.outcomes + latency.WARM_UP, 0)
        with tick():
            report["outcomes"] = latency.outcomes_measure(url, outcome_journey, sample)
        print(f"  {report['outcomes']['commit_to_step']}", flush=True)
        if report["outcomes"]["timeouts"]:
            problems.append(f"(c) {report['outcomes']['timeouts']} runs never moved")

        print(f"\n(d) Timer lag, {args.timers} runs due over a minute", flush=True)
        timer_journey = data.timer_journey(user)
        chosen = latency.sample_customers(url, args.timers, args.outcomes + latency.WARM_UP)
        with tick():
            wake = latency.timers_setup(timer_journey, [pk for pk, _ in chosen])
            report["timers"] = latency.timers_measure(url, timer_journey.pk, wake)
        print(f"  {report['timers']['lag']}", flush=True)
        if report["timers"]["not_picked_up"]:
            problems.append(f"(d) {report['timers']['not_picked_up']} runs never picked up")

        report["memory_peak_mib"] = {
            **pool.peak_rss_mib(),
            "benchmark process": round(peak_rss_mib(os.getpid()), 1),
        }
    if args.profile:
        report["due"]["profile"] = profile_summary(profile_path)

    print(f"\nCOPY of the same {checks['messages']:,} message rows", flush=True)
    report["due"]["copy"] = copy_baseline.copy_messages(
        url, f"journey:{journey.pk}:", RESULTS_DIR / "journeys-copy.bin"
    )
    print(f"  {report['due']['copy']['seconds']:.1f} s", flush=True)


def one_batch_queries() -> dict:
    """One batch of 500 due runs advanced in this process, its SQL captured: what a batch asks
    of the database (the rows stay advanced; the workers do the rest)."""
    from collections import Counter
    from time import perf_counter

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.journeys.services.engine import enrollments_advance
    from campaigns.journeys.services.tick import BATCH_SIZE, _claim

    moment = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        started = perf_counter()
        with transaction.atomic():
            rows = _claim(moment, BATCH_SIZE)
            enrollments_advance(rows, now=moment)
        seconds = perf_counter() - started
    kinds: Counter = Counter()
    times: Counter = Counter()
    for query in captured.captured_queries:
        key = " ".join(query["sql"].split())[:90]
        kinds[key] += 1
        times[key] += float(query["time"])
    top = [
        {"sql": key, "count": kinds[key], "seconds": round(times[key], 3)}
        for key, _ in times.most_common(15)
    ]
    print(
        f"  one batch of {len(rows)} in this process: {seconds:.2f} s, "
        f"{len(captured.captured_queries)} queries; slowest statements:"
    )
    for row in top[:10]:
        print(f"    {row['seconds']:7.3f} s {row['count']:>5}×  {row['sql']}")
    return {
        "runs": len(rows),
        "seconds": round(seconds, 3),
        "queries": len(captured.captured_queries),
        "statements": top,
    }


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
