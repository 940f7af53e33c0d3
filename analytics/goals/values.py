"""What a goal measures: each metric over a trailing window ending on a day.

Every metric is measured over the goal's window (default 90 days) ending on the day asked, so the
baseline (at creation) and today's value compare like with like. A segment narrows the customers to
its members as they are now; a channel narrows them to those sent a message on it within the
window (for survey scores: the answers given on it).

Returns None when there is nothing to measure (no base, no orders, no answers).
"""

import datetime as dt

from django.db.models import Avg, Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from analytics.models import SurveyAnswer, SurveyKind
from analytics.surveys.scores import BANDS, Tally, score_of
from analytics.windows import active_base, completed_orders, day_start, in_segment, messaged
from customers.models import Customer

ACTIVITY_DAYS = 180

# key: (label, unit) — unit "%" for shares shown as percentages, "money", "count" or "score".
GOAL_METRICS = {
    "retention": (_("Retention"), "%"),
    "conversion": (_("Conversion from messages"), "%"),
    "revenue": (_("Revenue"), "money"),
    "aov": (_("Average order value"), "money"),
    "active_customers": (_("Active customers"), "count"),
    "repeat_rate": (_("Repeat purchase rate"), "%"),
    "nps": (_("NPS"), "score"),
    "csat": (_("CSAT"), "%"),
    "ces": (_("CES"), "score"),
}


def goal_metric_value(
    metric: str, *, end: dt.date, window_days: int, segment_id=None, channel=""
) -> float | None:
    stop = day_start(end + dt.timedelta(days=1))  # the window includes `end`
    start = stop - dt.timedelta(days=window_days)
    if metric in ("nps", "csat", "ces"):
        return _survey_score(metric, start, stop, segment_id, channel)
    customers = in_segment(Customer.objects.all(), segment_id)
    if channel:
        customers = customers.filter(pk__in=messaged(start, stop, channel).values("customer_id"))
    if metric == "retention":
        base = active_base(start, ACTIVITY_DAYS, segment_id)
        if channel:
            base = base.filter(pk__in=customers.values("pk"))
        size = base.count()
        if not size:
            return None
        returned = completed_orders(start, stop).filter(customer_id__in=base.values("pk"))
        return 100 * returned.values("customer_id").distinct().count() / size
    if metric == "conversion":
        reached = in_segment(
            Customer.objects.filter(pk__in=messaged(start, stop, channel).values("customer_id")),
            segment_id,
        )
        size = reached.count()
        if not size:
            return None
        bought = completed_orders(start, stop).filter(customer_id__in=reached.values("pk"))
        return 100 * bought.values("customer_id").distinct().count() / size
    orders = completed_orders(start, stop).filter(customer_id__in=customers.values("pk"))
    if metric == "revenue":
        return float(orders.aggregate(total=Sum("total"))["total"] or 0)
    if metric == "aov":
        value = orders.aggregate(avg=Avg("total"))["avg"]
        return float(value) if value is not None else None
    if metric == "active_customers":
        return float(orders.values("customer_id").distinct().count())
    if metric == "repeat_rate":
        per_customer = orders.values("customer_id").annotate(n=Count("id"))
        buyers = per_customer.count()
        if not buyers:
            return None
        return 100 * per_customer.filter(n__gte=2).count() / buyers
    raise ValueError(f"unknown goal metric {metric!r}")


def _survey_score(metric, start, stop, segment_id, channel) -> float | None:
    """The kind's score (analytics.surveys.scores) over the answers given in the window: NPS,
    CSAT as % of 4–5, and CES as its average (1–7), the figure a CES goal is usually set on."""
    answers = SurveyAnswer.objects.filter(
        survey__kind=SurveyKind(metric), answered_at__gte=start, answered_at__lt=stop
    )
    answers = in_segment(answers, segment_id, column="customer_id")
    if channel:
        answers = answers.filter(channel=channel)
    top, bottom = BANDS[SurveyKind(metric)]
    row = answers.aggregate(
        n=Count("id"),
        total=Sum("score"),
        squares=Sum(F("score") * F("score")),
        top=Count("id", filter=Q(score__gte=top)),
        bottom=Count("id", filter=Q(score__lte=bottom)),
    )
    tally = Tally(
        responses=row["n"],
        total=row["total"] or 0,
        squares=row["squares"] or 0,
        top=row["top"],
        bottom=row["bottom"],
    )
    score = score_of(metric, tally)
    return score.mean if metric == "ces" else score.score
