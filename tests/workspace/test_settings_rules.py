"""Settings → Auto-replies and CRM webhooks: create, change, delete, retry; each audited."""

import pytest

from api.models import AuditAction, AuditEntry
from channels.models import AutoReplyRule, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Prices",
    "channel": "telegram",
    "match": "keyword",
    "pattern": "price, cost",
    "reply": "Our prices: https://example.com/prices",
    "timezone": "Europe/Moscow",
    "priority": 10,
    "is_active": "on",
}


def test_an_auto_reply_rule_is_created_changed_and_deleted_with_audit(client_as):
    client = client_as("admin")
    assert client.post("/app/settings/auto-replies/new/", RULE).status_code == 302
    rule = AutoReplyRule.objects.get()
    assert rule.pattern == "price, cost" and rule.channel == "telegram"
    assert "Prices" in client.get("/app/settings/auto-replies/").content.decode()

    response = client.post(f"/app/settings/auto-replies/{rule.pk}/", {**RULE, "priority": 20})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.priority == 20

    assert client.post(f"/app/settings/auto-replies/{rule.pk}/delete/").status_code == 302
    assert not AutoReplyRule.objects.exists()
    entries = list(
        AuditEntry.objects.filter(object_type="auto_reply_rule")
        .order_by("pk")
        .values_list("before", "after")
    )
    assert entries[0][0] is None and entries[0][1]["name"] == "Prices"
    assert entries[1] == ({"priority": 10}, {"priority": 20})
    assert entries[2][0]["name"] == "Prices" and entries[2][1] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"pattern": ""}, "pattern"),
        ({"match": "pattern", "pattern": "(unclosed"}, "pattern"),
        ({"match": "out_of_hours", "pattern": ""}, "closes_at"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"reply": ""}, "reply"),
    ],
)
def test_a_bad_rule_is_a_form_error(client_as, data, field):
    response = client_as("admin").post("/app/settings/auto-replies/new/", {**RULE, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AutoReplyRule.objects.exists() and not AuditEntry.objects.exists()


def test_an_out_of_hours_rule_needs_days_and_hours(client_as):
    data = {**RULE, "match": "out_of_hours", "pattern": "", "opens_at": "09:00"}
    data["closes_at"], data["business_days"] = "18:00", ["0", "1", "2", "3", "4"]
    assert client_as("admin").post("/app/settings/auto-replies/new/", data).status_code == 302
    assert AutoReplyRule.objects.get().business_days == [0, 1, 2, 3, 4]


HOOK = {
    "name": "amoCRM",
    "url": "https://crm.example.com/kaskad",
    "event_types": ["message.status", "consent.changed"],
    "is_active": "on",
}


def test_a_webhook_secret_is_shown_once_and_never_logged(client_as):
    client = client_as("admin")
    response = client.post("/app/settings/webhooks/new/", HOOK)
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret and subscription.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert subscription.secret not in client.get("/app/settings/webhooks/").content.decode()
    entry = AuditEntry.objects.get(object_type="webhook_subscription")
    assert subscription.secret not in str(entry.after) and entry.after["url"] == HOOK["url"]


def test_a_webhook_is_paused_and_its_secret_replaced(client_as):
    client = client_as("admin")
    client.post("/app/settings/webhooks/new/", HOOK)
    subscription = WebhookSubscription.objects.get()
    old = subscription.secret
    response = client.post(f"/app/settings/webhooks/{subscription.pk}/", {**HOOK, "is_active": ""})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.secret == old
    response = client.post(
        f"/app/settings/webhooks/{subscription.pk}/", {**HOOK, "new_secret": "on"}
    )
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.secret in response.content.decode()
    last = AuditEntry.objects.order_by("-pk").first()
    assert last.after["secret"] == "(new)" and old not in str(last.before)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://crm.example.com"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_webhook_is_a_form_error(client_as, data, field):
    response = client_as("admin").post("/app/settings/webhooks/new/", {**HOOK, **data})
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not WebhookSubscription.objects.exists()


def _delivery(status: str, **extra) -> WebhookDelivery:
    subscription = WebhookSubscription.objects.get_or_create(
        name="CRM", defaults={"url": "https://crm.example.com/h", "secret": "s"}
    )[0]
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="message.status",
        event_id=f"ev-{WebhookDelivery.objects.count()}",
        payload={},
        status=status,
        **extra,
    )


def test_the_delivery_log_shows_status_code_and_attempts_and_pages(client_as, settings):
    failed = _delivery("failed", attempts=8, response_status=502, last_error="HTTP 502: bad")
    for _ in range(55):
        _delivery("delivered", attempts=1, response_status=200)
    client = client_as("admin")
    html = client.get("/app/settings/webhooks/").content.decode()
    assert "Show more" in html and "502" not in html  # the failed one is the oldest
    html = client.get("/app/settings/webhooks/?status=failed").content.decode()
    assert "502" in html and f"/deliveries/{failed.pk}/retry/" in html


def test_a_failed_delivery_is_retried_and_audited(client_as, django_capture_on_commit_callbacks):
    from unittest import mock

    failed = _delivery("failed", attempts=8, response_status=500)
    with (
        mock.patch("channels.services.webhooks_out._enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_as("admin").post(f"/app/settings/webhooks/deliveries/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.next_attempt_at is not None
    enqueue.assert_called_once_with([failed.pk])
    entry = AuditEntry.objects.get(action=AuditAction.WEBHOOK_RETRIED)
    assert entry.object_id == str(failed.pk)


def test_a_delivery_that_has_not_failed_is_not_retried(client_as):
    delivered = _delivery("delivered", attempts=1)
    client = client_as("admin")
    response = client.post(f"/app/settings/webhooks/deliveries/{delivered.pk}/retry/", follow=True)
    assert "Only a failed delivery" in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == "delivered" and not AuditEntry.objects.exists()


def test_a_webhook_is_deleted_with_an_entry_that_keeps_no_secret(client_as):
    client = client_as("admin")
    client.post("/app/settings/webhooks/new/", HOOK)
    subscription = WebhookSubscription.objects.get()
    response = client.post(f"/app/settings/webhooks/{subscription.pk}/delete/")
    assert response.status_code == 302 and not WebhookSubscription.objects.exists()
    entry = AuditEntry.objects.filter(object_type="webhook_subscription").order_by("-pk").first()
    assert entry.before["name"] == "amoCRM" and entry.after is None
    assert subscription.secret not in str(entry.before)
