import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Segment, SegmentMembership
from customers.services.segments import segment_refresh
from tests.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:customers_segment_add")


def test_a_rule_with_a_mistake_is_shown_as_a_form_error_and_nothing_is_saved(admin_client):
    rules = {"all": [{"field": "first_name", "op": "sounds_like", "value": "Anna"}]}
    response = admin_client.post(
        ADD_URL, {"name": "Bad", "kind": "dynamic", "rules": json.dumps(rules)}
    )
    assert response.status_code == 200
    assert "rules.all[0].op" in response.content.decode()
    assert not Segment.objects.exists()


def test_the_change_page_shows_how_many_customers_match_now(admin_client):
    CustomerFactory(first_name="Anna")
    CustomerFactory(first_name="Anna")
    segment = SegmentFactory(rules={"field": "first_name", "op": "equals", "value": "Anna"})
    response = admin_client.get(reverse("admin:customers_segment_change", args=[segment.pk]))
    assert "customers matching the rules now" in response.content.decode().lower()
    assert ">2<" in response.content.decode().replace(" ", "").replace("\n", "")


def test_a_static_segment_is_filled_from_an_uploaded_csv(admin_client):
    CustomerFactory(external_id="c1")
    CustomerFactory(external_id="c2")
    upload = SimpleUploadedFile("list.csv", b"external_id\nc1\nc2\nc1\n", content_type="text/csv")
    response = admin_client.post(
        ADD_URL, {"name": "Call list", "kind": "static", "rules": "null", "members_csv": upload}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get()
    assert set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    ) == {"c1", "c2"}


def test_a_dynamic_segment_saved_in_the_admin_is_validated_and_refreshable(admin_client):
    CustomerFactory(first_name="Olga")
    rules = {"field": "first_name", "op": "equals", "value": "Olga"}
    response = admin_client.post(
        ADD_URL, {"name": "Olgas", "kind": "dynamic", "rules": json.dumps(rules)}
    )
    assert response.status_code == 302
    assert segment_refresh(segment=Segment.objects.get()).member_count == 1
