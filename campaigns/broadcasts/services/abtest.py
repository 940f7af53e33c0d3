"""The A/B winner and the statistics shown next to it.

Rates (open, click, conversion): a two-proportion z-test between the best variant and the
runner-up, and the Bayesian probability that the best beats every other (Beta(1 + successes,
1 + failures) posteriors, drawn with a fixed seed so the figure does not flicker between
refreshes). Revenue per recipient: Welch's z-test on the per-recipient revenue (mean and variance
from the rolled-up sum and sum of squares), and the normal approximation of the probability to
beat. Holdout uplift uses the same two-proportion test on conversion.
"""

from __future__ import annotations

import math
import random

from campaigns.broadcasts.models import AbMetric, BroadcastStats

DRAWS = 20_000


def metric_trials(stats: BroadcastStats, metric: str) -> tuple[float, int]:
    """(successes or revenue, trials) of one variant for the metric."""
    if metric == AbMetric.OPENED:
        return stats.opened, stats.sent
    if metric == AbMetric.CLICKED:
        return stats.clicked, stats.sent
    if metric == AbMetric.CONVERTED:
        return stats.converted, stats.audience - stats.pending
    return float(stats.revenue), stats.audience - stats.pending


def metric_value(stats: BroadcastStats, metric: str) -> float:
    value, trials = metric_trials(stats, metric)
    return value / trials if trials else 0.0


def normal_p_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion_test(s1: float, n1: int, s2: float, n2: int) -> tuple[float, float]:
    """(z, two-sided p) for p1 = s1/n1 against p2 = s2/n2, pooled variance."""
    if not n1 or not n2:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (s1 / n1 - s2 / n2) / se
    return z, normal_p_two_sided(z)


def probability_best(rows: list[tuple[float, int]], seed: int = 0) -> list[float]:
    """P(each arm has the highest rate) from Beta posteriors, by simulation."""
    rng = random.Random(seed)
    wins = [0] * len(rows)
    for _ in range(DRAWS):
        draws = [rng.betavariate(1 + s, 1 + max(n - s, 0)) for s, n in rows]
        wins[draws.index(max(draws))] += 1
    return [w / DRAWS for w in wins]


def welch_z(stats_a: BroadcastStats, stats_b: BroadcastStats) -> tuple[float, float]:
    """(z, two-sided p) for revenue per recipient of a against b."""
    moments = []
    for stats in (stats_a, stats_b):
        total, n = metric_trials(stats, AbMetric.REVENUE)
        if n < 2:
            return 0.0, 1.0
        mean = total / n
        variance = max((stats.revenue_sq - n * mean * mean) / (n - 1), 0.0)
        moments.append((mean, variance, n))
    (m1, v1, n1), (m2, v2, n2) = moments
    se = math.sqrt(v1 / n1 + v2 / n2)
    if se == 0:
        return 0.0, 1.0
    z = (m1 - m2) / se
    return z, normal_p_two_sided(z)


def winner_pick(
    variant_stats: list[BroadcastStats], metric: str, seed: int = 0
) -> tuple[int, dict]:
    """(winning variant id, statistics). Ties go to the earlier variant (A before B)."""
    ordered = sorted(variant_stats, key=lambda s: s.variant.key)
    best = max(ordered, key=lambda s: metric_value(s, metric))  # max keeps the first of equals
    others = [s for s in ordered if s is not best]
    runner = max(others, key=lambda s: metric_value(s, metric)) if others else None
    result: dict = {
        "metric": metric,
        "values": {s.variant.key: round(metric_value(s, metric), 6) for s in ordered},
        "trials": {s.variant.key: metric_trials(s, metric)[1] for s in ordered},
    }
    if runner is None:
        return best.variant_id, result
    if metric == AbMetric.REVENUE:
        z, p = welch_z(best, runner)
        result.update(method="welch_z", z=round(z, 4), p_value=round(p, 6))
        result["probability_to_beat"] = round(0.5 * (1 + math.erf(z / math.sqrt(2))), 4)
    else:
        s1, n1 = metric_trials(best, metric)
        s2, n2 = metric_trials(runner, metric)
        z, p = two_proportion_test(s1, n1, s2, n2)
        chances = probability_best([metric_trials(s, metric) for s in ordered], seed)
        result.update(
            method="two_proportion_z",
            z=round(z, 4),
            p_value=round(p, 6),
            probability_to_beat=round(chances[ordered.index(best)], 4),
        )
    runner_value = metric_value(runner, metric)
    result["lift"] = (
        round(metric_value(best, metric) / runner_value - 1, 4) if runner_value else None
    )
    result["significant"] = result["p_value"] < 0.05
    return best.variant_id, result


def holdout_uplift(treated: list[BroadcastStats], holdout: BroadcastStats | None) -> dict | None:
    """Conversion of everyone sent to (all variants together) against the holdout."""
    if holdout is None:
        return None
    n1 = sum(s.audience - s.pending for s in treated)
    s1 = sum(s.converted for s in treated)
    n2, s2 = holdout.audience, holdout.converted
    if not n1 or not n2:
        return None
    z, p = two_proportion_test(s1, n1, s2, n2)
    rate1, rate2 = s1 / n1, s2 / n2
    revenue1 = float(sum(s.revenue for s in treated)) / n1
    revenue2 = float(holdout.revenue) / n2
    return {
        "conversion_rate": round(rate1, 6),
        "holdout_conversion_rate": round(rate2, 6),
        "uplift_points": round(rate1 - rate2, 6),
        "uplift_relative": round(rate1 / rate2 - 1, 4) if rate2 else None,
        "revenue_per_recipient": round(revenue1, 2),
        "holdout_revenue_per_recipient": round(revenue2, 2),
        "incremental_revenue": round((revenue1 - revenue2) * n1, 2),
        "z": round(z, 4),
        "p_value": round(p, 6),
        "significant": p < 0.05,
    }
