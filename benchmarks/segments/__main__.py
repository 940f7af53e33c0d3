"""Segments benchmark: RFM, full segment refreshes and event-to-membership latency at scale.

    python -m benchmarks.segments               # 1M customers, 5M orders, 10M events
    python -m benchmarks.segments --scale 0.01  # a hundredth of that, for a quick run
    python -m benchmarks.segments --keep-database --reuse-database  # iterate on kept data

Generates the data inside a fresh PostgreSQL database with SQL, then in one run:
- scores RFM with Kaskad's `rfm_compute`, with one hand-written SQL statement and with pandas
  over the same orders, and checks all three give every customer the same scores;
- creates five representative dynamic segments and times a full refresh of each;
- starts a real Celery worker on Redis and sends single events one after another, timing each
  until the customer's segment membership appears.
Goals: RFM ≤ 60 s and ≤ 1.5× the hand-written SQL; each segment refresh ≤ 10 s; event to
membership ≤ 5 s at the 95th percentile.
"""

import argparse
import os
import resource
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from time import perf_counter

from benchmarks.ingest import database
from benchmarks.options import add_postgres_option, add_redis_option
from benchmarks.report import goal, goals_print, report_save
from benchmarks.segments import generate, latency, rfm, segments

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_bench_segments"
GOAL_RFM_SECONDS = 60
GOAL_RFM_SHARE_OF_SQL = 1.5
GOAL_REFRESH_SECONDS = 10
GOAL_LATENCY_P95_SECONDS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.segments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M/5M/10M (default)")
    parser.add_argument("--events", type=int, default=1000, help="latency events (1,000)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery pool size (2)")
    add_postgres_option(parser)
    add_redis_option(parser)
    parser.add_argument(
        "--refresh-timeout",
        type=float,
        default=300,
        help="seconds after which a segment refresh is cancelled and reported as timed out (300)",
    )
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database for inspection"
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="if the database exists (kept by an earlier run of the same scale), skip generating "
        "and only remove what a run adds (scores, segments, Kaskad's events); keeps the database "
        "afterwards. For iterating: reported numbers should come from a fresh database",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    sizes = generate.Sizes.scaled(args.scale)
    started_at = datetime.now(UTC)
    anchor = datetime.combine(started_at.date(), time.min, tzinfo=UTC)
    url = database.database_url(args.postgres, args.database)
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": args.redis,
        "CELERY_RESULT_BACKEND": args.redis,
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    # This process calls Kaskad's services itself, on the benchmark database and broker.
    os.environ.update(env)
    import django

    django.setup()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    print(
        f"Segments benchmark: {sizes.customers:,} customers, {sizes.orders:,} orders, "
        f"{sizes.events:,} events; {args.events:,} latency events; "
        f"worker concurrency {args.worker_concurrency}"
    )
    report: dict = {"started_at": started_at.isoformat(), "sizes": vars(sizes)}
    try:
        reuse = args.reuse_database and generate.database_exists(args.postgres, args.database)
        if not reuse:
            database.create(args.postgres, args.database)
        database.manage(env, "migrate", "--no-input")
        started = perf_counter()
        if reuse:
            print(f"\nReusing the data in {args.database}")
            report["generation"] = generate.reset(url)
        else:
            print("\nGenerating data in PostgreSQL")
            report["generation"] = generate.generate(url, sizes, anchor)
        report["generation_seconds"] = round(perf_counter() - started, 1)
        report["database_reused"] = reuse

        report["rfm"] = run_rfm(url, anchor.date())

        print("\nSegments: full refresh")
        report["segments"] = segments.create_and_refresh(args.refresh_timeout)

        print(f"\nEvent to membership: {args.events:,} single add_to_cart events, one at a time")
        report["latency"], report["worker_memory_peak_mib"] = run_latency(args, env, report)
        report["postgres"] = database.server_version(url)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep_database or args.reuse_database):
            database.drop(args.postgres, args.database)

    report["bench_memory_peak_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    report["goals"] = goals(report)
    report["database_kept"] = args.keep_database or args.reuse_database
    print_report(report)
    path = report_save(report, "segments", started_at)
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    ok = report["rfm"]["verification"]["ok"] and not report["latency"]["timeouts"]
    return 0 if ok else 1


def run_rfm(url: str, as_of) -> dict:
    from customers.services.rfm import RFM_WORK_MEM

    print(f"\nRFM as of {as_of} (work_mem {RFM_WORK_MEM} for rfm_compute and the hand-written SQL)")
    rfm.create_scratch_tables(url)
    # The hand-written statement runs first and twice, so every contender reads warm caches.
    results = {"sql_cold": rfm.hand_sql(url, as_of)}
    print(f"  hand-written SQL (cold)   {results['sql_cold']['seconds']:7.1f} s", flush=True)
    results["sql"] = rfm.hand_sql(url, as_of)
    print(f"  hand-written SQL          {results['sql']['seconds']:7.1f} s", flush=True)
    results["kaskad_first"] = rfm.kaskad(as_of)
    print(
        f"  rfm_compute, first run    {results['kaskad_first']['seconds']:7.1f} s "
        f"({results['kaskad_first']['events']:,} events: nobody had a score yet)",
        flush=True,
    )
    results["kaskad_again"] = rfm.kaskad(as_of)
    print(
        f"  rfm_compute, again        {results['kaskad_again']['seconds']:7.1f} s "
        f"({results['kaskad_again']['changed']:,} changes, "
        f"{results['kaskad_again']['events']:,} events)",
        flush=True,
    )
    results["bench_memory_before_pandas_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    results["pandas"] = rfm.pandas_rfm(url, as_of)
    print(
        f"  pandas                    {results['pandas']['seconds']:7.1f} s "
        f"(COPY of {results['pandas']['rows_read']:,} orders: "
        f"{results['pandas']['read_seconds']:.1f} s)",
        flush=True,
    )
    results["verification"] = rfm.compare(url)
    rfm.drop_scratch_tables(url)
    verdict = "same scores" if results["verification"]["ok"] else "SCORES DIFFER"
    print(f"  {results['kaskad_first']['scored']:,} customers scored; {verdict}")
    return results


def run_latency(args: argparse.Namespace, env: dict[str, str], report: dict):
    import redis

    # segment_create queued full refreshes; drop them so the worker only runs what is measured.
    broker = redis.Redis.from_url(args.redis)
    broker.flushdb()
    segment_id = next(
        s["segment_id"] for s in report["segments"] if s["segment"] == segments.CART_ABANDONERS
    )
    try:
        with latency.celery_worker(
            env,
            concurrency=args.worker_concurrency,
            log_path=RESULTS_DIR / "segments-worker.log",
        ) as worker:
            result = latency.measure(env["DATABASE_URL"], segment_id, args.events)
            memory = worker.peak_rss_mib()
    finally:
        broker.flushdb()
        broker.close()
    timing = result["commit_to_membership"]
    print(
        f"  commit to membership p50 {timing.get('p50_ms', 0):.0f} ms, "
        f"p95 {timing.get('p95_ms', 0):.0f} ms, max {timing.get('max_ms', 0):.0f} ms; "
        f"{result['timeouts']} timeouts",
        flush=True,
    )
    return result, memory


def goals(report: dict) -> list[dict]:
    r = report["rfm"]
    rows = []
    for run in ("kaskad_first", "kaskad_again"):
        seconds = r[run]["seconds"]
        label = "first run" if run == "kaskad_first" else "run again"
        rows.append(
            goal(
                f"rfm_compute ({label})",
                seconds,
                "s",
                f"≤ {GOAL_RFM_SECONDS} s",
                seconds <= GOAL_RFM_SECONDS,
            )
        )
        share = seconds / r["sql"]["seconds"]
        rows.append(
            goal(
                f"rfm_compute ({label}) / hand SQL",
                share,
                "×",
                f"≤ {GOAL_RFM_SHARE_OF_SQL}×",
                share <= GOAL_RFM_SHARE_OF_SQL,
            )
        )
    rows.append(goal("hand-written SQL", r["sql"]["seconds"], "s", "", None))
    rows.append(goal("pandas (incl. COPY read)", r["pandas"]["seconds"], "s", "", None))
    for s in report["segments"]:
        for key, label in (("first_refresh_seconds", "fill"), ("second_refresh_seconds", "again")):
            rows.append(
                goal(
                    f"refresh {s['segment']} ({label})"
                    + (" TIMED OUT" if s[key.replace("seconds", "timed_out")] else ""),
                    s[key],
                    "s",
                    f"≤ {GOAL_REFRESH_SECONDS} s",
                    s[key] <= GOAL_REFRESH_SECONDS,
                )
            )
    timing = report["latency"]["commit_to_membership"]
    rows.append(goal("event→membership p50", timing["p50_ms"] / 1000, "s", "", None))
    p95 = timing["p95_ms"] / 1000
    rows.append(
        goal(
            "event→membership p95",
            p95,
            "s",
            f"≤ {GOAL_LATENCY_P95_SECONDS} s",
            p95 <= GOAL_LATENCY_P95_SECONDS and not report["latency"]["timeouts"],
        )
    )
    rows.append(goal("event→membership max", timing["max_ms"] / 1000, "s", "", None))
    return rows


def print_report(report: dict) -> None:
    goals_print(report["goals"], what_width=62, value_format=".2f")
    workers = ", ".join(f"{k} {v:.0f}" for k, v in report["worker_memory_peak_mib"].items())
    print(
        f"\nPeak RSS (MiB): benchmark process {report['bench_memory_peak_mib']:.0f} "
        f"(before pandas {report['rfm']['bench_memory_before_pandas_mib']:.0f}); "
        f"Celery worker {workers}"
    )
    verification = report["rfm"]["verification"]
    if verification["ok"]:
        print(
            "Verified: rfm_compute, the hand-written SQL and pandas give every customer the same "
            "recency, frequency, monetary, scores and segment."
        )
    else:
        print(
            f"RFM VERIFICATION FAILED: {verification['rows_differing_from_kaskad']}",
            file=sys.stderr,
        )
    lat = report["latency"]
    print(
        f"Latency: {lat['measured']:,} events measured one at a time, {lat['timeouts']} timeouts."
    )


if __name__ == "__main__":
    sys.exit(main())
