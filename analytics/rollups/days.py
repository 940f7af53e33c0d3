"""Calendar days in the project's TIME_ZONE, and the datetime ranges that select them with an index."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from customers.models import Order

# Cancelled and refunded orders are not revenue and do not make a buyer.
COUNTED_ORDERS = ~Q(status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])


def day_start(day: dt.date) -> dt.datetime:
    """Midnight starting `day` in the current time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def day_spans(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous days merged into (first, last) spans, so a month of days is one range."""
    spans: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if spans and spans[-1][1] + dt.timedelta(days=1) == day:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [(first, last) for first, last in spans]


def spans_q(field: str, spans: list[tuple[dt.date, dt.date]]) -> Q:
    """`field` within any of the spans (each [first 00:00, last + 1 day 00:00)), one range each."""
    q = Q(pk__in=[])
    for first, last in spans:
        q |= Q(
            **{
                f"{field}__gte": day_start(first),
                f"{field}__lt": day_start(last + dt.timedelta(days=1)),
            }
        )
    return q


def month_spans(months: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Months (firsts of month) as day spans, contiguous months merged."""
    days = []
    for month in sorted(set(months)):
        days.append(month)
        days.append(next_month(month) - dt.timedelta(days=1))
    spans: list[tuple[dt.date, dt.date]] = []
    for first, last in zip(days[::2], days[1::2], strict=True):
        if spans and spans[-1][1] + dt.timedelta(days=1) == first:
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
    return spans
