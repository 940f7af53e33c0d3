"""CLV: `clv_refresh` over every generated customer (fit + scoring, goal ≤ 60 s), and on a sample
of 100k customers Kaskad's fit against a reference fit (lifetimes, or an independent scipy fit)
in another process: the parameters must agree.

The segments generator draws every order's total from one distribution, whatever the customer,
which leaves Gamma-Gamma without an optimum (no spread between customers: q and γ run to
infinity). Before measuring, this part therefore redraws the totals of the generated orders with a
spend level per customer, as Gamma-Gamma assumes: ν ~ Gamma(q, γ) per customer and each order's
total ~ Gamma(p, ν), with p = 6, q = 4, γ = 500 (a mean order of 1,000). Order dates, counts and
statuses stay the generator's. The Gamma-Gamma fit over everyone should find these values again.

The sample is every customer whose id is a multiple of customers / 100k. Kaskad fits it from its
own SQL summary (analytics.clv.summary, restricted to the sample) with its weighted fit; the
reference gets a summary this module builds independently from the sample's orders (read with
psycopg, aggregated with numpy) and fits per customer.
"""

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

import numpy as np
import psycopg

from benchmarks.report import goal

NAME = "clv"
NEEDS_EVENTS = False
GOAL_SECONDS = 60
SAMPLE_CUSTOMERS = 100_000
AGREEMENT = 0.01  # largest relative difference between Kaskad's and the reference's parameters
PARAMETERS = {"bgnbd": ("r", "alpha", "a", "b"), "gamma_gamma": ("p", "q", "gamma")}
BASE_DIR = Path(__file__).resolve().parents[2]
# The spend the orders are redrawn from (see above); shapes are whole numbers so that a Gamma
# variate is a sum of exponentials, −ln(U₁…Uₖ), which SQL can draw.
SPEND = {"p": 6, "q": 4, "gamma": 500.0}
SPEND_SEED = 0.42


def add_options(parser) -> None:
    parser.add_argument(
        "--clv-sample",
        type=int,
        default=SAMPLE_CUSTOMERS,
        help=f"customers in the reference comparison ({SAMPLE_CUSTOMERS:,})",
    )
    parser.add_argument(
        "--clv-reference-python",
        default=os.environ.get("BENCH_CLV_REFERENCE_PYTHON", sys.executable),
        help="the Python that runs the reference fit, e.g. a venv with lifetimes "
        "(env BENCH_CLV_REFERENCE_PYTHON; default this one)",
    )
    parser.add_argument(
        "--clv-reference-scipy",
        action="store_true",
        help="use the independent scipy reference even if lifetimes is installed",
    )


def run(bench) -> dict:
    from analytics.clv.services import clv_refresh
    from customers.models import CustomerValue

    calibration_end = bench.anchor.date() - timedelta(days=1)
    result: dict = {"calibration_end": calibration_end.isoformat(), "true_spend": SPEND}
    print("\nCLV: redrawing order totals with a spend level per customer")
    result["spend_redraw_seconds"] = _spend_redraw(bench.url)
    print(f"  done in {result['spend_redraw_seconds']:.1f} s")
    print(f"\nCLV as of {calibration_end} (fit + scoring of everyone)")
    for run_name in ("first", "again"):
        started = perf_counter()
        fit = clv_refresh(calibration_end=calibration_end)
        seconds = perf_counter() - started
        if fit.status != fit.Status.OK:
            raise SystemExit(f"CLV fit failed: {fit.error}")
        result[run_name] = {
            "seconds": round(seconds, 2),
            "timings": fit.timings,
            "customers": fit.customers,
            "repeat_customers": fit.repeat_customers,
            "summary_groups": fit.summary_groups,
            "scored": fit.scored,
        }
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in fit.timings.items())
        print(
            f"  clv_refresh ({run_name:<5})  {seconds:7.1f} s  ({phases}); "
            f"{fit.scored:,} scored, {fit.summary_groups:,} distinct summaries",
            flush=True,
        )
    result["params"] = {  # over everyone; Gamma-Gamma's should be near true_spend
        "bgnbd": {k: getattr(fit, k) for k in PARAMETERS["bgnbd"]},
        "gamma_gamma": {k: getattr(fit, k) for k in PARAMETERS["gamma_gamma"]},
    }
    result["values_stored"] = CustomerValue.objects.count()
    step = max(1, round(fit.customers / bench.args.clv_sample))
    result["sample_step"] = step
    result["kaskad_sample"] = _kaskad_sample_fit(calibration_end, step)
    print(
        f"  Kaskad on the sample        {result['kaskad_sample']['seconds']:7.1f} s "
        f"({result['kaskad_sample']['customers']:,} customers: ids divisible by {step})",
        flush=True,
    )
    result["reference"] = _reference_fit(bench, calibration_end, step)
    print(
        f"  reference on the sample     {result['reference']['seconds']:7.1f} s "
        f"({result['reference']['reference']}, {result['reference']['customers']:,} customers)",
        flush=True,
    )
    result["agreement"] = _compare(result["kaskad_sample"], result["reference"])
    for model, names in PARAMETERS.items():
        for name in names:
            ours = result["kaskad_sample"][model][name]
            theirs = result["reference"][model][name]
            print(f"    {model:<11} {name:<5} Kaskad {ours:12.6f}  reference {theirs:12.6f}")
    return result


