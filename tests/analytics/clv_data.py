"""The CDNOW sample written straight into the tables (the batch API path is covered by
test_clv_cdnow.py), for tests that need a real fit quickly."""

from datetime import UTC, datetime, time

from customers.models import Customer, Order
from tests.analytics.cdnow import cdnow_rows


def cdnow_bulk_load() -> None:
    rows = cdnow_rows()
    ids = sorted({row[0] for row in rows})
    customers = Customer.objects.bulk_create(
        [Customer(external_id=f"cdnow-{cid}", email=f"c{cid}@example.com") for cid in ids]
    )
    by_id = {c.external_id: c for c in customers}
    seen: dict[str, int] = {}
    orders = []
    for cid, day, _cds, dollars in rows:
        seen[cid] = seen.get(cid, 0) + 1
        orders.append(
            Order(
                external_id=f"cdnow-{cid}-{seen[cid]}",
                customer=by_id[f"cdnow-{cid}"],
                status=Order.Status.COMPLETED,
                placed_at=datetime.combine(day, time(12), tzinfo=UTC),
                total=dollars,
                currency="USD",
            )
        )
    Order.objects.bulk_create(orders, batch_size=2000)
