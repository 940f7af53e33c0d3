"""Attribution by hand-built cases: which messages touch an order, and each model's shares."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.attribution.services import (
    attribution_channel_setting_save,
    attribution_pending_add,
    attribution_refresh,
)
from analytics.models.attribution import (
    AttributionPending,
    OrderAttribution,
    TouchRule,
)
from api.models import AuditEntry
from campaigns.message_templates.models import MessageTemplateUse
from campaigns.message_templates.services import template_create
from channels.models import Message
from channels.services.status import message_status_apply
from customers.models import Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

PLACED = timezone.now().replace(microsecond=0) - timedelta(days=1)


def message(customer, channel, *, source="campaign", ref="", hours_before=10, **engaged) -> Message:
    """A message queued `hours_before` the order; engaged={"opened": 5} means opened 5 hours
    before the order (negative: after it)."""
    fields = {f"{what}_at": PLACED - timedelta(hours=h) for what, h in engaged.items()}
    return Message.objects.create(
        customer=customer,
        channel=channel,
        category="marketing",
        source=source,
        source_ref=ref,
        status="sent",
        queued_at=PLACED - timedelta(hours=hours_before),
        sent_at=PLACED - timedelta(hours=hours_before),
        **fields,
    )


def attribute(order: Order) -> None:
    attribution_pending_add([order.pk])
    attribution_refresh()


def shares(order: Order, model: str) -> dict[int, tuple[float, Decimal]]:
    return {
        row.message_id: (row.weight, row.revenue)
        for row in OrderAttribution.objects.filter(order=order, model=model)
    }


@pytest.fixture
def three_touches():
    """An order of 90.00 touched by an email (opened 50 h before), an SMS (delivered 20 h
    before) and a push (clicked 2 h before), each within its channel's default window."""
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED, total=Decimal("90.00"))
    email = message(customer, "email", ref="broadcast:7:A", hours_before=60, opened=50)
    sms = message(customer, "sms", source="journey", ref="journey:3:41:remind", delivered=20)
    push = message(customer, "push", source="api", hours_before=3, clicked=2)
    attribute(order)
    return order, email, sms, push


def test_last_touch_gives_the_whole_order_to_the_latest_touch(three_touches):
    order, _email, _sms, push = three_touches
    assert shares(order, "last_touch") == {push.pk: (1.0, Decimal("90.00"))}


def test_first_touch_gives_the_whole_order_to_the_earliest_touch(three_touches):
    order, email, _sms, _push = three_touches
    assert shares(order, "first_touch") == {email.pk: (1.0, Decimal("90.00"))}


def test_linear_splits_the_order_equally_across_the_three_touches(three_touches):
    order, email, sms, push = three_touches
    third = pytest.approx(1 / 3)
    assert shares(order, "linear") == {
        email.pk: (third, Decimal("30.00")),
        sms.pk: (third, Decimal("30.00")),
        push.pk: (third, Decimal("30.00")),
    }


def test_each_row_carries_the_messages_source(three_touches):
    order, email, sms, push = three_touches
    rows = {r.message_id: r for r in OrderAttribution.objects.filter(order=order, model="linear")}
    assert (rows[email.pk].broadcast_id, rows[email.pk].journey_id) == (7, None)
    assert (rows[sms.pk].journey_id, rows[sms.pk].step, rows[sms.pk].broadcast_id) == (
        3,
        "remind",
        None,
    )
    assert (rows[push.pk].channel, rows[push.pk].source, rows[push.pk].step) == ("push", "api", "")
    assert rows[sms.pk].touched_at == PLACED - timedelta(hours=20)


def test_the_template_comes_from_the_version_the_message_was_rendered_from():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    template = template_create(
        name="Sale", category="marketing", variants={"sms": {"body": "Sale today"}}
    )
    sent = message(customer, "sms", ref="broadcast:1:A", delivered=1)
    MessageTemplateUse.objects.create(message=sent, version=template.versions.get())
    attribute(order)
    assert OrderAttribution.objects.get(order=order, model="last_touch").template_id == template.pk