def _spend_redraw(url: str) -> float:
    """Rewrite every generated order's total (see the module's docstring); returns seconds."""
    p, q, gamma = SPEND["p"], SPEND["q"], SPEND["gamma"]
    uniforms = lambda k: " * ".join(["random()"] * k)  # noqa: E731
    started = perf_counter()
    with psycopg.connect(url) as connection:
        # A kept database (--reuse-database) has them redrawn already.
        if connection.execute("SELECT to_regclass('bench_clv_spend_redrawn')").fetchone()[0]:
            return 0.0
        connection.execute("SELECT setseed(%s)", [SPEND_SEED])
        connection.execute(
            "CREATE TEMPORARY TABLE bench_spend_level AS "
            f"SELECT id, -ln({uniforms(q)}) / {gamma} AS nu FROM customers_customer ORDER BY id"
        )
        connection.execute("ALTER TABLE bench_spend_level ADD PRIMARY KEY (id)")
        connection.execute(
            "UPDATE customers_order o "
            f"SET total = GREATEST(0.01, round((-ln({uniforms(p)}) / s.nu)::numeric, 2)) "
            "FROM bench_spend_level s WHERE s.id = o.customer_id"
        )
        connection.execute("CREATE TABLE bench_clv_spend_redrawn (at timestamptz)")
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE customers_order")
    return round(perf_counter() - started, 1)


def _kaskad_sample_fit(calibration_end: date, step: int) -> dict:
    """Kaskad's SQL summary and weighted fits, on the sample's customers only."""
    from django.db import connection, transaction

    from analytics.clv import summary
    from analytics.clv.models import DAYS_PER_WEEK, bgnbd_fit, gamma_gamma_fit

    started = perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        summary.summary_build(cursor, calibration_end)
        cursor.execute(f"DELETE FROM {summary.SUMMARY_TABLE} WHERE customer_id %% %s <> 0", [step])
        customers = _count(cursor, summary.SUMMARY_TABLE)
        groups = summary.bgnbd_groups(cursor)
        spend = summary.gamma_gamma_groups(cursor)
        summary.summary_drop(cursor)
    bgnbd = bgnbd_fit(
        groups["x"], groups["t_x"] / DAYS_PER_WEEK, groups["T"] / DAYS_PER_WEEK, groups["count"]
    )
    gamma_gamma = gamma_gamma_fit(spend["x"], spend["m"], spend["count"])
    return {
        "seconds": round(perf_counter() - started, 2),
        "customers": customers,
        "bgnbd": {k: getattr(bgnbd, k) for k in PARAMETERS["bgnbd"]},
        "gamma_gamma": {k: getattr(gamma_gamma, k) for k in PARAMETERS["gamma_gamma"]},
    }


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    return cursor.fetchone()[0]


