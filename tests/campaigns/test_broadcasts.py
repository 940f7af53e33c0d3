"""The broadcast engine: snapshot, chunks, policy, promo codes, timing, control, A/B, results."""

import functools
import operator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientGroup,
    RecipientState,
)
from campaigns.broadcasts.selectors import broadcast_results
from campaigns.broadcasts.services.launch import (
    PAUSED_UNTIL,
    broadcast_cancel,
    broadcast_launch,
    broadcast_pause,
    broadcast_resume,
    recipient_bucket,
)
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.sending import broadcast_chunk_send
from campaigns.broadcasts.services.setup import BroadcastError, VariantSpec, broadcast_create
from campaigns.broadcasts.services.tick import broadcast_winner_choose, broadcasts_tick
from campaigns.message_templates.models import MessageTemplateUse
from campaigns.message_templates.services import template_create
from campaigns.promo.models import PromoCode, PromoCodeStatus
from campaigns.promo.services import promo_codes_generate, promo_pool_create
from channels.models import Message, MessageStatus
from customers.models import ConsentStatus
from tests.campaigns.broadcast_data import run_chunks
from tests.factories import (
    ChannelIdentityFactory,
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]

EMAIL = {
    "subject": "{{ customer.first_name }}, a gift",
    "html": "<p>Hi {{ customer.first_name }}! Code {{ promo.code | default: 'none' }}"
    ' <a href="https://shop.example/sale">Sale</a></p>',
}
SMS = {"body": "Hi {{ customer.first_name }}, sale today"}


def audience(n, *, channels=("email",), **fields):
    segment = SegmentFactory()
    customers = []
    for i in range(n):
        customer = CustomerFactory(first_name=f"Name{i}", **fields)
        for channel in channels:
            ConsentFactory(customer=customer, channel=channel, status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=customer)
        customers.append(customer)
    return segment, customers


def template(variants=None, name="Sale"):
    return template_create(name=name, category="marketing", variants=variants or {"email": EMAIL})


def test_a_launch_snapshots_the_segment_and_sends_each_member_once(
    published, django_capture_on_commit_callbacks
):
    segment, customers = audience(5)
    broadcast = broadcast_create(name="Sale", template=template(), segment=segment, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    late = CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=late)  # joins after the launch
    assert run_chunks(published) == 5
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    assert (broadcast.audience_count, broadcast.processed_count, broadcast.queued_count) == (
        5,
        5,
        5,
    )
    messages = Message.objects.filter(source_ref=f"broadcast:{broadcast.pk}:A")
    assert sorted(m.customer_id for m in messages) == sorted(c.pk for c in customers)
    first = messages.get(customer=customers[0])
    assert first.subject == "Name0, a gift"
    assert "/t/c/" in first.html and "/t/o/" in first.html  # click links and the open pixel
    assert first.body  # the text part, made from the HTML
    assert MessageTemplateUse.objects.filter(message__in=messages).count() == 5
    # A second delivery of the same chunk task finds nobody pending.
    assert broadcast_chunk_send(broadcast.pk, 0, 10**12) == 0
    assert messages.count() == 5
    assert broadcasts_tick()["finished"] == 1
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENT


def test_buckets_are_deterministic_and_the_holdout_is_about_its_share():
    assert recipient_bucket(7, 42) != recipient_bucket(8, 42)
    held = sum(1 for cid in range(20_000) if recipient_bucket(3, cid)[0] < 1000)
    assert 1800 < held < 2200  # 10 %


