"""Ingest benchmark: the bulk API on a real server against a psycopg COPY of the same rows.

    python -m benchmarks.ingest               # 100k customers, 1M events, 200k orders
    python -m benchmarks.ingest --scale 0.1   # a tenth of that, for a quick run

For each entity it prepares the batches, POSTs them through gunicorn on loopback into one fresh
PostgreSQL database, then COPYs the same rows into a second one, so both are measured minutes
apart on the same (shared, noisy) machine. The goal is API throughput of at least 25 % of COPY's.
"""

import argparse
import gc
import os
import platform
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks.ingest import cpu, data, database
from benchmarks.ingest.baseline import copy_workload
from benchmarks.ingest.client import Client
from benchmarks.ingest.server import Server, gunicorn
from benchmarks.ingest.workload import API_KEY_NAME, prepare
from benchmarks.options import add_postgres_option

ENTITIES = ("customers", "events", "orders")  # events and orders name existing customers
GOAL_SHARE_OF_COPY = 0.25
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
API_DATABASE = "kaskad_bench"
COPY_DATABASE = "kaskad_bench_copy"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k/1M/200k (default)")
    parser.add_argument("--batch-size", type=int, default=1000, help="items per request")
    # Request handling is CPU-bound Python, so threads would only contend for the GIL; two
    # processes per core keep both cores busy while the other waits for PostgreSQL.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections (4)")
    add_postgres_option(parser)
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help=f"keep {API_DATABASE} and {COPY_DATABASE} for inspection",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    sizes = data.Sizes.scaled(args.scale)
    started_at = datetime.now(UTC)
    api_url = database.database_url(args.postgres, API_DATABASE)
    copy_url = database.database_url(args.postgres, COPY_DATABASE)
    server_env = {
        "DATABASE_URL": api_url,
        "SECRET_KEY": "kaskad-benchmark-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_THROTTLE_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    print(
        f"Ingest benchmark: {sizes.customers:,} customers, {sizes.events:,} events, "
        f"{sizes.orders:,} orders; batches of {args.batch_size}; gunicorn {args.workers} x "
        f"{args.worker_class} (threads {args.threads}); {args.concurrency} client connections"
    )
    try:
        database.create(args.postgres, API_DATABASE)
        database.manage(server_env, "migrate", "--no-input")
        # Same schema, indexes and constraints for the COPY: a copy of the freshly migrated one.
        database.create(args.postgres, COPY_DATABASE, template=API_DATABASE)
        api_key = database.manage(server_env, "create_api_key", API_KEY_NAME).strip()
        with gunicorn(
            server_env,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            log_path=RESULTS_DIR / "ingest-gunicorn.log",
        ) as server:
            client = Client(server.port, api_key)
            # Warm up every worker: lazy imports, URL resolver, database connection.
            client.get_all("/api/v1/customers?limit=1", 4 * args.workers, args.concurrency)
            results, expected = [], {}
            for entity in ENTITIES:
                result, table_rows = run_entity(entity, args, sizes, server, client, copy_url)
                results.append(result)
                expected.update(table_rows)
            server_memory = {name: round(mib, 1) for name, mib in server.peak_rss_mib().items()}
            client.close()
        verification = verify(api_url, copy_url, expected)
        postgres_version = database.server_version(api_url)
    finally:
        if not args.keep_databases:
            database.drop(args.postgres, API_DATABASE)
            database.drop(args.postgres, COPY_DATABASE)

    client_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "started_at": started_at.isoformat(),
        "sizes": vars(sizes),
        "settings": {
            "batch_size": args.batch_size,
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "client_connections": args.concurrency,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": postgres_version,
            "platform": platform.platform(),
        },
        "goal_share_of_copy": GOAL_SHARE_OF_COPY,
        "results": results,
        "memory_peak_mib": {"server": server_memory, "client": round(client_peak_mib, 1)},
        "verification": verification,
        "databases_kept": args.keep_databases,
    }
    print_report(report)
    path = RESULTS_DIR / f"ingest-{started_at:%Y%m%d-%H%M%S}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    return 0 if verification["ok"] else 1


