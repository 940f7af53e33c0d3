from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.errors import ValidationFailed
from customers.api.schemas import OrderIn, OrderItemIn
from customers.hooks import orders_changed, orders_replacing, orders_written
from customers.models import Order, OrderItem, Product
from customers.services.batch import (
    BatchResult,
    copy_rows,
    copy_supported,
    customers_resolve_or_create,
    duplicate_key_errors,
)
from customers.services.segments import segments_refresh_enqueue_for_customers

ORDER_UPDATE_FIELDS = [
    "customer",
    "status",
    "placed_at",
    "total",
    "currency",
    "promo_code",
    "updated_at",
]


def _item_tuple(sku, name, category, quantity, price) -> tuple:
    return (sku, name, category, quantity, price)


def _order_snapshot(order: Order, items: list[tuple]) -> tuple:
    return (
        order.customer_id,
        order.status,
        order.placed_at,
        order.total,
        order.currency,
        order.promo_code,
        tuple(items),
    )


def order_upsert_batch(*, items: list[OrderIn], source: str = "api") -> BatchResult:
    """Create or update orders by external_id, with their items; products are upserted by SKU.

    An order sent again with the same content is unchanged; its items are replaced when it differs.
    Orders for unknown customers create those customers.
    """
    errors = duplicate_key_errors((item.external_id for item in items), "external_id")
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        customer_ids, customers_created = customers_resolve_or_create(
            (item.customer_external_id for item in items), now=now
        )
        existing = {
            order.external_id: order
            for order in Order.objects.select_for_update()
            .filter(external_id__in=[item.external_id for item in items])
            .order_by("external_id")  # a fixed lock order: concurrent batches cannot deadlock
            .prefetch_related("items")
        }
        to_write: list[tuple[Order, OrderIn]] = []
        created = 0
        for item in items:
            wanted_items = [
                _item_tuple(i.sku, i.name, i.category, i.quantity, i.price) for i in item.items
            ]
            order = existing.get(item.external_id)
            before = None
            if order is None:
                order = Order(external_id=item.external_id, created_at=now)
                created += 1
            else:
                stored_items = [
                    _item_tuple(i.sku, i.name, i.category, i.quantity, i.price)
                    for i in order.items.all()
                ]
                before = _order_snapshot(order, stored_items)
            order.customer_id = customer_ids[item.customer_external_id]
            order.status = item.status
            order.placed_at = item.placed_at
            order.total = item.total
            order.currency = item.currency
            order.promo_code = item.promo_code
            if before is None or _order_snapshot(order, wanted_items) != before:
                order.updated_at = now
                to_write.append((order, item))

        to_write.sort(key=lambda pair: pair[0].external_id)
        orders = [order for order, _ in to_write]
        orders_replacing([existing[o.external_id].pk for o in orders if o.external_id in existing])
        Order.objects.bulk_create(
            orders,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=ORDER_UPDATE_FIELDS,
        )
        order_ids = {o.external_id: o.pk for o in orders}
        if None in order_ids.values():  # databases that cannot return ids from an upsert
            order_ids = dict(
                Order.objects.filter(external_id__in=[o.external_id for o in orders]).values_list(
                    "external_id", "id"
                )
            )
        OrderItem.objects.filter(
            order_id__in=[existing[o.external_id].pk for o in orders if o.external_id in existing]
        ).delete()
        product_ids = _products_upsert(
            [i for _, item in to_write for i in item.items],
            item_currency={i.sku: item.currency for _, item in to_write for i in item.items},
            now=now,
        )
        order_items = [
            {
                "order_id": order_ids[order.external_id],
                "product_id": product_ids.get(i.sku),
                "sku": i.sku,
                "name": i.name,
                "category": i.category,
                "quantity": i.quantity,
                "price": i.price,
            }
            for order, item in to_write
            for i in item.items
        ]
        if copy_supported():
            copy_rows(OrderItem, order_items)  # nothing to clash with: items have no unique keys
        else:
            OrderItem.objects.bulk_create([OrderItem(**row) for row in order_items])
        orders_written(list(order_ids.values()))
        segments_refresh_enqueue_for_customers(
            customer_ids=[order.customer_id for order, _ in to_write], kinds={"orders"}
        )
        orders_changed([order_ids[order.external_id] for order, _ in to_write])
        # Customers created on the fly may enter profile-based segments ("created in the last…").
        segments_refresh_enqueue_for_customers(
            customer_ids=[customer_ids[e] for e in customers_created], kinds={"profile"}
        )
    return BatchResult(
        created=created,
        updated=len(to_write) - created,
        unchanged=len(items) - len(to_write),
        customers_created=customers_created,
    )


def _products_upsert(
    order_items: list[OrderItemIn], *, item_currency: dict[str, str], now: datetime
) -> dict[str, int]:
    """Keep the catalogue current from order items: the last non-empty name and category win."""
    if not order_items:
        return {}
    latest: dict[str, OrderItemIn] = {}
    for order_item in order_items:
        latest[order_item.sku] = order_item
    stored = {p.sku: p for p in Product.objects.filter(sku__in=sorted(latest))}
    to_write = []
    for sku in sorted(latest):
        order_item = latest[sku]
        product = stored.get(sku) or Product(sku=sku)
        wanted = (
            order_item.name or product.name,
            order_item.category or product.category,
            order_item.price,
            item_currency[sku],
            order_item.url or product.url,
            order_item.image_url or product.image_url,
        )
        if product.pk is None or wanted != (
            product.name,
            product.category,
            product.price,
            product.currency,
            product.url,
            product.image_url,
        ):
            (
                product.name,
                product.category,
                product.price,
                product.currency,
                product.url,
                product.image_url,
            ) = wanted
            product.updated_at = now
            to_write.append(product)
    if to_write:
        Product.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=[
                "name",
                "category",
                "price",
                "currency",
                "url",
                "image_url",
                "updated_at",
            ],
        )
    product_ids = {p.sku: p.pk for p in (*stored.values(), *to_write)}
    if None in product_ids.values():  # databases that cannot return ids from an upsert
        return dict(Product.objects.filter(sku__in=list(latest)).values_list("sku", "id"))
    return product_ids