def test_holdout_recipients_are_counted_not_sent(published, django_capture_on_commit_callbacks):
    segment, _customers = audience(40)
    broadcast = broadcast_create(
        name="Held", template=template(), segment=segment, channel="email", holdout_percent=50
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    held = BroadcastRecipient.objects.filter(broadcast=broadcast, group=RecipientGroup.HOLDOUT)
    assert 5 < held.count() < 35
    assert not Message.objects.filter(customer_id__in=held.values("customer_id")).exists()
    assert held.filter(state=RecipientState.HELD).count() == held.count()


def test_suppressions_are_counted_by_reason_and_release_promo_codes(
    published, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(7)  # customer and message ids must not line up by chance
    segment, _customers = audience(3)
    no_consent = CustomerFactory(first_name="Nope")
    SegmentMembershipFactory(segment=segment, customer=no_consent)
    nameless = CustomerFactory(first_name="")
    ConsentFactory(customer=nameless, channel="email", status=ConsentStatus.OPTED_IN)
    SegmentMembershipFactory(segment=segment, customer=nameless)
    pool = promo_pool_create(name="Gift", code_length=8)
    promo_codes_generate(pool, 10)
    broadcast = broadcast_create(
        name="Codes", template=template(), segment=segment, channel="email", promo_pool=pool
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    codes = PromoCode.objects.filter(pool=pool).exclude(status=PromoCodeStatus.AVAILABLE)
    assert codes.count() == 3
    # Ids come from the message sequence (customer ids start higher here).
    assert not any(
        m.pk == m.customer_id for m in Message.objects.all()
    )  # the two suppressed messages gave theirs back
    for code in codes:
        message = Message.objects.get(pk=code.message_id)
        assert code.code in message.html and message.customer_id == code.customer_id
    broadcast_stats_refresh(broadcast)
    report = broadcast_results(broadcast)
    total = report["total"]
    assert (total["audience"], total["queued"], total["suppressed"]) == (5, 3, 2)
    assert total["suppressed_by_reason"] == {
        "consent: marketing on email needs opted_in (is unknown)": 1,
        "template value missing: customer.first_name": 1,
    }


def test_preferred_channel_with_fallback(published, django_capture_on_commit_callbacks):
    segment = SegmentFactory()
    email_only = CustomerFactory(first_name="E")
    ConsentFactory(customer=email_only, channel="email", status=ConsentStatus.OPTED_IN)
    sms_fan = CustomerFactory(first_name="S", attributes={"preferred_channel": "sms"})
    for channel in ("email", "sms"):
        ConsentFactory(customer=sms_fan, channel=channel, status=ConsentStatus.OPTED_IN)
    sms_only = CustomerFactory(first_name="O")
    ConsentFactory(customer=sms_only, channel="sms", status=ConsentStatus.OPTED_IN)
    for c in (email_only, sms_fan, sms_only):
        SegmentMembershipFactory(segment=segment, customer=c)
    broadcast = broadcast_create(
        name="Any",
        template=template({"email": EMAIL, "sms": SMS}),
        segment=segment,
        channel_order=["email", "sms"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    channel_of = dict(
        Message.objects.filter(source_ref__startswith=f"broadcast:{broadcast.pk}:").values_list(
            "customer_id", "channel"
        )
    )
    assert channel_of == {email_only.pk: "email", sms_fan.pk: "sms", sms_only.pk: "sms"}


def test_local_time_sends_at_each_customers_hour(published, django_capture_on_commit_callbacks):
    segment = SegmentFactory()
    moscow = CustomerFactory(first_name="M", timezone="Europe/Moscow")
    vladivostok = CustomerFactory(first_name="V", timezone="Asia/Vladivostok")
    for c in (moscow, vladivostok):
        ConsentFactory(customer=c, channel="email", status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=c)
    broadcast = broadcast_create(
        name="Ten",
        template=template(),
        segment=segment,
        channel="email",
        timing="local",
        local_time=time(10, 0),
    )
    launched = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 08:00 Moscow, 15:00 Vladivostok
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast, now=launched)
    while published:
        broadcast_chunk_send(*published.pop(0), now=launched)
    after = dict(Message.objects.values_list("customer_id", "send_after"))
    assert after[moscow.pk] == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # today 10:00 MSK
    assert after[vladivostok.pk] == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)  # tomorrow 10:00


def test_pause_holds_stored_messages_resume_releases_cancel_suppresses(
    published, django_capture_on_commit_callbacks, enqueued
):
    segment, _customers = audience(4)
    broadcast = broadcast_create(name="Ctl", template=template(), segment=segment, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    first = published.pop(0)
    broadcast_pause(broadcast)
    assert broadcast_chunk_send(*first) == 0  # a paused broadcast takes no one
    broadcast_resume(broadcast)
    broadcast_chunk_send(*first)
    broadcast_pause(broadcast)
    assert set(Message.objects.values_list("send_after", flat=True)) == {PAUSED_UNTIL}
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_resume(broadcast)
    assert set(Message.objects.values_list("send_after", flat=True)) == {None}
    assert sorted(functools.reduce(operator.iadd, enqueued, [])) == sorted(
        Message.objects.values_list("pk", flat=True)
    )
    broadcast_cancel(broadcast)
    assert set(Message.objects.values_list("status", "status_reason")) == {
        (MessageStatus.SUPPRESSED, "broadcast cancelled")
    }
    with pytest.raises(BroadcastError):
        broadcast_resume(broadcast)


def test_ab_test_sends_the_test_group_then_the_winner_to_the_rest(
    published, django_capture_on_commit_callbacks
):
    segment, _customers = audience(60)
    plain = template()
    other = template({"email": {**EMAIL, "subject": "Other {{ customer.first_name }}"}}, "Other")
    broadcast = broadcast_create(
        name="AB",
        template=plain,
        segment=segment,
        channel="email",
        test_percent=50,
        ab_metric="clicked",
        variants=[VariantSpec(), VariantSpec(template=other)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.TESTING
    tested = Message.objects.filter(source_ref__startswith=f"broadcast:{broadcast.pk}:")
    rest = BroadcastRecipient.objects.filter(broadcast=broadcast, group=RecipientGroup.MAIN)
    assert (
        tested.count() + rest.count() == 60
        and rest.filter(variant__isnull=True).count() == rest.count()
    )
    # B's messages are clicked, A's are not.
    now = timezone.now()
    tested.filter(source_ref__endswith=":B").update(status="clicked", sent_at=now, clicked_at=now)
    tested.filter(source_ref__endswith=":A").update(status="sent", sent_at=now)
    tested_b, rest_count = tested.filter(source_ref__endswith=":B").count(), rest.count()
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_winner_choose(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.winner.key == "B" and broadcast.status == BroadcastStatus.SENDING
    assert broadcast.winner_stats["method"] == "two_proportion_z"
    assert broadcast.winner_stats["probability_to_beat"] > 0.95
    run_chunks(published)
    assert Message.objects.filter(source_ref=f"broadcast:{broadcast.pk}:B").count() == (
        tested_b + rest_count
    )
    # Placing the audience again from the seed puts everyone where the launch put them.
    from campaigns.broadcasts.services.launch import recipient_placement

    variants = list(broadcast.variants.order_by("key"))
    for recipient in BroadcastRecipient.objects.filter(broadcast=broadcast, group="test"):
        bucket, group, variant = recipient_placement(broadcast, variants, recipient.customer_id)
        assert (bucket, group, variant.pk) == (recipient.bucket, "test", recipient.variant_id)


def test_conversions_within_the_window_and_holdout_uplift(
    published, django_capture_on_commit_callbacks
):
    segment, _customers = audience(40)
    broadcast = broadcast_create(
        name="Conv",
        template=template(),
        segment=segment,
        channel="email",
        holdout_percent=50,
        conversion_days=3,
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    sent = Message.objects.filter(source_ref__startswith=f"broadcast:{broadcast.pk}:")
    now = timezone.now()
    sent.update(status="sent", sent_at=now)
    treated_ids = list(sent.values_list("customer_id", flat=True))
    held_ids = list(
        BroadcastRecipient.objects.filter(broadcast=broadcast, group="holdout").values_list(
            "customer_id", flat=True
        )
    )
    for cid in treated_ids[:4]:
        OrderFactory(
            customer_id=cid,
            placed_at=now + timedelta(days=1),
            total=Decimal("100.00"),
            status="completed",
        )
    OrderFactory(
        customer_id=treated_ids[4],
        placed_at=now + timedelta(days=5),
        total=Decimal("50"),
        status="completed",
    )  # too late
    OrderFactory(
        customer_id=treated_ids[5],
        placed_at=now - timedelta(days=1),
        total=Decimal("50"),
        status="completed",
    )  # before
    OrderFactory(
        customer_id=held_ids[0],
        placed_at=now + timedelta(hours=2),
        total=Decimal("70.00"),
        status="completed",
    )
    broadcast_stats_refresh(broadcast)
    report = broadcast_results(broadcast)
    assert report["total"]["converted"] == 4
    assert report["total"]["revenue"] == Decimal("400.00")
    assert report["holdout"]["converted"] == 1
    assert report["holdout"]["revenue"] == Decimal("70.00")
    uplift = report["uplift"]
    assert uplift["uplift_points"] == pytest.approx(
        4 / len(treated_ids) - 1 / len(held_ids), abs=1e-6
    )


def test_validation_names_the_field(db):
    segment, _ = audience(1)
    with pytest.raises(BroadcastError) as error:
        broadcast_create(name="x", template=template(), segment=segment, channel="sms")
    assert error.value.field == "template"
    with pytest.raises(BroadcastError) as error:
        broadcast_create(
            name="x", template=template(), segment=segment, channel="email", test_percent=20
        )
    assert error.value.field == "variants"
    with pytest.raises(BroadcastError) as error:
        broadcast_create(
            name="x", template=template(), segment=segment, channel="email", holdout_percent=80
        )
    assert error.value.field == "holdout_percent"


def test_a_scheduled_broadcast_launches_when_due(published):
    segment, _ = audience(2)
    broadcast = broadcast_create(
        name="Later",
        template=template(),
        segment=segment,
        channel="email",
        timing="at",
        send_at=timezone.now() + timedelta(hours=1),
    )
    from campaigns.broadcasts.services.launch import broadcast_schedule

    broadcast_schedule(broadcast)
    assert broadcasts_tick()["launched"] == 0
    assert broadcasts_tick(now=timezone.now() + timedelta(hours=2))["launched"] == 1
    assert Broadcast.objects.get(pk=broadcast.pk).audience_count == 2


def test_the_estimate_counts_reach_and_suppressions_like_the_policy(
    published, django_capture_on_commit_callbacks
):
    from campaigns.broadcasts.services.estimate import broadcast_estimate

    segment, _customers = audience(6, channels=("email",))
    sms_only = CustomerFactory(first_name="S")
    ConsentFactory(customer=sms_only, channel="sms", status=ConsentStatus.OPTED_IN)
    opted_out = CustomerFactory(first_name="O")
    ConsentFactory(customer=opted_out, channel="email", status=ConsentStatus.OPTED_OUT)
    no_email = CustomerFactory(first_name="N", email="")
    for c in (sms_only, opted_out, no_email):
        SegmentMembershipFactory(segment=segment, customer=c)
    only_email = broadcast_create(name="E", template=template(), segment=segment, channel="email")
    estimate = broadcast_estimate(only_email)
    assert (estimate["members"], estimate["reachable"], estimate["suppressed"]) == (9, 6, 3)
    assert estimate["suppressed_by_reason"] == {
        "address: no email address": 1,
        "consent: marketing on email needs opted_in (is unknown)": 1,
        "consent: opted out of email": 1,
    }
    either = broadcast_create(
        name="Any",
        template=template({"email": EMAIL, "sms": SMS}),
        segment=segment,
        channel_order=["email", "sms"],
    )
    estimate = broadcast_estimate(either)
    assert estimate["reachable_by_channel"] == {"email": 6, "sms": 1}
    # The estimate agrees with what the launch then does.
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(only_email)
    run_chunks(published)
    broadcast_stats_refresh(only_email)
    assert (
        broadcast_results(only_email)["total"]["suppressed_by_reason"]
        == broadcast_estimate(only_email)["suppressed_by_reason"]
    )


def test_the_demo_broadcast_has_an_ab_result_conversions_and_a_holdout(settings):
    from campaigns.broadcasts.demo import broadcasts_demo_load

    settings.MESSAGING_SANDBOX = True
    for i in range(120):
        customer = CustomerFactory(first_name=f"Д{i}")
        ChannelIdentityFactory(customer=customer, channel="email", address=customer.email)
        ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)
    broadcast = broadcasts_demo_load()
    assert broadcasts_demo_load().pk == broadcast.pk  # idempotent
    report = broadcast_results(broadcast)
    assert broadcast.status == BroadcastStatus.SENT and broadcast.winner is not None
    assert report["ab"]["stats"]["method"] == "two_proportion_z"
    assert report["total"]["sent"] > 0 and report["total"]["opened"] > 0
    assert report["total"]["converted"] > 0 and report["holdout"]["audience"] > 0
    assert report["uplift"] is not None


def test_no_demo_broadcast_without_the_sandbox(settings):
    from campaigns.broadcasts.demo import broadcasts_demo_load

    settings.MESSAGING_SANDBOX = False
    assert broadcasts_demo_load() is None


def test_unsubscribe_url_in_a_template_becomes_the_messages_own_one_click_link(
    published, django_capture_on_commit_callbacks, reachable
):
    from campaigns.message_templates.services import template_send
    from channels.tracking.tokens import unsubscribe_token_read

    segment, _customers = audience(2)
    variants = {
        "email": {**EMAIL, "html": '<p>Bye? <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'},
        "sms": {"body": "Stop: {{ unsubscribe_url }}"},
    }
    tpl = template(variants, name="Unsub")
    broadcast = broadcast_create(name="U", template=tpl, segment=segment, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    untracked = template_send(tpl.current_version, "sms", reachable("sms"))
    for message in [*Message.objects.filter(channel="email"), untracked]:
        text = message.html or message.body
        assert "/u/this-message" not in text
        token = text.split("/u/")[1].split('"')[0].split()[0]
        assert unsubscribe_token_read(token) == message.pk


def test_the_unsubscribe_placeholder_is_replaced_without_click_tracking_too(reachable):
    from channels.services.messages import message_send
    from channels.tracking.links import unsubscribe_placeholder
    from channels.tracking.tokens import unsubscribe_token_read

    message = message_send(
        customer=reachable("email"),
        channel="email",
        category="marketing",
        source="campaign",
        subject="Hi",
        body=f"Unsubscribe: {unsubscribe_placeholder()}",
        payload={"track": False},
    )
    message.refresh_from_db()
    assert unsubscribe_token_read(message.body.split("/u/")[1]) == message.pk


def test_changing_a_scheduled_broadcast_keeps_its_schedule_honest(db):
    from campaigns.broadcasts.services.launch import broadcast_schedule
    from campaigns.broadcasts.services.setup import broadcast_update

    segment, _ = audience(1)
    broadcast = broadcast_create(
        name="Later",
        template=template(),
        segment=segment,
        channel="email",
        timing="at",
        send_at=timezone.now() + timedelta(hours=1),
    )
    broadcast = broadcast_schedule(broadcast)
    with pytest.raises(BroadcastError) as error:
        broadcast_update(broadcast, send_at=timezone.now() - timedelta(minutes=1))
    assert error.value.field == "send_at"
    broadcast = Broadcast.objects.get(pk=broadcast.pk)
    assert broadcast.status == BroadcastStatus.SCHEDULED
    broadcast = broadcast_update(broadcast, timing="now")
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.DRAFT