def run_entity(entity, args, sizes, server: Server, client: Client, copy_url: str):
    """Prepare one entity, POST it through the API, then COPY the same rows into the other database.

    Returns the entity's result and the number of rows each of its tables should now hold.
    """
    workload = prepare(entity, sizes, args.batch_size)
    print(
        f"\n{entity}: {workload.items:,} items in {len(workload.bodies)} requests "
        f"({workload.body_bytes / 2**20:.0f} MiB of JSON)"
    )
    # The prepared rows are millions of tracked objects; freezing them keeps the client's
    # garbage collector from walking them while the clock runs.
    gc.collect()
    gc.freeze()

    before = cpu.snapshot(server.worker_pids())
    api_seconds, responses = client.post_all(workload.path, workload.bodies, args.concurrency)
    api_cpu = cpu.usage(before, cpu.snapshot(server.worker_pids()), api_seconds)
    print(f"  API  {api_seconds:8.1f} s  {workload.items / api_seconds:10,.0f} rows/s")

    before = cpu.snapshot(server.worker_pids())
    copy_seconds = copy_workload(copy_url, workload)
    copy_cpu = cpu.usage(before, cpu.snapshot(server.worker_pids()), copy_seconds)
    print(f"  COPY {copy_seconds:8.1f} s  {workload.items / copy_seconds:10,.0f} rows/s")

    gc.unfreeze()
    api_rate = workload.items / api_seconds
    copy_rate = workload.items / copy_seconds
    table_rows = {table: len(rows) for table, rows in workload.rows.items()}
    result = {
        "entity": entity,
        "rows": workload.items,
        "table_rows": table_rows,
        "requests": len(workload.bodies),
        "created": sum(response["created"] for response in responses),
        "api_seconds": round(api_seconds, 2),
        "api_rows_per_second": round(api_rate),
        "api_cpu": api_cpu,
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(copy_rate),
        "copy_cpu": copy_cpu,
        "api_share_of_copy": round(api_rate / copy_rate, 3),
        "goal_met": api_rate >= GOAL_SHARE_OF_COPY * copy_rate,
    }
    return result, table_rows


def verify(api_url: str, copy_url: str, expected: dict[str, int]) -> dict:
    """Both databases hold exactly the rows that were sent, with the same content."""
    counts = database.row_counts(api_url)
    api_prints = database.fingerprints(api_url)
    copy_prints = database.fingerprints(copy_url)
    problems = [
        f"{table}: API database has {counts[table]:,} rows, expected {rows:,}"
        for table, rows in expected.items()
        if counts[table] != rows
    ]
    problems += [
        f"{table}: API and COPY databases hold different rows"
        for table in api_prints
        if api_prints[table] != copy_prints[table]
    ]
    return {"ok": not problems, "row_counts": counts, "problems": problems}


def print_report(report: dict) -> None:
    header = (
        f"{'entity':<10} {'rows':>10} {'API s':>7} {'API rows/s':>11} {'COPY s':>7} "
        f"{'COPY rows/s':>12} {'API/COPY':>9} {'goal ≥25%':>10}"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in report["results"]:
        print(
            f"{r['entity']:<10} {r['rows']:>10,} {r['api_seconds']:>7.1f} "
            f"{r['api_rows_per_second']:>11,} {r['copy_seconds']:>7.1f} "
            f"{r['copy_rows_per_second']:>12,} {r['api_share_of_copy']:>9.1%} "
            f"{'yes' if r['goal_met'] else 'NO':>10}"
        )

    print("\nCPU ms per 1,000 rows (and the share of the machine other processes took meanwhile)")
    header = (
        f"{'entity':<10} {'phase':<5} {'server':>7} {'postgres':>9} {'client':>7} {'others':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        for phase in ("api", "copy"):
            used = r[f"{phase}_cpu"]
            per_thousand = 1000 / r["rows"] * 1000
            print(
                f"{r['entity']:<10} {phase.upper():<5} "
                f"{used['server_cpu_seconds'] * per_thousand:>7.0f} "
                f"{used['postgres_cpu_seconds'] * per_thousand:>9.0f} "
                f"{used['client_cpu_seconds'] * per_thousand:>7.0f} "
                f"{used['other_processes_share']:>7.0%}"
            )

    memory = report["memory_peak_mib"]
    server = ", ".join(f"{name} {mib:.0f}" for name, mib in memory["server"].items())
    print(f"\nPeak RSS (MiB): gunicorn {server}; client {memory['client']:.0f}")
    verification = report["verification"]
    if verification["ok"]:
        print(
            "Verified: row counts match what was sent; API and COPY databases hold the same rows."
        )
    else:
        print("VERIFICATION FAILED:\n  " + "\n  ".join(verification["problems"]), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
