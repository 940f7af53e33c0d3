"""RFM scores, segments and their events, the customer API's `rfm`, the matrix, the nightly job.

The ten customers below are scored by hand (docs/rfm.md): score = 1 + floor(5 × worse / n), where
`worse` counts customers with a strictly worse value, so equal values share a score.

    customer  days  orders  monetary   R  F  M   segment
    c0           1       6    600.00   5  5  4   Champions
    c1           1       4    900.00   5  4  5   Champions
    c2           5       4    300.00   4  4  2   Loyal Customers
    c3          10       2    300.00   4  3  2   Potential Loyalists
    c4          30       2    400.00   3  3  3   Need Attention
    c5          30       1    100.00   3  1  1   About To Sleep
    c6          60       1   1000.00   2  1  5   Hibernating
    c7          90       1    100.00   2  1  1   Hibernating
    c8         200       1     50.00   1  1  1   Lost
    c9         400       3    450.00   1  4  4   At Risk

Recency, days descending (worst first): 400 200 90 60 30 30 10 5 1 1, so `worse` is
0 1 2 3 4 4 6 7 8 8 and R = 1 1 2 2 3 3 4 4 5 5. Frequency ascending: 1 ×4 (worse 0, F 1),
2 ×2 (worse 4, F 3), 3 (worse 6, F 4), 4 ×2 (worse 7, F 4), 6 (worse 9, F 5). Monetary
ascending: 50, 100 ×2 (worse 1, M 1), 300 ×2 (worse 3, M 2), 400 (worse 5, M 3), 450, 600, 900, 1000.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.periodic import declared_periodic_jobs
from customers.models import Customer, Event, Order, RfmScore
from customers.services.rfm import RfmSettingsInvalid, rfm_compute
from customers.tasks import compute_rfm_nightly
from customers.timeline import customer_timeline
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    RfmDimensionSettingFactory,
    RfmScoreFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 3, 31)

# external id: (days from the last order to AS_OF, order totals); earlier orders 10 days apart.
CUSTOMERS = {
    "c0": (1, ["100"] * 6),
    "c1": (1, ["300", "200", "200", "200"]),
    # 300.00 as c3's, though SQLite's float sum of these is 299.99999999999994: unrounded, c2
    # would rank below c3 and score M 2 to c3's 3.
    "c2": (5, ["131.45", "125.14", "10.34", "33.07"]),
    "c3": (10, ["150", "150"]),
    "c4": (30, ["200", "200"]),
    "c5": (30, ["100"]),
    "c6": (60, ["1000"]),
    "c7": (90, ["100"]),
    "c8": (200, ["50"]),
    "c9": (400, ["150"] * 3),
}

EXPECTED = {
    "c0": (1, 6, "600.00", 5, 5, 4, "champions"),
    "c1": (1, 4, "900.00", 5, 4, 5, "champions"),
    "c2": (5, 4, "300.00", 4, 4, 2, "loyal_customers"),
    "c3": (10, 2, "300.00", 4, 3, 2, "potential_loyalists"),
    "c4": (30, 2, "400.00", 3, 3, 3, "need_attention"),
    "c5": (30, 1, "100.00", 3, 1, 1, "about_to_sleep"),
    "c6": (60, 1, "1000.00", 2, 1, 5, "hibernating"),
    "c7": (90, 1, "100.00", 2, 1, 1, "hibernating"),
    "c8": (200, 1, "50.00", 1, 1, 1, "lost"),
    "c9": (400, 3, "450.00", 1, 4, 4, "at_risk"),
}


def placed(days_before: int, *, as_of: date = AS_OF, at: time = time(23, 30)) -> datetime:
    return datetime.combine(as_of - timedelta(days=days_before), at, tzinfo=UTC)


def make_customers(external_ids=None) -> dict[str, int]:
    """The customers above, created in the order given, with their orders newest first."""
    ids = {}
    for external_id in external_ids or CUSTOMERS:
        days, totals = CUSTOMERS[external_id]
        customer = CustomerFactory(external_id=external_id)
        for k, total in enumerate(totals):
            OrderFactory(customer=customer, placed_at=placed(days + 10 * k), total=Decimal(total))
        ids[external_id] = customer.pk
    # Orders that must not count: they would change c5's and c8's figures.
    OrderFactory(
        customer_id=ids["c8"], status="cancelled", placed_at=placed(0), total=Decimal(5000)
    )
    OrderFactory(customer_id=ids["c5"], status="refunded", placed_at=placed(2), total=Decimal(9999))
    return ids


def scores() -> dict[str, tuple]:
    return {
        s.customer.external_id: (
            s.recency_days,
            s.frequency,
            str(s.monetary),
            s.r,
            s.f,
            s.m,
            s.segment,
        )
        for s in RfmScore.objects.select_related("customer")
    }


def column(index: int) -> dict[str, int]:
    return {external_id: row[index] for external_id, row in scores().items()}


def rfm_events() -> list[Event]:
    return list(Event.objects.filter(name="rfm_segment_changed").select_related("customer"))


class TestScores:
    def test_ten_customers_get_the_hand_computed_scores_and_segments(self):
        make_customers()
        result = rfm_compute(as_of=AS_OF)
        assert scores() == EXPECTED
        assert (result.scored, result.changed, result.removed) == (10, 10, 0)
        assert RfmScore.objects.get(customer__external_id="c1").score == "545"

    def test_cancelled_and_refunded_orders_do_not_count(self):
        customer = CustomerFactory()
        OrderFactory(customer=customer, placed_at=placed(3), total=Decimal(10))
        OrderFactory(customer=customer, placed_at=placed(1), status="refunded")
        OrderFactory(customer=customer, placed_at=placed(0), status="cancelled")
        OrderFactory(customer=CustomerFactory(), status="cancelled", placed_at=placed(1))
        rfm_compute(as_of=AS_OF)
        [score] = RfmScore.objects.all()
        assert (score.customer, score.recency_days, score.frequency, score.monetary) == (
            customer,
            3,
            1,
            Decimal("10.00"),
        )

    def test_pending_paid_and_shipped_orders_count(self):
        customer = CustomerFactory()
        for status in ("pending", "paid", "shipped", "completed"):
            OrderFactory(customer=customer, status=status, placed_at=placed(1))
        rfm_compute(as_of=AS_OF)
        assert RfmScore.objects.get().frequency == 4

    def test_scores_are_the_same_whatever_order_the_rows_were_inserted_in(self):
        make_customers(reversed(list(CUSTOMERS)))
        rfm_compute(as_of=AS_OF)
        assert scores() == EXPECTED

    def test_scores_are_the_same_for_another_shuffle_of_the_rows(self):
        make_customers(["c5", "c1", "c8", "c4", "c0", "c9", "c3", "c7", "c2", "c6"])
        rfm_compute(as_of=AS_OF)
        assert scores() == EXPECTED

    def test_customers_with_equal_values_always_share_a_score(self):
        make_customers()
        rfm_compute(as_of=AS_OF)
        r, f, m = column(3), column(4), column(5)
        assert r["c0"] == r["c1"] and r["c4"] == r["c5"]
        assert f["c5"] == f["c6"] == f["c7"] == f["c8"] == 1
        assert m["c2"] == m["c3"] and m["c5"] == m["c7"]

    def test_recency_counts_calendar_days_in_utc_up_to_the_as_of_date(self):
        late, early = CustomerFactory(), CustomerFactory()
        OrderFactory(customer=late, placed_at=placed(1, at=time(23, 59, 59)))
        OrderFactory(customer=early, placed_at=placed(0, at=time(0, 0)))
        rfm_compute(as_of=AS_OF)
        assert RfmScore.objects.get(customer=late).recency_days == 1
        assert RfmScore.objects.get(customer=early).recency_days == 0

    def test_as_of_ignores_orders_placed_after_that_day(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF - timedelta(days=50))
        # Only orders at least 50 days old: c0's oldest (51 days), c6, c7, c8 and c9.
        assert set(scores()) == {"c0", "c6", "c7", "c8", "c9"}
        c0 = RfmScore.objects.get(customer_id=ids["c0"])
        assert (c0.recency_days, c0.frequency, c0.monetary) == (1, 1, Decimal("100.00"))
        assert c0.as_of == AS_OF - timedelta(days=50)
        assert RfmScore.objects.get(customer_id=ids["c6"]).recency_days == 10

    def test_an_order_placed_at_midnight_after_the_as_of_date_is_not_counted(self):
        customer = CustomerFactory()
        OrderFactory(customer=customer, placed_at=placed(0, at=time(23, 59, 59)))
        OrderFactory(customer=customer, placed_at=placed(-1, at=time(0, 0)))
        rfm_compute(as_of=AS_OF)
        assert RfmScore.objects.get().frequency == 1

    def test_a_customer_whose_orders_were_all_cancelled_loses_the_score(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        customer = CustomerFactory()
        RfmScoreFactory(customer=customer)
        OrderFactory(customer_id=ids["c8"], placed_at=placed(400))
        Order.objects.filter(customer_id=ids["c9"]).update(status="cancelled")
        result = rfm_compute(as_of=AS_OF)
        assert "c9" not in scores()
        assert not RfmScore.objects.filter(customer=customer).exists()
        assert (result.scored, result.removed) == (9, 2)

    def test_erased_customers_are_not_scored_and_lose_their_score(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        Customer.objects.filter(pk=ids["c0"]).update(erased_at=timezone.now())
        events_before = len(rfm_events())
        result = rfm_compute(as_of=AS_OF)
        assert "c0" not in scores()
        assert (result.scored, result.removed) == (9, 1)
        assert all(e.customer_id != ids["c0"] for e in rfm_events()[events_before:])

    def test_nobody_is_scored_without_orders(self):
        CustomerFactory()
        result = rfm_compute(as_of=AS_OF)
        assert (result.scored, result.changed) == (0, 0)
        assert not RfmScore.objects.exists()


class TestThresholds:
    def test_recency_thresholds_score_up_to_t1_days_5_and_beyond_t4_1(self):
        RfmDimensionSettingFactory(dimension="r", thresholds=[7, 30, 90, 365])
        make_customers()
        rfm_compute(as_of=AS_OF)
        assert column(3) == {
            "c0": 5, "c1": 5, "c2": 5, "c3": 4, "c4": 4,
            "c5": 4, "c6": 3, "c7": 3, "c8": 2, "c9": 1,
        }  # fmt: skip
        assert column(4)["c0"] == 5  # frequency still by quintiles

    def test_frequency_thresholds_score_below_t1_1_and_from_t4_5(self):
        RfmDimensionSettingFactory(dimension="f", thresholds=[2, 3, 5, 8])
        make_customers()
        rfm_compute(as_of=AS_OF)
        assert column(4) == {
            "c0": 4, "c1": 3, "c2": 3, "c3": 2, "c4": 2,
            "c5": 1, "c6": 1, "c7": 1, "c8": 1, "c9": 3,
        }  # fmt: skip
        assert column(3)["c9"] == 1  # recency still by quintiles

    def test_monetary_thresholds_may_have_decimals(self):
        RfmDimensionSettingFactory(dimension="m", thresholds=[100, 250.5, 500, 1000])
        make_customers()
        rfm_compute(as_of=AS_OF)
        assert column(5) == {
            "c0": 4, "c1": 4, "c2": 3, "c3": 3, "c4": 3,
            "c5": 2, "c6": 5, "c7": 2, "c8": 1, "c9": 3,
        }  # fmt: skip

    def test_a_dimension_switched_back_to_quintiles_ignores_its_thresholds(self):
        RfmDimensionSettingFactory(dimension="r", method="quintiles", thresholds=[1, 2, 3, 4])
        make_customers()
        rfm_compute(as_of=AS_OF)
        assert scores() == EXPECTED

    @pytest.mark.parametrize("thresholds", [[], [1, 2, 3], [4, 3, 2, 1], [1, 2, "3", 4]])
    def test_thresholds_that_are_not_four_ascending_numbers_stop_the_run(self, thresholds):
        RfmDimensionSettingFactory(dimension="f", thresholds=thresholds)
        make_customers()
        with pytest.raises(RfmSettingsInvalid, match="Frequency"):
            rfm_compute(as_of=AS_OF)
        assert not RfmScore.objects.exists()


class TestSegmentChangedEvents:
    def test_the_first_run_writes_no_events_as_nobody_had_a_score(self):
        make_customers()
        result = rfm_compute(as_of=AS_OF)
        assert scores() == EXPECTED
        assert rfm_events() == []
        assert (result.scored, result.changed, result.events) == (10, 10, 0)

    def test_a_first_score_on_a_later_run_is_a_change_from_null(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF - timedelta(days=50))  # c0, c6, c7, c8 and c9 (see above)
        result = rfm_compute(as_of=AS_OF)
        first_scores = {
            e.customer.external_id: e for e in rfm_events() if e.properties["from"] is None
        }
        assert set(first_scores) == {"c1", "c2", "c3", "c4", "c5"}
        c3 = first_scores["c3"]
        assert c3.properties == {"from": None, "to": "potential_loyalists"}
        assert c3.event_id == f"rfm:{ids['c3']}:2025-03-31:potential_loyalists"
        assert c3.source == "kaskad"
        assert c3.occurred_at == RfmScore.objects.get(customer_id=ids["c3"]).computed_at
        assert result.events == len(rfm_events()) == result.changed

    def test_running_again_for_the_same_date_writes_no_event_twice(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        assert rfm_compute(as_of=AS_OF).changed == 0
        for _ in range(2):  # as a retried run would find it: the stored segment still the old one
            RfmScore.objects.filter(customer_id=ids["c8"]).update(segment="hibernating")
            assert rfm_compute(as_of=AS_OF).changed == 1
        assert [(e.customer_id, e.properties) for e in rfm_events()] == [
            (ids["c8"], {"from": "hibernating", "to": "lost"})
        ]

    def test_each_customer_whose_segment_changes_gets_one_event_from_old_to_new(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        next_day = AS_OF + timedelta(days=1)
        OrderFactory(customer_id=ids["c8"], placed_at=placed(0, as_of=next_day, at=time(12)))
        result = rfm_compute(as_of=next_day)
        changes = {
            e.customer.external_id: (e.properties["from"], e.properties["to"])
            for e in rfm_events()
            if e.event_id.split(":")[2] == "2025-04-01"
        }
        # By hand, as in the module docstring: recencies one day more, c8 now 0 days and 2 orders.
        assert changes == {
            "c0": ("champions", "loyal_customers"),
            "c1": ("champions", "loyal_customers"),
            "c3": ("potential_loyalists", "about_to_sleep"),
            "c4": ("need_attention", "hibernating"),
            "c5": ("about_to_sleep", "hibernating"),
            "c7": ("hibernating", "lost"),
            "c8": ("lost", "potential_loyalists"),
        }
        assert result.changed == 7
        assert {k: v[6] for k, v in scores().items() if k in changes} == {
            k: new for k, (_old, new) in changes.items()
        }

    def test_a_second_change_on_the_same_date_is_written_too(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        order = OrderFactory(customer_id=ids["c8"], placed_at=placed(0), total=Decimal(10))
        rfm_compute(as_of=AS_OF)
        Order.objects.filter(pk=order.pk).update(status="cancelled")
        rfm_compute(as_of=AS_OF)
        c8_changes = [
            (e.properties["from"], e.properties["to"])
            for e in Event.objects.filter(
                name="rfm_segment_changed", customer_id=ids["c8"]
            ).order_by("pk")
        ]
        assert c8_changes == [("lost", "potential_loyalists"), ("potential_loyalists", "lost")]

    def test_the_change_is_on_the_customers_timeline(self):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        OrderFactory(customer_id=ids["c8"], placed_at=placed(0), total=Decimal(10))
        rfm_compute(as_of=AS_OF)
        [entry] = [
            e
            for e in customer_timeline(ids["c8"]).entries
            if e.kind == "event" and e.title == "rfm_segment_changed"
        ]
        assert entry.data["properties"] == {"from": "lost", "to": "potential_loyalists"}


class TestCustomerApi:
    def test_a_customer_carries_the_rfm_object(self, api):
        ids = make_customers()
        rfm_compute(as_of=AS_OF)
        rfm = api.get("/api/v1/customers/c1").json()["rfm"]
        computed_at = datetime.fromisoformat(rfm.pop("computed_at"))
        assert rfm == {
            "recency_days": 1,
            "frequency": 4,
            "monetary": "900.00",
            "r": 5,
            "f": 4,
            "m": 5,
            "score": "545",
            "segment": "champions",
            "as_of": "2025-03-31",
        }
        assert computed_at == RfmScore.objects.get(customer_id=ids["c1"]).computed_at

    def test_a_customer_without_orders_has_a_null_rfm(self, api):
        CustomerFactory(external_id="new")
        assert api.get("/api/v1/customers/new").json()["rfm"] is None
        [listed] = api.get("/api/v1/customers").json()["results"]
        assert listed["rfm"] is None

    def test_listing_scored_customers_takes_four_queries_however_many_there_are(self, api):
        def customer_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert api.get("/api/v1/customers").status_code == 200
            return sum("api_apikey" not in q["sql"] for q in queries.captured_queries)

        RfmScoreFactory()
        assert customer_queries() == 4
        RfmScoreFactory.create_batch(4)
        CustomerFactory()
        assert customer_queries() == 4


class TestMatrixEndpoint:
    def test_cells_and_segments_give_customers_share_and_average_monetary(self, read_api):
        make_customers()
        rfm_compute(as_of=AS_OF)
        response = read_api.get("/api/v1/segments/rfm-matrix")
        assert response.status_code == 200, response.content
        matrix = response.json()
        assert (matrix["customers"], matrix["as_of"]) == (10, "2025-03-31")
        cells = {(c["r"], c["f"]): c for c in matrix["cells"]}
        assert [(c["r"], c["f"]) for c in matrix["cells"]][:6] == [
            (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), (4, 1),
        ]  # fmt: skip
        assert len(cells) == 25
        assert cells[(2, 1)] == {
            "r": 2,
            "f": 1,
            "segment": "hibernating",
            "customers": 2,
            "share": 0.2,
            "avg_monetary": "550.00",
        }
        assert cells[(5, 5)]["customers"] == 1 and cells[(5, 5)]["avg_monetary"] == "600.00"
        assert cells[(5, 1)] == {
            "r": 5,
            "f": 1,
            "segment": "new_customers",
            "customers": 0,
            "share": 0.0,
            "avg_monetary": None,
        }
        assert sum(c["customers"] for c in matrix["cells"]) == 10
        segments = {s["segment"]: s for s in matrix["segments"]}
        assert len(segments) == 11
        assert segments["champions"] == {
            "segment": "champions",
            "label": "Champions",
            "customers": 2,
            "share": 0.2,
            "avg_monetary": "750.00",
        }
        assert (segments["lost"]["customers"], segments["lost"]["avg_monetary"]) == (1, "50.00")
        assert segments["cant_lose_them"]["customers"] == 0
        assert segments["cant_lose_them"]["avg_monetary"] is None

    def test_a_share_is_rounded_to_four_places(self, api):
        RfmScoreFactory(r=5, f=5, segment="champions", monetary=Decimal("10.00"))
        RfmScoreFactory.create_batch(2, r=1, f=1, segment="lost", monetary=Decimal("10.01"))
        matrix = api.get("/api/v1/segments/rfm-matrix").json()
        lost = next(s for s in matrix["segments"] if s["segment"] == "lost")
        assert (lost["share"], lost["avg_monetary"]) == (0.6667, "10.01")

    def test_before_any_computation_the_matrix_is_empty(self, api):
        matrix = api.get("/api/v1/segments/rfm-matrix").json()
        assert (matrix["customers"], matrix["as_of"], matrix["computed_at"]) == (0, None, None)
        assert len(matrix["cells"]) == 25
        assert all(c["customers"] == 0 and c["share"] == 0 for c in matrix["cells"])

    def test_the_matrix_needs_an_api_key(self, client):
        response = client.get("/api/v1/segments/rfm-matrix")
        assert response.status_code == 401


class TestCommand:
    def test_compute_rfm_prints_a_summary(self):
        make_customers()
        out = StringIO()
        call_command("compute_rfm", "--as-of", "2025-03-31", stdout=out)
        output = out.getvalue()
        assert "Scored 10 customers as of 2025-03-31" in output
        assert "10 changed segment, 0 lost their score." in output
        assert "  Champions                   2" in output
        assert "  Can't Lose Them             0" in output
        assert RfmScore.objects.get(customer__external_id="c0").as_of == AS_OF

    def test_compute_rfm_defaults_to_today_in_utc(self):
        OrderFactory()
        call_command("compute_rfm", stdout=StringIO())
        assert RfmScore.objects.get().as_of == timezone.now().date()

    def test_a_malformed_as_of_date_is_refused(self):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("compute_rfm", "--as-of", "31.03.2025", stdout=StringIO())

    def test_invalid_thresholds_are_reported_as_a_command_error(self):
        RfmDimensionSettingFactory(dimension="m", thresholds=[3, 2, 1, 0])
        with pytest.raises(CommandError, match="four ascending numbers"):
            call_command("compute_rfm", stdout=StringIO())


class TestNightlyJob:
    def test_the_nightly_job_is_declared_for_beat(self):
        [job] = [j for j in declared_periodic_jobs() if j.task.endswith("compute_rfm_nightly")]
        assert job.task == "customers.tasks.compute_rfm_nightly" == compute_rfm_nightly.name
        assert job.crontab == "30 2 * * *"

    def test_the_nightly_task_scores_as_of_today_in_utc(self):
        OrderFactory()
        result = compute_rfm_nightly()
        assert result["as_of"] == timezone.now().date().isoformat()
        assert result["scored"] == 1
        assert RfmScore.objects.get().as_of == timezone.now().date()
