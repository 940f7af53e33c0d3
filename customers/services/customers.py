"""Creating and updating customers, one at a time or 1,000 in a batch, all or nothing."""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.errors import ApiError, ValidationFailed
from customers.api.schemas import CustomerFields, CustomerIn
from customers.models import Channel, ChannelIdentity, Consent, ConsentStatus, Customer
from customers.services.attributes import attribute_types, attributes_merge
from customers.services.batch import BatchResult, duplicate_key_errors
from customers.services.consents import ConsentUpdate, consents_apply
from customers.services.segments import segments_refresh_enqueue_for_customers

# Profile fields copied from the input as they are; None clears them.
PROFILE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "locale",
    "timezone",
    "birth_date",
    "lifecycle_stage",
)
NULLABLE_FIELDS = {"birth_date"}
# What an upsert may overwrite on an existing row (never external_id).
UPSERT_UPDATE_FIELDS = [*PROFILE_FIELDS, "attributes", "created_at", "updated_at"]
# What a customer upsert may change, in the terms of segment rules (customers/segments/rules).
PROFILE_RULE_KINDS = {"profile", "attributes", "identities", "consent"}
# email and phone are also the customer's addresses on these channels.
ADDRESS_FIELDS = {"email": Channel.EMAIL, "phone": Channel.SMS}


@dataclass
class _Planned:
    """What one batch item will do, worked out before anything is written."""

    index: int
    item: CustomerIn
    customer: Customer
    is_new: bool
    changed: bool = False
    identities_to_add: list[tuple[str, str]] = field(default_factory=list)
    identities_to_remove: list[tuple[str, str]] = field(default_factory=list)


def _apply_profile(
    customer: Customer, data: CustomerFields, types: dict[str, str]
) -> tuple[bool, list]:
    changed = False
    for name in PROFILE_FIELDS:
        if name not in data.model_fields_set:
            continue
        value = getattr(data, name)
        if value is None and name not in NULLABLE_FIELDS:
            value = ""
        if getattr(customer, name) != value:
            setattr(customer, name, value)
            changed = True
    if data.created_at is not None and data.created_at != customer.created_at:
        customer.created_at = data.created_at
        changed = True
    problems: list = []
    if data.attributes:
        merged, problems = attributes_merge(customer.attributes or {}, data.attributes, types)
        if merged != customer.attributes:
            customer.attributes = merged
            changed = True
    return changed, problems


def _wanted_identities(item: CustomerFields) -> list[tuple[str, str, str]]:
    """(channel, address, field path) for each address the item gives."""
    wanted = [
        (channel, getattr(item, field_name), field_name)
        for field_name, channel in ADDRESS_FIELDS.items()
        if field_name in item.model_fields_set and getattr(item, field_name)
    ]
    wanted.extend(
        (identity.channel, identity.address, f"identities[{j}]")
        for j, identity in enumerate(item.identities or [])
    )
    return wanted


def customer_upsert_batch(*, items: list[CustomerIn], source: str = "api") -> BatchResult:
    """Create or update customers by external_id. Validates every item first; writes all or none.

    Replaying the same batch changes nothing and counts every item as unchanged.
    """
    errors = duplicate_key_errors((item.external_id for item in items), "external_id")
    if errors:
        raise ValidationFailed(errors)
    types = attribute_types()
    now = timezone.now()

    with transaction.atomic():
        # Locked in external_id order, so concurrent batches cannot deadlock on each other.
        existing = {
            c.external_id: c
            for c in Customer.objects.select_for_update()
            .filter(external_id__in=[item.external_id for item in items])
            .order_by("external_id")
        }
        plans: list[_Planned] = []
        wanted_by_index: dict[int, list[tuple[str, str, str]]] = {}
        for index, item in enumerate(items):
            customer = existing.get(item.external_id)
            is_new = customer is None
            if is_new:
                customer = Customer(external_id=item.external_id, created_at=now, attributes={})
            old_addresses = {f: getattr(customer, f) for f in ADDRESS_FIELDS}
            changed, problems = _apply_profile(customer, item, types)
            errors.extend(
                {"index": index, "field": f"attributes.{key}", "message": message}
                for key, message in problems
            )
            plan = _Planned(
                index=index, item=item, customer=customer, is_new=is_new, changed=changed
            )
            for field_name, channel in ADDRESS_FIELDS.items():
                old = old_addresses[field_name]
                if old and old != getattr(customer, field_name):
                    plan.identities_to_remove.append((channel, old))
            wanted_by_index[index] = _wanted_identities(item)
            plans.append(plan)

        errors.extend(_plan_identities(plans, wanted_by_index))
        if errors:
            raise ValidationFailed(sorted(errors, key=lambda e: e["index"]))

        consent_updates_by_plan = _consent_changes(plans)
        to_write = [
            p for p in plans if p.is_new or p.changed or consent_updates_by_plan.get(p.index)
        ]
        for plan in to_write:
            plan.customer.updated_at = now
        _write_customers([p.customer for p in to_write])

        ChannelIdentity.objects.filter(
            _identity_filter(
                (p.customer.pk, channel, address)
                for p in plans
                for channel, address in p.identities_to_remove
            )
        ).delete()
        ChannelIdentity.objects.bulk_create(
            [
                ChannelIdentity(
                    customer_id=p.customer.pk, channel=channel, address=address, created_at=now
                )
                for p in plans
                for channel, address in p.identities_to_add
            ],
            ignore_conflicts=True,
        )
        consents_apply(
            updates=[
                ConsentUpdate(p.customer.pk, c.channel, c.status, c.source or source)
                for p in plans
                for c in p.item.consents or []
            ],
            now=now,
        )
        segments_refresh_enqueue_for_customers(
            customer_ids=[p.customer.pk for p in to_write], kinds=PROFILE_RULE_KINDS
        )

    created = sum(1 for p in plans if p.is_new)
    updated = len(to_write) - created
    return BatchResult(created=created, updated=updated, unchanged=len(items) - created - updated)


