"""Fault suite (`make faults`): campaigns of marketing SMS through real Celery workers and beat, on
PostgreSQL, while a worker is killed, the broker goes down, or the gateway misbehaves.

    python -m benchmarks.faults                      # every scenario, 2,000 SMS each
    python -m benchmarks.faults --only sigkill broker
    python -m benchmarks.faults --messages 500       # a quicker run

Everything runs on loopback and is started by the suite: a redis-server on a free port (the broker,
the results and the cache), an HTTP gateway speaking the MTS Exolve contract that records every
text it takes, celery beat with a worker on the `default` queue (the sweeper), and the send
workers, started afresh for every scenario. Per scenario it prints how many messages went out
exactly once, were lost, duplicated, failed or left unconfirmed, and how long the campaign took
to drain. Goals: 0 lost everywhere; 0 duplicated except after SIGKILL, where at most one per
thread of the killed worker; 0 failed for the 429 burst. Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks.faults.gateway import Gateway
from benchmarks.faults.processes import Processes, RedisServer
from benchmarks.faults.report import report_print
from benchmarks.faults.scenarios import SCENARIOS, Settings, scenario_run
from benchmarks.ingest import database
from benchmarks.ingest.server import gunicorn
from benchmarks.options import add_postgres_option

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DATABASE = "kaskad_faults"
EXOLVE_API_KEY = "faults-exolve-key"
EXOLVE_SENDER = "79990000000"
EXOLVE_WEBHOOK_SECRET = "faults-exolve-webhook-secret"
# Compressed time, so a scenario drains in a minute or two instead of production's twenty: a
# killed worker's rows come back after SEND_CLAIM_SECONDS, which must still outlast the slowest
# chunk (here: the read-timeout phase, at most fault-seconds / PROVIDER_HTTP_TIMEOUT timeouts a
# chunk, about 20 s).
SEND_CLAIM_SECONDS = 60
PROVIDER_HTTP_TIMEOUT = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    slugs = [scenario.slug for scenario in SCENARIOS]
    parser.add_argument("--only", nargs="+", choices=slugs, help="run these scenarios only")
    parser.add_argument("--messages", type=int, default=2000, help="SMS per scenario (2,000)")
    parser.add_argument("--workers", type=int, default=2, help="send worker processes (2)")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker (8)")
    parser.add_argument("--latency", type=float, default=0.05, help="gateway latency (0.05 s)")
    parser.add_argument(
        "--deadline", type=float, default=240, help="seconds a scenario may take to drain (240)"
    )
    parser.add_argument("--outage", type=float, default=60, help="broker outage (60 s)")
    parser.add_argument(
        "--fault-seconds", type=float, default=20, help="500 / late / close phases (20 s)"
    )
    parser.add_argument("--burst", type=float, default=60, help="the 429 burst (60 s)")
    parser.add_argument("--retry-after", type=int, default=5, help="429 Retry-After (5 s)")
    add_postgres_option(parser)
    parser.add_argument("--database", default=DATABASE, help=f"database to create ({DATABASE})")
    parser.add_argument("--keep-database", action="store_true", help="keep it for inspection")
    return parser.parse_args()


def _stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds through every `finally`, which stops what was started


def main() -> int:
    args = parse_args()
    # Also SIGINT: a shell that starts the suite in the background would have it ignore Ctrl-C.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    scenarios = [s for s in SCENARIOS if not args.only or s.slug in args.only]
    started_at = datetime.now(UTC)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    url = database.database_url(args.postgres, args.database)
    redis_server = RedisServer(RESULTS_DIR / "faults-redis.log")
    gateway = Gateway(api_key=EXOLVE_API_KEY, sender=EXOLVE_SENDER, latency=args.latency)
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"{redis_server.url}/0",
        "CELERY_RESULT_BACKEND": f"{redis_server.url}/0",
        "CACHE_URL": f"{redis_server.url}/1",  # the broker's Redis, as the README advises
        "SECRET_KEY": "kaskad-faults-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MESSAGING_SANDBOX": "0",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": gateway.url,
        "EXOLVE_API_KEY": EXOLVE_API_KEY,
        "EXOLVE_SENDER": EXOLVE_SENDER,
        "EXOLVE_WEBHOOK_SECRET": EXOLVE_WEBHOOK_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; no TLS proxy in front
        "TWILIO_ACCOUNT_SID": "",  # no failover gateway: every SMS goes through this one
        "PROVIDER_RATE_LIMITS": orjson.dumps({"exolve": 1_000_000}).decode(),
        "PROVIDER_HTTP_TIMEOUT": str(PROVIDER_HTTP_TIMEOUT),
        "SEND_CLAIM_SECONDS": str(SEND_CLAIM_SECONDS),
    }
    os.environ.update(env)  # this process calls message_send itself
    settings = Settings(
        messages=args.messages,
        workers=args.workers,
        concurrency=args.concurrency,
        deadline_seconds=args.deadline,
        outage_seconds=args.outage,
        fault_seconds=args.fault_seconds,
        burst_seconds=args.burst,
        retry_after=args.retry_after,
        late_seconds=PROVIDER_HTTP_TIMEOUT + 1,
    )
    processes = Processes(env=env, log_dir=RESULTS_DIR, redis=redis_server)
    print(
        f"Fault suite: {len(scenarios)} scenarios × {args.messages:,} marketing SMS; "
        f"{args.workers} send workers × {args.concurrency} threads; gateway latency "
        f"{args.latency * 1000:.0f} ms; PROVIDER_HTTP_TIMEOUT {PROVIDER_HTTP_TIMEOUT:.0f} s, "
        f"SEND_CLAIM_SECONDS {SEND_CLAIM_SECONDS}; logs in {RESULTS_DIR}",
        flush=True,
    )
    results = []
    try:
        with gateway:
            redis_server.start()
            database.create(args.postgres, args.database)
            database.manage(env, "migrate", "--no-input")
            database.manage(env, "sync_periodic_tasks")
            _prepare(url, args.messages * len(scenarios), started_at)
            # Kaskad's web side, for the gateway's delivery reports (channels/hooks/exolve.py).
            with gunicorn(
                env,
                workers=2,
                worker_class="sync",
                threads=1,
                log_path=RESULTS_DIR / "faults-gunicorn.log",
            ) as server:
                gateway.report_to(
                    f"http://127.0.0.1:{server.port}/hooks/exolve/status"
                    f"?secret={EXOLVE_WEBHOOK_SECRET}"
                )
                processes.start_beat_and_default_worker()
                for number, scenario in enumerate(scenarios):
                    results.append(
                        scenario_run(
                            scenario,
                            number=number,
                            settings=settings,
                            processes=processes,
                            gateway=gateway,
                            url=url,
                        )
                    )
                processes.stop_all()  # before gunicorn, which the report loop may still reach
    finally:
        processes.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            database.drop(args.postgres, args.database)
    rows = report_print(results)
    path = RESULTS_DIR / f"faults-{started_at:%Y%m%d-%H%M%S}.json"
    report = {"started_at": started_at.isoformat(), "settings": vars(args), "results": results}
    report["goals"] = rows
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"\nResults written to {path.relative_to(database.BASE_DIR)}")
    return 0 if all(row["met"] is not False for row in rows) else 1


def _prepare(url: str, customers: int, now: datetime) -> None:
    """Customers for every scenario (each its own range), opted in to marketing SMS, and delivery
    settings with no frequency cap or quiet hours, so no message is held back by policy."""
    import django

    django.setup()
    from benchmarks.send import data

    print(f"Customers: {customers:,}", flush=True)
    data.customers_create(url, customers, now)
    data.delivery_settings_open()


if __name__ == "__main__":
    sys.exit(main())
