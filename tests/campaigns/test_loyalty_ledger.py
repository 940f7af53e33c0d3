import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from campaigns.context import context_values
from campaigns.loyalty.models import AppendOnly, PointsAllocation, PointsBalance, PointsEntry
from campaigns.loyalty.selectors import loyalty_settings_get, points_summary
from campaigns.loyalty.services import (
    InsufficientPoints,
    KeyReused,
    points_earn,
    points_event_bonus,
    points_expire_due,
    points_expiring_notify,
    points_order_reverse,
    points_orders_changed,
    points_spend,
)
from customers.models import Event, Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _program_on():
    settings = loyalty_settings_get()
    settings.enabled = True
    settings.save()


def _balance(customer) -> int:
    total = sum(PointsEntry.objects.filter(customer=customer).values_list("points", flat=True))
    cached = PointsBalance.objects.get(customer=customer).balance
    assert total == cached
    return cached


def _remaining(batch) -> int:
    drawn = sum(PointsAllocation.objects.filter(batch=batch).values_list("points", flat=True))
    return batch.points - drawn


def test_spending_draws_from_the_soonest_expiring_batch_first():
    customer = CustomerFactory()
    now = timezone.now()
    late = points_earn(customer=customer, points=100, now=now).entry
    early = points_earn(customer=customer, points=50, now=now - 300 * DAY).entry
    points_spend(customer=customer, points=70)
    assert _remaining(early) == 0
    assert _remaining(late) == 80
    assert _balance(customer) == 80


def test_spending_beyond_the_balance_is_refused_and_nothing_is_written():
    customer = CustomerFactory()
    points_earn(customer=customer, points=30)
    with pytest.raises(InsufficientPoints):
        points_spend(customer=customer, points=31)
    assert _balance(customer) == 30
    assert not PointsEntry.objects.filter(kind="spend").exists()


def test_expiry_takes_only_what_remains_of_a_batch_and_runs_once():
    customer = CustomerFactory()
    now = timezone.now()
    old = points_earn(customer=customer, points=100, now=now - 400 * DAY).entry
    points_earn(customer=customer, points=20, now=now)
    points_spend(customer=customer, points=60, now=now - 100 * DAY)
    assert points_expire_due(now=now) == 40
    assert points_expire_due(now=now) == 0
    assert _remaining(old) == 0
    assert _balance(customer) == 20


def test_expired_points_cannot_be_spent_or_shown_even_before_the_nightly_job():
    customer = CustomerFactory()
    points_earn(customer=customer, points=100, now=timezone.now() - 400 * DAY)
    points_earn(customer=customer, points=5)
    with pytest.raises(InsufficientPoints):
        points_spend(customer=customer, points=6)
    assert points_summary(customer.pk).balance == 5


def test_the_same_idempotency_key_changes_the_balance_once():
    customer = CustomerFactory()
    first = points_earn(customer=customer, points=10, idempotency_key="k1")
    again = points_earn(customer=customer, points=10, idempotency_key="k1")
    assert first.created and not again.created and first.entry.pk == again.entry.pk
    points_spend(customer=customer, points=5, idempotency_key="s1")
    points_spend(customer=customer, points=5, idempotency_key="s1")
    assert _balance(customer) == 5
    with pytest.raises(KeyReused):
        points_spend(customer=customer, points=3, idempotency_key="k1")


def test_entries_are_never_updated_or_deleted():
    customer = CustomerFactory()
    entry = points_earn(customer=customer, points=10).entry
    entry.points = 1000
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        PointsEntry.objects.all().update(points=5)
    with pytest.raises(AppendOnly):
        PointsEntry.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_on_postgresql_the_database_refuses_changes_to_the_ledger():
    from django.db import DatabaseError

    customer = CustomerFactory()
    points_earn(customer=customer, points=10)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE campaigns_pointsentry SET points = 99")


def test_the_balance_row_refuses_to_go_below_zero():
    from django.db import IntegrityError

    customer = CustomerFactory()
    points_earn(customer=customer, points=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsBalance.objects.filter(customer=customer).update(balance=-1)


def test_completed_orders_earn_once_and_refunds_take_back_what_remains():
    settings = loyalty_settings_get()
    settings.points_per_unit = Decimal("0.1")
    settings.save()
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, total=Decimal("999.90"), status=Order.Status.COMPLETED)
    points_orders_changed([order.pk])
    points_orders_changed([order.pk])
    assert _balance(customer) == 99  # rounded down
    points_spend(customer=customer, points=40)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED)
    points_orders_changed([order.pk])
    points_orders_changed([order.pk])
    reverse = PointsEntry.objects.get(kind="reverse")
    assert reverse.points == -59 and reverse.shortfall == 40
    assert _balance(customer) == 0
    Order.objects.filter(pk=order.pk).update(status=Order.Status.COMPLETED)
    points_orders_changed([order.pk])
    assert _balance(customer) == 0  # a taken-back order does not earn again


