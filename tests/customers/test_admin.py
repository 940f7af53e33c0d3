from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey, IdempotencyRecord
from api.services import api_key_create
from customers.admin import pagination as admin_pagination
from customers.admin.pagination import EstimatedCountPaginator
from customers.models import (
    AttributeDefinition,
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    CustomerValue,
    Event,
    Note,
    Order,
    OrderItem,
    Product,
    RfmDimensionSetting,
    RfmScore,
    Segment,
    SegmentMembership,
)
from customers.services.consents import consent_set
from tests.factories import (
    AttributeDefinitionFactory,
    ChannelIdentityFactory,
    ConsentChangeFactory,
    ConsentFactory,
    CustomerFactory,
    EventFactory,
    NoteFactory,
    OrderFactory,
    OrderItemFactory,
    ProductFactory,
    RfmDimensionSettingFactory,
    RfmScoreFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db

CUSTOMER_MODELS = [
    Customer,
    AttributeDefinition,
    ChannelIdentity,
    Consent,
    ConsentChange,
    Event,
    Product,
    Order,
    OrderItem,
    Note,
    RfmScore,
    RfmDimensionSetting,
    CustomerValue,
    Segment,
    SegmentMembership,
]
READ_ONLY_MODELS = {ConsentChange, Event, RfmScore, CustomerValue, SegmentMembership}
LARGE_TABLES = [
    Customer, Event, Order, OrderItem, ConsentChange, ChannelIdentity, Consent, Note, RfmScore,
    CustomerValue, SegmentMembership,
]  # fmt: skip


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(db) -> dict:
    customer = CustomerFactory(email="anna@example.com", phone="+79161234567")
    order = OrderFactory(customer=customer)
    product = ProductFactory()
    return {
        Customer: customer,
        AttributeDefinition: AttributeDefinitionFactory(),
        ChannelIdentity: ChannelIdentityFactory(customer=customer),
        Consent: ConsentFactory(customer=customer),
        ConsentChange: ConsentChangeFactory(customer=customer),
        Event: EventFactory(customer=customer),
        Product: product,
        Order: order,
        OrderItem: OrderItemFactory(order=order, product=product),
        Note: NoteFactory(customer=customer),
        RfmScore: RfmScoreFactory(customer=customer),
        RfmDimensionSetting: RfmDimensionSettingFactory(),
        CustomerValue: CustomerValue.objects.create(
            customer=customer,
            historic_revenue=1990,
            orders=1,
            repeat_days=0,
            recency_days=2,
            age_days=2,
            mean_repeat_spend=0,
            p_alive=1.0,
            expected_purchases_12m=0.4,
            expected_spend=1500,
            clv_12m=580,
            scored_at=timezone.now(),
        ),
        Segment: SegmentFactory(),
        SegmentMembership: SegmentMembershipFactory(customer=customer),
    }


def management_form(prefix: str, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(initial),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def customer_form(**fields) -> dict:
    data = {
        "first_name": "",
        "last_name": "",
        "email": "",
        "phone": "",
        "lifecycle_stage": "",
        "locale": "",
        "timezone": "",
        "birth_date": "",
        "attributes": "{}",
        **management_form("identities"),
        **management_form("consents"),
    }
    data.update(fields)
    return data


# --- Every model is there, and every page renders ---------------------------------------------


def test_every_customers_model_is_registered_in_the_admin():
    models = set(apps.get_app_config("customers").get_models())
    assert models == set(CUSTOMER_MODELS)
    assert all(admin.site.is_registered(model) for model in models)


@pytest.mark.parametrize("model", CUSTOMER_MODELS, ids=lambda m: m.__name__)
def test_every_changelist_and_change_page_renders(admin_client, one_of_each, model):
    obj = one_of_each[model]
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize(
    "model", [m for m in CUSTOMER_MODELS if m not in READ_ONLY_MODELS], ids=lambda m: m.__name__
)
def test_every_add_page_renders_where_staff_may_add(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize(
    "model",
    [ChannelIdentity, Consent, ConsentChange, Event, Order, OrderItem, Note],
    ids=lambda m: m.__name__,
)
def test_rows_of_a_customer_are_found_by_the_customers_phone_in_local_notation(
    admin_client, one_of_each, model
):
    other = CustomerFactory()
    response = admin_client.get(url(model, "changelist"), {"q": "8 (916) 123-45-67"})
    of_other = admin_client.get(url(model, "changelist"), {"q": other.external_id})
    assert list(response.context["cl"].result_list) == [one_of_each[model]]
    assert list(of_other.context["cl"].result_list) == []


def test_customer_filters_render_and_filter(admin_client):
    lead = CustomerFactory(lifecycle_stage="lead", locale="ru-RU")
    CustomerFactory(lifecycle_stage="customer", locale="en")
    changelist = url(Customer, "changelist")
    for params, expected in [
        ({"lifecycle_stage__exact": "lead"}, [lead]),
        ({"locale": "ru-RU"}, [lead]),
        ({"erased": "yes"}, []),
        ({"erased": "no", "created_at__gte": "2000-01-01 00:00+00:00"}, None),
    ]:
        response = admin_client.get(changelist, params)
        assert response.status_code == 200
        if expected is not None:
            assert list(response.context["cl"].result_list) == expected


def test_no_admin_form_offers_a_select_of_every_customer_order_or_product(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    huge = {Customer, Order, Product}
    kaskad_apps = {"api", "customers", "channels", "campaigns", "analytics"}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in kaskad_apps:
            continue
        for each in [model_admin, *model_admin.get_inline_instances(request)]:
            if isinstance(each, ModelAdmin):
                editable = each.has_add_permission(request) or each.has_change_permission(request)
                form = each.get_form(request)
            else:
                editable = each.has_add_permission(request, None) or each.has_change_permission(
                    request
                )
                form = each.get_formset(request).form
            if not editable:
                continue  # a read-only page shows the related object, not a select
            for name, field in form.base_fields.items():
                if getattr(field, "queryset", None) is not None and field.queryset.model in huge:
                    assert name in (*each.autocomplete_fields, *each.raw_id_fields), (
                        f"{type(each).__name__}.{name} would list every {field.queryset.model}"
                    )


# --- Finding a customer ------------------------------------------------------------------------


def test_customer_search_finds_an_e164_phone_typed_in_local_notation(admin_client):
    anna = CustomerFactory(phone="+79161234567")
    CustomerFactory(phone="+79160000000")
    response = admin_client.get(url(Customer, "changelist"), {"q": "8 916 123-45-67"})
    assert list(response.context["cl"].result_list) == [anna]


def test_customer_search_finds_names_part_of_an_email_the_crm_id_and_any_address(admin_client):
    anna = CustomerFactory(first_name="Anna", last_name="Smirnova", email="anna.s@mail.ru")
    boris = CustomerFactory(first_name="Boris", last_name="Petrov", email="boris@yandex.ru")
    ChannelIdentityFactory(customer=boris, channel="whatsapp", address="+79035551122")
    ChannelIdentityFactory(customer=boris, channel="telegram", address="@boris_p")
    changelist = url(Customer, "changelist")

    def found(term: str) -> list:
        return list(admin_client.get(changelist, {"q": term}).context["cl"].result_list)

    assert found("anna smirnova") == [anna]
    assert found("mail.ru") == [anna]
    assert found(boris.external_id) == [boris]
    assert found("+7 903 555-11-22") == [boris]
    assert found("@boris_p") == [boris]
    assert found("nobody") == []


def test_picking_a_customer_in_a_form_finds_them_by_phone(admin_client):
    anna = CustomerFactory(phone="+79161234567")
    CustomerFactory()
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "customers",
            "model_name": "note",
            "field_name": "customer",
            "term": "89161234567",
        },
    )
    assert [result["id"] for result in response.json()["results"]] == [str(anna.pk)]


def test_a_locale_filter_applies_even_before_the_cached_locale_list_knows_it(admin_client):
    CustomerFactory(locale="en")
    admin_client.get(url(Customer, "changelist"))  # caches the locales in use: ["en"]
    newcomer = CustomerFactory(locale="ro-MD")
    response = admin_client.get(url(Customer, "changelist"), {"locale": "ro-MD"})
    assert list(response.context["cl"].result_list) == [newcomer]


# --- The customer page -------------------------------------------------------------------------


def test_customer_page_shows_identities_consents_and_the_timeline_newest_first(admin_client):
    customer = CustomerFactory()
    ChannelIdentityFactory(customer=customer, channel="telegram", address="@anna_smirnova")
    consent_set(customer=customer, channel="email", status="opted_in", source="signup form")
    now = timezone.now()
    EventFactory(customer=customer, name="cart_abandoned", occurred_at=now - timedelta(hours=1))
    OrderFactory(customer=customer, external_id="order-777", placed_at=now - timedelta(hours=2))
    NoteFactory(customer=customer, body="Prefers WhatsApp after 18:00")

    html = admin_client.get(url(Customer, "change", customer.pk)).content.decode()

    assert "@anna_smirnova" in html
    assert "signup form" in html
    timeline = html[html.index('id="timeline"') :]
    titles = [
        "Prefers WhatsApp after 18:00",
        "Email consent: unknown → opted_in",
        "cart_abandoned",
        "Order order-777: 1990.00 RUB (completed)",
    ]
    positions = [timeline.index(title) for title in titles]
    assert positions == sorted(positions)


def test_the_customer_page_links_to_only_that_customers_orders_events_and_consent_log(
    admin_client,
):
    anna, boris = CustomerFactory(), CustomerFactory()
    rows = {
        Order: OrderFactory(customer=anna),
        Event: EventFactory(customer=anna),
        ConsentChange: ConsentChangeFactory(customer=anna),
    }
    OrderFactory(customer=boris)
    EventFactory(customer=boris)
    html = admin_client.get(url(Customer, "change", anna.pk)).content.decode()
    for model, row in rows.items():
        link = f"{url(model, 'changelist')}?customer__id__exact={anna.pk}"
        assert link in html
        listed = admin_client.get(link)
        assert list(listed.context["cl"].result_list) == [row]


def test_customer_timeline_pages_back_to_older_entries(admin_client):
    customer = CustomerFactory()
    now = timezone.now()
    EventFactory(customer=customer, name="oldest_visit", occurred_at=now - timedelta(days=30))
    for _ in range(50):
        EventFactory(customer=customer, name="recent_visit", occurred_at=now)
    first = admin_client.get(url(Customer, "change", customer.pk)).content.decode()
    older_url = first.split('<a href="?timeline_cursor=', 1)[1].split("#", 1)[0]
    older = admin_client.get(url(Customer, "change", customer.pk), {"timeline_cursor": older_url})
    assert "oldest_visit" not in first
    assert "oldest_visit" in older.content.decode()


def test_editing_a_customer_stores_canonical_contacts_and_keeps_identities_in_step(admin_client):
    AttributeDefinitionFactory(key="city")
    customer = CustomerFactory(email="", phone="")
    response = admin_client.post(
        url(Customer, "change", customer.pk),
        customer_form(
            first_name="Anna",
            email=" Anna@Example.COM ",
            phone="8 (916) 765-43-21",
            locale="ru_RU",
            attributes='{"city": "Moscow"}',
        ),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.email, customer.phone, customer.locale) == (
        "anna@example.com",
        "+79167654321",
        "ru-RU",
    )
    assert customer.attributes == {"city": "Moscow"}
    assert set(customer.identities.values_list("channel", "address")) == {
        ("email", "anna@example.com"),
        ("sms", "+79167654321"),
    }


def test_a_customer_form_with_a_bad_phone_or_an_undefined_attribute_is_refused(admin_client):
    customer = CustomerFactory()
    response = admin_client.post(
        url(Customer, "change", customer.pk),
        customer_form(phone="12", attributes='{"shoe_size": 42}'),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"phone", "attributes"}
    assert "shoe_size is not a defined attribute" in errors["attributes"][0]


def test_an_address_that_belongs_to_another_customer_is_refused_on_the_form(admin_client):
    boris = CustomerFactory()
    ChannelIdentityFactory(customer=boris, channel="email", address="shared@example.com")
    anna = CustomerFactory()
    response = admin_client.post(
        url(Customer, "change", anna.pk), customer_form(email="shared@example.com")
    )
    assert response.status_code == 200
    assert "belongs to customer" in response.context["adminform"].form.errors["email"][0]


def test_adding_a_customer_in_the_admin_creates_it_through_the_service(admin_client):
    response = admin_client.post(
        url(Customer, "add"), customer_form(external_id="crm-new", email="NEW@Example.com")
    )
    assert response.status_code == 302
    customer = Customer.objects.get(external_id="crm-new")
    assert customer.email == "new@example.com"
    assert list(customer.identities.values_list("channel", "address")) == [
        ("email", "new@example.com")
    ]


# --- Consent -----------------------------------------------------------------------------------


def test_setting_a_consent_in_the_admin_is_written_to_the_consent_log(admin_client):
    customer = CustomerFactory()
    added = admin_client.post(
        url(Consent, "add"),
        {"customer": customer.pk, "channel": "sms", "status": "opted_in", "source": ""},
    )
    consent = Consent.objects.get(customer=customer, channel="sms")
    changed = admin_client.post(
        url(Consent, "change", consent.pk), {"status": "opted_out", "source": "phone call"}
    )
    assert (added.status_code, changed.status_code) == (302, 302)
    assert list(
        ConsentChange.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("previous_status", "status", "source")
    ) == [("unknown", "opted_in", "admin:admin"), ("opted_in", "opted_out", "phone call")]


def test_the_consent_log_cannot_be_added_to_changed_or_deleted_in_the_admin(admin_client):
    change = ConsentChangeFactory(status="opted_in")
    form = {"customer": change.customer_id, "channel": "email", "status": "opted_out"}
    assert admin_client.get(url(ConsentChange, "add")).status_code == 403
    assert admin_client.post(url(ConsentChange, "add"), form).status_code == 403
    assert admin_client.post(url(ConsentChange, "change", change.pk), form).status_code == 403
    delete = admin_client.post(url(ConsentChange, "delete", change.pk), {"post": "yes"})
    assert delete.status_code == 403
    change.refresh_from_db()
    assert change.status == "opted_in"


def test_a_consent_cannot_be_deleted_around_the_log(admin_client):
    consent = ConsentFactory()
    response = admin_client.post(url(Consent, "delete", consent.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Consent.objects.filter(pk=consent.pk).exists()


# --- Events and notes --------------------------------------------------------------------------


def test_events_can_be_read_and_deleted_but_not_written_in_the_admin(admin_client):
    event = EventFactory(name="page_view")
    assert admin_client.get(url(Event, "add")).status_code == 403
    changed = admin_client.post(url(Event, "change", event.pk), {"name": "order_placed"})
    assert changed.status_code == 403
    deleted = admin_client.post(url(Event, "delete", event.pk), {"post": "yes"})
    assert deleted.status_code == 302
    assert not Event.objects.filter(pk=event.pk).exists()


def test_a_note_added_in_the_admin_is_signed_by_its_author(admin_client, admin_user):
    customer = CustomerFactory()
    response = admin_client.post(
        url(Note, "add"), {"customer": customer.pk, "body": "Asked for a callback."}
    )
    assert response.status_code == 302
    assert Note.objects.get(customer=customer).author == admin_user


# --- GDPR erase instead of delete --------------------------------------------------------------


def test_the_erase_action_asks_first_then_erases_the_selected_customers(admin_client):
    anna = CustomerFactory(first_name="Anna")
    order = OrderFactory(customer=anna)
    EventFactory(customer=anna)
    keep = CustomerFactory(first_name="Boris")
    selection = {"action": "erase_personal_data", "_selected_action": [anna.pk]}

    asked = admin_client.post(url(Customer, "changelist"), selection)
    anna.refresh_from_db()
    assert asked.status_code == 200
    assert "cannot be undone" in asked.content.decode()
    assert not anna.is_erased

    done = admin_client.post(url(Customer, "changelist"), {**selection, "confirm": "yes"})
    anna.refresh_from_db()
    keep.refresh_from_db()
    assert done.status_code == 302
    assert anna.is_erased
    assert (anna.first_name, anna.email, anna.phone) == ("", "", "")
    assert not Event.objects.filter(customer=anna).exists()
    assert Order.objects.get(pk=order.pk).customer_id == anna.pk
    assert not keep.is_erased


def test_customers_are_erased_not_deleted_from_their_page(admin_client):
    anna = CustomerFactory()
    OrderFactory(customer=anna)
    change_page = admin_client.get(url(Customer, "change", anna.pk)).content.decode()
    actions = dict(
        admin_client.get(url(Customer, "changelist"))
        .context["action_form"]
        .fields["action"]
        .choices
    )

    assert url(Customer, "erase", anna.pk) in change_page
    assert url(Customer, "delete", anna.pk) not in change_page
    assert "erase_personal_data" in actions
    assert "delete_selected" not in actions
    assert admin_client.post(url(Customer, "delete", anna.pk), {"post": "yes"}).status_code == 403

    assert admin_client.get(url(Customer, "erase", anna.pk)).status_code == 200
    erased = admin_client.post(url(Customer, "erase", anna.pk))
    anna.refresh_from_db()
    assert erased.status_code == 302
    assert anna.is_erased
    # An erased profile is shown read-only: editing it would bring personal data back.
    assert admin_client.post(url(Customer, "change", anna.pk), customer_form()).status_code == 403


# --- Large tables ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", LARGE_TABLES, ids=lambda m: m.__name__)
def test_large_tables_are_listed_without_full_counts(model):
    model_admin = admin.site._registry[model]
    assert model_admin.paginator is EstimatedCountPaginator
    assert model_admin.show_full_result_count is False
    assert model_admin.date_hierarchy is None


def test_small_or_filtered_lists_are_counted_exactly(admin_client):
    CustomerFactory.create_batch(3, lifecycle_stage="lead")
    CustomerFactory(lifecycle_stage="customer")
    changelist = url(Customer, "changelist")
    everyone = admin_client.get(changelist).context["cl"]
    leads = admin_client.get(changelist, {"lifecycle_stage__exact": "lead"}).context["cl"]
    assert (everyone.result_count, everyone.paginator.is_estimate) == (4, False)
    assert (leads.result_count, leads.paginator.is_estimate) == (3, False)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row estimates are PostgreSQL's")
def test_an_unfiltered_customer_list_on_postgresql_shows_the_estimate_instead_of_counting(
    admin_client, monkeypatch
):
    monkeypatch.setattr(admin_pagination, "EXACT_COUNT_BELOW", 0)
    CustomerFactory.create_batch(3, lifecycle_stage="lead")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")

    with CaptureQueriesContext(connection) as unfiltered:
        response = admin_client.get(url(Customer, "changelist"))
    with CaptureQueriesContext(connection) as filtered:
        admin_client.get(url(Customer, "changelist"), {"lifecycle_stage__exact": "lead"})

    def counts(queries) -> list[str]:
        return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]

    assert counts(unfiltered) == []
    assert response.context["cl"].paginator.is_estimate
    assert "about 3 customers" in response.content.decode()
    assert len(counts(filtered)) == 1


# --- api/admin.py ------------------------------------------------------------------------------


def test_api_key_pages_render_and_idempotency_records_are_read_only(admin_client):
    api_key, _raw = api_key_create(name="crm")
    record = IdempotencyRecord.objects.create(
        api_key=api_key, key="k1", request_fingerprint="f", response_status=201
    )
    assert admin_client.get(url(ApiKey, "changelist")).status_code == 200
    assert admin_client.get(url(ApiKey, "change", api_key.pk)).status_code == 200
    listed = admin_client.get(url(IdempotencyRecord, "changelist"), {"outcome": "2xx"})
    assert list(listed.context["cl"].result_list) == [record]
    assert admin_client.get(url(IdempotencyRecord, "change", record.pk)).status_code == 200
    changed = admin_client.post(url(IdempotencyRecord, "change", record.pk), {"key": "k2"})
    assert changed.status_code == 403
