"""Conversion: from a message to an order, and through a funnel of named events to an order.

Message → order: of the customers sent a message (queued in the period; channel and source
optional), the share who placed a counted order within N days after one of those messages was
sent. One grouped query; the order check is an EXISTS probe per message on order_timeline.

Funnel: step 1 is the first event of its name in the period; each later step (an event name, and
last an order) counts a customer only if it happened at or after their previous step and within
N days of it. Each step is one SQL: a grouped query whose "previous step" time is the previous
step's query as a correlated subquery, so nothing is carried through Python.
"""

import datetime as dt

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.query import QuerySet

from analytics.metrics import formulas
from analytics.metrics.filters import MetricFilters
from analytics.rollups.days import COUNTED_ORDERS
from channels.models import Message
from customers.models import Event, Order

ORDER_STEP = "order"


def _plus(expression, days: int):
    return ExpressionWrapper(
        expression + Value(dt.timedelta(days=days)), output_field=DateTimeField()
    )


def message_conversion(
    filters: MetricFilters, *, window_days: int, source: str | None = None
) -> list[dict]:
    """Per channel: messages sent, customers reached, customers who ordered within the window."""
    messages = Message.objects.filter(
        filters.customer_q(),
        queued_at__gte=filters.start,
        queued_at__lt=filters.end,
        sent_at__isnull=False,
    )
    if filters.channel:
        messages = messages.filter(channel=filters.channel)
    if source:
        messages = messages.filter(source=source)
    ordered = Exists(
        Order.objects.filter(
            COUNTED_ORDERS,
            customer_id=OuterRef("customer_id"),
            placed_at__gte=OuterRef("sent_at"),
            placed_at__lt=_plus(OuterRef("sent_at"), window_days),
        )
    )
    rows = (
        messages.annotate(ordered=ordered)
        .values("channel")
        .annotate(
            messages=Count("pk"),
            recipients=Count("customer_id", distinct=True),
            converted=Count("customer_id", distinct=True, filter=Q(ordered=True)),
        )
        .order_by("channel")
    )
    return [
        {
            "channel": row["channel"],
            "messages": row["messages"],
            "recipients": row["recipients"],
            "converted": row["converted"],
            "conversion_rate": formulas.percent(row["converted"], row["recipients"]),
        }
        for row in rows
    ]


def events_funnel(filters: MetricFilters, *, steps: list[str], window_days: int) -> list[dict]:
    """Customers reaching each step in order, then an order; each step's share of the first."""
    names = [*steps, ORDER_STEP]
    queries: list[QuerySet] = []
    for index, name in enumerate(names):
        queries.append(
            _step_query(filters, name, index, queries[-1] if queries else None, window_days)
        )
    counts = [query.count() for query in queries]
    out = []
    for index, (name, count) in enumerate(zip(names, counts, strict=True)):
        out.append(
            {
                "step": index + 1,
                "name": name,
                "customers": count,
                "of_first": formulas.percent(count, counts[0]),
                "of_previous": formulas.percent(count, counts[index - 1]) if index else None,
            }
        )
    return out


def _step_query(
    filters: MetricFilters, name: str, index: int, previous: QuerySet | None, window_days: int
) -> QuerySet:
    """Per customer, the time they first reached this step (after their previous one)."""
    is_order = index > 0 and name == ORDER_STEP
    model, field = (Order, "placed_at") if is_order else (Event, "occurred_at")
    rows = model.objects.filter(filters.customer_q())
    rows = rows.filter(COUNTED_ORDERS) if is_order else rows.filter(name=name)
    # Bound the scan with the step's possible time range, so (name, occurred_at) is used.
    latest = filters.end + dt.timedelta(days=window_days * index)
    rows = rows.filter(**{f"{field}__gte": filters.start, f"{field}__lt": latest})
    if previous is not None:
        prev = Subquery(
            previous.filter(customer_id=OuterRef("customer_id")).values("reached")[:1],
            output_field=DateTimeField(),
        )
        rows = rows.annotate(prev=prev).filter(
            **{f"{field}__gte": F("prev"), f"{field}__lte": _plus(F("prev"), window_days)}
        )
    return rows.values("customer_id").annotate(reached=Min(field)).order_by()
