"""`clv_refresh`: fit BG/NBD and Gamma-Gamma on everyone's summary, then score every customer.

One transaction: the summary goes to a temporary table (summary.py), the fits read it grouped,
the predictions are computed per group with numpy and copied into a second temporary table, and
one INSERT … ON CONFLICT joins the two to write every customer's CustomerValue; customers who no
longer have a completed order lose theirs. Nothing per customer passes through Python.

If the data are too thin to fit (or the fit degenerates), nothing is written to customers and a
failed ClvFit records why; everyone keeps the values of the last good fit.

Settings (Django settings, with these defaults): CLV_DISCOUNT_MONTHLY (0.01, i.e. 1 % a month),
CLV_MIN_CUSTOMERS (100) and CLV_MIN_REPEAT_CUSTOMERS (30).
"""

import logging
import time
from datetime import date

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.clv import summary
from analytics.clv.models import (
    DAYS_PER_MONTH,
    DAYS_PER_WEEK,
    BgNbdParams,
    ClvFitError,
    GammaGammaParams,
    bgnbd_expected_purchases,
    bgnbd_fit,
    bgnbd_p_alive,
    discounted_purchases,
    gamma_gamma_fit,
)
from analytics.models import ClvFit
from customers.models import CustomerValue, Segment
from customers.segments.rules import rule_dependencies
from customers.services.segments import segment_refresh_or_mark, segments_in_dependency_order

logger = logging.getLogger(__name__)

HORIZON_MONTHS = 12  # what CustomerValue's *_12m columns hold
SCORES_TABLE = "kaskad_clv_scores"
# As for RFM: the summary's GROUP BY and window sort every completed order.
CLV_WORK_MEM = "256MB"

_FLOAT = {"postgresql": "DOUBLE PRECISION", "sqlite": "REAL"}
_SCORE_COLUMNS = (
    "x",
    "recency_days",
    "age_days",
    "p_alive",
    "expected_purchases",
    "discounted_purchases",
)


def clv_settings() -> dict:
    return {
        "discount_monthly": float(getattr(settings, "CLV_DISCOUNT_MONTHLY", 0.01)),
        "min_customers": int(getattr(settings, "CLV_MIN_CUSTOMERS", 100)),
        "min_repeat_customers": int(getattr(settings, "CLV_MIN_REPEAT_CUSTOMERS", 30)),
    }


def clv_refresh(*, calibration_end: date | None = None) -> ClvFit:
    """Fit on completed orders up to the end of `calibration_end` (UTC; default today) and write
    every customer's value. Returns the ClvFit, failed (with its reason) or not."""
    started = time.monotonic()
    calibration_end = calibration_end or timezone.now().date()
    options = clv_settings()
    counts = {"customers": 0, "repeat_customers": 0, "summary_groups": 0}
    timings: dict[str, float] = {}
    lap = time.monotonic()

    def phase(name: str) -> None:
        nonlocal lap
        now = time.monotonic()
        timings[name] = round(now - lap, 3)
        lap = now

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL work_mem = '{CLV_WORK_MEM}'")
            counts["customers"] = summary.summary_build(cursor, calibration_end)
            groups = summary.bgnbd_groups(cursor)
            spend_groups = summary.gamma_gamma_groups(cursor)
            counts["summary_groups"] = len(groups["x"])
            counts["repeat_customers"] = int(groups["count"][groups["x"] > 0].sum())
            phase("summary")
            _check_enough(counts, options)
            bgnbd = bgnbd_fit(
                groups["x"],
                groups["t_x"] / DAYS_PER_WEEK,
                groups["T"] / DAYS_PER_WEEK,
                groups["count"],
            )
            spend = gamma_gamma_fit(spend_groups["x"], spend_groups["m"], spend_groups["count"])
            phase("fit")
            scored = _scores_write(cursor, bgnbd, spend, groups, options["discount_monthly"])
            summary.summary_drop(cursor)
            phase("score")
            return ClvFit.objects.create(
                status=ClvFit.Status.OK,
                calibration_end=calibration_end,
                duration_seconds=round(time.monotonic() - started, 3),
                timings=timings,
                **counts,
                r=bgnbd.r,
                alpha=bgnbd.alpha,
                a=bgnbd.a,
                b=bgnbd.b,
                bgnbd_log_likelihood=bgnbd.log_likelihood,
                p=spend.p,
                q=spend.q,
                gamma=spend.gamma,
                gamma_gamma_log_likelihood=spend.log_likelihood,
                horizon_months=HORIZON_MONTHS,
                discount_monthly=options["discount_monthly"],
                scored=scored,
            )
    except ClvFitError as exc:
        logger.warning("CLV fit as of %s failed: %s", calibration_end, exc)
        return ClvFit.objects.create(
            status=ClvFit.Status.FAILED,
            error_code=exc.code,
            error=str(exc),
            calibration_end=calibration_end,
            duration_seconds=round(time.monotonic() - started, 3),
            timings=timings,
            **counts,
            horizon_months=HORIZON_MONTHS,
            discount_monthly=options["discount_monthly"],
        )


def _check_enough(counts: dict, options: dict) -> None:
    if counts["customers"] < options["min_customers"]:
        raise ClvFitError(
            "too_few_customers",
            f"{counts['customers']} customers have a completed order; the fit needs at least "
            f"{options['min_customers']} (CLV_MIN_CUSTOMERS)",
        )
    if counts["repeat_customers"] < options["min_repeat_customers"]:
        raise ClvFitError(
            "too_few_repeat_customers",
            f"{counts['repeat_customers']} customers bought again on a later day; the fit needs "
            f"at least {options['min_repeat_customers']} (CLV_MIN_REPEAT_CUSTOMERS)",
        )


