import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_marketing_sees_analytics_in_the_navigation(client_as):
    page = client_as("marketing").get(reverse("analytics:index"))
    assert page.status_code == 200
    assert reverse("analytics:index") in page.content.decode()


def test_support_may_not_open_analytics(client_as):
    assert client_as("support").get(reverse("analytics:index")).status_code == 403
