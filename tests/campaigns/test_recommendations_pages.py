"""The recommendations page and the customer page's panel, under each role."""

import pytest
from django.urls import reverse

from api.models import AuditEntry
from campaigns.recommendations.models import RecommendationRun
from campaigns.recommendations.services import recommendations_refresh
from tests.campaigns.recommendation_data import make_shop

pytestmark = pytest.mark.django_db
URL = "/app/campaigns/recommendations/"


def test_url_names():
    assert reverse("campaigns:recommendations") == URL
    assert reverse("campaigns:recommendations_refresh") == URL + "refresh"


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_marketing_and_admin_see_counts_and_the_refresh_button(client_as, role):
    make_shop()
    recommendations_refresh()
    response = client_as(role).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Refresh now" in body
    assert "co-purchase pairs" in body
    assert "How they are computed" in body


def test_support_may_not_open_the_page(client_as):
    assert client_as("support").get(URL).status_code == 403
    assert client_as("support").post(URL + "refresh").status_code == 403


def test_without_manage_campaigns_there_is_no_refresh_button(client, staff_user):
    from django.contrib.auth.models import Permission

    user = staff_user("support", username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_campaigns"))
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Refresh now" not in response.content.decode()
    assert client.post(URL + "refresh").status_code == 403
    make_shop()
    body = client.get(URL, {"customer": "alice"}).content.decode()
    assert "Viewed, not bought" in body
    assert "Recompute this customer now" not in body
    assert client.post(URL + "refresh-customer", {"customer": "alice"}).status_code == 403


def test_refresh_now_queues_the_task_and_is_audited(
    client_as, eager_celery, django_capture_on_commit_callbacks
):
    make_shop()
    client = client_as("marketing")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL + "refresh", follow=True)
    assert response.status_code == 200
    assert "Refresh queued" in response.content.decode()
    assert RecommendationRun.objects.filter(customer__isnull=True).count() == 1
    assert AuditEntry.objects.filter(action="recommendations.refresh_requested").count() == 1


def test_customer_lookup_shows_their_picks(client_as):
    make_shop()
    recommendations_refresh()
    body = client_as("marketing").get(URL, {"customer": "alice"}).content.decode()
    assert "https://shop.example/a3" in body
    assert "Viewed, not bought" in body
    body = client_as("marketing").get(URL, {"customer": "nobody-at-all"}).content.decode()
    assert "No customer found" in body


def test_the_customer_page_panel_is_for_marketers_only(client_as):
    make_shop()
    recommendations_refresh()
    marketing = client_as("marketing").get("/app/customers/alice/").content.decode()
    assert "All picks" in marketing
    assert "https://shop.example/a2" in marketing
    support = client_as("support").get("/app/customers/alice/")
    assert support.status_code == 200
    assert "All picks" not in support.content.decode()


def test_recompute_one_customer_from_the_lookup(client_as):
    shop = make_shop()
    recommendations_refresh()
    shop["view"]("alice", "c1")
    client = client_as("marketing")
    assert "Recompute this customer now" in client.get(URL, {"customer": "alice"}).content.decode()
    response = client.post(URL + "refresh-customer", {"customer": "alice"}, follow=True)
    assert response.redirect_chain[-1][0] == URL + "?customer=alice"
    body = response.content.decode()
    assert "recomputed" in body
    assert "https://shop.example/c1" in body
    entry = AuditEntry.objects.get(action="recommendations.refresh_requested")
    assert entry.customer_id == shop["customers"]["alice"].pk
    response = client.post(URL + "refresh-customer", {"customer": "nobody"}, follow=True)
    assert "No such customer." in response.content.decode()


def test_support_and_viewers_cannot_recompute_a_customer(client_as):
    make_shop()
    assert (
        client_as("support").post(URL + "refresh-customer", {"customer": "alice"}).status_code
        == 403
    )
