"""A broadcast that sends a survey instead of a template: created in the wizard, launched for
real (snapshot, chunks), each chunk sending through analytics' registered sender keyed per
(broadcast, customer); what only a template can do is refused on its field."""

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import SurveySend
from analytics.surveys.definitions import survey_create
from campaigns.broadcasts.models import Broadcast, BroadcastRecipient, RecipientState
from campaigns.broadcasts.services.launch import broadcast_launch
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.sending import broadcast_chunk_send
from campaigns.broadcasts.services.setup import BroadcastError, VariantSpec, broadcast_create
from campaigns.message_templates.services import template_create
from campaigns.promo.services import promo_pool_create
from channels.models import DeliverySettings, Message
from channels.services.policy import forget_delivery_settings
from customers.models import ConsentStatus
from tests.factories import (
    ChannelIdentityFactory,
    ConsentFactory,
    CustomerFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db
NEW = "/app/campaigns/broadcasts/new/"


@pytest.fixture(autouse=True)
def no_caps(db):
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    yield
    forget_delivery_settings()


@pytest.fixture
def published(monkeypatch):
    """The chunk tasks a launch publishes, kept to be run here as a worker would."""
    calls = []
    monkeypatch.setattr(
        "campaigns.broadcasts.services.launch.task_publish",
        lambda task, *args, **kw: calls.append(args) or True,
    )
    return calls


def run_chunks(calls) -> int:
    taken = 0
    while calls:
        taken += broadcast_chunk_send(*calls.pop(0))
    return taken


def audience(n, *, channels=("email",), reachable=True):
    segment = SegmentFactory()
    for _ in range(n):
        person = CustomerFactory()
        for channel in channels:
            address = person.email if channel == "email" else person.phone
            ChannelIdentityFactory(customer=person, channel=channel, address=address)
            if reachable:
                ConsentFactory(customer=person, channel=channel, status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=person)
    return segment


def nps():
    return survey_create("nps", "Quarterly NPS")


def launch(broadcast, capture, published):
    with capture(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    broadcast.refresh_from_db()
    return broadcast


def test_a_launched_survey_broadcast_sends_the_survey_to_every_recipient(
    published, django_capture_on_commit_callbacks
):
    survey = nps()
    segment = audience(5)
    broadcast = broadcast_create(
        name="NPS Q4", template=None, survey_id=survey.pk, segment=segment, channel="email"
    )
    broadcast = launch(broadcast, django_capture_on_commit_callbacks, published)
    sends = list(SurveySend.objects.filter(broadcast_id=broadcast.pk))
    assert len(sends) == 5
    assert {(s.survey_id, s.source, s.channel) for s in sends} == {
        (survey.pk, "broadcast", "email")
    }
    assert {s.idempotency_key for s in sends} == {
        f"broadcast:{broadcast.pk}:{s.customer_id}" for s in sends
    }
    recipients = BroadcastRecipient.objects.filter(broadcast=broadcast)
    assert {r.state for r in recipients} == {RecipientState.QUEUED}
    assert {r.message_id for r in recipients} == {s.message_id for s in sends}
    assert (broadcast.processed_count, broadcast.queued_count, broadcast.suppressed_count) == (
        5,
        5,
        0,
    )
    assert (
        Message.objects.filter(pk__in=[s.message_id for s in sends], channel="email").count() == 5
    )
    broadcast_stats_refresh(broadcast)  # the results read survey messages like any other


def test_a_chunk_run_again_sends_nothing_twice(published, django_capture_on_commit_callbacks):
    survey = nps()
    broadcast = broadcast_create(
        name="NPS", template=None, survey_id=survey.pk, segment=audience(4), channel="email"
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    chunk = published[0]
    assert broadcast_chunk_send(*chunk) == 4
    assert broadcast_chunk_send(*chunk) == 0  # the recipients are no longer pending
    # Even were they pending again (a worker that stored the sends but lost the recipients'
    # states), each (broadcast, customer) send is found by its key, not made again.
    BroadcastRecipient.objects.filter(broadcast=broadcast).update(state=RecipientState.PENDING)
    assert broadcast_chunk_send(*chunk) == 4
    assert SurveySend.objects.filter(broadcast_id=broadcast.pk).count() == 4
    assert Message.objects.filter(source_ref__startswith=f"survey:{survey.pk}:").count() == 4


def test_the_holdout_gets_no_survey_and_the_unreachable_are_counted(
    published, django_capture_on_commit_callbacks
):
    survey = nps()
    segment = audience(30)
    unreachable = audience(3, reachable=False)
    for membership in unreachable.memberships.all():
        SegmentMembershipFactory(segment=segment, customer=membership.customer)
    broadcast = broadcast_create(
        name="NPS",
        template=None,
        survey_id=survey.pk,
        segment=segment,
        channel="email",
        holdout_percent=30,
    )
    broadcast = launch(broadcast, django_capture_on_commit_callbacks, published)
    held = BroadcastRecipient.objects.filter(broadcast=broadcast, state=RecipientState.HELD)
    assert held.exists()
    held_customers = set(held.values_list("customer_id", flat=True))
    sent_to = set(
        SurveySend.objects.filter(broadcast_id=broadcast.pk).values_list("customer_id", flat=True)
    )
    assert not held_customers & sent_to
    suppressed = BroadcastRecipient.objects.filter(
        broadcast=broadcast, state=RecipientState.SUPPRESSED
    )
    assert suppressed.count() == broadcast.suppressed_count
    assert broadcast.processed_count == broadcast.audience_count - broadcast.holdout_count


def test_the_best_channel_is_the_first_that_reaches_each_customer(
    published, django_capture_on_commit_callbacks
):
    survey = nps()
    broadcast = broadcast_create(
        name="NPS", template=None, survey_id=survey.pk, segment=audience(2, channels=("sms",))
    )
    launch(broadcast, django_capture_on_commit_callbacks, published)
    assert set(
        SurveySend.objects.filter(broadcast_id=broadcast.pk).values_list("channel", flat=True)
    ) == {"sms"}
    assert set(
        BroadcastRecipient.objects.filter(broadcast=broadcast).values_list("channel", flat=True)
    ) == {"sms"}


def test_what_only_a_template_can_do_is_refused_for_a_survey():
    survey = nps()
    segment = audience(1)
    template = template_create(
        name="Sale",
        category="marketing",
        variants={"email": {"subject": "Hi", "html": "<p>Hi</p>"}},
    )
    pool = promo_pool_create(name="Pool", kind="unique", discount_description="-5%")
    archived = survey_create("csat", "Old")
    archived.archived_at = timezone.now()
    archived.save()
    cases = [
        ({"test_percent": 20, "variants": [VariantSpec(), VariantSpec(channel="sms")]}, "ab"),
        ({"promo_pool": pool}, "promo_pool"),
        ({"channel": "", "channel_order": ["email", "sms"]}, "channel_order"),
        ({"timing": "local", "local_time": timezone.now().time()}, "timing"),
        ({"template": template}, "survey"),
        ({"survey_id": archived.pk}, "survey"),
        ({"survey_id": 999_999}, "survey"),
        ({"channel": "voice"}, "channel"),
    ]
    for extra, field in cases:
        kwargs = {
            "name": "NPS",
            "template": None,
            "survey_id": survey.pk,
            "segment": segment,
            "channel": "email",
            **extra,
        }
        with pytest.raises(BroadcastError) as error:
            broadcast_create(**kwargs)
        assert error.value.field == field, (extra, error.value.message)
    assert not Broadcast.objects.exists()


def wizard(segment, chosen, **extra):
    data = {
        "name": "NPS Q4",
        "segment": segment.pk,
        "channel": "email",
        "order_1": "",
        "order_2": "",
        "order_3": "",
        "holdout_percent": "0",
        "template": "",
        "survey": chosen.pk,
        "promo_pool": "",
        "timing": "now",
        "send_at": "",
        "local_time": "",
        "test_percent": "20",
        "ab_metric": "clicked",
        "test_hours": "4",
        "conversion_days": "7",
    }
    data.update(extra)
    return data


def test_the_wizard_creates_a_survey_broadcast_and_the_review_names_it(
    client_as, published, django_capture_on_commit_callbacks
):
    survey = nps()
    segment = audience(3)
    client = client_as("marketing")
    form = client.get(NEW).content.decode()
    assert 'name="survey"' in form and survey.name in form
    response = client.post(NEW, wizard(segment, survey))
    assert response.status_code == 302, response.content.decode()
    broadcast = Broadcast.objects.get(name="NPS Q4")
    assert broadcast.survey_id == survey.pk and broadcast.template_id is None
    review = client.get(response.url).content.decode()
    assert survey.name in review and "Who it reaches" in review
    edit = client.get(reverse("campaigns:broadcast_edit", args=[broadcast.pk])).content.decode()
    assert f'<option value="{survey.pk}" selected' in edit
    with django_capture_on_commit_callbacks(execute=True):
        launched = client.post(reverse("campaigns:broadcast_launch", args=[broadcast.pk]))
    assert launched.status_code == 302
    run_chunks(published)
    assert SurveySend.objects.filter(broadcast_id=broadcast.pk).count() == 3
    detail = client.get(launched.url).content.decode()
    assert survey.name in detail


def test_the_wizard_puts_each_survey_error_on_its_field(client_as):
    survey = nps()
    segment = audience(1)
    template = template_create(
        name="Sale",
        category="marketing",
        variants={"email": {"subject": "Hi", "html": "<p>Hi</p>"}},
    )
    pool = promo_pool_create(name="Pool", kind="unique", discount_description="-5%")
    client = client_as("marketing")
    cases = [
        ({"ab": "on", "va_use": "on", "vb_use": "on", "vb_channel": "sms"}, "ab"),
        ({"promo_pool": pool.pk}, "promo_pool"),
        ({"channel": "", "order_1": "email", "order_2": "sms"}, "order_1"),
        ({"timing": "local", "local_time": "10:00"}, "timing"),
        ({"template": template.pk}, "survey"),
        ({"survey": ""}, "template"),
    ]
    for extra, field in cases:
        response = client.post(NEW, wizard(segment, survey, **extra))
        assert response.status_code == 400, extra
        assert field in response.context["form"].errors, (extra, response.context["form"].errors)
    assert not Broadcast.objects.exists()


def test_the_api_creates_a_survey_broadcast_and_names_the_field_it_refuses(api):
    survey = nps()
    segment = audience(2)
    body = {"name": "NPS by API", "survey": survey.pk, "segment": segment.pk, "channel": "email"}
    created = api.post("/api/v1/broadcasts", body, HTTP_IDEMPOTENCY_KEY="nps-1")
    assert created.status_code == 201, created.content
    assert created.json()["survey"] == survey.pk and created.json()["template"] is None
    pool = promo_pool_create(name="Pool", kind="unique", discount_description="-5%")
    refused = api.post("/api/v1/broadcasts", {**body, "promo_pool": pool.pk})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "promo_pool"
    neither = api.post("/api/v1/broadcasts", {"name": "x", "segment": segment.pk})
    assert neither.status_code == 400 and neither.json()["errors"][0]["field"] == "template"
    archived = survey_create("ces", "Old")
    archived.archived_at = timezone.now()
    archived.save()
    changed = api.patch(f"/api/v1/broadcasts/{created.json()['id']}", {"survey": archived.pk})
    assert changed.status_code == 400 and changed.json()["errors"][0]["field"] == "survey"
