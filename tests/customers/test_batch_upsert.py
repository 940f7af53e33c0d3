import pytest

from customers.models import AttributeDefinition, ChannelIdentity, Consent, ConsentChange, Customer
from tests.factories import AttributeDefinitionFactory, CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/batch"


def upsert(api, *items):
    return api.post(URL, {"items": list(items)})


def test_a_batch_creates_customers_with_canonical_email_and_phone(api):
    response = upsert(
        api,
        {
            "external_id": "c1",
            "email": " Ivan.Petrov@Example.RU ",
            "phone": "8 (916) 123-45-67",
            "first_name": "Иван",
            "last_name": "Петров",
            "locale": "ru_RU",
            "timezone": "Europe/Moscow",
            "birth_date": "1990-05-17",
            "lifecycle_stage": "customer",
        },
        {"external_id": "c2", "phone": "+44 20 7946 0958", "locale": "en-gb"},
    )
    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "customers_created": []}
    ivan = Customer.objects.get(external_id="c1")
    assert (ivan.email, ivan.phone, ivan.locale) == (
        "ivan.petrov@example.ru",
        "+79161234567",
        "ru-RU",
    )
    assert str(ivan.birth_date) == "1990-05-17"
    assert Customer.objects.get(external_id="c2").locale == "en-GB"


def test_replaying_a_batch_changes_nothing(api):
    items = [
        {
            "external_id": "c1",
            "email": "a@example.com",
            "consents": [{"channel": "email", "status": "opted_in"}],
        },
        {
            "external_id": "c2",
            "phone": "+79161234567",
            "identities": [{"channel": "telegram", "address": "123456"}],
        },
    ]
    upsert(api, *items)
    before = list(Customer.objects.order_by("pk").values())
    response = upsert(api, *items)
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 2, "customers_created": []}
    assert list(Customer.objects.order_by("pk").values()) == before
    assert ConsentChange.objects.count() == 1


def test_a_batch_with_one_bad_row_stores_nothing(api):
    existing = CustomerFactory(external_id="c0", first_name="Old")
    response = upsert(
        api,
        {"external_id": "c0", "first_name": "New"},
        {"external_id": "c1", "email": "fine@example.com"},
        {"external_id": "c2", "email": "not-an-email"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"] == [
        {"index": 2, "field": "email", "message": "not a valid email address"}
    ]
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.first_name == "Old"


def test_every_bad_item_is_reported_with_its_index_and_field(api):
    response = upsert(
        api,
        {"external_id": "c1", "phone": "12"},
        {"external_id": "c2", "locale": "xx-nowhere"},
        {"external_id": "c3", "timezone": "Mars/Olympus"},
        {"external_id": "c4", "lifecycle_stage": "vip"},
        {"external_id": "c5", "consents": [{"channel": "pigeon", "status": "opted_in"}]},
        {"external_id": "c6", "consents": [{"channel": "sms", "status": "maybe"}]},
        {"external_id": "c7", "birth_date": "1990-13-01"},
        {"external_id": "", "email": "x@example.com"},
        {"external_id": "c9", "favourite_colour": "green"},
        {"external_id": "c10", "identities": [{"channel": "telegram", "address": "not a chat"}]},
    )
    assert response.status_code == 400
    fields = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert fields == {
        (0, "phone"),
        (1, "locale"),
        (2, "timezone"),
        (3, "lifecycle_stage"),
        (4, "consents[0].channel"),
        (5, "consents[0].status"),
        (6, "birth_date"),
        (7, "external_id"),
        (8, "favourite_colour"),
        (9, "identities[0].address"),
    }
    assert not Customer.objects.exists()


def test_a_missing_external_id_is_named(api):
    response = upsert(api, {"email": "x@example.com"})
    assert response.json()["errors"] == [
        {"index": 0, "field": "external_id", "message": "Field required"}
    ]


def test_a_duplicate_external_id_inside_one_batch_is_rejected(api):
    response = upsert(api, {"external_id": "c1"}, {"external_id": "c2"}, {"external_id": "c1"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "index": 2,
            "field": "external_id",
            "message": "duplicate external_id 'c1', already at index 0",
        }
    ]
    assert not Customer.objects.exists()


def test_an_empty_batch_or_missing_items_is_a_validation_error(api):
    assert api.post(URL, {"items": []}).json()["errors"][0]["field"] == "items"
    assert api.post(URL, {}).json()["errors"][0]["field"] == "items"


def test_a_batch_of_1000_is_accepted(api):
    response = upsert(api, *({"external_id": f"c{i}"} for i in range(1000)))
    assert response.json()["created"] == 1000


def test_updates_change_only_the_fields_sent_and_null_clears(api):
    upsert(
        api,
        {
            "external_id": "c1",
            "first_name": "Anna",
            "last_name": "Ivanova",
            "birth_date": "1990-01-01",
        },
    )
    response = upsert(api, {"external_id": "c1", "last_name": "Smirnova", "birth_date": None})
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0, "customers_created": []}
    anna = Customer.objects.get()
    assert (anna.first_name, anna.last_name, anna.birth_date) == ("Anna", "Smirnova", None)


def test_an_update_moves_updated_at_and_an_unchanged_item_does_not(api):
    upsert(api, {"external_id": "c1", "first_name": "Anna"})
    first = Customer.objects.get().updated_at
    upsert(api, {"external_id": "c1", "first_name": "Anna"})
    assert Customer.objects.get().updated_at == first
    upsert(api, {"external_id": "c1", "first_name": "Anya"})
    assert Customer.objects.get().updated_at > first


