import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from campaigns.context import context_values
from campaigns.promo.models import PromoCode, PromoCodeStatus, PromoPool, PromoRedemption
from campaigns.promo.services import (
    PromoError,
    PromoStockExhausted,
    promo_code_issue,
    promo_code_redeem,
    promo_code_release,
    promo_code_reserve,
    promo_code_reserve_many,
    promo_codes_expire,
    promo_codes_generate,
    promo_codes_import,
    promo_codes_settle,
    promo_low_stock_check,
    promo_pool_create,
)
from channels.models import Message, WebhookDelivery, WebhookSubscription
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def pool(**fields) -> PromoPool:
    return promo_pool_create(**{"name": "Autumn", "discount_description": "−10%", **fields})


def message(customer, status="queued") -> Message:
    return Message.objects.create(
        customer=customer,
        channel="sms",
        address="+79990000000",
        body="Your code",
        category="marketing",
        source="campaign",
        status=status,
    )


class TestGenerateAndImport:
    def test_codes_follow_the_pattern(self):
        p = pool(prefix="au-", code_length=6, alphabet="ABC0O1IL23456789")
        assert p.prefix == "AU-"
        assert p.alphabet == "ABC23456789"
        assert promo_codes_generate(p, 500) == 500
        codes = list(PromoCode.objects.filter(pool=p).values_list("code", flat=True))
        assert len(set(codes)) == 500
        assert all(c.startswith("AU-") and len(c) == 9 for c in codes)
        assert not any(set(c[3:]) & set("0O1IL") for c in codes)

    def test_a_pattern_too_small_is_refused(self):
        p = pool(code_length=2, alphabet="ABCD")
        with pytest.raises(PromoError):
            promo_codes_generate(p, 10)

    def test_import_dedupes_and_reports(self):
        p = pool()
        promo_codes_generate(p, 1)
        taken = PromoCode.objects.get(pool=p).code
        rows = [["code"], ["new1"], [" NEW1 "], [""], ["bad code!"], ["x" * 70], [taken], ["new2"]]
        report = promo_codes_import(p, rows)
        assert report.created == 2
        assert report.duplicates == 2
        assert [r["reason"] for r in report.refused] == ["empty", "bad_characters", "too_long"]
        assert set(PromoCode.objects.filter(pool=p).values_list("code", flat=True)) >= {
            "NEW1",
            "NEW2",
        }


class TestLifecycle:
    def test_reserve_is_idempotent_per_customer(self):
        p = pool()
        promo_codes_generate(p, 3)
        ann, bob = CustomerFactory(), CustomerFactory()
        first = promo_code_reserve(p, ann)
        assert first.status == PromoCodeStatus.RESERVED
        assert promo_code_reserve(p, ann).pk == first.pk
        assert promo_code_reserve(p, bob).pk != first.pk

    def test_out_of_stock(self):
        p = pool()
        promo_codes_generate(p, 1)
        promo_code_reserve(p, CustomerFactory())
        with pytest.raises(PromoStockExhausted):
            promo_code_reserve(p, CustomerFactory())

    def test_one_code_per_customer_is_a_database_rule(self):
        p = pool()
        promo_codes_generate(p, 2)
        ann = CustomerFactory()
        promo_code_reserve(p, ann)
        spare = PromoCode.objects.get(pool=p, status="available")
        with pytest.raises(IntegrityError), transaction.atomic():
            PromoCode.objects.filter(pk=spare.pk).update(status="reserved", customer=ann)

    def test_issue_release_and_settle_by_message_status(self):
        p = pool()
        promo_codes_generate(p, 4)
        ann, bob, cid = CustomerFactory(), CustomerFactory(), CustomerFactory()
        failed = promo_code_reserve(p, ann, message(ann, "failed"))
        sent = promo_code_reserve(p, bob, message(bob, "delivered"))
        pending = promo_code_reserve(p, cid, message(cid, "queued"))
        assert promo_codes_settle() == {"released": 1, "issued": 1}
        failed.refresh_from_db(), sent.refresh_from_db(), pending.refresh_from_db()
        assert (failed.status, failed.customer_id) == ("available", None)
        assert sent.status == "issued" and sent.issued_at
        assert pending.status == "reserved"
        assert promo_code_release(pending).status == "available"
        again = promo_code_reserve(p, cid)
        assert promo_code_issue(again).status == "issued"

    def test_redeem_once_and_replay(self):
        p = pool()
        promo_codes_generate(p, 1)
        ann = CustomerFactory()
        code = promo_code_issue(promo_code_reserve(p, ann))
        order = OrderFactory(customer=ann)
        assert promo_code_redeem(code, order).status == "redeemed"
        assert promo_code_redeem(code, order).redeemed_order_id == order.pk  # replay: no-op
        with pytest.raises(PromoError) as refused:
            promo_code_redeem(code, OrderFactory(customer=ann))
        assert refused.value.code == "already_redeemed"

    def test_a_personal_code_is_not_redeemed_by_another_customers_order(self):
        p = pool()
        promo_codes_generate(p, 2)
        ann, bob = CustomerFactory(), CustomerFactory()
        code = promo_code_issue(promo_code_reserve(p, ann))
        with pytest.raises(PromoError) as refused:
            promo_code_redeem(code, OrderFactory(customer=bob))
        assert refused.value.code == "other_customer"
        never_issued = PromoCode.objects.get(pool=p, status="available")
        assert promo_code_redeem(never_issued, OrderFactory(customer=bob)).status == "redeemed"

    def test_shared_code_limit_per_customer(self):
        p = pool(kind="shared", per_customer_limit=2)
        promo_codes_import(p, [["WELCOME"]])
        ann = CustomerFactory()
        code = promo_code_reserve(p, ann)
        assert code.code == "WELCOME"
        first, second = OrderFactory(customer=ann), OrderFactory(customer=ann)
        promo_code_redeem(code, first)
        promo_code_redeem(code, first)
        promo_code_redeem(code, second)
        with pytest.raises(PromoError):
            promo_code_redeem(code, OrderFactory(customer=ann))
        promo_code_redeem(code, OrderFactory())  # someone else
        assert PromoRedemption.objects.filter(code=code).count() == 3

    def test_expiry(self):
        p = pool(valid_until=timezone.now() + timedelta(days=1))
        promo_codes_generate(p, 3)
        promo_code_issue(promo_code_reserve(p, CustomerFactory()))
        assert promo_codes_expire() == 0
        assert promo_codes_expire(timezone.now() + timedelta(days=2)) == 3

    def test_reserve_many(self):
        p = pool()
        promo_codes_generate(p, 5)
        customers = [CustomerFactory() for _ in range(7)]
        held = promo_code_reserve(p, customers[0])
        result = promo_code_reserve_many(p, customers)
        assert result[customers[0].pk].pk == held.pk
        assert len(result) == 5
        assert len({c.pk for c in result.values()}) == 5

    def test_context_provider(self):
        p = pool()
        promo_codes_generate(p, 1)
        ann, bob = CustomerFactory(), CustomerFactory()
        code = promo_code_reserve(p, ann)
        values = context_values([ann, bob], {"promo_pool_id": p.pk})
        assert values[ann.pk]["promo"]["code"] == code.code
        assert values[ann.pk]["promo"]["discount"] == "−10%"
        assert values[bob.pk]["promo"]["code"] is None


