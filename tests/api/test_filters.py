"""A list filter given with no value is a 400 naming it: the schema lists each filter's values and
an empty one is none of them (django-filter alone would quietly not filter)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/customers", "updated_since"),
        ("/api/v1/customers", "email"),
        ("/api/v1/messages", "status"),
        ("/api/v1/messages", "queued_since"),
        ("/api/v1/conversations", "channel"),
        ("/api/v1/conversations", "assignee"),
    ],
)
def test_a_filter_with_no_value_is_400_naming_it(read_api, path, name):
    response = read_api.get(path, {name: ""})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [name]


def test_a_filter_with_a_value_still_filters(read_api):
    response = read_api.get("/api/v1/messages", {"status": "queued", "channel": "sms"})
    assert response.status_code == 200
