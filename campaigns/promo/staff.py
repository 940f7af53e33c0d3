"""Staff actions from the workspace: the promo services plus an audit entry in one transaction."""

from django.db import transaction

from api.audit import audit_record
from campaigns.promo import services
from campaigns.promo.models import PromoPool


def promo_pool_create_by_staff(*, actor, ip_address, fields: dict) -> PromoPool:
    with transaction.atomic():
        pool = services.promo_pool_create(**fields)
        audit_record(
            actor=actor,
            action="promo_pool.created",
            object_type="promo_pool",
            object_id=pool.pk,
            object_repr=pool.name,
            after={"name": pool.name, "kind": pool.kind, "prefix": pool.prefix},
            ip_address=ip_address,
        )
    return pool


POOL_EDITABLE = (
    "name",
    "discount_description",
    "prefix",
    "code_length",
    "alphabet",
    "per_customer_limit",
    "valid_from",
    "valid_until",
    "low_stock_threshold",
)


def promo_pool_update_by_staff(*, actor, ip_address, pool: PromoPool, fields: dict) -> PromoPool:
    """Change a pool's description, window, threshold or the pattern of codes generated from now
    on (codes already made keep theirs); the kind is fixed once codes may exist."""
    before = {name: getattr(pool, name) for name in POOL_EDITABLE}
    changes = {k: v for k, v in fields.items() if k in POOL_EDITABLE and before[k] != v}
    if not changes:
        return pool
    with transaction.atomic():
        pool = services.promo_pool_update(pool, **changes)
        audit_record(
            actor=actor,
            action="promo_pool.updated",
            object_type="promo_pool",
            object_id=pool.pk,
            object_repr=pool.name,
            before={k: before[k] for k in changes},
            after={k: getattr(pool, k) for k in changes},
            ip_address=ip_address,
        )
    services.promo_low_stock_check([pool])
    return pool


def promo_codes_generate_by_staff(*, actor, ip_address, pool: PromoPool, count: int) -> int:
    with transaction.atomic():
        created = services.promo_codes_generate(pool, count)
        audit_record(
            actor=actor,
            action="promo_codes.generated",
            object_type="promo_pool",
            object_id=pool.pk,
            object_repr=pool.name,
            after={"created": created},
            ip_address=ip_address,
        )
    services.promo_low_stock_check([pool])
    return created


def promo_codes_import_by_staff(
    *, actor, ip_address, pool: PromoPool, rows
) -> services.ImportReport:
    with transaction.atomic():
        report = services.promo_codes_import(pool, rows)
        audit_record(
            actor=actor,
            action="promo_codes.imported",
            object_type="promo_pool",
            object_id=pool.pk,
            object_repr=pool.name,
            after={
                "created": report.created,
                "duplicates": report.duplicates,
                "refused": len(report.refused),
            },
            ip_address=ip_address,
        )
    services.promo_low_stock_check([pool])
    return report


def promo_pool_archive_by_staff(*, actor, ip_address, pool: PromoPool) -> PromoPool:
    with transaction.atomic():
        services.promo_pool_archive(pool)
        audit_record(
            actor=actor,
            action="promo_pool.archived",
            object_type="promo_pool",
            object_id=pool.pk,
            object_repr=pool.name,
            after={"archived_at": pool.archived_at.isoformat()},
            ip_address=ip_address,
        )
    return pool
