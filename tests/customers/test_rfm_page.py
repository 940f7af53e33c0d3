"""The RFM page: the R×F heatmap's figures against a hand computation, the 11 segments, a
cell's customers, and who may see it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.selectors import rfm_matrix
from tests.factories import CustomerFactory, RfmScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scores():
    """Five scored customers: R5F5 ×2 (100 + 300), R3F3 ×2 (10 + 21), R1F1 ×1 (50)."""
    for r, f, segment, monetary in [
        (5, 5, "champions", "100.00"),
        (5, 5, "champions", "300.00"),
        (3, 3, "need_attention", "10.00"),
        (3, 3, "need_attention", "21.00"),
        (1, 1, "lost", "50.00"),
    ]:
        RfmScoreFactory(r=r, f=f, segment=segment, monetary=Decimal(monetary))


def cell(response, r, f):
    return next(c for c in response.context["matrix"]["cells"] if (c["r"], c["f"]) == (r, f))


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_marketing_and_admin_see_the_rfm_page(client_as, role, scores):
    assert client_as(role).get("/app/rfm/").status_code == 200


def test_support_may_not_see_rfm(client_as, scores):
    assert client_as("support").get("/app/rfm/").status_code == 403


def test_the_heatmap_numbers_match_a_hand_computation(client_as, scores):
    response = client_as("marketing").get("/app/rfm/")
    assert response.context["matrix"]["customers"] == 5
    top = cell(response, 5, 5)
    assert (top["customers"], top["share"], top["avg_monetary"]) == (2, 0.4, Decimal("200.00"))
    middle = cell(response, 3, 3)
    assert (middle["customers"], middle["share"], middle["avg_monetary"]) == (
        2,
        0.4,
        Decimal("15.50"),
    )
    low = cell(response, 1, 1)
    assert (low["customers"], low["share"], low["avg_monetary"]) == (1, 0.2, Decimal("50.00"))
    empty = cell(response, 4, 2)
    assert (empty["customers"], empty["avg_monetary"], empty["heat"]) == (0, None, 0)
    # Colour by share, relative to the largest cell: 40 % is the darkest, 20 % half-way up.
    assert (top["heat"], low["heat"]) == (5, 3)
    html = response.content.decode()
    assert html.count('class="heat-') == 25
    assert "40.0%" in html and "⌀ 200" in html and "⌀ 16" in html
    assert ' style="' not in html


def test_the_eleven_segments_with_definitions_and_counts(client_as, scores):
    response = client_as("marketing").get("/app/rfm/")
    segments = {s["segment"]: s for s in response.context["segments"]}
    assert len(segments) == 11
    assert segments["champions"]["customers"] == 2
    assert segments["champions"]["definition"] == "R 5 · F 4–5"
    assert segments["champions"]["avg_monetary"] == Decimal("200.00")
    assert segments["at_risk"]["definition"] == "R 1–2 · F 3–4"
    assert segments["lost"]["share"] == 0.2
    assert segments["promising"]["customers"] == 0


def test_one_group_by_gives_cells_and_segments_alike(scores):
    with CaptureQueriesContext(connection) as queries:
        matrix = rfm_matrix()
    assert len(queries.captured_queries) == 1
    assert "GROUP BY" in queries.captured_queries[0]["sql"]
    by_segment = {s["segment"]: s["customers"] for s in matrix["segments"]}
    for segment, customers in by_segment.items():
        assert customers == sum(c["customers"] for c in matrix["cells"] if c["segment"] == segment)
    assert sum(by_segment.values()) == matrix["customers"]


def test_clicking_a_cell_lists_its_customers_with_a_cursor(client_as, scores):
    for n in range(55):
        RfmScoreFactory(
            r=2, f=1, segment="hibernating", customer=CustomerFactory(first_name=f"H{n}")
        )
    erased = RfmScoreFactory(r=2, f=1, segment="hibernating")
    erased.customer.erased_at = erased.computed_at
    erased.customer.save()
    client = client_as("marketing")
    first = client.get("/app/rfm/?r=2&f=1")
    assert len(first.context["customers"]) == 50
    assert 'rel="next"' in first.content.decode()
    after = first.context["next_after"]
    second = client.get(f"/app/rfm/?r=2&f=1&after={after}")
    assert len(second.context["customers"]) == 5
    ids = {s.customer_id for s in first.context["customers"]} | {
        s.customer_id for s in second.context["customers"]
    }
    assert len(ids) == 55 and erased.customer_id not in ids
    five = client.get("/app/rfm/?r=5&f=5").content.decode()
    assert "Customers in R5 F5" in five
    assert client.get("/app/rfm/?r=9&f=x").status_code == 200


def test_the_page_reads_a_constant_number_of_queries(
    client_as, scores, django_assert_max_num_queries
):
    client = client_as("marketing")
    client.get("/app/rfm/")
    with django_assert_max_num_queries(8):
        client.get("/app/rfm/?r=5&f=5")
