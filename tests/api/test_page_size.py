"""`limit` on every paged list and the timeline: a whole number from 1, capped at the list's
maximum; anything else is 400 naming it (DRF alone would quietly use the default page size)."""

import pytest

from tests.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/customers",
    "/api/v1/segments",
    "/api/v1/segments/{segment}/members",
    "/api/v1/messages",
    "/api/v1/conversations",
    "/api/v1/customers/c1/timeline",
]


@pytest.fixture
def segment(db) -> int:
    CustomerFactory(external_id="c1")
    return SegmentFactory().pk


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["0", "-1", "0.5", "ten", "", "1_0", "٥"])
def test_a_limit_that_is_not_a_whole_number_from_1_is_400_naming_it(read_api, segment, path, limit):
    response = read_api.get(path.format(segment=segment), {"limit": limit})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "limit", "message": "must be 1 or more"}]


def test_a_limit_above_the_maximum_gives_the_maximum(read_api):
    CustomerFactory.create_batch(3)
    response = read_api.get("/api/v1/customers", {"limit": "1000000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
