"""The journeys demo: live journeys whose runs were played through the engine, loaded once."""

import pytest

from campaigns.journeys.demo import journeys_demo_load
from campaigns.journeys.models import Enrollment, EnrollmentLog, JourneyStatus
from campaigns.journeys.selectors import journey_totals
from campaigns.promo.demo import promo_demo_load
from channels.models import Message
from tests.campaigns.journey_data import customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]


@pytest.fixture
def sandbox(settings):
    settings.MESSAGING_SANDBOX = True


def test_the_demo_journeys_are_live_with_runs_spread_over_their_steps(sandbox):
    for _ in range(24):
        customer(channels=("email", "sms"))
    promo_demo_load(issued=0, redeemed=0)
    journeys = journeys_demo_load(per_journey=8)
    assert len(journeys) == 3 and all(j.status == JourneyStatus.LIVE for j in journeys)
    totals = journey_totals([j.pk for j in journeys])
    assert sum(t["entered"] for t in totals.values()) == 24
    assert Message.objects.filter(source="journey", opened_at__isnull=False).exists()
    steps = set(Enrollment.objects.values_list("step", flat=True))
    assert len(steps) >= 3
    assert EnrollmentLog.objects.filter(outcome__startswith="outcome:").exists()
    again = journeys_demo_load()  # a second load finds them and adds nothing
    assert {j.pk for j in again} == {j.pk for j in journeys}
    assert Enrollment.objects.count() == 24


def test_without_the_sandbox_gateway_the_demo_sends_nothing(settings):
    settings.MESSAGING_SANDBOX = False
    assert journeys_demo_load() == [] and not Message.objects.exists()
