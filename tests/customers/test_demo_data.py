import re
import stat
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.test import RequestFactory
from django.utils import timezone

from customers.demo import demo_data_generate
from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Order,
    OrderItem,
    Product,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=out)
    return out.getvalue()


def printed_login(output: str) -> tuple[str, str]:
    username = re.search(r"username: (\S+)", output).group(1)
    password = re.search(r"password: (\S+)", output).group(1)
    return username, password


def table_counts() -> dict[str, int]:
    models = (Customer, ChannelIdentity, Consent, ConsentChange, Event, Order, OrderItem, Product)
    return {model.__name__: model.objects.count() for model in models}


def test_demo_data_gives_customers_addresses_consents_events_and_orders_over_18_months():
    run("load_demo_data", "--customers", "50")

    assert Customer.objects.filter(external_id__startswith="demo-").count() == 50
    channels = set(ChannelIdentity.objects.values_list("channel", flat=True))
    assert {"email", "sms", "whatsapp", "telegram", "push"} <= channels
    consents = set(Consent.objects.values_list("channel", "status"))
    assert {("email", "opted_in"), ("email", "opted_out")} <= consents
    assert Event.objects.values("name").distinct().count() >= 5
    assert OrderItem.objects.exists()
    now = timezone.now()
    span = Order.objects.aggregate(first=Min("placed_at"), last=Max("placed_at"))
    assert now - timedelta(days=550) < span["first"] < now - timedelta(days=365)
    assert span["last"] > now - timedelta(days=30)
    orders_per_customer = Customer.objects.annotate(n=Count("orders")).values_list("n", flat=True)
    assert min(orders_per_customer) == 0
    assert max(orders_per_customer) >= 10


def test_default_demo_data_has_at_least_1000_customers_in_several_locales_and_currencies():
    output = run("load_demo_data")

    assert "Loaded demo data" in output
    assert Customer.objects.count() >= 1000
    locales = dict(Customer.objects.values_list("locale").annotate(n=Count("id")))
    assert 0.5 < locales["ru-RU"] / sum(locales.values()) < 0.7
    assert {"en-GB", "en-US"} <= set(locales)
    assert {"RUB", "GBP", "USD"} <= set(Order.objects.values_list("currency", flat=True))
    assert Product.objects.filter(category__contains="Video cards").exists()


def test_loading_demo_data_a_second_time_changes_nothing():
    run("load_demo_data", "--customers", "50")
    before = table_counts()
    last_change = Customer.objects.aggregate(Max("updated_at"))

    output = run("load_demo_data", "--customers", "50")

    assert "already there" in output
    assert table_counts() == before
    assert Customer.objects.aggregate(Max("updated_at")) == last_change


def test_demo_data_is_the_same_every_time_for_the_same_day():
    anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)

    first = demo_data_generate(customers=20, anchor=anchor)
    second = demo_data_generate(customers=20, anchor=anchor)

    assert first == second


def login_request():
    """django-axes checks every login against the request it came with (its client address)."""
    return RequestFactory().post("/admin/login/")


def test_ensure_demo_login_prints_a_login_that_works(settings, tmp_path, client):
    settings.VAR_DIR = tmp_path

    output = run("ensure_demo_login")
    username, password = printed_login(output)

    assert "/app/" in output  # the workspace, where `make run` sends a newcomer
    user = authenticate(login_request(), username=username, password=password)
    assert user is not None and user.is_staff and user.is_superuser
    response = client.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/app/").status_code == 200
    login_file = tmp_path / "demo-login.txt"
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600
    assert password in login_file.read_text()


def test_ensure_demo_login_prints_the_same_login_on_later_runs(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = printed_login(run("ensure_demo_login"))

    second = printed_login(run("ensure_demo_login"))

    assert second == first
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_ensure_demo_login_resets_the_password_when_its_file_is_gone(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _, old_password = printed_login(run("ensure_demo_login"))
    (tmp_path / "demo-login.txt").unlink()

    username, new_password = printed_login(run("ensure_demo_login"))

    assert new_password != old_password
    assert authenticate(login_request(), username=username, password=new_password) is not None
    assert (tmp_path / "demo-login.txt").exists()
