"""Each kind of pick on a hand-made shop (tests/campaigns/recommendation_data.py), exactly."""

import pytest

from campaigns.context import context_values
from campaigns.recommendations.models import Recommendation, RecommendationRun
from campaigns.recommendations.selectors import recommendations_for_customers
from campaigns.recommendations.services import recommendations_refresh
from campaigns.recommendations.tasks import refresh_recommendations
from tests.campaigns.recommendation_data import make_shop

pytestmark = pytest.mark.django_db


def skus(customer) -> dict[str, list[str]]:
    picks = recommendations_for_customers([customer.pk])[customer.pk]
    return {kind: [p["sku"] for p in products] for kind, products in picks.items()}


def test_each_kind_has_exactly_the_expected_products():
    shop = make_shop()
    result = recommendations_refresh()
    alice, bob = shop["customers"]["alice"], shop["customers"]["bob"]
    # a1 is bought with a2 (X, Y) and b1 (X, Y): tied, so in product order; a1 itself is excluded.
    # Popular in A (Alice's only category): a1 4 orders (bought: out), a2 2, a3 1; a4 none.
    # Viewed: a3 twice, a2 once; a1 was bought. New in A: a4 only (b2 is new but in B).
    assert skus(alice) == {
        "bought_together": ["a2", "b1"],
        "popular": ["a2", "a3"],
        "viewed": ["a3", "a2"],
        "new": ["a4"],
    }
    assert skus(bob) == {"bought_together": [], "popular": ["b1"], "viewed": ["b2"], "new": ["b2"]}
    # Pairs: a1-a2, a1-b1, a2-b1 both ways; the cancelled order's a1-c1 is not one.
    assert result.pairs == 6
    assert result.counts["viewed"] == Recommendation.objects.filter(kind="viewed").count()
    assert RecommendationRun.objects.get().customer is None


def test_bought_products_are_excluded_from_every_kind():
    shop = make_shop()
    recommendations_refresh()
    for customer in shop["customers"].values():
        bought = set(
            customer.orders.exclude(status__in=["cancelled", "refunded"]).values_list(
                "items__product__sku", flat=True
            )
        )
        for products in skus(customer).values():
            assert not bought & set(products)


def test_a_refresh_of_one_customer_leaves_the_others_intact():
    shop = make_shop()
    recommendations_refresh()
    alice, bob = shop["customers"]["alice"], shop["customers"]["bob"]
    bob_before = list(Recommendation.objects.filter(customer=bob).values_list("id", "computed_at"))
    shop["order"]("alice", ["a3"])

    result = recommendations_refresh(customer=alice)

    assert skus(alice)["viewed"] == ["a2"]
    assert skus(alice)["popular"] == ["a2"]
    assert result.customer_id == alice.pk
    assert result.counts["viewed"] == 1
    after = list(Recommendation.objects.filter(customer=bob).values_list("id", "computed_at"))
    assert after == bob_before


def test_the_task_refreshes_everyone_or_one_customer():
    shop = make_shop()
    assert refresh_recommendations()["viewed"] == 3
    assert refresh_recommendations(shop["customers"]["bob"].pk)["viewed"] == 1
    assert refresh_recommendations(10**9) is None


def test_template_context_is_set_based_and_has_product_fields(django_assert_max_num_queries):
    shop = make_shop()
    recommendations_refresh()
    customers = list(shop["customers"].values())
    with django_assert_max_num_queries(3):
        values = context_values(customers)
    picks = values[shop["customers"]["alice"].pk]["recommendations"]
    first = picks["bought_together"][0]
    assert {k: first[k] for k in ["sku", "name", "url", "image_url", "currency"]} == {
        "sku": "a2",
        "name": "Product a2",
        "url": "https://shop.example/a2",
        "image_url": "https://shop.example/a2.jpg",
        "currency": "RUB",
    }
    assert str(first["price"]) == "100.00"
    assert values[shop["customers"]["x"].pk]["recommendations"]["viewed"] == []


def test_liquid_loops_over_the_picks():
    liquid = pytest.importorskip("liquid")
    shop = make_shop()
    recommendations_refresh()
    alice = shop["customers"]["alice"]
    context = context_values([alice])[alice.pk]
    template = liquid.Template(
        "{% for p in recommendations.viewed limit:1 %}{{ p.name }} {{ p.url }}{% endfor %}"
    )
    assert template.render(**context) == "Product a3 https://shop.example/a3"


def test_demo_load_links_products_and_computes_everyone():
    from campaigns.recommendations.demo import recommendations_demo_load

    shop = make_shop()
    shop["products"]["c1"].__class__.objects.filter(sku="c1").update(url="", image_url="")
    result = recommendations_demo_load()
    assert result.counts["viewed"] == 3
    c1 = shop["products"]["c1"].__class__.objects.get(sku="c1")
    assert c1.url == "https://shop.example.com/p/c1"
    assert c1.image_url == "https://shop.example.com/img/c1.jpg"
    assert recommendations_demo_load().counts == result.counts


def test_popular_and_new_stay_in_the_customers_market():
    """A GBP twin of a1 sells well in the UK shop and is new, but Alice buys in roubles."""
    shop = make_shop()
    from customers.models import Product

    a1_gb = Product.objects.create(sku="a1-GB", name="A1 UK", category="A", currency="GBP")
    for _ in range(3):
        order = shop["order"]("x", [])
        order.currency = "GBP"
        order.save()
        order.items.create(product=a1_gb, sku="a1-GB", category="A", price=1)
    recommendations_refresh()
    alice = shop["customers"]["alice"]
    assert skus(alice)["popular"] == ["a2", "a3"]
    assert skus(alice)["new"] == ["a4"]


def test_the_nightly_job_is_declared():
    from api.periodic import declared_periodic_jobs

    jobs = {job.task: job for job in declared_periodic_jobs()}
    job = jobs["campaigns.recommendations.tasks.refresh_recommendations"]
    assert job.crontab == "0 3 * * *"
