"""Analytics benchmark: each part (CLV, rollups, dashboards…) on the segments benchmark's data.

    python -m benchmarks.analytics                         # every part, 1M customers, 5M orders
    python -m benchmarks.analytics --only clv --scale 0.01 # one part, a hundredth of the data
    python -m benchmarks.analytics --keep-database --reuse-database  # iterate on kept data

Generates customers and orders (and events, if a selected part reads them) inside a fresh
PostgreSQL database with the segments benchmark's generator, then runs each selected part in turn
(see parts.py) and prints one goals table. Results go to benchmarks/results/analytics-<time>.json.
"""

import argparse
import os
import resource
import sys
from dataclasses import replace
from datetime import UTC, datetime, time
from time import perf_counter

from benchmarks.analytics.parts import PART_MODULES, Bench, parts_load
from benchmarks.ingest import database
from benchmarks.options import add_postgres_option, add_redis_option
from benchmarks.report import goals_print, report_save
from benchmarks.segments import generate

DATABASE = "kaskad_bench_analytics"


def parse_args() -> tuple[argparse.Namespace, list]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.analytics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M customers, 5M orders")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(PART_MODULES),
        help="run only this part (repeatable); default: every part",
    )
    add_postgres_option(parser)
    add_redis_option(parser)
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database for inspection"
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="if the database exists (kept by an earlier run of the same scale), skip generating; "
        "keeps the database afterwards. For iterating: reported numbers should come from a fresh "
        "database",
    )
    # Each part may add its own options; parse once to know which parts, then again with theirs.
    known, _ = parser.parse_known_args()
    modules = parts_load(known.only)
    for module in modules:
        if hasattr(module, "add_options"):
            module.add_options(parser)
    return parser.parse_args(), modules


def main() -> int:
    args, modules = parse_args()
    sizes = generate.Sizes.scaled(args.scale)
    if not any(module.NEEDS_EVENTS for module in modules):
        sizes = replace(sizes, events=0)
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
        # The dashboards part requests pages through Django's test client, over plain HTTP, with
        # production's static files storage collected into a folder of its own.
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "KASKAD_VAR_DIR": str(database.BASE_DIR / "benchmarks" / "results" / "analytics-var"),
    }
    os.environ.update(env)
    import django

    django.setup()
    generate_results_dir()
    names = ", ".join(module.NAME for module in modules)
    print(
        f"Analytics benchmark ({names}): {sizes.customers:,} customers, {sizes.orders:,} orders, "
        f"{sizes.events:,} events"
    )
    report: dict = {"started_at": started_at.isoformat(), "sizes": vars(sizes), "parts": {}}
    bench = Bench(args=args, env=env, url=url, sizes=sizes, anchor=anchor)
    try:
        reuse = args.reuse_database and generate.database_exists(args.postgres, args.database)
        if not reuse:
            database.create(args.postgres, args.database)
        database.manage(env, "migrate", "--no-input")
        if any(module.NAME == "dashboards" for module in modules):
            database.manage(env, "collectstatic", "--no-input", "-v", "0")
        started = perf_counter()
        if reuse:
            print(f"\nReusing the data in {args.database}")
        else:
            print("\nGenerating data in PostgreSQL")
            report["generation"] = generate.generate(url, sizes, anchor)
        report["generation_seconds"] = round(perf_counter() - started, 1)
        report["database_reused"] = reuse
        for module in modules:
            report["parts"][module.NAME] = module.run(bench)
        report["postgres"] = database.server_version(url)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep_database or args.reuse_database):
            database.drop(args.postgres, args.database)

    report["bench_memory_peak_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    report["goals"] = [
        row for module in modules for row in module.goals(report["parts"][module.NAME])
    ]
    report["database_kept"] = args.keep_database or args.reuse_database
    goals_print(report["goals"], what_width=58, value_format=".2f")
    print(f"\nPeak RSS of the benchmark process: {report['bench_memory_peak_mib']:.0f} MiB")
    path = report_save(report, "analytics", started_at)
    print(f"Results written to {path.relative_to(database.BASE_DIR)}")
    return 0 if all(module.ok(report["parts"][module.NAME]) for module in modules) else 1


def generate_results_dir() -> None:
    from benchmarks.report import RESULTS_DIR

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    sys.exit(main())
