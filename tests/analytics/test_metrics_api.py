import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import DailyChannelRollup
from analytics.rollups.refresh import rollups_refresh
from channels.models import DeliverySettings, Message, MessageStatus
from channels.services.status import message_status_apply
from customers.models import Customer
from tests.analytics.test_metrics_crr import march_base  # noqa: F401  (a fixture)
from tests.analytics.test_rollups_incremental import post_orders

pytestmark = pytest.mark.django_db

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.mark.usefixtures("march_base")
def test_customers_and_retention_answer_with_the_hand_checked_figures(read_api):
    response = read_api.get("/api/v1/metrics/customers", MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"]["revenue"] == "200.00"
    assert body["totals"]["active_customers"] == 5
    assert body["filters"]["granularity"] == "month"
    assert [row["bucket"] for row in body["series"]] == ["2026-03-01"]

    body = read_api.get("/api/v1/metrics/retention", MARCH).json()
    assert body["churn_window_days"] == 30
    assert body["totals"]["crr"] == 75.0

    body = read_api.get("/api/v1/metrics/cohorts", {**MARCH, "date_from": "2026-01-01"}).json()
    assert [c["cohort"] for c in body["cohorts"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    january = body["cohorts"][0]
    assert january["size"] == 1
    assert [m["customers"] for m in january["months"]] == [1, 0, 1]  # erin came back in March


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"granularity": "year"}, "granularity"),
        ({"segment": "999999"}, "segment"),
        ({"segment": "x"}, "segment"),
        ({"channel": "fax"}, "channel"),
        ({"date_from": "2016-01-01", "date_to": "2026-01-01", "granularity": "day"}, "granularity"),
        ({"window_days": "0"}, "window_days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(read_api, params, field):
    response = read_api.get("/api/v1/metrics/conversion", params)
    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]


def test_the_funnel_needs_a_step(read_api):
    response = read_api.get("/api/v1/metrics/funnel", MARCH)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "step"


def test_the_funnel_counts_each_step_after_the_previous_within_the_window(api, read_api):
    events = [
        # ann: viewed, carted the next day, ordered two days later: every step.
        ("e1", "ann", "viewed", at(2)),
        ("e2", "ann", "carted", at(3)),
        # ben: carted before he viewed: only step 1.
        ("e3", "ben", "carted", at(4)),
        ("e4", "ben", "viewed", at(5)),
        # cid: viewed, carted 10 days later (past the 7-day window): only step 1.
        ("e5", "cid", "viewed", at(6)),
        ("e6", "cid", "carted", at(16)),
        # dot: viewed and carted, never ordered.
        ("e7", "dot", "viewed", at(7)),
        ("e8", "dot", "carted", at(8)),
    ]
    response = api.post(
        "/api/v1/events/batch",
        {
            "items": [
                {
                    "event_id": eid,
                    "customer_external_id": who,
                    "name": name,
                    "occurred_at": when.isoformat(),
                }
                for eid, who, name, when in events
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    post_orders(api, ("o1", "ann", dt.date(2026, 3, 5), "10.00"))
    post_orders(api, ("o2", "ben", dt.date(2026, 3, 6), "10.00"))  # ben never carted after viewing

    response = read_api.get(
        "/api/v1/metrics/funnel", {**MARCH, "step": ["viewed", "carted"], "window_days": 7}
    )
    assert response.status_code == 200, response.content
    steps = response.json()["steps"]
    assert [(s["name"], s["customers"]) for s in steps] == [
        ("viewed", 4),
        ("carted", 2),
        ("order", 1),
    ]
    assert steps[1]["of_first"] == 50.0
    assert steps[2]["of_previous"] == 50.0


def make_message(customer, channel: str, *, day: int, parts: int | None = None) -> Message:
    return Message.objects.create(
        customer=customer,
        channel=channel,
        address="x",
        category="marketing",
        source="campaign",
        status=MessageStatus.QUEUED,
        provider=channel,
        parts=parts,
        queued_at=at(day, 9),
    )


def test_channels_show_the_funnel_conversion_and_sms_cost(
    api, read_api, django_capture_on_commit_callbacks
):
    DeliverySettings.objects.create(sms_part_price=Decimal("0.5000"), sms_price_currency="EUR")
    post_orders(api, ("seed1", "ann", dt.date(2026, 1, 5), "1.00"))
    post_orders(api, ("seed2", "ben", dt.date(2026, 1, 5), "1.00"))
    ann, ben = Customer.objects.get(external_id="ann"), Customer.objects.get(external_id="ben")
    sms1 = make_message(ann, "sms", day=3, parts=2)
    sms2 = make_message(ben, "sms", day=3, parts=3)
    mail = make_message(ann, "email", day=4)
    with django_capture_on_commit_callbacks(execute=True):
        message_status_apply(message_id=sms1.pk, status="sent", occurred_at=at(3, 9))
        message_status_apply(message_id=sms1.pk, status="delivered", occurred_at=at(3, 10))
        message_status_apply(message_id=sms2.pk, status="sent", occurred_at=at(3, 9))
        message_status_apply(message_id=sms2.pk, status="failed", occurred_at=at(3, 11))
        message_status_apply(message_id=mail.pk, status="sent", occurred_at=at(4, 9))
        message_status_apply(message_id=mail.pk, status="clicked", occurred_at=at(4, 12))
    post_orders(api, ("o1", "ann", dt.date(2026, 3, 6), "10.00"))  # 3 days after the SMS
    rollups_refresh()
    assert DailyChannelRollup.objects.count() == 2

    response = read_api.get("/api/v1/metrics/channels", MARCH)
    assert response.status_code == 200, response.content
    rows = {row["channel"]: row for row in response.json()["channels"]}
    sms = rows["sms"]
    assert (sms["sent"], sms["delivered"], sms["failed"], sms["opened"]) == (2, 1, 1, 0)
    assert sms["sms_parts"] == 5
    assert sms["cost"] == "2.50" and sms["cost_currency"] == "EUR"
    assert (sms["recipients"], sms["converted"], sms["conversion_rate"]) == (2, 1, 50.0)
    email = rows["email"]
    assert (email["sent"], email["delivered"], email["opened"], email["clicked"]) == (1, 1, 1, 1)
    assert email["cost"] is None

    narrow = read_api.get(
        "/api/v1/metrics/conversion", {**MARCH, "channel": "sms", "window_days": 2}
    )
    assert narrow.json()["channels"] == [
        {
            "channel": "sms",
            "messages": 2,
            "recipients": 2,
            "converted": 0,
            "conversion_rate": 0.0,
        }
    ]