class TestCustomAttributes:
    @pytest.fixture(autouse=True)
    def definitions(self):
        AttributeDefinitionFactory(key="city", type=AttributeDefinition.Type.STRING)
        AttributeDefinitionFactory(key="children", type=AttributeDefinition.Type.NUMBER)
        AttributeDefinitionFactory(key="loyalty_member", type=AttributeDefinition.Type.BOOL)
        AttributeDefinitionFactory(key="joined_loyalty_on", type=AttributeDefinition.Type.DATE)

    def test_typed_attributes_are_stored(self, api):
        attributes = {
            "city": "Казань",
            "children": 2,
            "loyalty_member": True,
            "joined_loyalty_on": "2025-03-01",
        }
        assert upsert(api, {"external_id": "c1", "attributes": attributes}).status_code == 200
        assert Customer.objects.get().attributes == attributes

    def test_attributes_merge_and_null_removes_a_key(self, api):
        upsert(api, {"external_id": "c1", "attributes": {"city": "Казань", "children": 2}})
        upsert(
            api, {"external_id": "c1", "attributes": {"children": None, "loyalty_member": False}}
        )
        assert Customer.objects.get().attributes == {"city": "Казань", "loyalty_member": False}

    @pytest.mark.parametrize(
        ("attributes", "field", "message"),
        [
            ({"shoe_size": 42}, "attributes.shoe_size", "is not a defined attribute"),
            ({"city": 42}, "attributes.city", "must be a string"),
            ({"children": "two"}, "attributes.children", "must be a number"),
            ({"children": True}, "attributes.children", "must be a number"),
            ({"loyalty_member": "yes"}, "attributes.loyalty_member", "must be true or false"),
            ({"joined_loyalty_on": "March"}, "attributes.joined_loyalty_on", "must be a date"),
        ],
    )
    def test_a_value_that_does_not_fit_its_definition_is_rejected(
        self, api, attributes, field, message
    ):
        response = upsert(
            api, {"external_id": "c0"}, {"external_id": "c1", "attributes": attributes}
        )
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert (error["index"], error["field"]) == (1, field)
        assert message in error["message"]
        assert not Customer.objects.exists()


class TestIdentities:
    def test_email_and_phone_become_identities_and_more_can_be_added(self, api):
        upsert(
            api,
            {
                "external_id": "c1",
                "email": "a@example.com",
                "phone": "+79161234567",
                "identities": [
                    {"channel": "telegram", "address": "@anna_smirnova"},
                    {"channel": "whatsapp", "address": "8 916 123 45 67"},
                    {"channel": "push", "address": "fcm-token-abc"},
                ],
            },
        )
        assert set(ChannelIdentity.objects.values_list("channel", "address")) == {
            ("email", "a@example.com"),
            ("sms", "+79161234567"),
            ("telegram", "@anna_smirnova"),
            ("whatsapp", "+79161234567"),
            ("push", "fcm-token-abc"),
        }

    def test_an_address_that_belongs_to_another_customer_is_rejected(self, api):
        upsert(api, {"external_id": "c1", "email": "shared@example.com"})
        response = upsert(api, {"external_id": "c2", "email": "Shared@Example.com"})
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "index": 0,
                "field": "email",
                "message": "email address shared@example.com belongs to customer 'c1'",
            }
        ]
        assert not Customer.objects.filter(external_id="c2").exists()

    def test_two_items_claiming_one_address_are_rejected(self, api):
        response = upsert(
            api,
            {"external_id": "c1", "phone": "+79161234567"},
            {"external_id": "c2", "identities": [{"channel": "sms", "address": "89161234567"}]},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["index"] == 1
        assert response.json()["errors"][0]["field"] == "identities[0]"

    def test_changing_an_email_moves_the_email_identity(self, api):
        upsert(api, {"external_id": "c1", "email": "old@example.com"})
        response = upsert(api, {"external_id": "c1", "email": "new@example.com"})
        assert response.json()["updated"] == 1
        assert list(ChannelIdentity.objects.values_list("address", flat=True)) == [
            "new@example.com"
        ]

    def test_clearing_a_phone_removes_its_sms_identity(self, api):
        upsert(api, {"external_id": "c1", "phone": "+79161234567"})
        upsert(api, {"external_id": "c1", "phone": None})
        assert not ChannelIdentity.objects.exists()
        assert Customer.objects.get().phone == ""


class TestConsents:
    def test_consents_are_set_and_every_change_is_logged(self, api):
        upsert(
            api,
            {
                "external_id": "c1",
                "consents": [{"channel": "email", "status": "opted_in", "source": "signup form"}],
            },
        )
        upsert(
            api, {"external_id": "c1", "consents": [{"channel": "email", "status": "opted_out"}]}
        )
        consent = Consent.objects.get()
        assert (consent.channel, consent.status) == ("email", "opted_out")
        log = list(
            ConsentChange.objects.order_by("pk").values_list("previous_status", "status", "source")
        )
        assert log == [("unknown", "opted_in", "signup form"), ("opted_in", "opted_out", "api:crm")]

    def test_a_consent_change_alone_counts_as_an_update(self, api):
        upsert(api, {"external_id": "c1"})
        response = upsert(
            api, {"external_id": "c1", "consents": [{"channel": "sms", "status": "opted_out"}]}
        )
        assert response.json()["updated"] == 1


def test_the_crm_signup_time_is_kept_as_created_at(api):
    upsert(api, {"external_id": "c1", "created_at": "2025-06-01T09:00:00+03:00"})
    assert Customer.objects.get().created_at.isoformat() == "2025-06-01T06:00:00+00:00"
    assert (
        upsert(api, {"external_id": "c1", "created_at": "2025-06-01T06:00:00Z"}).json()["unchanged"]
        == 1
    )