def clv_group_scores(
    bgnbd: BgNbdParams, x, t_x_days, T_days, *, discount_monthly: float
) -> dict[str, np.ndarray]:
    """P(alive), purchases expected over the 12-month horizon and their discounted sum, per
    summary (days converted to the models' weeks)."""
    t_x, T = np.asarray(t_x_days) / DAYS_PER_WEEK, np.asarray(T_days) / DAYS_PER_WEEK
    horizon_weeks = HORIZON_MONTHS * DAYS_PER_MONTH / DAYS_PER_WEEK
    scores = {
        "p_alive": bgnbd_p_alive(bgnbd, x, t_x, T),
        "expected_purchases": bgnbd_expected_purchases(bgnbd, x, t_x, T, horizon_weeks),
        "discounted_purchases": discounted_purchases(
            bgnbd, x, t_x, T, months=HORIZON_MONTHS, discount_monthly=discount_monthly
        ),
    }
    for name, values in scores.items():
        if not np.all(np.isfinite(values)):
            raise ClvFitError("degenerate", f"BG/NBD: {name} is not finite for some customers")
    return scores


def _scores_write(
    cursor, bgnbd: BgNbdParams, spend: GammaGammaParams, groups: dict, discount_monthly: float
) -> int:
    """Score each group, then write every customer in one upsert; returns customers scored."""
    scores = clv_group_scores(
        bgnbd, groups["x"], groups["t_x"], groups["T"], discount_monthly=discount_monthly
    )
    rows = zip(
        groups["x"].astype(int).tolist(),
        groups["t_x"].astype(int).tolist(),
        groups["T"].astype(int).tolist(),
        scores["p_alive"].tolist(),
        scores["expected_purchases"].tolist(),
        scores["discounted_purchases"].tolist(),
        strict=True,
    )
    float_type = _FLOAT[connection.vendor]
    columns = ", ".join(_SCORE_COLUMNS)
    cursor.execute(f"DROP TABLE IF EXISTS {SCORES_TABLE}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {SCORES_TABLE} (x INTEGER NOT NULL, "
        "recency_days INTEGER NOT NULL, age_days INTEGER NOT NULL, "
        f"p_alive {float_type} NOT NULL, expected_purchases {float_type} NOT NULL, "
        f"discounted_purchases {float_type} NOT NULL)"
    )
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {SCORES_TABLE} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"ANALYZE {SCORES_TABLE}")
    else:
        placeholders = ", ".join(["%s"] * len(_SCORE_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {SCORES_TABLE} ({columns}) VALUES ({placeholders})", list(rows)
        )
    q = connection.ops.quote_name
    values = q(CustomerValue._meta.db_table)
    repeat_spend = f"CAST(s.repeat_spend AS {float_type})"
    # Gamma-Gamma's conditional mean spend, E(M | x, m) = p(γ + x·m) / (px + q − 1); x·m is the
    # repeat spend itself, so x = 0 gives the population mean γp/(q − 1).
    expected_spend = f"(%(p)s * (%(gamma)s + {repeat_spend}) / (%(p)s * s.x + %(q)s - 1))"
    cursor.execute(
        f"INSERT INTO {values} (customer_id, historic_revenue, orders, repeat_days, "
        "recency_days, age_days, mean_repeat_spend, p_alive, expected_purchases_12m, "
        "expected_spend, clv_12m, scored_at) "
        "SELECT s.customer_id, s.revenue, s.orders, s.x, s.recency_days, s.age_days, "
        f"CASE WHEN s.x > 0 THEN ROUND(CAST({repeat_spend} / s.x AS NUMERIC), 2) ELSE 0 END, "
        "g.p_alive, g.expected_purchases, "
        f"ROUND(CAST({expected_spend} AS NUMERIC), 2), "
        f"ROUND(CAST(g.discounted_purchases * {expected_spend} AS NUMERIC), 2), %(scored_at)s "
        f"FROM {summary.SUMMARY_TABLE} s JOIN {SCORES_TABLE} g ON g.x = s.x "
        "AND g.recency_days = s.recency_days AND g.age_days = s.age_days "
        # WHERE true: SQLite needs it to parse ON CONFLICT after INSERT … SELECT … FROM.
        "WHERE true ORDER BY s.customer_id "
        "ON CONFLICT (customer_id) DO UPDATE SET historic_revenue = excluded.historic_revenue, "
        "orders = excluded.orders, repeat_days = excluded.repeat_days, "
        "recency_days = excluded.recency_days, age_days = excluded.age_days, "
        "mean_repeat_spend = excluded.mean_repeat_spend, p_alive = excluded.p_alive, "
        "expected_purchases_12m = excluded.expected_purchases_12m, "
        "expected_spend = excluded.expected_spend, clv_12m = excluded.clv_12m, "
        "scored_at = excluded.scored_at",
        {
            "p": spend.p,
            "q": spend.q,
            "gamma": spend.gamma,
            "scored_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        },
    )
    scored = cursor.rowcount
    cursor.execute(
        f"DELETE FROM {values} WHERE NOT EXISTS (SELECT 1 FROM {summary.SUMMARY_TABLE} s "
        f"WHERE s.customer_id = {values}.customer_id)"
    )
    cursor.execute(f"DROP TABLE {SCORES_TABLE}")
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {values}")
    return scored


def clv_segments_refresh() -> int:
    """Refresh the dynamic segments whose rules read CLV values, right after a run; the others
    (and segments built on these) follow with the periodic full refresh. Returns how many."""
    refreshed = 0
    for segment in segments_in_dependency_order(Segment.objects.filter(kind=Segment.Kind.DYNAMIC)):
        if segment.rules and "clv" in rule_dependencies(segment.rules).kinds:
            segment_refresh_or_mark(segment=segment)
            refreshed += 1
    return refreshed