def _plan_identities(
    plans: list[_Planned], wanted_by_index: dict[int, list]
) -> list[dict[str, Any]]:
    """Decide which addresses to add, and report those that belong to someone else."""
    addresses = {address for wanted in wanted_by_index.values() for _, address, _ in wanted}
    owners = {
        (channel, address): external_id
        for channel, address, external_id in ChannelIdentity.objects.filter(
            address__in=addresses
        ).values_list("channel", "address", "customer__external_id")
    }
    errors = []
    claimed: dict[tuple[str, str], int] = {}
    for plan in plans:
        for channel, address, field_path in wanted_by_index[plan.index]:
            key = (channel, address)
            owner = owners.get(key)
            if key in claimed and claimed[key] != plan.index:
                errors.append(
                    {
                        "index": plan.index,
                        "field": field_path,
                        "message": f"{channel} address {address} is also given at index {claimed[key]}",
                    }
                )
            elif owner is not None and owner != plan.item.external_id:
                errors.append(
                    {
                        "index": plan.index,
                        "field": field_path,
                        "message": f"{channel} address {address} belongs to customer '{owner}'",
                    }
                )
            elif owner is None and key not in claimed:
                plan.identities_to_add.append(key)
                plan.changed = True
            claimed[key] = plan.index
    return errors


def _consent_changes(plans: list[_Planned]) -> dict[int, bool]:
    """Whether each item's consents differ from what is stored (an item may change nothing else)."""
    existing_ids = [p.customer.pk for p in plans if not p.is_new and p.item.consents]
    current = {
        (customer_id, channel): status
        for customer_id, channel, status in Consent.objects.filter(
            customer_id__in=existing_ids
        ).values_list("customer_id", "channel", "status")
    }
    return {
        p.index: any(
            current.get((p.customer.pk, c.channel), ConsentStatus.UNKNOWN) != c.status
            for c in p.item.consents or []
        )
        for p in plans
    }


def _write_customers(customers: list[Customer]) -> None:
    """Insert new and update changed customers in one statement per 1,000 rows."""
    if not customers:
        return
    Customer.objects.bulk_create(
        customers,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=UPSERT_UPDATE_FIELDS,
    )
    missing_pk = [c for c in customers if c.pk is None]
    if missing_pk:  # databases that cannot return ids from an upsert
        ids = dict(
            Customer.objects.filter(
                external_id__in=[c.external_id for c in missing_pk]
            ).values_list("external_id", "id")
        )
        for customer in missing_pk:
            customer.pk = ids[customer.external_id]


def _identity_filter(rows) -> Q:
    condition = Q(pk__in=[])
    for customer_id, channel, address in rows:
        condition |= Q(customer_id=customer_id, channel=channel, address=address)
    return condition


def customer_create(*, data: CustomerIn, source: str = "api") -> Customer:
    if Customer.objects.filter(external_id=data.external_id).exists():
        raise ApiError(
            f"A customer with external_id '{data.external_id}' already exists.",
            code="already_exists",
            status_code=409,
        )
    _upsert_one(data, source)
    return Customer.objects.get(external_id=data.external_id)


def customer_update(*, customer: Customer, data: CustomerFields, source: str = "api") -> Customer:
    item = CustomerIn.model_construct(
        _fields_set={"external_id", *data.model_fields_set},
        external_id=customer.external_id,
        **{name: getattr(data, name) for name in CustomerFields.model_fields},
    )
    _upsert_one(item, source)
    customer.refresh_from_db()
    return customer


def _upsert_one(item: CustomerIn, source: str) -> None:
    try:
        customer_upsert_batch(items=[item], source=source)
    except ValidationFailed as exc:
        for error in exc.errors:
            error.pop("index", None)
        raise