@pytest.mark.parametrize("broker_up", [True, False])
def test_the_order_batch_service_awards_points_after_commit(
    api, monkeypatch, django_capture_on_commit_callbacks, broker_up
):
    from campaigns.loyalty import tasks

    published = []

    def publish(task, order_ids):
        published.append(order_ids)
        if broker_up:
            task(order_ids)  # what the worker does
        return broker_up

    monkeypatch.setattr(tasks, "task_publish", publish)
    customer = CustomerFactory(external_id="c-1")
    order = {
        "external_id": "o-1",
        "customer_external_id": customer.external_id,
        "status": "completed",
        "placed_at": "2026-11-01T10:00:00Z",
        "total": "250.00",
        "currency": "RUB",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/orders/batch", {"items": [order]})
    assert response.status_code == 200, response.content
    assert _balance(customer) == 250
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/orders/batch", {"items": [{**order, "status": "cancelled"}]})
    assert _balance(customer) == 0
    assert len(published) == 2


def test_event_bonuses_once_per_occasion_and_a_first_order_bonus():
    settings = loyalty_settings_get()
    settings.event_bonuses = {"birthday": 200, "first_order": 50}
    settings.save()
    customer = CustomerFactory()
    points_event_bonus(customer=customer, event_name="birthday", occasion="2026")
    points_event_bonus(customer=customer, event_name="birthday", occasion="2026")
    assert _balance(customer) == 200
    first = OrderFactory(customer=customer, total=Decimal("10"), status=Order.Status.COMPLETED)
    second = OrderFactory(customer=customer, total=Decimal("10"), status=Order.Status.COMPLETED)
    points_orders_changed([first.pk, second.pk])
    assert _balance(customer) == 200 + 10 + 10 + 50


def test_points_expiring_events_are_written_once_per_expiry_date():
    settings = loyalty_settings_get()
    settings.warn_min_points, settings.warn_within_days = 50, 7
    settings.save()
    now = timezone.now()
    lifetime = settings.batch_lifetime_days * DAY
    soon, small, later = CustomerFactory(), CustomerFactory(), CustomerFactory()
    points_earn(customer=soon, points=60, now=now - lifetime + 3 * DAY)
    points_earn(customer=small, points=10, now=now - lifetime + 3 * DAY)
    points_earn(customer=later, points=500, now=now)
    assert points_expiring_notify(now=now) == 1
    assert points_expiring_notify(now=now + DAY) == 0
    event = Event.objects.get(name="points_expiring")
    assert event.customer == soon
    assert event.properties == {"points": 60, "date": (now + 3 * DAY).date().isoformat()}


def test_the_points_template_value_has_the_balance_and_the_soonest_expiry():
    customer = CustomerFactory()
    now = timezone.now()
    points_earn(customer=customer, points=30, now=now - 360 * DAY)
    points_earn(customer=customer, points=70, now=now)
    value = context_values([customer])[customer.pk]["points"]
    assert value["balance"] == 100
    assert value["next_expiry_points"] == 30
    assert value["next_expiry_date"] == (now + 5 * DAY).date().isoformat()
    assert points_summary(customer.pk).balance == 100


def test_a_reversal_of_an_order_that_earned_nothing_does_nothing():
    order = OrderFactory(status=Order.Status.CANCELLED)
    assert points_order_reverse(order=order) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_never_take_the_balance_below_zero():
    customer = CustomerFactory()
    points_earn(customer=customer, points=100)
    results = []
    barrier = threading.Barrier(8)

    def spend():
        barrier.wait()
        try:
            points_spend(customer=customer.pk, points=30)
            results.append("ok")
        except InsufficientPoints:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 3
    assert _balance(customer) == 10


def test_while_the_program_is_off_orders_and_bonuses_earn_nothing():
    settings = loyalty_settings_get()
    settings.enabled, settings.event_bonuses = False, {"birthday": 100}
    settings.save()
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, status=Order.Status.COMPLETED)
    points_orders_changed([order.pk])
    points_event_bonus(customer=customer, event_name="birthday", occasion="2026")
    assert not PointsEntry.objects.exists()


def test_the_demo_loads_through_the_services_and_twice_changes_nothing():
    from campaigns.loyalty.demo import loyalty_demo_load

    loyalty_settings_get().__class__.objects.update(enabled=False)  # the demo sets its own rules
    for _ in range(3):
        OrderFactory(status=Order.Status.COMPLETED, total=Decimal("2000"))
    first = loyalty_demo_load()
    entries = PointsEntry.objects.count()
    second = loyalty_demo_load()
    assert first["customers"] == 3 and first["points_expiring_events"] == 3
    assert second["points_expiring_events"] == 0
    assert PointsEntry.objects.count() == entries


def test_a_birthday_event_from_the_api_earns_its_bonus_once_per_event(
    api, django_capture_on_commit_callbacks
):
    settings = loyalty_settings_get()
    settings.event_bonuses = {"birthday": 300}
    settings.save()
    customer = CustomerFactory(external_id="c-5")
    event = {
        "event_id": "bd-2026",
        "customer_external_id": "c-5",
        "name": "birthday",
        "occurred_at": "2026-12-01T09:00:00Z",
    }
    other = {**event, "event_id": "pv-1", "name": "page_view"}
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            api.post("/api/v1/events/batch", {"items": [event, other]})
    assert _balance(customer) == 300


def test_the_nightly_job_is_declared_and_expires_then_warns():
    from api.periodic import declared_periodic_jobs
    from campaigns.loyalty.tasks import points_nightly

    assert "campaigns.loyalty.tasks.points_nightly" in {j.task for j in declared_periodic_jobs()}
    settings = loyalty_settings_get()
    settings.warn_min_points, settings.warn_within_days = 10, 7
    settings.save()
    customer = CustomerFactory()
    now = timezone.now()
    points_earn(customer=customer, points=30, now=now - 400 * DAY)
    points_earn(customer=customer, points=20, now=now - 362 * DAY)
    assert points_nightly() == {"expired_points": 30, "points_expiring_events": 1}
    assert points_nightly() == {"expired_points": 0, "points_expiring_events": 0}
    assert _balance(customer) == 20