class TestLowStock:
    def test_one_webhook_per_crossing(self):
        WebhookSubscription.objects.create(
            name="crm", url="https://crm.example/hook", secret="s", event_types=["promo.low_stock"]
        )
        p = pool(low_stock_threshold=3)
        promo_codes_generate(p, 4)
        assert promo_low_stock_check() == []
        promo_code_reserve(p, CustomerFactory())
        promo_code_reserve(p, CustomerFactory())
        assert promo_low_stock_check() == [p.pk]
        assert promo_low_stock_check() == []
        assert WebhookDelivery.objects.filter(event_type="promo.low_stock").count() == 1
        promo_codes_generate(p, 10)
        promo_low_stock_check()
        p.refresh_from_db()
        assert p.low_stock_alerted_at is None


class TestOrdersBatch:
    def test_an_order_with_the_code_redeems_it_and_replays_safely(self, api):
        p = pool()
        promo_codes_generate(p, 2)
        ann = CustomerFactory(external_id="ann")
        code = promo_code_issue(promo_code_reserve(p, ann))
        order = {
            "external_id": "o-1",
            "customer_external_id": "ann",
            "status": "paid",
            "placed_at": timezone.now().isoformat(),
            "total": "100.00",
            "currency": "RUB",
            "promo_code": code.code.lower(),
            "items": [],
        }
        for _ in range(2):
            response = api.post("/api/v1/orders/batch", {"items": [order]})
            assert response.status_code == 200, response.content
        code.refresh_from_db()
        assert code.status == "redeemed"
        assert code.redeemed_order.external_id == "o-1"
        # another order with a used code is still accepted; the code stays with the first
        order["external_id"] = "o-2"
        assert api.post("/api/v1/orders/batch", {"items": [order]}).status_code == 200
        code.refresh_from_db()
        assert code.redeemed_order.external_id == "o-1"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_reservations_never_share_a_code():
    p = pool()
    promo_codes_generate(p, 150)
    customers = [CustomerFactory() for _ in range(100)]
    results, errors = {}, []
    barrier = threading.Barrier(20)

    def work(chunk):
        try:
            barrier.wait()
            for customer in chunk:
                results[customer.pk] = promo_code_reserve(p, customer).pk
                # the same customer again, concurrently with others: same code
                assert promo_code_reserve(p, customer).pk == results[customer.pk]
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(customers[i::20],)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 100
    assert len(set(results.values())) == 100
    assert PromoCode.objects.filter(pool=p, status="reserved").count() == 100


def test_demo_load_issues_and_redeems_through_orders():
    from campaigns.promo.demo import promo_demo_load

    for _ in range(12):
        CustomerFactory()
    pool = promo_demo_load(issued=10, redeemed=3)
    assert promo_demo_load(issued=10, redeemed=3).pk == pool.pk
    statuses = list(PromoCode.objects.filter(pool=pool).values_list("status", flat=True))
    assert statuses.count("issued") == 7
    assert statuses.count("redeemed") == 3
    assert PromoPool.objects.filter(kind="shared").count() == 1
