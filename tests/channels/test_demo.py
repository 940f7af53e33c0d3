"""`load_channels_demo` (run by `make run`) fills every channels screen through the services."""

import pytest
from django.core.management import call_command

from channels.models import AutoReplyRule, CallLog, CannedResponse, Conversation, Message
from customers.demo.loader import demo_data_load

pytestmark = pytest.mark.django_db


def test_the_channels_demo_loads_once_through_the_services(sandbox, capsys):
    demo_data_load(customers=150)
    call_command("load_channels_demo")
    assert AutoReplyRule.objects.filter(name__startswith="Demo: ").count() == 3
    campaign = Message.objects.filter(source="campaign", source_ref="demo:autumn-sale")
    assert campaign.count() > 0
    assert set(campaign.values_list("channel", flat=True)) == {"email", "sms"}
    # Marketing SMS carry the opt-out line, and their links are short click links.
    sms = campaign.filter(channel="sms").first()
    assert "/l/" in sms.body and "STOP" in sms.body.upper().replace("СТОП", "STOP")
    assert Conversation.objects.exists()
    assert CallLog.objects.filter(customer__isnull=False).count() == 5
    assert CannedResponse.objects.filter(shortcode="thanks").exists()
    count = Message.objects.count()
    call_command("load_channels_demo")
    assert "already there" in capsys.readouterr().out
    assert Message.objects.count() == count
