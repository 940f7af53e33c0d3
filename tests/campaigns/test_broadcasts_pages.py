"""Broadcast pages: the wizard (errors on the right field), the review with the estimate, launch
and the controls, the results page (variants, holdout, uplift, charts), the recipients list.
Marketing and admin manage; a viewer (view_campaigns only) sees without controls; support
(no campaigns permission) is refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientGroup,
)
from campaigns.broadcasts.services.launch import broadcast_launch
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.setup import VariantSpec, broadcast_create
from campaigns.broadcasts.services.tick import broadcast_winner_choose
from campaigns.message_templates.services import template_create
from channels.models import Message
from customers.models import ConsentStatus
from tests.campaigns.broadcast_data import run_chunks
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]

LIST = reverse("campaigns:broadcasts")
NEW = reverse("campaigns:broadcast_new")
EMAIL = {
    "subject": "Hi {{ customer.first_name }}",
    "html": "<p>Sale, {{ customer.first_name }}</p>",
}


def audience(n, *, opted_in=True):
    segment = SegmentFactory(name=f"Buyers {SegmentFactory._meta.model.objects.count()}")
    for i in range(n):
        customer = CustomerFactory(first_name=f"Name{i}")
        status = ConsentStatus.OPTED_IN if opted_in or i % 2 else ConsentStatus.UNKNOWN
        ConsentFactory(customer=customer, channel="email", status=status)
        SegmentMembershipFactory(segment=segment, customer=customer)
    segment.member_count = n
    segment.save(update_fields=["member_count"])
    return segment


def a_template(name="Sale", variants=None):
    return template_create(name=name, category="marketing", variants=variants or {"email": EMAIL})


def wizard_post(segment, template, **extra):
    data = {
        "name": "Winter sale",
        "segment": segment.pk,
        "channel": "email",
        "order_1": "",
        "order_2": "",
        "order_3": "",
        "holdout_percent": "10",
        "template": template.pk,
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


@pytest.fixture
def viewer(client, staff_user):
    """Someone who may see campaigns but not change them (view_campaigns alone)."""
    user = staff_user("support")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="workspace", codename="view_campaigns")
    )
    client.force_login(user)
    return client


def test_the_hub_and_the_list_lead_to_the_wizard(client_as):
    client = client_as("marketing")
    assert LIST in client.get(reverse("campaigns:index")).content.decode()
    page = client.get(LIST)
    assert page.status_code == 200
    assert "No broadcasts yet" in page.content.decode() and NEW in page.content.decode()
    form = client.get(NEW)
    assert form.status_code == 200
    body = form.content.decode()
    for name in ("id_segment", "id_template", "id_timing_0", "id_ab", "id_vb_template"):
        assert name in body


def test_create_through_the_wizard_then_review_and_launch(
    client_as, published, django_capture_on_commit_callbacks
):
    segment = audience(6, opted_in=False)  # three without consent
    template = a_template()
    other = a_template("Other")
    client = client_as("marketing")
    data = wizard_post(
        segment,
        template,
        ab="on",
        va_use="on",
        vb_use="on",
        vb_template=other.pk,
        vb_subject="Another subject",
    )
    response = client.post(NEW, data)
    assert response.status_code == 302
    broadcast = Broadcast.objects.get(name="Winter sale")
    assert response.url == reverse("campaigns:broadcast", args=[broadcast.pk])
    assert broadcast.holdout_percent == 10 and broadcast.test_percent == 20
    variants = list(broadcast.variants.order_by("key"))
    assert [(v.key, v.template_id, v.subject) for v in variants] == [
        ("A", None, ""),
        ("B", other.pk, "Another subject"),
    ]
    review = client.get(response.url).content.decode()
    assert "Who it reaches" in review
    assert "no opt-in for Email (consent: unknown)" in review  # the estimate's reasons
    assert reverse("campaigns:template_edit", args=[template.pk]) in review  # preview link
    assert reverse("campaigns:broadcast_launch", args=[broadcast.pk]) in review
    # Edit keeps the variants and shows them ticked.
    edit = client.get(reverse("campaigns:broadcast_edit", args=[broadcast.pk])).content.decode()
    assert 'name="vb_subject" value="Another subject"' in edit
    with django_capture_on_commit_callbacks(execute=True):
        launched = client.post(reverse("campaigns:broadcast_launch", args=[broadcast.pk]))
    assert launched.status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.TESTING and broadcast.audience_count == 6
    assert published  # chunks were handed to the broker
    page = client.get(launched.url).content.decode()
    assert 'id="broadcast-progress"' in page and 'hx-trigger="every 2s"' in page
    assert "Test running until" in page
    # Editing after launch is refused with a message, not a form.
    edit = client.get(reverse("campaigns:broadcast_edit", args=[broadcast.pk]), follow=True)
    assert "Only a draft or a scheduled broadcast can be changed." in edit.content.decode()


def test_errors_land_on_their_field(client_as):
    segment = audience(2)
    client = client_as("marketing")
    sms_only = a_template("Texts", {"sms": {"body": "Hi"}})
    # A form rule: the holdout is 0–50 %.
    response = client.post(NEW, wizard_post(segment, a_template(), holdout_percent="80"))
    assert response.status_code == 400
    assert "holdout_percent" in response.context["form"].errors
    # A service rule (BroadcastError.field == "template"): an email broadcast of an SMS template.
    response = client.post(NEW, wizard_post(segment, sms_only))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["template"] and "no email version" in errors["template"][0]
    assert 'class="field has-error"' in response.content.decode()
    # "variants" → shown under the A/B switch; the fallback order under its first select.
    response = client.post(NEW, wizard_post(segment, a_template("T2"), ab="on", va_use="on"))
    assert list(response.context["form"].errors) == ["ab"]
    response = client.post(
        NEW, wizard_post(segment, a_template("T3"), channel="", order_1="email", order_2="email")
    )
    assert list(response.context["form"].errors) == ["order_1"]
    # Timing "at" without a time → send_at.
    response = client.post(NEW, wizard_post(segment, a_template("T4"), timing="at"))
    assert list(response.context["form"].errors) == ["send_at"]
    assert not Broadcast.objects.exists()


def test_schedule_from_the_review(client_as):
    segment = audience(2)
    client = client_as("marketing")
    at = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(NEW, wizard_post(segment, a_template(), timing="at", send_at=at))
    broadcast = Broadcast.objects.get()
    review = client.get(response.url).content.decode()
    schedule = reverse("campaigns:broadcast_schedule", args=[broadcast.pk])
    assert (
        schedule in review
        and reverse("campaigns:broadcast_launch", args=[broadcast.pk]) not in review
    )
    client.post(schedule)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    listing = client.get(LIST).content.decode()
    assert "Scheduled" in listing
    # Still editable while it waits: a later time keeps it scheduled; "now" makes it a draft.
    edit = reverse("campaigns:broadcast_edit", args=[broadcast.pk])
    assert edit in client.get(reverse("campaigns:broadcast", args=[broadcast.pk])).content.decode()
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    saved = client.post(edit, wizard_post(segment, broadcast.template, timing="at", send_at=later))
    assert saved.status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert timezone.localtime(broadcast.send_at).strftime("%Y-%m-%dT%H:%M") == later
    client.post(edit, wizard_post(segment, broadcast.template, timing="now"))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


def _sent_ab_broadcast(published, capture, *, n=40):
    segment = audience(n)
    plain = a_template()
    other = a_template("Other")
    broadcast = broadcast_create(
        name="Spring AB",
        template=plain,
        segment=segment,
        channel="email",
        holdout_percent=20,
        test_percent=50,
        variants=[VariantSpec(), VariantSpec(template=other)],
    )
    with capture(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    now = timezone.now()
    messages = Message.objects.filter(source_ref__startswith=f"broadcast:{broadcast.pk}:")
    messages.filter(source_ref__endswith=":B").update(
        status="clicked", sent_at=now, delivered_at=now, opened_at=now, clicked_at=now
    )
    messages.filter(source_ref__endswith=":A").update(status="sent", sent_at=now)
    with capture(execute=True):
        broadcast_winner_choose(broadcast)
    run_chunks(published)
    buyer = messages.filter(source_ref__endswith=":B").first().customer_id
    OrderFactory(
        customer_id=buyer,
        placed_at=now + timedelta(hours=1),
        total=Decimal("120"),
        status="completed",
    )
    broadcast_stats_refresh(broadcast)
    broadcast.refresh_from_db()
    return broadcast


def test_results_page_shows_variants_holdout_uplift_and_charts(
    client_as, published, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    broadcast = _sent_ab_broadcast(published, django_capture_on_commit_callbacks)
    client = client_as("marketing")
    url = reverse("campaigns:broadcast", args=[broadcast.pk])
    client.get(url)  # warms the cached holdout count
    with django_assert_max_num_queries(14):
        response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Variant A" in body and "Variant B" in body
    assert "Winner: B" in body and "Probability to beat" in body
    assert "Holdout" in body and "Uplift over the holdout" in body
    assert "Incremental revenue" in body
    assert 'data-chart="bar"' in body and 'data-chart="line"' in body
    assert "Results as of" in body
    assert reverse("campaigns:broadcast_recipients", args=[broadcast.pk]) in body
    assert reverse("campaigns:broadcast_pause", args=[broadcast.pk]) in body  # still sending
    # The list reads the stats rows: sent and rates appear.
    listing = client.get(LIST).content.decode()
    assert "Spring AB" in listing and "%" in listing


def test_live_fragment_polls_while_sending_and_stops_after(
    client_as, published, django_capture_on_commit_callbacks
):
    segment = audience(10)
    broadcast = broadcast_create(
        name="Live", template=a_template(), segment=segment, channel="email", holdout_percent=50
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    held = BroadcastRecipient.objects.filter(broadcast=broadcast, group="holdout").count()
    assert 0 < held < 10  # the bar's 100 % leaves the holdout out
    client = client_as("marketing")
    live = reverse("campaigns:broadcast_live", args=[broadcast.pk])
    fragment = client.get(live + "?status=sending", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 2s"' in fragment
    assert 'value="0.0"' in fragment and "broadcast-head" not in fragment
    run_chunks(published)
    fragment = client.get(live + "?status=sending", HTTP_HX_REQUEST="true").content.decode()
    assert 'value="100.0"' in fragment
    assert f"{10 - held} of {10 - held} processed" in fragment
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENT)
    fragment = client.get(live + "?status=sending", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment  # done: no more polling
    assert 'id="broadcast-head" class="bc-head" hx-swap-oob="true"' in fragment  # new status
    # Without htmx it is a plain fragment too, never the out-of-band header.
    assert "broadcast-head" not in client.get(live).content.decode()


def test_pause_resume_cancel(client_as, published, django_capture_on_commit_callbacks):
    segment = audience(3)
    broadcast = broadcast_create(
        name="Ctl", template=a_template(), segment=segment, channel="email"
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    client = client_as("marketing")
    url = reverse("campaigns:broadcast", args=[broadcast.pk])
    client.post(reverse("campaigns:broadcast_pause", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.PAUSED
    body = client.get(url).content.decode()
    assert reverse("campaigns:broadcast_resume", args=[broadcast.pk]) in body
    assert reverse("campaigns:broadcast_pause", args=[broadcast.pk]) not in body
    assert 'hx-trigger="every 2s"' not in body  # paused: nothing to poll
    # A refused move is a message on the page.
    again = client.post(reverse("campaigns:broadcast_pause", args=[broadcast.pk]), follow=True)
    assert "Only a sending broadcast can be paused." in again.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:broadcast_resume", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    client.post(reverse("campaigns:broadcast_cancel", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELLED
    body = client.get(url).content.decode()
    assert reverse("campaigns:broadcast_cancel", args=[broadcast.pk]) not in body


def test_viewer_sees_without_controls_and_support_is_refused(
    viewer, client_as, published, django_capture_on_commit_callbacks
):
    segment = audience(2)
    broadcast = broadcast_create(
        name="Seen", template=a_template(), segment=segment, channel="email"
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    url = reverse("campaigns:broadcast", args=[broadcast.pk])
    assert viewer.get(LIST).status_code == 200
    assert NEW not in viewer.get(LIST).content.decode()
    body = viewer.get(url).content.decode()
    assert "Seen" in body and reverse("campaigns:broadcast_pause", args=[broadcast.pk]) not in body
    assert (
        viewer.get(reverse("campaigns:broadcast_recipients", args=[broadcast.pk])).status_code
        == 200
    )
    assert viewer.get(NEW).status_code == 403
    for action in ("launch", "schedule", "pause", "resume", "cancel"):
        path = reverse(f"campaigns:broadcast_{action}", args=[broadcast.pk])
        assert viewer.post(path).status_code == 403
    assert viewer.post(NEW, {}).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    support = client_as("support")
    assert support.get(LIST).status_code == 403
    assert support.get(url).status_code == 403
    assert (
        support.post(reverse("campaigns:broadcast_pause", args=[broadcast.pk])).status_code == 403
    )


def test_recipients_are_paged_by_cursor_and_filtered(
    client_as, published, django_capture_on_commit_callbacks, settings, monkeypatch
):
    monkeypatch.setattr("campaigns.views.broadcasts_results.PER_PAGE", 5)
    segment = audience(12, opted_in=False)
    broadcast = broadcast_create(
        name="Many", template=a_template(), segment=segment, channel="email", holdout_percent=25
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_launch(broadcast)
    run_chunks(published)
    client = client_as("marketing")
    url = reverse("campaigns:broadcast_recipients", args=[broadcast.pk])
    seen = []
    next_url = url
    pages = 0
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200
        rows = response.context["rows"]
        seen += [row["recipient"].pk for row in rows]
        next_url = response.context["next_url"]
        pages += 1
    all_ids = list(
        BroadcastRecipient.objects.filter(broadcast=broadcast)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert seen == all_ids and pages == 3  # 5 + 5 + 2, never counted
    body = client.get(url).content.decode()
    assert "/app/customers/" in body and "Show more" in body
    suppressed = client.get(url, {"state": "suppressed"})
    states = {row["recipient"].state for row in suppressed.context["rows"]}
    assert states == {"suppressed"}
    assert "no opt-in for Email" in suppressed.content.decode()
    held = client.get(url, {"group": RecipientGroup.HOLDOUT})
    assert {row["recipient"].group for row in held.context["rows"]} <= {"holdout"}
    assert "pill pill-neutral" in held.content.decode() or not held.context["rows"]
    queued = client.get(url, {"state": "queued"}).content.decode()
    assert (
        reverse("channels:message", args=[Message.objects.first().pk]).rsplit("/", 2)[0] in queued
    )
