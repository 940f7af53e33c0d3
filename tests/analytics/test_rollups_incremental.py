import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from analytics.models import CohortActivity, CustomerRollup, DailyRollup, RollupDirtyDay
from analytics.rollups.refresh import rollups_rebuild, rollups_refresh

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 4, 20)


def post_orders(api, *orders):
    items = [
        {
            "external_id": ext,
            "customer_external_id": customer,
            "status": status,
            "placed_at": f"{day.isoformat()}T10:00:00Z",
            "total": total,
            "currency": "USD",
        }
        for ext, customer, day, total, status in (
            (*o, "completed") if len(o) == 4 else o for o in orders
        )
    ]
    response = api.post("/api/v1/orders/batch", {"items": items}, format="json")
    assert response.status_code == 200, response.content


def daily() -> dict:
    return {
        r.day: (r.orders, r.revenue, r.buyers, r.new_buyers, r.returning_buyers)
        for r in DailyRollup.objects.all()
    }


def cohorts() -> dict:
    return {
        (c.cohort_month, c.month): (c.customers, c.orders, c.revenue)
        for c in CohortActivity.objects.all()
    }


def snapshot() -> tuple:
    return (
        daily(),
        cohorts(),
        {(r.customer_id, r.first_order_day) for r in CustomerRollup.objects.all()},
    )


def test_a_late_arriving_order_updates_its_day_and_only_it(api):
    post_orders(api, ("o1", "alice", D1, "10.00"), ("o2", "bob", D2, "20.00"))
    rollups_refresh()
    assert daily()[D1] == (1, Decimal("10.00"), 1, 1, 0)
    d2_computed = DailyRollup.objects.get(day=D2).computed_at

    post_orders(api, ("o3", "bob", D1, "5.50"))  # arrives weeks late, for an old day

    assert set(RollupDirtyDay.objects.values_list("day", flat=True)) == {D1}
    rollups_refresh()
    assert daily()[D1] == (2, Decimal("15.50"), 2, 2, 0)  # bob's first order is now on D1
    assert daily()[D2] == (1, Decimal("20.00"), 1, 0, 1)  # ...so on D2 he returns
    assert DailyRollup.objects.get(day=D2).computed_at >= d2_computed
    assert not RollupDirtyDay.objects.exists()


def test_the_late_order_leaves_days_it_does_not_touch_alone(api):
    post_orders(api, ("o1", "alice", D1, "10.00"), ("o2", "carol", D3, "20.00"))
    rollups_refresh()
    d3_computed = DailyRollup.objects.get(day=D3).computed_at

    post_orders(api, ("o3", "alice", D2, "5.00"))
    rollups_refresh()

    assert DailyRollup.objects.get(day=D3).computed_at == d3_computed
    assert daily()[D2] == (1, Decimal("5.00"), 1, 0, 1)


def test_an_order_whose_day_changed_moves_between_days(api):
    post_orders(api, ("o1", "alice", D1, "10.00"), ("o2", "bob", D1, "20.00"))
    rollups_refresh()

    post_orders(api, ("o2", "bob", D2, "20.00"))

    assert set(RollupDirtyDay.objects.values_list("day", flat=True)) >= {D1, D2}
    rollups_refresh()
    assert daily()[D1] == (1, Decimal("10.00"), 1, 1, 0)
    assert daily()[D2] == (1, Decimal("20.00"), 1, 1, 0)


def test_a_cancelled_order_leaves_its_day(api):
    post_orders(api, ("o1", "alice", D1, "10.00"), ("o2", "alice", D2, "20.00"))
    rollups_refresh()
    post_orders(api, ("o1", "alice", D1, "10.00", "cancelled"))
    rollups_refresh()
    assert D1 not in daily()
    assert daily()[D2] == (1, Decimal("20.00"), 1, 1, 0)
    assert CustomerRollup.objects.get(customer__external_id="alice").first_order_day == D2


def test_a_customer_whose_first_order_moves_earlier_changes_cohort(api):
    post_orders(api, ("o1", "alice", D3, "10.00"), ("o2", "bob", D3, "7.00"))
    rollups_refresh()
    april = dt.date(2026, 4, 1)
    assert cohorts() == {(april, april): (2, 2, Decimal("17.00"))}

    post_orders(api, ("o3", "alice", D1, "3.00"))
    rollups_refresh()

    march = dt.date(2026, 3, 1)
    assert cohorts() == {
        (march, march): (1, 1, Decimal("3.00")),
        (march, april): (1, 1, Decimal("10.00")),
        (april, april): (1, 1, Decimal("7.00")),
    }
    assert daily()[D3] == (2, Decimal("17.00"), 2, 1, 1)


def test_refresh_again_changes_nothing_and_equals_a_full_rebuild(api):
    post_orders(
        api,
        ("o1", "alice", D1, "10.00"),
        ("o2", "bob", D2, "20.00"),
        ("o3", "alice", D3, "30.00"),
        ("o4", "carol", D3, "1.00", "refunded"),
    )
    rollups_refresh()
    post_orders(api, ("o5", "bob", D1, "2.00"), ("o1", "alice", D2, "10.00"))
    rollups_refresh()
    incremental = snapshot()

    assert rollups_refresh().days == 0
    assert snapshot() == incremental
    rollups_rebuild()
    assert snapshot() == incremental
    call_command("rollups_rebuild", "--from", "2026-04-01")
    assert snapshot() == incremental


def test_new_profiles_count_on_their_creation_day(api):
    response = api.post(
        "/api/v1/customers/batch",
        {"items": [{"external_id": "x1", "created_at": "2026-02-01T09:00:00Z"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    rollups_refresh()
    assert DailyRollup.objects.get(day=dt.date(2026, 2, 1)).new_customers == 1

    response = api.post(
        "/api/v1/customers/batch",
        {"items": [{"external_id": "x1", "created_at": "2026-02-05T09:00:00Z"}]},
        format="json",
    )
    rollups_refresh()
    assert not DailyRollup.objects.filter(day=dt.date(2026, 2, 1)).exists()
    assert DailyRollup.objects.get(day=dt.date(2026, 2, 5)).new_customers == 1


def test_a_day_marked_again_while_a_refresh_ran_stays_marked():
    from analytics.rollups.marks import rollups_mark_days
    from analytics.rollups.refresh import _delete_marks

    rollups_mark_days([D1, D2])
    read = list(RollupDirtyDay.objects.values_list("day", "marked_at"))
    rollups_mark_days([D2])  # a write lands after the refresh read the marks

    _delete_marks(RollupDirtyDay, "day", read)

    assert list(RollupDirtyDay.objects.values_list("day", flat=True)) == [D2]


def test_an_order_moved_to_another_customer_moves_both_cohorts(api):
    post_orders(api, ("o1", "alice", D1, "10.00"), ("o2", "bob", D3, "5.00"))
    rollups_refresh()
    post_orders(api, ("o1", "bob", D1, "10.00"))
    rollups_refresh()
    assert not CustomerRollup.objects.get(customer__external_id="alice").first_order_day
    assert CustomerRollup.objects.get(customer__external_id="bob").first_order_day == D1
    march, april = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    assert cohorts() == {
        (march, march): (1, 1, Decimal("10.00")),
        (march, april): (1, 1, Decimal("5.00")),
    }
