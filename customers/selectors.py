from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import ChannelIdentity, Consent, ConsentChange, Customer, Event, Note, Order


def customer_list() -> QuerySet[Customer]:
    """Live (not erased) customers with what the API shows of each, loaded in three queries."""
    return Customer.objects.filter(erased_at__isnull=True).prefetch_related(
        "identities", "consents"
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
