"""The caller card (/app/calls/lookup?phone=): who is calling, in the staff member's language."""

import pytest
from django.utils import translation

from channels.models import Conversation
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga():
    customer = CustomerFactory(
        external_id="crm-olga",
        first_name="Ольга",
        last_name="Иванова",
        phone="+79123456789",
        locale="ru-RU",
    )
    OrderFactory(customer=customer, external_id="ORD-42")
    Conversation.objects.create(customer=customer, channel="telegram", status="open")
    return customer


def test_support_sees_who_is_calling(client_as, olga):
    response = client_as("support").get("/app/calls/lookup", {"phone": "8 (912) 345-67-89"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ольга Иванова" in body and "Здравствуйте, Ольга!" in body
    assert "ORD-42" in body and "Telegram" in body
    assert 'href="/app/customers/crm-olga/"' in body
    assert "Russian (ru-RU)" in body  # the customer's language, in the staff member's


def test_the_card_follows_the_staff_members_language(client, staff_user, olga):
    from workspace.models import StaffProfile

    user = staff_user("support")
    StaffProfile.objects.update_or_create(user=user, defaults={"language": "ru"})
    client.force_login(user)
    body = client.get("/app/calls/lookup", {"phone": "+79123456789"}).content.decode()
    with translation.override("ru"):
        assert translation.gettext("Last orders") in body
    assert "Last orders" not in body


def test_an_unknown_number_says_so_with_the_normalised_number(client_as):
    response = client_as("support").get("/app/calls/lookup", {"phone": "8 912 000 00 00"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "No customer with this number" in body and "+79120000000" in body


def test_a_bad_number_is_a_form_error(client_as):
    response = client_as("support").get("/app/calls/lookup", {"phone": "hello"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_no_number_shows_the_form(client_as):
    response = client_as("support").get("/app/calls/lookup")
    assert response.status_code == 200 and 'name="phone"' in response.content.decode()


@pytest.mark.parametrize("role, status", [("support", 200), ("admin", 200), ("marketing", 403)])
def test_who_may_open_the_caller_card(client_as, olga, role, status):
    response = client_as(role).get("/app/calls/lookup", {"phone": "+79123456789"})
    assert response.status_code == status


def test_the_popup_has_no_shell(client_as, olga):
    response = client_as("support").get(
        "/app/calls/lookup", {"phone": "+79123456789", "popup": "1"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Ольга Иванова" in body
    assert 'class="sidebar"' not in body and 'name="popup" value="1"' in body
