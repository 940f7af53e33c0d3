"""Promo pages: the pools list with stock, a pool's codes, new pool, generate, import, archive;
the customer page's codes panel. Marketing and admin manage; support sees a customer's codes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from api.models import AuditEntry
from campaigns.promo.models import PromoCode, PromoPool
from campaigns.promo.services import (
    promo_code_reserve,
    promo_codes_generate,
    promo_low_stock_check,
    promo_pool_create,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

POOLS = reverse("campaigns:promo_pools")


def a_pool(**fields) -> PromoPool:
    pool = promo_pool_create(**{"name": "Autumn", "discount_description": "−10%", **fields})
    promo_codes_generate(pool, 60)
    return pool


@pytest.mark.parametrize("role", ["admin", "marketing"])
def test_managers_see_stock_and_controls(client_as, role):
    pool = a_pool(low_stock_threshold=100)
    promo_low_stock_check()
    client = client_as(role)
    page = client.get(POOLS)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Autumn" in body and "60" in body
    assert reverse("campaigns:promo_pool_new") in body
    assert "promo-alert" in body  # 60 < 100
    assert "promo-alert" in client.get(reverse("campaigns:index")).content.decode()
    assert "promo-alert" in client.get(reverse("workspace:home")).content.decode()
    detail = client.get(reverse("campaigns:promo_pool", args=[pool.pk]))
    assert detail.status_code == 200
    assert reverse("campaigns:promo_pool_generate", args=[pool.pk]) in detail.content.decode()


def test_support_cannot_open_pools(client_as):
    pool = a_pool()
    promo_low_stock_check()
    client = client_as("support")
    assert "promo-alert" not in client.get(reverse("workspace:home")).content.decode()
    assert client.get(POOLS).status_code == 403
    assert client.get(reverse("campaigns:promo_pool", args=[pool.pk])).status_code == 403
    assert client.post(reverse("campaigns:promo_pool_generate", args=[pool.pk])).status_code == 403


def test_create_pool_and_bad_input(client_as):
    client = client_as("marketing")
    new = reverse("campaigns:promo_pool_new")
    assert client.get(new).status_code == 200
    bad = client.post(new, {"name": "", "kind": "unique", "code_length": 2})
    assert bad.status_code == 200 and b"has-error" in bad.content
    response = client.post(
        new,
        {
            "name": "Winter",
            "kind": "unique",
            "code_length": 8,
            "alphabet": "ABCDEFGH23456789",
            "prefix": "w-",
            "per_customer_limit": 1,
            "low_stock_threshold": 10,
            "discount_description": "−5%",
        },
    )
    pool = PromoPool.objects.get(name="Winter")
    assert response.status_code == 302 and pool.prefix == "W-"
    assert AuditEntry.objects.filter(action="promo_pool.created", object_id=str(pool.pk)).exists()


def test_generate_import_archive(client_as):
    pool = a_pool()
    client = client_as("marketing")
    url = reverse("campaigns:promo_pool_generate", args=[pool.pk])
    assert client.post(url, {"count": 40}).status_code == 302
    assert PromoCode.objects.filter(pool=pool).count() == 100
    assert client.post(url, {"count": "x"}).status_code == 400
    csv_file = SimpleUploadedFile("codes.csv", b"code\nFRESH1\nfresh1\nbad!\n", "text/csv")
    imported = client.post(
        reverse("campaigns:promo_pool_import", args=[pool.pk]), {"file": csv_file}
    )
    assert imported.status_code == 200
    assert "1 added, 1 duplicates skipped, 1 refused." in imported.content.decode()
    assert client.post(reverse("campaigns:promo_pool_archive", args=[pool.pk])).status_code == 302
    pool.refresh_from_db()
    assert pool.archived_at
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"promo_codes.generated", "promo_codes.imported", "promo_pool.archived"} <= actions


def test_codes_filter_and_cursor(client_as):
    pool = a_pool()
    promo_code_reserve(pool, CustomerFactory(first_name="Zoya"))
    client = client_as("admin")
    url = reverse("campaigns:promo_pool", args=[pool.pk])
    reserved = client.get(url, {"status": "reserved"}).content.decode()
    assert "Zoya" in reserved
    first = client.get(url)
    assert "?after=" in first.content.decode()
    assert client.get(url, {"status": "bogus", "after": "x"}).status_code == 200


@pytest.mark.parametrize("role", ["support", "marketing"])
def test_customer_page_lists_codes(client_as, role):
    pool = a_pool()
    customer = CustomerFactory(external_id="c-42")
    code = promo_code_reserve(pool, customer)
    page = client_as(role).get(reverse("workspace:customer", args=["c-42"]))
    assert page.status_code == 200
    assert code.code in page.content.decode()


def test_edit_a_pool_and_bad_input(client_as):
    pool = a_pool(prefix="AUT-", low_stock_threshold=10)
    url = reverse("campaigns:promo_pool_edit", args=[pool.pk])
    assert client_as("support").get(url).status_code == 403
    client = client_as("marketing")
    page = client.get(url).content.decode()
    assert 'value="Autumn"' in page and 'name="kind"' not in page
    form = {
        "name": "Autumn sale",
        "discount_description": "−15% на всё",
        "prefix": "AUT-",
        "code_length": 8,
        "alphabet": pool.alphabet,
        "per_customer_limit": 1,
        "low_stock_threshold": 100,
        "valid_from": "2026-12-01T00:00",
        "valid_until": "2026-11-01T00:00",
    }
    bad = client.post(url, form)
    assert bad.status_code == 200 and "valid_until" in bad.context["form"].errors
    assert PromoPool.objects.get(pk=pool.pk).name == "Autumn"
    saved = client.post(url, {**form, "valid_until": "2027-01-31T00:00"})
    assert saved.status_code == 302
    pool.refresh_from_db()
    assert (pool.name, pool.discount_description, pool.low_stock_threshold) == (
        "Autumn sale",
        "−15% на всё",
        100,
    )
    entry = AuditEntry.objects.get(action="promo_pool.updated", object_id=str(pool.pk))
    assert entry.before["name"] == "Autumn" and entry.after["name"] == "Autumn sale"
    assert pool.low_stock_alerted_at is not None  # 60 codes, now below the new threshold


def test_the_edit_form_shows_the_window_in_the_browsers_format_in_russian(client_as):
    from datetime import datetime

    from django.utils import timezone

    start = timezone.make_aware(datetime(2026, 12, 1, 9, 30))
    pool = a_pool(valid_from=start, valid_until=start.replace(month=12, day=31))
    client = client_as("marketing")
    client.cookies["django_language"] = "ru"
    page = client.get(
        reverse("campaigns:promo_pool_edit", args=[pool.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    local = timezone.localtime(start).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in page  # what <input type="datetime-local"> accepts
