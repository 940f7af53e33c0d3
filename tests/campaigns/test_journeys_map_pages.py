"""The trigger map (/app/journeys/map) and the ready-made journeys gallery: roles, counts, the
"no scenario" state, pinning a segment, and a draft made from a template."""

import pytest
from django.urls import reverse

from campaigns.journeys.library import WINBACK_RULES, library_journey_create
from campaigns.journeys.models import Journey
from campaigns.journeys.services.authoring import journey_publish
from campaigns.journeys.services.triggers import journey_enrol
from campaigns.journeys.trigger_map import TriggerMapSegment
from campaigns.promo.models import PromoPool
from campaigns.promo.services import promo_codes_generate, promo_pool_create
from customers.models import Segment
from tests.campaigns.journey_data import EMAIL, SMS, customer, later, template
from tests.factories import OrderFactory, SegmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]
MAP = "/app/journeys/map"


@pytest.fixture
def things():
    tpl = template(variants={"email": EMAIL, "sms": SMS})
    pool = promo_pool_create(name="Autumn", kind=PromoPool.Kind.UNIQUE, prefix="AUT-")
    promo_codes_generate(pool, 10)
    at_risk = SegmentFactory(
        name="At risk", kind=Segment.Kind.DYNAMIC, rules=WINBACK_RULES, member_count=42
    )
    lost = SegmentFactory(name="Lost customers", kind=Segment.Kind.STATIC, member_count=7)
    return {"template": tpl, "pool": pool, "at_risk": at_risk, "lost": lost}


def _row_id(segment) -> str:
    return f'id="map-segment-{segment.pk}"'


def _win_back(things, segment):
    values = {
        "segment": segment.pk,
        "pool": things["pool"].pk,
        "email": things["template"].pk,
        "sms": things["template"].pk,
    }
    return library_journey_create(key="win_back", values=values, name="Win them back")


def test_the_map_is_at_the_app_journeys_map_path():
    assert reverse("campaigns:journey_map") == MAP


@pytest.mark.parametrize("role, status", [("support", 403), ("marketing", 200), ("admin", 200)])
def test_the_map_opens_for_the_roles_that_see_campaigns(client_as, things, role, status):
    assert client_as(role).get(MAP).status_code == status


def test_a_base_segment_without_a_journey_shows_no_scenario_with_a_link_to_make_one(
    client_as, things
):
    page = client_as("marketing").get(MAP).content.decode()
    row = page[page.index(_row_id(things["at_risk"])) :]
    row = row[: row.index("</section>")]
    assert "No scenario" in row and "42 members" in row
    assert f"/app/campaigns/journeys/templates/?segment={things['at_risk'].pk}" in row
    assert "2 segments have no scenario" in page


def test_a_journey_serving_a_segment_shows_its_live_counts(client_as, things):
    journey = _win_back(things, things["at_risk"])
    journey_publish(journey=journey)
    journey.refresh_from_db()
    people = [customer() for _ in range(20)]
    for person in people:
        journey_enrol(journey=journey, customer_id=person.pk)
    # Orders convert some runs: the held-out ones (waiting at the split) and the treated ones.
    from campaigns.journeys.services.signals import journey_orders_signal

    buyers = people[:4]
    orders = [OrderFactory(customer=p, total="100.00", placed_at=later(60)) for p in buyers]
    journey_orders_signal(order_ids=[o.pk for o in orders])
    page = client_as("marketing").get(MAP).content.decode()
    row = page[page.index(_row_id(things["at_risk"])) :]
    row = row[: row.index("</section>")]
    assert "Win them back" in row and "No scenario" not in row
    assert "16 in progress · 20 entered · 4 converted" in row and "20.0%" in row
    assert "1 segment has no scenario" in page


def test_staff_pin_a_segment_to_the_map_and_take_it_off_again(client_as, things):
    extra = SegmentFactory(name="VIP", kind=Segment.Kind.STATIC, member_count=3)
    client = client_as("marketing")
    assert _row_id(extra) not in client.get(MAP).content.decode()
    response = client.post(reverse("campaigns:journey_map_add"), {"segment": extra.pk})
    assert response.status_code == 302
    page = client.get(MAP).content.decode()
    assert _row_id(extra) in page and "Remove from the map" in page
    client.post(reverse("campaigns:journey_map_remove", args=[extra.pk]))
    assert not TriggerMapSegment.objects.exists()


def test_support_cannot_pin_a_segment(client_as, things):
    response = client_as("support").post(
        reverse("campaigns:journey_map_add"), {"segment": things["lost"].pk}
    )
    assert response.status_code == 403 and not TriggerMapSegment.objects.exists()


def test_the_gallery_lists_every_ready_made_journey(client_as, things):
    page = client_as("marketing").get("/app/campaigns/journeys/templates/").content.decode()
    for key in ("promo_cascade", "loyalty_joined", "abandoned_cart", "welcome_series", "win_back"):
        assert f'id="library-{key}"' in page


def test_a_template_preset_with_a_segment_makes_a_draft_and_goes_to_it(client_as, things):
    client = client_as("marketing")
    url = reverse("campaigns:journey_library_use", args=["win_back"])
    form = client.get(url, {"segment": things["lost"].pk}).content.decode()
    assert f'<option value="{things["lost"].pk}" selected>' in form
    response = client.post(
        url,
        {
            "name": "Win-back",
            "segment": things["at_risk"].pk,
            "pool": things["pool"].pk,
            "email": things["template"].pk,
            "sms": things["template"].pk,
        },
    )
    journey = Journey.objects.get(name="Win-back")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/app/campaigns/journeys/{journey.pk}/")
    assert journey.status == "draft" and journey.segment_id == things["at_risk"].pk


def test_a_template_without_its_templates_shows_the_field_error(client_as, things):
    url = reverse("campaigns:journey_library_use", args=["win_back"])
    response = client_as("marketing").post(url, {"name": "x", "segment": things["at_risk"].pk})
    assert response.status_code == 200 and not Journey.objects.exists()
    assert "This field is required." in response.content.decode()


def test_support_cannot_make_a_journey_from_a_template(client_as, things):
    url = reverse("campaigns:journey_library_use", args=["win_back"])
    assert client_as("support").get(url).status_code == 403