def _independent_summary(url: str, calibration_end: date, step: int) -> dict[str, np.ndarray]:
    """Per customer of the sample: repeat purchase days, recency and age in weeks, mean repeat-day
    spend, from the completed orders themselves (not from Kaskad's SQL)."""
    until = datetime.combine(calibration_end + timedelta(days=1), time.min, tzinfo=UTC)
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT o.customer_id, (o.placed_at AT TIME ZONE 'UTC')::date - %s::date, o.total "
            "FROM customers_order o JOIN customers_customer c ON c.id = o.customer_id "
            "WHERE o.status = 'completed' AND o.placed_at < %s AND c.erased_at IS NULL "
            "AND o.customer_id %% %s = 0",
            [calibration_end, until, step],
        ).fetchall()
    data = np.array(rows, dtype=float)
    customer, day, total = data[:, 0], data[:, 1], data[:, 2]
    # One purchase per customer per day: sum the day's spend.
    order = np.lexsort((day, customer))
    customer, day, total = customer[order], day[order], total[order]
    new_day = np.ones(len(day), dtype=bool)
    new_day[1:] = (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    day_index = np.cumsum(new_day) - 1
    day_spend = np.bincount(day_index, weights=total)
    day_customer, day_day = customer[new_day], day[new_day]
    starts = np.flatnonzero(np.r_[True, day_customer[1:] != day_customer[:-1]])
    ends = np.r_[starts[1:], len(day_customer)]
    days = ends - starts
    first, last = day_day[starts], day_day[ends - 1]
    spend_total = np.add.reduceat(day_spend, starts)
    repeat_spend = spend_total - day_spend[starts]
    frequency = days - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    return {
        "frequency": frequency.astype(float),
        "recency": (last - first) / 7.0,
        "T": -first / 7.0,  # days are counted from the calibration end, so T = 0 − first
        "monetary": monetary,
    }


def _reference_fit(bench, calibration_end: date, step: int) -> dict:
    columns = _independent_summary(bench.url, calibration_end, step)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "summary.npz"
        np.savez(path, **columns)
        command = [bench.args.clv_reference_python, "-m", "benchmarks.analytics.clv_reference"]
        command.append(str(path))
        if bench.args.clv_reference_scipy:
            command.append("--scipy")
        completed = subprocess.run(
            command, cwd=BASE_DIR, capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        raise SystemExit(f"reference fit failed:\n{completed.stderr}")
    if completed.stderr.strip():
        print(f"  ({completed.stderr.strip()})")
    return json.loads(completed.stdout)


def _compare(ours: dict, reference: dict) -> dict:
    differences = {
        f"{model}.{name}": abs(ours[model][name] - reference[model][name])
        / abs(reference[model][name])
        for model, names in PARAMETERS.items()
        for name in names
    }
    worst = max(differences.values())
    return {
        "relative_differences": {k: round(v, 6) for k, v in differences.items()},
        "max_relative_difference": worst,
        "ok": worst <= AGREEMENT,
    }


def goals(result: dict) -> list[dict]:
    customers = result["first"]["customers"]
    rows = []
    for run_name in ("first", "again"):
        seconds = result[run_name]["seconds"]
        rows.append(
            goal(
                f"CLV fit + scoring of {customers:,} customers ({run_name} run)",
                seconds,
                "s",
                f"≤ {GOAL_SECONDS} s",
                seconds <= GOAL_SECONDS,
            )
        )
    for phase, seconds in result["first"]["timings"].items():
        rows.append(goal(f"  of which {phase} (first run)", seconds, "s"))
    params = result["params"]["gamma_gamma"]
    drawn = max(abs(params[k] - SPEND[k]) / SPEND[k] for k in ("p", "q", "gamma"))
    rows.append(
        goal(
            f"Gamma-Gamma over everyone vs drawn (p {params['p']:.2f}, q {params['q']:.2f}, "
            f"γ {params['gamma']:.0f})",
            drawn * 100,
            "%",
        )
    )
    sample = result["kaskad_sample"]["customers"]
    rows.append(
        goal(f"Kaskad fit on a {sample:,}-customer sample", result["kaskad_sample"]["seconds"], "s")
    )
    rows.append(
        goal(
            f"reference fit ({result['reference']['reference']})",
            result["reference"]["seconds"],
            "s",
        )
    )
    worst = result["agreement"]["max_relative_difference"]
    rows.append(
        goal(
            "largest parameter difference, Kaskad vs reference",
            worst * 100,
            "%",
            f"≤ {AGREEMENT * 100:g} %",
            result["agreement"]["ok"],
        )
    )
    return rows


def ok(result: dict) -> bool:
    scored_everyone = result["first"]["scored"] == result["first"]["customers"]
    stored = result["values_stored"] == result["again"]["customers"]
    return result["agreement"]["ok"] and scored_everyone and stored
