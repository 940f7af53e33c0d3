"""Broadcast benchmark: a personalised email to a 1M-member segment, from launch to every message
stored and queued, next to a COPY of the same rows.

    python -m benchmarks.broadcast               # 1M customers
    python -m benchmarks.broadcast --scale 0.01  # 10k, about a minute

Generates the customers inside a fresh PostgreSQL database (the segments benchmark's generator)
with RFM scores, points and three recommendations each, a segment of all of them, a promo pool
with a code for each and the email template. Then, in one run: launches a broadcast through a
real Celery worker on Redis and times it until no recipient is pending (every message row stored
as `queued`, its id on the `send` queue, its promo code reserved); checks one message and one
distinct code per customer; measures the render rate on one core; COPYs the same rows into a
table like the messages table; times the broadcast's results page.
Goals: launch to all queued ≤ 120 s and ≤ 4× the COPY; rendering ≥ 10,000 messages/s per core;
peak memory of each process ≤ 500 MB; the results page ≤ 300 ms.
"""

import argparse
import os
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from time import perf_counter

from benchmarks.broadcast import baseline, data, launch, results_page, verify, workers
from benchmarks.broadcast.content import BENCH_ATTRIBUTES, BENCH_EMAIL_VARIANTS
from benchmarks.broadcast.render_rate import measure_render_rate
from benchmarks.ingest import database
from benchmarks.options import add_postgres_option
from benchmarks.processes import peak_rss_mib
from benchmarks.report import goal, report_save
from benchmarks.send import cpu

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_bench_broadcast"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
GOAL_SECONDS = 120
GOAL_SHARE_OF_COPY = 4
GOAL_RENDER_PER_CORE = 10_000
GOAL_PEAK_MIB = 500
GOAL_PAGE_MS = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.broadcast",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M customers (default)")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (1)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="prefork pool processes per worker (2)"
    )
    parser.add_argument(
        "--render-customers",
        type=int,
        default=20_000,
        help="customers rendered for the per-core render rate (20,000, or all at small scales)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the chunks in one solo-pool worker under cProfile and print where their time "
        "goes (slower: not a measurement; the goals table is still printed)",
    )
    parser.add_argument("--page-requests", type=int, default=20, help="results page requests (20)")
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=120,
        help="give up when no recipient leaves `pending` for this long (120)",
    )
    add_postgres_option(parser)
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_BROADCAST_REDIS_URL", DEFAULT_REDIS),
        help="Redis database for the Celery broker and results; emptied before and after "
        f"(env BENCH_BROADCAST_REDIS_URL; {DEFAULT_REDIS})",
    )
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database for inspection"
    )
    return parser.parse_args()


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
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        # Production's static files storage (a manifest), collected into a folder of its own.
        "KASKAD_VAR_DIR": str(RESULTS_DIR / "broadcast-var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    # This process calls Kaskad's services itself, on the benchmark database and broker.
    os.environ.update(env)
    import django
    import redis

    django.setup()
    broker = redis.Redis.from_url(args.redis)
    print(
        f"Broadcast benchmark: {customers:,} customers; {args.workers} Celery worker(s) × "
        f"{args.concurrency} (prefork) on the broadcast and default queues; load average {_load()}"
    )
    report: dict = {
        "started_at": started_at.isoformat(),
        "customers": customers,
        "settings": {"workers": args.workers, "concurrency": args.concurrency},
    }
    try:
        broker.flushdb()
        database.create(args.postgres, args.database)
        database.manage(env, "migrate", "--no-input")
        database.manage(env, "collectstatic", "--no-input", "-v", "0")
        report["generation"] = generate(url, customers, anchor)
        broker.flushdb()  # segment_create queued a refresh that was done here already
        run(args, env, url, report)
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
    path = report_save(report, "broadcast", started_at)
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    return 0 if not report["verification"]["problems"] else 1


def generate(url: str, customers: int, anchor: datetime) -> dict:
    from benchmarks.send.data import delivery_settings_open

    started = perf_counter()
    print("\nCustomers (the segments generator: no orders, no events)")
    result: dict = {"customers": data.customers_generate(url, customers, anchor)}
    print("Their context: email consent, RFM, points, recommendations")
    result["context"] = data.context_generate(url, anchor)
    print("Kaskad's objects")
    result["segment"] = data.segment_fill()[1]
    result["promo"] = data.promo_pool_fill(result["segment"]["members"], anchor)[1]
    data.template_make(BENCH_EMAIL_VARIANTS, BENCH_ATTRIBUTES)
    delivery_settings_open()
    result["vacuum_analyze_seconds"] = data.vacuum_analyze(url)
    result["delivery_settings"] = "no frequency cap, no quiet hours (the policy runs and passes)"
    result["seconds"] = round(perf_counter() - started, 1)
    print(f"  generated in {result['seconds']:.0f} s", flush=True)
    return result


def run(args: argparse.Namespace, env: dict[str, str], url: str, report: dict) -> None:
    from campaigns.broadcasts.services.setup import broadcast_create
    from campaigns.message_templates.context import context_options
    from campaigns.message_templates.models import Template
    from campaigns.promo.models import PromoPool
    from customers.models import Customer, Segment

    user = data.staff_user()
    segment = Segment.objects.get(name=data.SEGMENT_NAME)
    pool = PromoPool.objects.get(name=data.POOL_NAME)
    template = Template.objects.get(name=data.TEMPLATE_NAME)
    audience = segment.member_count
    print(f"\nLaunch: {audience:,} recipients, {args.workers} worker(s)", flush=True)
    profile_path = RESULTS_DIR / "broadcast-worker.prof"
    if args.profile:
        started_workers = workers.profiled_worker(
            env, log_path=RESULTS_DIR / "broadcast-worker-profile.log", profile_path=profile_path
        )
    else:
        started_workers = workers.celery_workers(
            env,
            count=args.workers,
            concurrency=args.concurrency,
            log_prefix=RESULTS_DIR / "broadcast-worker",
        )
    broadcast = broadcast_create(
        name="Broadcast benchmark",
        template=template,
        segment=segment,
        channel="email",
        promo_pool=pool,
        actor=user,
    )
    with started_workers as pool_workers:
        pids = list(pool_workers.pids().values())
        reset = workers.own_peak_reset()
        before, load = cpu.snapshot(sink_pids=[], worker_pids=pids), os.getloadavg()
        result = launch.launch_and_wait(
            broadcast, url, actor=user, stall_seconds=args.stall_seconds
        )
        result["cpu"] = cpu.usage(before, cpu.snapshot(sink_pids=[], worker_pids=pids))
        result["load_average_before"] = load
        result["memory_peak_mib"] = {
            **pool_workers.peak_rss_mib(),
            "launcher (this process)" if reset else "benchmark process (whole run)": round(
                peak_rss_mib(os.getpid()), 1
            ),
        }
    report["launch"] = result
    if args.profile:
        result["profile"] = workers.profile_summary(profile_path)
        print(f"  worker profile ({profile_path.name}), by own time:")
        for row in result["profile"][:25]:
            print(
                f"    {row['own_seconds']:8.2f} s own {row['cumulative_seconds']:8.2f} s cum "
                f"{row['calls']:>9,}  {row['function']}"
            )
    print(
        f"  all queued after {result['seconds']:.1f} s ({result['messages']:,} messages, "
        f"{result['messages'] / max(result['seconds'], 0.001):,.0f}/s)",
        flush=True,
    )

    print("Verifying", flush=True)
    checks = verify.database_checks(url, broadcast.pk, pool.pk, audience)
    queue = verify.queue_checks(args.redis, checks.pop("queued_ids"))
    stalled = []
    if result.get("stalled") or result.get("recipients_pending_at_end"):
        stalled.append(f"{result.get('recipients_pending_at_end'):,} recipients still pending")
    report["verification"] = {
        "problems": stalled + checks["problems"] + queue["problems"],
        "database": checks,
        "send_queue": queue,
    }
    for problem in report["verification"]["problems"]:
        print(f"  PROBLEM: {problem}", flush=True)

    sample = min(audience, args.render_customers)
    print(f"Render rate: {sample:,} customers on one core", flush=True)
    customers = list(Customer.objects.order_by("pk")[:sample])
    version = template.current_version
    # As the broadcast reads them: the codes it reserved, and only what the template uses.
    options = {"promo_pool_id": pool.pk, **context_options(version)}
    report["render"] = measure_render_rate(version, customers, options=options)
    del customers
    contexts, render = report["render"]["contexts"], report["render"]["render"]
    report["render"]["combined_per_second_cpu"] = round(
        1 / (1 / contexts["per_second_cpu"] + 1 / render["per_second_cpu"])
    )
    print(
        f"  contexts {contexts['per_second_cpu']:,}/s, render {render['per_second_cpu']:,}/s, "
        f"both {report['render']['combined_per_second_cpu']:,}/s (per CPU second)",
        flush=True,
    )

    print(f"COPY of the same {checks['messages']:,} rows, rendered", flush=True)
    report["copy"] = baseline.copy_messages(
        url, f"broadcast:{broadcast.pk}:", RESULTS_DIR / "broadcast-copy.bin"
    )
    print(
        f"  {report['copy']['seconds']:.1f} s ({report['copy']['rows_per_second']:,} rows/s, "
        f"{report['copy']['dump_mib']:,.0f} MiB)",
        flush=True,
    )

    print("Results page", flush=True)
    report["results_page"] = results_page.measure(broadcast, user, args.page_requests)
    print(f"  {report['results_page']}", flush=True)


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def goals(report: dict) -> list[dict]:
    launch_result, copy = report["launch"], report["copy"]
    seconds = launch_result["seconds"]
    share = seconds / copy["seconds"] if copy["seconds"] else 0.0
    render = report["render"]["combined_per_second_cpu"]
    render_only = report["render"]["render"]["per_second_cpu"]
    rows = [
        goal("launch → all queued", seconds, "s", f"≤ {GOAL_SECONDS} s", seconds <= GOAL_SECONDS),
        goal("COPY of the same rows", copy["seconds"], "s"),
        goal(
            "launch / COPY",
            share,
            "×",
            f"≤ {GOAL_SHARE_OF_COPY}×",
            share <= GOAL_SHARE_OF_COPY,
        ),
        goal(
            "render rate per core (contexts + render)",
            render,
            "msg/s",
            f"≥ {GOAL_RENDER_PER_CORE:,}",
            render >= GOAL_RENDER_PER_CORE,
        ),
        goal(
            "render rate per core (context ready)",
            render_only,
            "msg/s",
            f"≥ {GOAL_RENDER_PER_CORE:,}",
            render_only >= GOAL_RENDER_PER_CORE,
        ),
    ]
    rows[0]["baseline"] = f"COPY {copy['seconds']:.1f} s"
    rows[2]["baseline"] = f"COPY {copy['seconds']:.1f} s"
    for name, mib in launch_result["memory_peak_mib"].items():
        rows.append(
            goal(f"peak RSS {name}", mib, "MiB", f"≤ {GOAL_PEAK_MIB}", mib <= GOAL_PEAK_MIB)
        )
    page = report["results_page"]
    rows.append(
        goal(
            "results page p95",
            page["p95_ms"],
            "ms",
            f"≤ {GOAL_PAGE_MS} ms",
            page["p95_ms"] <= GOAL_PAGE_MS,
        )
    )
    rows.append(goal("broadcast_stats_refresh", page["stats_refresh_seconds"], "s"))
    generation = report["generation"]
    rows.append(goal("promo_codes_generate", generation["promo"]["seconds"], "s"))
    rows.append(goal("segment_refresh (fill)", generation["segment"]["refresh_seconds"], "s"))
    rows.append(goal("data generation, all", generation["seconds"], "s"))
    return rows


def print_report(report: dict) -> None:
    header = f"{'measure':<44} {'value':>16} {'goal':>10} {'baseline':>14} {'met':>4}"
    print("\n" + header)
    print("-" * len(header))
    for row in report["goals"]:
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        value = f"{row['value']:,.1f} {row['unit']}"
        print(
            f"{row['what']:<44} {value:>16} {row['goal']:>10} {row.get('baseline', ''):>14} "
            f"{met:>4}"
        )
    usage = report["launch"]["cpu"]
    print(
        f"\nLaunch CPU s: workers {usage['workers_cpu_seconds']:.1f}, "
        f"PostgreSQL (whole server) {usage['postgres_cpu_seconds']:.1f}, "
        f"Redis {usage['redis_cpu_seconds']:.1f}, launcher {usage['client_cpu_seconds']:.1f}, "
        f"other processes {usage['other_processes_cpu_seconds']:.1f} "
        f"({usage['other_processes_share']:.0%} of the machine); "
        f"load before {report['launch']['load_average_before'][0]:.2f}"
    )
    verification = report["verification"]
    db, queue = verification["database"], verification["send_queue"]
    if not verification["problems"]:
        print(
            f"Verified: {db['messages']:,} queued marketing emails to {db['distinct_customers']:,} "
            f"customers; {db['promo_codes_handed_out']:,} promo codes handed out, "
            f"{db['promo_codes_distinct']:,} distinct, each message carrying its customer's; "
            f"{queue['distinct_ids_on_send_queue']:,} ids on the send queue "
            f"({queue['more_than_once']} more than once)."
        )
    else:
        print(f"VERIFICATION FAILED: {verification['problems']}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
