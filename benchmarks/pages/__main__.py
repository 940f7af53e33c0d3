"""Pages benchmark: server time of the workspace's pages at 1M customers, next to Django's admin.

    python -m benchmarks.pages                  # 1M customers, 10M events, 5M orders, 2M messages
    python -m benchmarks.pages --scale 0.01     # a hundredth of that, for a quick run
    python -m benchmarks.pages --generate-only  # fill the database (kept) and stop

The data are generated once inside PostgreSQL (database kaskad_pages, kept; a marker table records
the sizes) and later runs of the same size only measure. Each page is requested in this process
through Django's test Client, signed in as a superuser, with DEBUG off, against that database:
the time is the server's (URL resolution, middleware, view, queries, template), without a network
or a WSGI server. A page whose URL is not installed yet is reported as such and skipped.
Goals: p95 ≤ 150 ms for every page (the RFM page ≤ 500 ms), and faster than the admin's equivalent.
"""

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import orjson

from benchmarks.ingest import database
from benchmarks.options import add_postgres_option

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_pages"
BENCH_USER = "bench-admin"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M customers (default)")
    parser.add_argument("--requests", type=int, default=50, help="requests per page (50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page (3)")
    add_postgres_option(parser)
    parser.add_argument("--database", default=DATABASE, help=f"database, kept ({DATABASE})")
    parser.add_argument(
        "--regenerate", action="store_true", help="generate the data again even if present"
    )
    parser.add_argument("--generate-only", action="store_true", help="generate, do not measure")
    parser.add_argument("--only", default="", help="measure only pages whose label contains this")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    url = database.database_url(args.postgres, args.database)
    env = {
        "DATABASE_URL": url,
        # Kaskad's services may publish a task (a segment's refresh); nothing consumes it here.
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "ERROR",
        # Production's static files storage (a manifest), collected into a folder of its own.
        "KASKAD_VAR_DIR": str(RESULTS_DIR / "pages-var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    import django

    from benchmarks.pages import generate

    sizes = generate.Sizes.scaled(args.scale)
    started_at = datetime.now(UTC)
    print(
        f"Pages benchmark: {sizes.customers:,} customers, {sizes.orders:,} orders, "
        f"{sizes.events:,} events, {sizes.conversations:,} conversations with "
        f"{sizes.messages:,} messages; database {args.database}",
        flush=True,
    )
    if not generate_database_exists(args):
        database.create(args.postgres, args.database)
    database.manage(env, "migrate", "--no-input")
    django.setup()
    user = bench_user()
    report: dict = {"started_at": started_at.isoformat(), "sizes": vars(sizes)}
    previous = None if args.regenerate else generate.generated(url, sizes)
    if previous:
        print(f"\nData generated {previous['generated_at']} ({previous['seconds']:.0f} s); kept")
        report["generation"] = {"kept": True, **previous}
    else:
        print("\nGenerating data in PostgreSQL", flush=True)
        started = perf_counter()
        report["generation"] = generate.generate(url, sizes, user.pk)
        print(f"  generated in {perf_counter() - started:.0f} s", flush=True)
    if args.generate_only:
        return 0

    from benchmarks.pages import measure

    database.manage(env, "collectstatic", "--no-input", "-v", "0")
    report["pages"] = measure.run(user, args.requests, args.warmup, args.only)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"pages-{started_at:%Y%m%dT%H%M%S}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"\nResults: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def generate_database_exists(args: argparse.Namespace) -> bool:
    from benchmarks.segments.generate import database_exists

    return database_exists(args.postgres, args.database)


def bench_user():
    """The superuser the pages are requested as (also the assignee of some conversations)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER,
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.com"},
    )
    return user


if __name__ == "__main__":
    sys.exit(main())
