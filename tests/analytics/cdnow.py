"""Load the CDNOW sample (tests/analytics/data) through the public batch API, as a shop would.

Each of the 2,357 customers becomes a customer `cdnow-<id>`; each of the 6,919 purchase records an
order `cdnow-<id>-<n>` placed at noon UTC on its day, in USD. Published results on this sample
(Fader, Hardie and Lee 2005) use a 39-week calibration period ending on 1997-09-30.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).parent / "data" / "CDNOW_sample.txt"
CALIBRATION_END = dt.date(1997, 9, 30)
BATCH = 1000


def cdnow_rows() -> list[tuple[str, dt.date, int, Decimal]]:
    """(customer id, date, CDs, dollars) for each purchase record, in file order."""
    rows = []
    for line in DATA.read_text().splitlines():
        _master_id, sample_id, day, cds, dollars = line.split()
        date = dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))
        rows.append((sample_id, date, int(cds), Decimal(dollars)))
    return rows


def cdnow_load(api) -> dict[str, int]:
    """POST the customers and orders to /api/v1/{customers,orders}/batch; returns counts."""
    rows = cdnow_rows()
    customer_ids = sorted({row[0] for row in rows})
    customers = [{"external_id": f"cdnow-{cid}", "locale": "en-US"} for cid in customer_ids]
    _post_all(api, "/api/v1/customers/batch", customers)
    seen: dict[str, int] = defaultdict(int)
    orders = []
    for cid, date, _cds, dollars in rows:
        seen[cid] += 1
        orders.append(
            {
                "external_id": f"cdnow-{cid}-{seen[cid]}",
                "customer_external_id": f"cdnow-{cid}",
                "status": "completed",
                "placed_at": f"{date.isoformat()}T12:00:00Z",
                "total": str(dollars),
                "currency": "USD",
            }
        )
    _post_all(api, "/api/v1/orders/batch", orders)
    return {"customers": len(customers), "orders": len(orders)}


def _post_all(api, url: str, items: list[dict]) -> None:
    for start in range(0, len(items), BATCH):
        response = api.post(url, {"items": items[start : start + BATCH]}, format="json")
        assert response.status_code == 200, response.content[:500]
