"""Global search (/app/search): a phone in any notation, email, name in any script, customer id,
order id, channel addresses; the popover; who may search."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.selectors import customer_search
from tests.factories import ChannelIdentityFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ivan():
    return CustomerFactory(
        external_id="crm-ivan",
        first_name="Иван",
        last_name="Петров",
        email="ivan.petrov@example.com",
        phone="+79123456789",
    )


@pytest.mark.parametrize(
    "notation",
    ["8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", "+79123456789", "89123456789"],
)
def test_a_phone_in_any_notation_finds_the_customer(ivan, notation):
    result = customer_search(notation)
    assert result.phone == "+79123456789"
    assert result.exact.customer == ivan
    assert result.exact.matched_by == "phone"


def test_a_phone_identity_finds_its_customer(ivan):
    other = CustomerFactory(phone="")
    ChannelIdentityFactory(customer=other, channel="whatsapp", address="+79998887766")
    assert customer_search("8 999 888-77-66").exact.customer == other


@pytest.mark.parametrize(
    "query, matched_by",
    [
        ("Ivan.Petrov@Example.com", "email"),
        ("crm-ivan", "external_id"),
    ],
)
def test_email_and_customer_id_are_exact(ivan, query, matched_by):
    match = customer_search(query).exact
    assert match.customer == ivan and match.matched_by == matched_by


def test_an_order_id_finds_who_placed_it(ivan):
    OrderFactory(customer=ivan, external_id="ORD-777")
    match = customer_search("ORD-777").exact
    assert match.customer == ivan and match.matched_by == "order" and match.detail == "ORD-777"


def test_a_telegram_username_finds_its_customer(ivan):
    ChannelIdentityFactory(customer=ivan, channel="telegram", address="@ivan_petrov")
    assert customer_search("@ivan_petrov").exact.customer == ivan


@pytest.mark.parametrize("query", ["Петров", "петров", "Иван Петров", "иван петр", "Petrov"])
def test_a_name_in_any_script_and_case_finds_the_customer(ivan, query):
    CustomerFactory(first_name="Anna", last_name="Smirnova", email="anna@example.com")
    result = customer_search(query)
    assert [m.customer for m in result.matches] == [ivan]
    assert result.exact is None  # a name search lists, it never jumps


def test_the_whole_name_ranks_first():
    partial = CustomerFactory(first_name="Annabel", last_name="Lee")
    exact = CustomerFactory(first_name="Anna", last_name="Lee")
    assert [m.customer for m in customer_search("anna lee").matches] == [exact, partial]


def test_short_words_are_not_searched_by_name():
    CustomerFactory(first_name="Al", last_name="Bo")
    result = customer_search("Al")
    assert result.matches == [] and result.too_short


def test_erased_customers_are_not_found(ivan):
    from customers.services.gdpr import customer_erase

    OrderFactory(customer=ivan, external_id="ORD-1")
    customer_erase(customer=ivan)
    for query in ["+79123456789", "ORD-1", "Петров"]:
        assert customer_search(query).matches == []


def test_a_search_runs_a_bounded_number_of_queries(ivan):
    with CaptureQueriesContext(connection) as queries:
        customer_search("Петров")
    assert len(queries) <= 6


def test_one_exact_match_opens_the_customer(client_as, ivan):
    response = client_as("support").get("/app/search", {"q": "8 (912) 345-67-89"})
    assert response.status_code == 302
    assert response["Location"] == "/app/customers/crm-ivan/"


def test_the_results_page_lists_name_matches(client_as, ivan):
    CustomerFactory(first_name="Иван", last_name="Сидоров", email="sid@example.com")
    response = client_as("marketing").get("/app/search", {"q": "Иван"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Петров" in body and "Сидоров" in body
    assert 'href="/app/customers/crm-ivan/"' in body


def test_nothing_found_says_so(client_as):
    response = client_as("support").get("/app/search", {"q": "nobody-here"})
    assert response.status_code == 200
    assert "No customer found" in response.content.decode()


def test_the_popover_is_a_fragment(client_as, ivan):
    response = client_as("support").get(
        "/app/search/popover", {"q": "+7 912 345 67 89"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "/app/customers/crm-ivan/" in body


def test_the_header_search_works_without_javascript(client_as):
    body = client_as("support").get("/app/").content.decode()
    assert 'action="/app/search"' in body and 'name="q"' in body
    assert 'hx-get="/app/search/popover"' in body


@pytest.mark.parametrize("role", ["support", "marketing", "admin"])
def test_every_role_may_search(client_as, role):
    assert client_as(role).get("/app/search", {"q": "x"}).status_code == 200


def test_staff_without_the_permission_get_403(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="pw")
    client.force_login(user)
    assert client.get("/app/search", {"q": "x"}).status_code == 403
    assert client.get("/app/search/popover", {"q": "x"}).status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/app/search", {"q": "x"})
    assert response.status_code == 302 and "/app/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_the_header_popover_shows_matches_as_you_type(signed_in_page, live_server):
    CustomerFactory(external_id="crm-petr", first_name="Пётр", last_name="Кузнецов")
    page = signed_in_page("support")
    page.fill("#global-q", "Кузне")
    match = page.locator("#search-popover .match").first
    match.wait_for()
    assert "Пётр Кузнецов" in match.inner_text()
    match.click()
    page.wait_for_url(f"{live_server.url}/app/customers/crm-petr/")
