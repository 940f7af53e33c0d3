from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import ConsentChange, Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def results(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["external_id"] for c in response.json()["results"]]


class TestList:
    def test_customers_are_listed_oldest_change_first_with_identities_and_consents(self, api):
        api.post(
            "/api/v1/customers/batch",
            {
                "items": [
                    {
                        "external_id": "c1",
                        "email": "a@example.com",
                        "consents": [{"channel": "email", "status": "opted_in"}],
                    }
                ]
            },
        )
        [customer] = api.get("/api/v1/customers").json()["results"]
        assert customer["identities"][0]["address"] == "a@example.com"
        assert customer["consents"][0]["status"] == "opted_in"

    def test_cursor_pagination_walks_every_customer_once(self, api):
        for i in range(25):
            CustomerFactory(
                external_id=f"c{i:02}", updated_at=timezone.now() - timedelta(minutes=30 - i)
            )
        seen, url = [], "/api/v1/customers?limit=10"
        while url:
            page = api.get(url).json()
            seen += [c["external_id"] for c in page["results"]]
            url = page["next"]
        assert seen == [f"c{i:02}" for i in range(25)]

    def test_updated_since_returns_only_customers_changed_since(self, api):
        CustomerFactory(external_id="old", updated_at=timezone.now() - timedelta(days=2))
        CustomerFactory(external_id="new")
        since = (timezone.now() - timedelta(days=1)).isoformat()
        assert results(api.get("/api/v1/customers", {"updated_since": since})) == ["new"]

    def test_a_bad_updated_since_is_a_400_naming_the_field(self, api):
        response = api.get("/api/v1/customers", {"updated_since": "last tuesday"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "updated_since"

    def test_filter_by_email_ignores_case_and_phone_accepts_any_notation(self, api):
        CustomerFactory(external_id="c1", email="anna@example.com", phone="+79161234567")
        CustomerFactory(external_id="c2")
        assert results(api.get("/api/v1/customers", {"email": "Anna@Example.com"})) == ["c1"]
        assert results(api.get("/api/v1/customers", {"phone": "8 (916) 123-45-67"})) == ["c1"]
        assert api.get("/api/v1/customers", {"phone": "12"}).status_code == 400

    def test_search_finds_by_part_of_a_name_email_or_an_exact_id(self, api):
        CustomerFactory(
            external_id="c1", first_name="Светлана", last_name="Кузнецова", email="sveta@mail.ru"
        )
        CustomerFactory(
            external_id="c2", first_name="John", last_name="Smith", email="john@example.com"
        )
        assert results(api.get("/api/v1/customers", {"search": "Кузнец"})) == ["c1"]
        assert results(api.get("/api/v1/customers", {"search": "example.com"})) == ["c2"]
        assert results(api.get("/api/v1/customers", {"search": "c2"})) == ["c2"]

    def test_erased_customers_are_not_listed(self, api):
        CustomerFactory(external_id="c1", erased_at=timezone.now())
        assert results(api.get("/api/v1/customers")) == []


class TestSingleCustomer:
    def test_create_returns_201_and_the_customer(self, api):
        response = api.post("/api/v1/customers", {"external_id": "c1", "email": "A@example.com"})
        assert response.status_code == 201
        assert response.json()["email"] == "a@example.com"

    def test_creating_an_existing_external_id_is_409(self, api):
        CustomerFactory(external_id="c1")
        response = api.post("/api/v1/customers", {"external_id": "c1"})
        assert response.status_code == 409
        assert response.json()["code"] == "already_exists"

    def test_create_with_bad_fields_names_them_without_an_index(self, api):
        response = api.post("/api/v1/customers", {"external_id": "c1", "email": "nope"})
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"field": "email", "message": "not a valid email address"}
        ]

    def test_get_by_external_id(self, api):
        CustomerFactory(external_id="crm/42".replace("/", "-"), first_name="Olga")
        assert api.get("/api/v1/customers/crm-42").json()["first_name"] == "Olga"

    def test_an_unknown_customer_is_404(self, api):
        response = api.get("/api/v1/customers/nobody")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_patch_changes_only_what_is_sent(self, api):
        CustomerFactory(external_id="c1", first_name="Olga", last_name="Ivanova")
        response = api.patch(
            "/api/v1/customers/c1", {"last_name": "Petrova", "phone": "8 916 000 00 01"}
        )
        assert response.status_code == 200
        assert (response.json()["first_name"], response.json()["last_name"]) == ("Olga", "Petrova")
        assert response.json()["phone"] == "+79160000001"

    def test_patch_cannot_change_the_external_id(self, api):
        CustomerFactory(external_id="c1")
        response = api.patch("/api/v1/customers/c1", {"external_id": "c2"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "external_id"

    def test_delete_erases_and_the_customer_is_then_gone(self, api):
        CustomerFactory(external_id="c1")
        assert api.delete("/api/v1/customers/c1").status_code == 204
        assert api.get("/api/v1/customers/c1").status_code == 404
        assert Customer.objects.get().is_erased


class TestConsents:
    def test_put_sets_a_consent_and_logs_it_once(self, api):
        CustomerFactory(external_id="c1")
        for _ in range(2):
            response = api.put(
                "/api/v1/customers/c1/consents/sms",
                {"status": "opted_out", "source": "call centre"},
            )
            assert response.status_code == 200
        assert response.json()["status"] == "opted_out"
        assert ConsentChange.objects.count() == 1
        listed = api.get("/api/v1/customers/c1/consents").json()
        assert [(c["channel"], c["status"], c["source"]) for c in listed] == [
            ("sms", "opted_out", "call centre")
        ]

    def test_put_on_an_unknown_channel_or_status_is_400(self, api):
        CustomerFactory(external_id="c1")
        assert (
            api.put("/api/v1/customers/c1/consents/fax", {"status": "opted_in"}).json()["errors"][
                0
            ]["field"]
            == "channel"
        )
        assert (
            api.put("/api/v1/customers/c1/consents/sms", {"status": "yes"}).json()["errors"][0][
                "field"
            ]
            == "status"
        )