def test_touches_outside_the_window_or_after_the_order_are_ignored():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    message(customer, "email", hours_before=100, opened=73)  # email window: 72 h
    message(customer, "sms", hours_before=30, delivered=25)  # SMS window: 24 h
    message(customer, "email", hours_before=5, opened=-1)  # opened after the order
    message(customer, "email", hours_before=-2, opened=-3)  # sent after the order
    inside = message(customer, "email", hours_before=100, opened=71)
    attribute(order)
    assert set(shares(order, "linear")) == {inside.pk}


def test_an_opened_email_is_no_touch_when_email_counts_clicks_only(
    eager_celery, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    opened = message(customer, "email", opened=5)
    clicked = message(customer, "email", hours_before=20, opened=19, clicked=18)
    attribute(order)
    assert set(shares(order, "linear")) == {opened.pk, clicked.pk}

    with django_capture_on_commit_callbacks(execute=True):  # the change redoes every order
        attribution_channel_setting_save(channel="email", touch=TouchRule.CLICKED, window_hours=72)
    assert AuditEntry.objects.get(object_type="attribution_channel").after == {
        "touch": "clicked",
        "window_hours": 72,
    }
    assert set(shares(order, "linear")) == {clicked.pk}
    # Under "clicked only" the touch happens at the click, not at the open before it.
    row = OrderAttribution.objects.get(order=order, model="last_touch")
    assert row.touched_at == PLACED - timedelta(hours=18)


def test_agent_replies_and_system_messages_are_not_touches():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    message(customer, "email", source="agent", opened=1)
    message(customer, "email", source="system", opened=1)
    attribute(order)
    assert not OrderAttribution.objects.filter(order=order).exists()


def test_a_cancelled_order_loses_its_credit():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    message(customer, "sms", delivered=1)
    attribute(order)
    assert OrderAttribution.objects.filter(order=order).count() == 3  # one row per model
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    attribute(order)
    assert not OrderAttribution.objects.filter(order=order).exists()


def test_a_late_click_re_attributes_the_order_after_the_task(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    sms = message(customer, "sms", hours_before=12, delivered=11)
    email = message(customer, "email", hours_before=8)  # sent, not opened yet
    attribute(order)
    assert set(shares(order, "last_touch")) == {sms.pk}

    # The click (made an hour before the order) is reported only now.
    with django_capture_on_commit_callbacks(execute=True):
        message_status_apply(
            message_id=email.pk, status="clicked", occurred_at=PLACED - timedelta(hours=1)
        )
    assert AttributionPending.objects.filter(order=order).exists()
    assert set(shares(order, "last_touch")) == {sms.pk}  # nothing changes until the task runs
    attribution_refresh()
    assert set(shares(order, "last_touch")) == {email.pk}
    assert set(shares(order, "first_touch")) == {sms.pk}
    assert not AttributionPending.objects.exists()


def test_orders_written_through_the_orders_service_are_queued(
    django_capture_on_commit_callbacks, api
):
    customer = CustomerFactory(external_id="c-1")
    message(customer, "sms", delivered=1)
    body = {
        "items": [
            {
                "external_id": "o-1",
                "customer_external_id": "c-1",
                "placed_at": PLACED.isoformat(),
                "total": "50.00",
                "currency": "RUB",
                "status": "completed",
                "items": [{"sku": "x", "price": "50.00"}],
            }
        ]
    }
    response = api.post("/api/v1/orders/batch", body, format="json")
    assert response.status_code in (200, 201), response.content
    order = Order.objects.get(external_id="o-1")
    assert AttributionPending.objects.filter(order=order).exists()
    attribution_refresh()
    assert OrderAttribution.objects.get(order=order, model="last_touch").revenue == Decimal("50.00")


def test_the_rebuild_command_redoes_every_order():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED)
    message(customer, "sms", delivered=1)
    assert not OrderAttribution.objects.exists()
    call_command("attribution_rebuild")
    assert OrderAttribution.objects.filter(order=order).count() == 3
    assert not AttributionPending.objects.exists()
