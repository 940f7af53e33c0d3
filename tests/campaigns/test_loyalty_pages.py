from decimal import Decimal

import pytest

from api.models import AuditEntry
from campaigns.loyalty.models import PointsEntry
from campaigns.loyalty.selectors import loyalty_settings_get
from campaigns.loyalty.services import points_earn
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/app/campaigns/loyalty/"
VALID = {
    "enabled": "on",
    "points_per_unit": "0.05",
    "rounding": "nearest",
    "batch_lifetime_days": "180",
    "event_bonuses": "birthday = 200\nfirst_order = 100",
    "warn_min_points": "50",
    "warn_within_days": "10",
}


@pytest.mark.parametrize(
    ("role", "status", "form_shown"),
    [("admin", 200, True), ("marketing", 200, True), ("support", 403, False)],
)
def test_who_sees_the_settings_page_and_who_may_change_it(client_as, role, status, form_shown):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        assert ('name="points_per_unit"' in response.content.decode()) is form_shown


def test_a_reader_without_manage_campaigns_sees_the_settings_but_no_form(client, staff_user):
    from django.contrib.auth.models import Permission

    user = staff_user("support")
    user.user_permissions.add(Permission.objects.get(codename="view_campaigns"))
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Points per currency unit" in page and 'name="points_per_unit"' not in page
    assert client.post(URL, VALID).status_code == 403


def test_saving_the_settings_is_audited(client_as):
    response = client_as("marketing").post(URL, VALID)
    assert response.status_code == 302
    row = loyalty_settings_get()
    assert row.points_per_unit == Decimal("0.05")
    assert row.event_bonuses == {"birthday": 200, "first_order": 100}
    entry = AuditEntry.objects.get(object_type="loyalty_settings")
    assert entry.after["batch_lifetime_days"] == 180


@pytest.mark.parametrize(
    "field,value",
    [("event_bonuses", "birthday: lots"), ("batch_lifetime_days", "0"), ("points_per_unit", "x")],
)
def test_bad_input_is_a_form_error(client_as, field, value):
    response = client_as("admin").post(URL, {**VALID, field: value})
    assert response.status_code == 200
    assert "has-error" in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="loyalty_settings").exists()


def test_the_page_shows_points_outstanding(client_as):
    points_earn(customer=CustomerFactory(), points=1234)
    assert "1,234" in client_as("admin").get(URL).content.decode()


@pytest.mark.parametrize(("role", "adjust_shown"), [("support", False), ("marketing", True)])
def test_the_customer_page_shows_the_balance(client_as, role, adjust_shown):
    customer = CustomerFactory(external_id="c-9")
    points_earn(customer=customer, points=75, reason="Order A-1")
    page = client_as(role).get("/app/customers/c-9/").content.decode()
    assert "Loyalty points" in page and "Order A-1" in page
    assert ("/app/campaigns/loyalty/customers/c-9/adjust" in page) is adjust_shown


def test_a_staff_adjustment_is_audited_and_cannot_go_below_zero(client_as):
    customer = CustomerFactory(external_id="c-9")
    client = client_as("marketing")
    url = "/app/campaigns/loyalty/customers/c-9/adjust"
    assert client.post(url, {"points": "40", "reason": "Goodwill"}).status_code == 302
    assert client.post(url, {"points": "-41", "reason": "Mistake"}).status_code == 302
    assert client.post(url, {"points": "0", "reason": ""}).status_code == 302
    assert list(PointsEntry.objects.filter(customer=customer).values_list("points", flat=True)) == [
        40
    ]
    assert AuditEntry.objects.filter(action="points.adjusted", customer_id=customer.pk).count() == 1


def test_support_cannot_adjust(client_as):
    CustomerFactory(external_id="c-9")
    response = client_as("support").post(
        "/app/campaigns/loyalty/customers/c-9/adjust", {"points": "40", "reason": "x"}
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_in_a_browser_a_marketer_saves_the_rules_and_adjusts_a_customer(
    signed_in_page, live_server
):
    CustomerFactory(external_id="c-42")
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/loyalty/")
    page.check("#id_enabled")
    page.fill("#id_batch_lifetime_days", "90")
    page.click(".loyalty form .btn-primary")
    page.wait_for_selector("text=Loyalty settings are saved.")
    assert loyalty_settings_get().batch_lifetime_days == 90
    page.goto(f"{live_server.url}/app/customers/c-42/")
    page.click("text=Adjust points")
    page.fill("#points-adjust", "25")
    page.fill("#points-reason", "Goodwill")
    page.click(".points-panel button[type=submit]")
    page.wait_for_selector("text=Points adjusted.")
    assert page.locator(".points-balance").inner_text() == "25"


def test_a_russian_decimal_comma_is_accepted(client_as):
    from django.utils import translation

    client = client_as("marketing")
    with translation.override("ru"):
        form_data = {**VALID, "points_per_unit": "0,25"}
        client.cookies["django_language"] = "ru"
        response = client.post(URL, form_data, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302, response.content.decode()[:500]
    assert loyalty_settings_get().points_per_unit == Decimal("0.25")


def test_a_double_submitted_adjustment_counts_once(client_as):
    customer = CustomerFactory(external_id="c-9")
    client = client_as("admin")
    url = "/app/campaigns/loyalty/customers/c-9/adjust"
    for _ in range(2):
        client.post(url, {"points": "15", "reason": "Goodwill", "key": "abc"})
    assert PointsEntry.objects.filter(customer=customer).count() == 1
    assert AuditEntry.objects.filter(action="points.adjusted").count() == 1


def test_a_decimal_comma_typed_in_english_is_not_read_as_thousands(client_as):
    client = client_as("marketing")
    response = client.post(URL, {**VALID, "points_per_unit": "0,05"})
    assert response.status_code == 302, response.content.decode()[:500]
    assert loyalty_settings_get().points_per_unit == Decimal("0.05")
