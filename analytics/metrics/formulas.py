"""The arithmetic of the customer metrics, free of the database so it can be checked by hand.

A "customer" at an instant t is someone with a counted order in the churn window before t
(default 180 days), so S and E below are counts of such customers at the period's start and end.
"""

from decimal import ROUND_HALF_UP, Decimal


def percent(part: float | int | Decimal, whole: float | int | Decimal) -> float | None:
    """part / whole × 100, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round(float(part) / float(whole) * 100, 2)


def crr(*, start: int, end: int, new: int) -> float | None:
    """Customer retention rate, (E − N) / S × 100: of the customers at the start (S), how many
    the end count (E) holds once the new customers of the period (N) are taken out. It can pass
    100 when lapsed customers come back."""
    return percent(end - new, start)


def retention_rate(*, start: int, retained: int) -> float | None:
    """Of the customers at the start, the share still customers at the end."""
    return percent(retained, start)


def churn_rate(*, start: int, retained: int) -> float | None:
    """Of the customers at the start, the share no longer customers at the end."""
    return percent(start - retained, start)


def repeat_purchase_rate(*, buyers: int, repeat_buyers: int) -> float | None:
    """Of the customers who ordered in the period, the share who ordered at least twice."""
    return percent(repeat_buyers, buyers)


def purchase_frequency(*, orders: int, buyers: int) -> float | None:
    """Orders per ordering customer in the period."""
    if not buyers:
        return None
    return round(orders / buyers, 4)


def average_order_value(*, revenue: Decimal, orders: int) -> Decimal | None:
    if not orders:
        return None
    return (Decimal(revenue) / orders).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
