"""Settings → Channels (providers, test send) and Delivery (caps, quiet hours)."""

import datetime

import pytest

from api.models import AuditAction, AuditEntry
from channels.models import DeliverySettings, Message, SandboxMessage
from channels.services.policy import delivery_settings, forget_delivery_settings

pytestmark = pytest.mark.django_db


def test_the_channels_tab_shows_each_provider_and_hides_secrets(client_as, settings):
    settings.EXOLVE_API_KEY = "exolve-secret-value"
    settings.EXOLVE_SENDER = "KASKAD"
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TELEGRAM_BOT_TOKEN = "123:telegram-secret"
    html = client_as("admin").get("/app/settings/channels/").content.decode()
    assert "exolve" in html and "twilio" in html and "telegram" in html
    assert "exolve-secret-value" not in html and "telegram-secret" not in html
    assert "KASKAD" in html  # a sender name is not a secret
    assert "TWILIO_ACCOUNT_SID" in html and "missing" in html


def test_a_test_send_goes_through_message_send_and_is_audited(
    client_as, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.MESSAGING_SANDBOX = True
    client = client_as("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/app/settings/channels/",
            {"channel": "sms", "address": "8 (916) 123-45-67", "body": "Hello from Kaskad"},
        )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.category == "transactional" and message.address == "+79161234567"
    assert SandboxMessage.objects.filter(address="+79161234567").exists()
    entry = AuditEntry.objects.get(action=AuditAction.SETTINGS_TEST_SEND)
    assert entry.after["address"] == "+79161234567" and entry.object_id == str(message.pk)
    assert "queued" in client.get("/app/settings/channels/").content.decode()


@pytest.mark.parametrize(
    ("channel", "address"),
    [("email", "not an email"), ("sms", "12"), ("telegram", "some name"), ("push", "x")],
)
def test_a_bad_test_send_is_a_form_error_and_nothing_is_sent(client_as, channel, address):
    response = client_as("admin").post(
        "/app/settings/channels/", {"channel": channel, "address": address, "body": "hi"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Message.objects.exists() and not AuditEntry.objects.exists()


def test_delivery_settings_are_saved_and_audited_with_before_and_after(client_as):
    forget_delivery_settings()
    response = client_as("admin").post(
        "/app/settings/delivery/",
        {
            "marketing_per_day": 2,
            "marketing_per_week": 5,
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:30",
            "default_timezone": "Asia/Yekaterinburg",
            "sms_part_price": "2,85",
            "sms_price_currency": "RUB",
        },
    )
    assert response.status_code == 302
    row = DeliverySettings.objects.get()
    assert (row.marketing_per_day, row.marketing_per_week) == (2, 5)
    assert row.quiet_hours_end == datetime.time(8, 30)
    assert delivery_settings().default_timezone == "Asia/Yekaterinburg"  # no stale cache
    entry = AuditEntry.objects.get(action=AuditAction.SETTINGS_CHANGED)
    assert entry.before["marketing_per_day"] == 3 and entry.after["marketing_per_day"] == 2
    assert entry.after["quiet_hours_start"] == "22:00:00"
    assert str(row.sms_part_price) == "2.8500" and entry.after["sms_part_price"] == "2.85"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"marketing_per_day": -1}, "marketing_per_day"),
        ({"marketing_per_day": 9, "marketing_per_week": 4}, "marketing_per_week"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": ""}, "__all__"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "08:00"}, "quiet_hours_start"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
        ({"sms_part_price": "-1"}, "sms_part_price"),
        ({"sms_price_currency": "rubles"}, "sms_price_currency"),
    ],
)
def test_bad_delivery_settings_are_form_errors(client_as, data, field):
    valid = {
        "marketing_per_day": 3,
        "marketing_per_week": 10,
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "default_timezone": "Europe/Moscow",
        "sms_part_price": "0",
        "sms_price_currency": "RUB",
    }
    response = client_as("admin").post("/app/settings/delivery/", {**valid, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AuditEntry.objects.exists()


def test_saving_unchanged_delivery_settings_writes_no_entry(client_as):
    forget_delivery_settings()
    row = delivery_settings()
    client_as("admin").post(
        "/app/settings/delivery/",
        {
            "marketing_per_day": row.marketing_per_day,
            "marketing_per_week": row.marketing_per_week,
            "quiet_hours_start": "",
            "quiet_hours_end": "",
            "default_timezone": row.default_timezone,
            "sms_part_price": row.sms_part_price,
            "sms_price_currency": row.sms_price_currency,
        },
    )
    assert not AuditEntry.objects.exists()
