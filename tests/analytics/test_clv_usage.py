"""CLV where people use it: segment rules, message templates, the customer page, the API, the CLV
page, the task and the command; and a run with too little data, which fits and writes nothing."""

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from analytics.clv.services import clv_refresh
from analytics.clv.tasks import clv_refresh as clv_refresh_task
from analytics.models import ClvFit
from campaigns.message_templates.services import template_create, template_render
from customers.models import Customer, CustomerValue, Order
from customers.segments.builder import rule_to_tree, tree_to_rule
from customers.segments.rules import RuleError, rule_to_q, rule_validate
from customers.services.rfm import rfm_compute
from tests.analytics.cdnow import CALIBRATION_END
from tests.analytics.clv_data import cdnow_bulk_load
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
NOW = datetime(1997, 10, 1, tzinfo=UTC)


@pytest.fixture
def fitted():
    cdnow_bulk_load()
    fit = clv_refresh(calibration_end=CALIBRATION_END)
    assert fit.status == ClvFit.Status.OK, fit.error
    return fit


def _matching(rule: dict) -> set[str]:
    rule_validate(rule)
    return set(
        Customer.objects.filter(rule_to_q(rule, now=NOW)).values_list("external_id", flat=True)
    )


def test_clv_segment_rules_match_the_stored_values(fitted):
    values = CustomerValue.objects.select_related("customer")
    high = {v.customer.external_id for v in values if v.clv_12m >= 100}
    assert 0 < len(high) < values.count()
    assert _matching({"clv": {"clv_12m": {"gte": 100}}}) == high
    lapsed = {v.customer.external_id for v in values if v.p_alive < 0.3 and v.orders >= 3}
    assert lapsed
    assert _matching({"clv": {"p_alive": {"lt": 0.3}, "orders": {"gte": 3}}}) == lapsed
    between = {v.customer.external_id for v in values if 50 <= v.historic_revenue <= 80}
    assert _matching({"clv": {"historic_revenue": {"between": [50, 80]}}}) == between
    # Someone without a completed order has no value and never matches, even "≥ 0".
    CustomerFactory(external_id="no-orders")
    assert "no-orders" not in _matching({"clv": {"clv_12m": {"gte": 0}}})
    assert "no-orders" in _matching({"not": {"clv": {"clv_12m": {"gte": 0}}}})


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"clv": {"p_alive": {"gte": 2}}}, "clv.p_alive.gte"),
        ({"clv": {"clv_12m": {"gte": -1}}}, "clv.clv_12m.gte"),
        ({"clv": {"orders": {"gte": 1.5}}}, "clv.orders.gte"),
        ({"clv": {"lifetime": {"gte": 1}}}, "clv.lifetime"),
        ({"clv": {}}, "clv"),
    ],
)
def test_a_bad_clv_rule_names_the_field(rule, path):
    with pytest.raises(RuleError) as caught:
        rule_validate(rule)
    assert path in [error["path"] for error in caught.value.errors]


def test_the_rule_builder_shows_a_clv_condition_as_a_row_and_gives_it_back():
    rule = {"all": [{"clv": {"clv_12m": {"gte": 100}, "p_alive": {"between": [0.2, 0.9]}}}]}
    tree = rule_to_tree(rule)
    assert tree.children[0].type == "clv"
    assert tree_to_rule(tree)[0] == rule


def test_templates_read_the_customers_clv(fitted):
    customer = Customer.objects.get(external_id="cdnow-0001")
    value = customer.value
    template = template_create(
        name="CLV",
        category="marketing",
        variants={
            "sms": {
                "body": "{{ customer.clv_12m }} {{ customer.p_alive }} "
                "{{ customer.historic_revenue }}"
            }
        },
    )
    body = template_render(template.current_version, "sms", customer).body
    assert body == f"{value.clv_12m} {round(value.p_alive, 4)} {value.historic_revenue}"


