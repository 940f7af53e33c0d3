"""One entity's workload, prepared before the clock starts: the API request bodies and the rows
a COPY must write to store the same data.

The COPY rows are what the batch API writes for those items (same tables, same values), so the
two phases store identical data; `database.fingerprints` checks that after the run.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import orjson

from benchmarks.ingest import data

# Kaskad's API names the source of what it stores after the API key: "api:<key name>".
API_KEY_NAME = "bench"
SOURCE = f"api:{API_KEY_NAME}"

COLUMNS = {
    "customers_customer": (
        "id",
        "external_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "locale",
        "timezone",
        "birth_date",
        "lifecycle_stage",
        "attributes",
        "created_at",
        "updated_at",
    ),
    "customers_channelidentity": ("customer_id", "channel", "address", "created_at"),
    "customers_event": (
        "event_id",
        "customer_id",
        "name",
        "properties",
        "occurred_at",
        "received_at",
        "source",
    ),
    "customers_product": ("id", "sku", "name", "category", "price", "currency", "updated_at"),
    "customers_order": (
        "id",
        "external_id",
        "customer_id",
        "status",
        "placed_at",
        "total",
        "currency",
        "promo_code",
        "created_at",
        "updated_at",
    ),
    "customers_orderitem": (
        "order_id",
        "product_id",
        "sku",
        "name",
        "category",
        "quantity",
        "price",
    ),
}
# Tables whose ids the COPY sets itself (others reference them), so their sequences need moving on.
TABLES_WITH_GIVEN_IDS = ("customers_customer", "customers_product", "customers_order")


@dataclass
class Workload:
    entity: str  # "customers", "events" or "orders"
    path: str  # the batch endpoint
    items: int = 0
    bodies: list[bytes] = field(default_factory=list)
    # Table -> rows, in the order the COPY loads them (referenced tables first).
    rows: dict[str, list[tuple]] = field(default_factory=dict)

    @property
    def body_bytes(self) -> int:
        return sum(len(body) for body in self.bodies)


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def prepare(entity: str, sizes: data.Sizes, batch_size: int) -> Workload:
    """Serialise the request bodies (orjson, outside the timing) and build the matching COPY rows."""
    now = datetime.now(UTC)
    if entity == "customers":
        workload = Workload(entity, "/api/v1/customers/batch")
        items = data.customers(sizes.customers)
        add_rows = _customer_rows
    elif entity == "events":
        workload = Workload(entity, "/api/v1/events/batch")
        items = data.events(sizes.events, sizes.customers)
        add_rows = _event_rows
    elif entity == "orders":
        workload = Workload(entity, "/api/v1/orders/batch")
        items = data.orders(sizes.orders, sizes.customers)
        add_rows = _OrderRows()
    else:
        raise ValueError(f"unknown entity {entity!r}")
    for chunk in _chunks(items, batch_size):
        workload.bodies.append(orjson.dumps({"items": chunk}))
        workload.items += len(chunk)
        for item in chunk:
            add_rows(workload.rows, item, now)
    return workload


def _append(rows: dict[str, list[tuple]], table: str, row: tuple) -> None:
    rows.setdefault(table, []).append(row)


def _customer_rows(rows: dict[str, list[tuple]], item: dict[str, Any], now: datetime) -> None:
    customer_id = data.customer_number(item["external_id"])
    email = item["email"].lower()
    _append(
        rows,
        "customers_customer",
        (
            customer_id,
            item["external_id"],
            email,
            item["phone"],
            item["first_name"],
            item["last_name"],
            item["locale"],
            item["timezone"],
            item["birth_date"],
            item["lifecycle_stage"],
            "{}",
            now,
            now,
        ),
    )
    # The API files a customer's email and phone as their addresses on the email and SMS channels.
    _append(rows, "customers_channelidentity", (customer_id, "email", email, now))
    _append(rows, "customers_channelidentity", (customer_id, "sms", item["phone"], now))


def _event_rows(rows: dict[str, list[tuple]], item: dict[str, Any], now: datetime) -> None:
    _append(
        rows,
        "customers_event",
        (
            item["event_id"],
            data.customer_number(item["customer_external_id"]),
            item["name"],
            orjson.dumps(item["properties"]).decode(),
            item["occurred_at"],
            now,
            SOURCE,
        ),
    )


class _OrderRows:
    """Orders, their items, and the catalogue entries the API upserts from those items."""

    def __init__(self) -> None:
        self.order_id = 0
        self.product_ids: dict[str, int] = {}

    def __call__(self, rows: dict[str, list[tuple]], item: dict[str, Any], now: datetime) -> None:
        for order_item in item["items"]:
            if order_item["sku"] not in self.product_ids:
                product_id = len(self.product_ids) + 1
                self.product_ids[order_item["sku"]] = product_id
                _append(
                    rows,
                    "customers_product",
                    (
                        product_id,
                        order_item["sku"],
                        order_item["name"],
                        order_item["category"],
                        order_item["price"],
                        item["currency"],
                        now,
                    ),
                )
        self.order_id += 1
        _append(
            rows,
            "customers_order",
            (
                self.order_id,
                item["external_id"],
                data.customer_number(item["customer_external_id"]),
                item["status"],
                item["placed_at"],
                item["total"],
                item["currency"],
                item["promo_code"],
                now,
                now,
            ),
        )
        for order_item in item["items"]:
            _append(
                rows,
                "customers_orderitem",
                (
                    self.order_id,
                    self.product_ids[order_item["sku"]],
                    order_item["sku"],
                    order_item["name"],
                    order_item["category"],
                    order_item["quantity"],
                    order_item["price"],
                ),
            )
