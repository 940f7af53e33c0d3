"""Home (/app/): today's sends, inbox counts, new customers and the RFM distribution, per role."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Conversation, Message
from customers.models import RfmScore
from tests.factories import CustomerFactory
from workspace import selectors

pytestmark = pytest.mark.django_db

HOME = reverse("workspace:home")


def _message(customer, channel="sms", status="queued", **fields):
    return Message.objects.create(
        customer=customer,
        channel=channel,
        address="x",
        category="transactional",
        source="api",
        status=status,
        **fields,
    )


def _score(customer, segment):
    now = timezone.now()
    return RfmScore.objects.create(
        customer=customer,
        recency_days=3,
        frequency=2,
        monetary=Decimal("10.00"),
        r=5,
        f=2,
        m=3,
        segment=segment,
        as_of=now.date(),
        computed_at=now,
    )


def _dataset(chart, key):
    return next((d for d in chart["datasets"] if d["key"] == key), None)


def test_the_numbers_match_the_data(client, staff_user):
    admin = staff_user("admin")
    other = staff_user("support")
    now = timezone.now()
    customer = CustomerFactory()
    for status in ("delivered", "opened", "failed"):
        _message(customer, "sms", status)
    _message(customer, "email", "bounced")
    _message(customer, "email", "queued")
    _message(customer, "sms", "delivered", queued_at=now - timedelta(days=2))  # not today
    Conversation.objects.create(customer=customer, channel="telegram")
    Conversation.objects.create(customer=customer, channel="sms", assignee=admin)
    Conversation.objects.create(customer=customer, channel="viber", assignee=other)
    Conversation.objects.create(customer=customer, channel="whatsapp", status="resolved")
    CustomerFactory(created_at=now - timedelta(days=3))
    CustomerFactory(created_at=now - timedelta(days=30))
    _score(customer, "champions")
    _score(CustomerFactory(created_at=now - timedelta(days=60)), "champions")
    _score(CustomerFactory(created_at=now - timedelta(days=60)), "lost")

    client.force_login(admin)
    response = client.get(HOME)
    assert response.status_code == 200
    summary = response.context["summary"]

    sends = summary["sends"]
    assert sends["total"] == 5
    assert sends["chart"]["labels"] == ["Email", "SMS"]
    assert _dataset(sends["chart"], "delivered")["data"] == [0, 2]
    assert _dataset(sends["chart"], "failed")["data"] == [1, 1]
    assert _dataset(sends["chart"], "queued")["data"] == [1, 0]
    assert _dataset(sends["chart"], "sent") is None  # empty groups are left out

    inbox = summary["inbox"]
    assert (inbox["open"]["n"], inbox["unassigned"]["n"], inbox["mine"]["n"]) == (3, 1, 1)

    # Created today: `customer` only; three days ago: one more (the RFM ones are 60 days old).
    customers = summary["customers"]
    assert customers["today"] == 1 and customers["week"] == 2
    assert len(customers["series"]) == 7 and customers["series"][-1] == 1

    rfm = summary["rfm"]
    assert rfm["total"] == 3 and len(rfm["rows"]) == 11
    by_segment = {row["segment"]: row["n"] for row in rfm["rows"]}
    assert by_segment["champions"] == 2 and by_segment["lost"] == 1 and by_segment["at_risk"] == 0

    html = response.content.decode()
    assert 'data-chart="hstacked"' in html and 'data-chart="hbar"' in html
    assert 'href="/app/rfm/"' in html and 'href="/app/inbox/"' in html
    assert 'href="/app/customers/"' in html and "/app/messages/?date_from=" in html


def test_inbox_counts_are_capped(monkeypatch, staff_user):
    monkeypatch.setattr(selectors, "INBOX_COUNT_CAP", 2)
    customer = CustomerFactory()
    for channel in ("sms", "telegram", "viber"):
        Conversation.objects.create(customer=customer, channel=channel)
    counts = selectors.inbox_counts(staff_user("support"))
    assert counts["open"] == {"n": 2, "more": True}


def test_capped_counts_show_a_plus(client_as, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_COUNT_CAP", 1)
    customer = CustomerFactory()
    Conversation.objects.create(customer=customer, channel="sms")
    Conversation.objects.create(customer=customer, channel="viber")
    response = client_as("support")
    html = response.get(HOME).content.decode()
    assert '<span class="tile-value">1+</span>' in html


BLOCKS = {
    "sends": 'id="sends-title"',
    "inbox": "Unassigned",
    "customers": "New customers today",
    "rfm": 'id="rfm-title"',
}
ROLE_BLOCKS = {
    "support": {"sends", "inbox", "customers"},
    "marketing": {"sends", "customers", "rfm"},
    "admin": {"sends", "inbox", "customers", "rfm"},
}


@pytest.mark.parametrize("role", ["support", "marketing", "admin"])
def test_each_role_sees_only_the_blocks_it_may_open(client_as, role):
    customer = CustomerFactory()
    _message(customer)
    _score(customer, "champions")
    response = client_as(role).get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    for block, marker in BLOCKS.items():
        assert (marker in html) == (block in ROLE_BLOCKS[role]), block
        assert (response.context["summary"][block] is not None) == (block in ROLE_BLOCKS[role])


def test_home_without_view_home_is_403(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("nobody", "n@example.com", "pw"))
    assert client.get(HOME).status_code == 403


def test_an_empty_day_says_so(client_as):
    html = client_as("admin").get(HOME).content.decode()
    assert "No messages queued today yet." in html
    assert "No customer has an RFM score yet" in html


def test_today_follows_the_staff_time_zone(client, staff_user):
    from workspace.models import StaffProfile

    user = staff_user("admin")
    StaffProfile.objects.update_or_create(user=user, defaults={"time_zone": "Pacific/Kiritimati"})
    client.force_login(user)
    local_midnight = timezone.localtime(timezone.now(), timezone=_zone("Pacific/Kiritimati"))
    local_midnight = local_midnight.replace(hour=0, minute=0, second=0, microsecond=0)
    customer = CustomerFactory(created_at=local_midnight + timedelta(minutes=1))
    _message(customer, queued_at=local_midnight + timedelta(minutes=1))
    _message(customer, queued_at=local_midnight - timedelta(minutes=1))
    summary = client.get(HOME).context["summary"]
    assert summary["sends"]["total"] == 1
    assert summary["customers"]["today"] == 1


def _zone(name):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)
