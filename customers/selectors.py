from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Note,
    Order,
    RfmScore,
    RfmSegment,
    SegmentMembership,
)
from customers.services.rfm import RFM_SEGMENT_GRID


def customer_list() -> QuerySet[Customer]:
    """Live (not erased) customers with what the API shows of each, loaded in four queries."""
    return (
        Customer.objects.filter(erased_at__isnull=True)
        .select_related("rfm")
        .prefetch_related(
            "identities",
            "consents",
            Prefetch(
                "segment_memberships",
                queryset=SegmentMembership.objects.select_related("segment").order_by("segment_id"),
            ),
        )
    )


def customer_get(*, external_id: str) -> Customer:
    """The live customer with this CRM id, or 404."""
    return get_object_or_404(customer_list(), external_id=external_id)


def consent_list(*, customer: Customer) -> QuerySet[Consent]:
    return Consent.objects.filter(customer=customer).order_by("channel")


def customer_export_data(*, customer: Customer) -> dict[str, Any]:
    """Everything Kaskad holds about one customer (GDPR art. 15 and 20), as plain JSON data."""
    return {
        "exported_at": timezone.now(),
        "profile": {
            "external_id": customer.external_id,
            "email": customer.email,
            "phone": customer.phone,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "locale": customer.locale,
            "timezone": customer.timezone,
            "birth_date": customer.birth_date,
            "lifecycle_stage": customer.lifecycle_stage,
            "attributes": customer.attributes,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
        },
        "identities": list(
            ChannelIdentity.objects.filter(customer=customer)
            .order_by("channel", "address")
            .values("channel", "address", "created_at")
        ),
        "consents": list(
            consent_list(customer=customer).values("channel", "status", "source", "updated_at")
        ),
        "consent_log": list(
            ConsentChange.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values("channel", "previous_status", "status", "source", "occurred_at")
        ),
        "events": list(
            Event.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values("event_id", "name", "properties", "occurred_at", "received_at", "source")
        ),
        "orders": [
            {
                "external_id": order.external_id,
                "status": order.status,
                "placed_at": order.placed_at,
                "total": order.total,
                "currency": order.currency,
                "promo_code": order.promo_code,
                "items": [
                    {
                        "sku": i.sku,
                        "name": i.name,
                        "category": i.category,
                        "quantity": i.quantity,
                        "price": i.price,
                    }
                    for i in order.items.all()
                ],
            }
            for order in Order.objects.filter(customer=customer)
            .order_by("placed_at", "pk")
            .prefetch_related("items")
        ],
        "notes": list(
            Note.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("body", "created_at")
        ),
    }


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _average(amount: Decimal | None, count: int) -> Decimal | None:
    if not count or amount is None:
        return None
    return (Decimal(amount) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rfm_matrix() -> dict[str, Any]:
    """Customers, share and average monetary per R×F cell and per RFM segment.

    Every cell (R 5→1, F 1→5, as the matrix is drawn) and every segment is listed, empty ones too.
    Counted in the database: one GROUP BY per breakdown.
    """
    cells = {
        (row["r"], row["f"]): row
        for row in RfmScore.objects.values("r", "f")
        .annotate(
            customers=Count("*"),
            monetary=Sum("monetary"),
            as_of=Max("as_of"),
            computed_at=Max("computed_at"),
        )
        .order_by()
    }
    segments = {
        row["segment"]: row
        for row in RfmScore.objects.values("segment")
        .annotate(customers=Count("*"), monetary=Sum("monetary"))
        .order_by()
    }
    total = sum(row["customers"] for row in cells.values())
    empty = {"customers": 0, "monetary": None}
    return {
        "customers": total,
        "as_of": max((row["as_of"] for row in cells.values()), default=None),
        "computed_at": max((row["computed_at"] for row in cells.values()), default=None),
        "cells": [
            {
                "r": r,
                "f": f,
                "segment": segment.value,
                "customers": (cell := cells.get((r, f), empty))["customers"],
                "share": _share(cell["customers"], total),
                "avg_monetary": _average(cell["monetary"], cell["customers"]),
            }
            for r, row in RFM_SEGMENT_GRID.items()
            for f, segment in enumerate(row, start=1)
        ],
        "segments": [
            {
                "segment": segment.value,
                "label": segment.label,
                "customers": (group := segments.get(segment.value, empty))["customers"],
                "share": _share(group["customers"], total),
                "avg_monetary": _average(group["monetary"], group["customers"]),
            }
            for segment in RfmSegment
        ],
    }