def test_the_customer_page_shows_the_customer_value(fitted, client_as):
    value = CustomerValue.objects.order_by("-clv_12m").select_related("customer").first()
    page = client_as("support").get(f"/app/customers/{value.customer.external_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Customer value" in text
    assert f"{value.clv_12m:,.2f}" in text
    assert f"{round(value.p_alive * 100)} %" in text
    blank = CustomerFactory(external_id="no-orders")
    text = client_as("support").get(f"/app/customers/{blank.external_id}/").content.decode()
    assert "No value yet" in text


def test_the_api_gives_a_customers_clv_over_any_horizon(fitted, read_api):
    value = CustomerValue.objects.select_related("customer").get(customer__external_id="cdnow-0001")
    detail = read_api.get("/api/v1/customers/cdnow-0001").json()
    assert Decimal(detail["value"]["clv_12m"]) == value.clv_12m
    body = read_api.get("/api/v1/customers/cdnow-0001/clv").json()
    assert body["value"]["p_alive"] == value.p_alive
    assert body["fit_id"] == fitted.pk
    # The 12-month horizon recomputed from the summary is the stored value.
    assert body["horizon"]["months"] == 12
    assert body["horizon"]["clv"] == pytest.approx(float(value.clv_12m), abs=0.011)
    assert body["horizon"]["expected_purchases"] == pytest.approx(value.expected_purchases_12m)
    longer = read_api.get("/api/v1/customers/cdnow-0001/clv?horizon_months=36").json()
    assert longer["horizon"]["expected_purchases"] > body["horizon"]["expected_purchases"]
    bad = read_api.get("/api/v1/customers/cdnow-0001/clv?horizon_months=0")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "horizon_months"
    assert read_api.get("/api/v1/customers/nobody/clv").status_code == 404
    CustomerFactory(external_id="no-orders")
    empty = read_api.get("/api/v1/customers/no-orders/clv").json()
    assert (empty["value"], empty["horizon"]) == (None, None)


def test_the_api_gives_the_fit_and_averages_by_rfm_segment(fitted, read_api):
    rfm_compute(as_of=CALIBRATION_END)
    body = read_api.get("/api/v1/clv").json()
    assert body["fit"]["bgnbd"]["r"] == pytest.approx(fitted.r)
    assert body["fit"]["gamma_gamma"]["q"] == pytest.approx(fitted.q)
    assert body["overall"]["customers"] == 2357
    rows = {row["rfm_segment"]: row for row in body["by_rfm_segment"]}
    assert sum(row["customers"] for row in rows.values()) == 2357
    champions = CustomerValue.objects.filter(customer__rfm__segment="champions")
    expected = sum(float(v.clv_12m) for v in champions) / champions.count()
    assert rows["champions"]["avg_clv_12m"] == pytest.approx(expected, abs=0.01)
    assert rows["champions"]["avg_clv_12m"] > rows["lost"]["avg_clv_12m"]


def test_the_clv_page_shows_the_fit_and_lets_marketing_refit(fitted, client_as):
    rfm_compute(as_of=CALIBRATION_END)
    marketing = client_as("marketing")
    page = marketing.get(reverse("analytics:clv"))
    text = page.content.decode()
    assert page.status_code == 200
    assert f"{fitted.r:.4f}" in text and f"{fitted.gamma:.4f}" in text
    assert 'id="clv-rfm-chart-data"' in text
    assert "<script>" not in text.replace('<script type="application/json"', "")
    assert reverse("analytics:clv") in marketing.get(reverse("analytics:index")).content.decode()
    response = marketing.post(reverse("analytics:clv_refit"))
    assert response.status_code == 302


def test_support_may_neither_see_nor_refit(client_as):
    support = client_as("support")
    assert support.get(reverse("analytics:clv")).status_code == 403
    assert support.post(reverse("analytics:clv_refit")).status_code == 403


def test_too_little_data_fits_nothing_and_says_why(client_as):
    for n in range(5):
        customer = CustomerFactory()
        for day in (1, 9):
            Order.objects.create(
                external_id=f"o-{n}-{day}",
                customer=customer,
                status=Order.Status.COMPLETED,
                placed_at=datetime(2026, 3, day, 10, tzinfo=UTC),
                total=Decimal("10.00"),
                currency="EUR",
            )
    fit = clv_refresh()
    assert (fit.status, fit.error_code, fit.customers) == ("failed", "too_few_customers", 5)
    assert fit.r is None and not CustomerValue.objects.exists()
    text = client_as("marketing").get(reverse("analytics:clv")).content.decode()
    assert "Too few customers have a completed order (5)" in text
    with pytest.raises(CommandError, match="needs at least 100"):
        call_command("clv_refresh")


def test_enough_customers_but_too_few_repeat_buyers_fits_nothing(settings):
    settings.CLV_MIN_CUSTOMERS = 3
    for n in range(4):
        Order.objects.create(
            external_id=f"o-{n}",
            customer=CustomerFactory(),
            status=Order.Status.COMPLETED,
            placed_at=datetime.combine(CALIBRATION_END, time(9), tzinfo=UTC),
            total=Decimal("10.00"),
            currency="EUR",
        )
    fit = clv_refresh(calibration_end=CALIBRATION_END)
    assert (fit.error_code, fit.repeat_customers) == ("too_few_repeat_customers", 0)


def test_the_task_and_the_command_fit_and_score(capsys):
    cdnow_bulk_load()
    result = clv_refresh_task.apply(kwargs={"calibration_end": "1997-09-30"}).get()
    assert (result["status"], result["scored"]) == ("ok", 2357)
    call_command("clv_refresh", "--calibration-end", "1997-09-30")
    out = capsys.readouterr().out
    assert "scored 2357" in out and "r=0.24" in out
    # A customer whose only order was cancelled since loses the value at the next run.
    Order.objects.filter(customer__external_id="cdnow-0002").update(status="cancelled")
    call_command("clv_refresh", "--calibration-end", "1997-09-30")
    assert not CustomerValue.objects.filter(customer__external_id="cdnow-0002").exists()
