"""How fast one process turns customers into personalised messages: contexts, then renders.

`measure_render_rate(version, customers)` measures, in this process only:

- context building: `customer_contexts` for chunks of 1,000 customers (the queries of every
  context provider plus the Python that assembles the dicts), as a broadcast does per chunk;
  the promo codes are reserved beforehand and not counted;
- rendering: `render_compiled` of the built contexts, over and over for `seconds`.

Both are reported as messages per second of this process's CPU time (`time.process_time`, which is
what one core can do on a shared machine) and of wall time (which also holds the database's time
and other processes' share of the core).

Standalone, on a generated dataset (2,000 customers with points, RFM scores, 40 picks each and a
reserved promo code) in a fresh SQLite file, or in a PostgreSQL database it creates and drops:

    .venv/bin/python -m benchmarks.broadcast.render_rate
    .venv/bin/python -m benchmarks.broadcast.render_rate --postgres postgres://postgres@127.0.0.1:5432
    .venv/bin/python -m benchmarks.broadcast.render_rate --customers 5000 --seconds 10 --profile
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

CHUNK = 1_000
PG_DATABASE = "kaskad_bench_render"


def _chunks(items: list, size: int = CHUNK) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _query_counter(counter: list):
    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    return wrapper


def measure_contexts(customers: list, *, extra=None, options=None, seconds: float = 3.0) -> dict:
    """Build contexts chunk by chunk (at least one pass over `customers`) for about `seconds`."""
    from django.db import connection

    from campaigns.message_templates.context import customer_contexts

    chunks = _chunks(list(customers))
    queries = [0]
    built = 0
    cpu = wall = 0.0
    contexts: dict = {}
    with connection.execute_wrapper(_query_counter(queries)):
        while built < len(customers) or wall < seconds:
            for chunk in chunks:
                cpu_start, wall_start = time.process_time(), time.perf_counter()
                contexts.update(customer_contexts(chunk, extra, options=options))
                cpu += time.process_time() - cpu_start
                wall += time.perf_counter() - wall_start
                built += len(chunk)
    passes = built / len(customers)
    return {
        "customers": built,
        "chunk": CHUNK,
        "queries_per_chunk": round(queries[0] / (passes * len(chunks)), 1),
        "ms_per_1000_cpu": round(cpu / built * 1_000_000, 1),
        "ms_per_1000_wall": round(wall / built * 1_000_000, 1),
        "per_second_cpu": round(built / cpu) if cpu else None,
        "per_second_wall": round(built / wall) if wall else None,
        "contexts": contexts,
    }


def measure_renders(version, channel: str, contexts: list[dict], *, seconds: float = 3.0) -> dict:
    """Render `contexts` round and round for about `seconds` (at least once)."""
    from campaigns.message_templates.rendering import TemplateMissingValue, render_compiled

    render_compiled(version, channel, contexts[0])  # parse and cache outside the clock
    rendered = suppressed = 0
    size = 0
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    while rendered == 0 or time.perf_counter() - wall_start < seconds:
        for context in contexts:
            try:
                message = render_compiled(version, channel, context)
                size += len(message.html) + len(message.body) + len(message.subject)
            except TemplateMissingValue:
                suppressed += 1
            rendered += 1
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    return {
        "messages": rendered,
        "suppressed": suppressed,
        "average_chars": round(size / max(rendered - suppressed, 1)),
        "per_second_cpu": round(rendered / cpu) if cpu else None,
        "per_second_wall": round(rendered / wall),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
    }


def measure_render_rate(
    version,
    customers: list,
    seconds: float = 3.0,
    *,
    channel: str = "email",
    extra: dict | None = None,
    options: dict | None = None,
) -> dict:
    """{"contexts": {...}, "render": {...}}: context building per chunk of 1,000 and pure render
    rate, each in messages/s of CPU time and of wall time (see the module's docstring)."""
    contexts = measure_contexts(customers, extra=extra, options=options, seconds=seconds)
    built = contexts.pop("contexts")
    render = measure_renders(version, channel, [built[c.pk] for c in customers], seconds=seconds)
    return {"contexts": contexts, "render": render}


# --- standalone ---------------------------------------------------------------------------------


def generate(count: int):
    """Customers with a city, RFM scores, points, 10 picks of each kind and a reserved promo code;
    the benchmark email saved as a template. Returns (version, customers, options)."""
    from datetime import date
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from benchmarks.broadcast.content import BENCH_ATTRIBUTES, BENCH_EMAIL_VARIANTS
    from campaigns.loyalty.services import points_earn
    from campaigns.message_templates.context import context_options
    from campaigns.message_templates.services import template_create
    from campaigns.promo.services import (
        promo_code_reserve_many,
        promo_codes_generate,
        promo_pool_create,
    )
    from campaigns.recommendations.models import Recommendation, RecommendationKind
    from customers.models import AttributeDefinition, Customer, Product, RfmScore, RfmSegment

    for key, kind in BENCH_ATTRIBUTES.items():
        AttributeDefinition.objects.get_or_create(key=key, defaults={"label": key, "type": kind})
    cities = ["Москва", "Казань", "Самара", "Пермь", "Тверь"]
    Customer.objects.bulk_create(
        Customer(
            external_id=f"bench-{i}",
            email=f"bench{i}@example.com",
            first_name="" if i % 10 == 0 else f"Имя{i}",  # every tenth: the default is used
            last_name=f"Фамилия{i}",
            locale="ru-RU",
            birth_date=date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
            attributes={"city": cities[i % len(cities)]} if i % 3 else {},
        )
        for i in range(count)
    )
    customers = list(Customer.objects.filter(external_id__startswith="bench-").order_by("pk"))
    segments = RfmSegment.values
    now = timezone.now()
    RfmScore.objects.bulk_create(
        RfmScore(
            customer=c,
            recency_days=i % 365,
            frequency=1 + i % 20,
            monetary=Decimal(1000 + i),
            r=1 + i % 5,
            f=1 + i % 5,
            m=1 + i % 5,
            segment=segments[i % len(segments)],
            as_of=date.today(),
            computed_at=now,
        )
        for i, c in enumerate(customers)
    )
    products = Product.objects.bulk_create(
        Product(
            sku=f"bench-{i}",
            name=f"Товар номер {i}",
            category=f"Категория {i % 7}",
            price=Decimal(f"{990 + i * 10}.00"),
            currency="RUB",
            url=f"https://shop.example.com/p/{i}",
            image_url=f"https://shop.example.com/i/{i}.jpg",
        )
        for i in range(200)
    )
    picks = []
    for i, customer in enumerate(customers):
        for k, kind in enumerate(RecommendationKind.values):
            for rank in range(1, 11):
                product = products[(i * 7 + k * 31 + rank * 13) % len(products)]
                picks.append(
                    Recommendation(
                        customer=customer,
                        kind=kind,
                        rank=rank,
                        product=product,
                        score=1.0 / rank,
                        computed_at=now,
                    )
                )
    Recommendation.objects.bulk_create(picks, batch_size=5_000)
    for i, customer in enumerate(customers):
        points_earn(customer=customer, points=100 + i % 900, idempotency_key=f"bench-{i}")
    pool = promo_pool_create(name="Bench", discount_description="10 %", prefix="BN")
    promo_codes_generate(pool, count)
    promo_code_reserve_many(pool, customers)
    template = template_create(name="Bench", category="marketing", variants=BENCH_EMAIL_VARIANTS)
    version = template.current_version
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have: plans for tables of this size
    # As a broadcast would: the pool, and only the recommendation kinds the template reads.
    return version, customers, {"promo_pool_id": pool.pk, **context_options(version)}


def _profiled(label: str, measure, *args, **kwargs) -> dict:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    result = measure(*args, **kwargs)
    profiler.disable()
    print(f"\n{label}, by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return result


def _profile(version, customers: list, options: dict, seconds: float) -> None:
    built = _profiled("Contexts", measure_contexts, customers, options=options, seconds=seconds)
    contexts = [built["contexts"][c.pk] for c in customers]
    _profiled("Render", measure_renders, version, "email", contexts, seconds=seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help=f"run on PostgreSQL: create (and afterwards drop) the database {PG_DATABASE} on this "
        "server, e.g. postgres://postgres@127.0.0.1:5432 (default: a new SQLite file under "
        "benchmarks/results/)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the render loop too")
    args = parser.parse_args(argv)
    if args.postgres:
        from benchmarks.ingest import database

        database.create(args.postgres, PG_DATABASE)
        url = database.database_url(args.postgres, PG_DATABASE)
    else:
        results = Path(__file__).resolve().parents[1] / "results"
        results.mkdir(parents=True, exist_ok=True)
        path = results / "render-rate.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    try:
        return _run(url, args)
    finally:
        if args.postgres:
            from django.db import connections

            connections.close_all()
            database.drop(args.postgres, PG_DATABASE)


def _run(url: str, args: argparse.Namespace) -> int:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ.setdefault("KASKAD_ENV_FILE", "")
    os.environ.setdefault("SECRET_KEY", "kaskad-benchmark-secret-key-not-for-production-0123456789")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--no-input", verbosity=0)
    print(f"Generating {args.customers:,} customers in {url.split('@')[-1]}", flush=True)
    version, customers, options = generate(args.customers)
    result = measure_render_rate(version, customers, args.seconds, options=options)
    c, r = result["contexts"], result["render"]
    print(
        f"Contexts, chunks of {c['chunk']:,}: {c['queries_per_chunk']} queries a chunk, "
        f"{c['ms_per_1000_cpu']} ms CPU / {c['ms_per_1000_wall']} ms wall per 1,000 "
        f"({c['per_second_cpu']:,}/s CPU, {c['per_second_wall']:,}/s wall)"
    )
    print(
        f"Render: {r['messages']:,} messages ({r['suppressed']:,} suppressed, "
        f"{r['average_chars']:,} chars on average): {r['per_second_cpu']:,}/s CPU, "
        f"{r['per_second_wall']:,}/s wall"
    )
    if args.profile:
        _profile(version, customers, options, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
