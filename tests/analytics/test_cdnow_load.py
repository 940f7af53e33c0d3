import pytest

from customers.models import Customer, Order
from tests.analytics.cdnow import cdnow_load, cdnow_rows

pytestmark = pytest.mark.django_db


def test_the_sample_has_the_published_size():
    rows = cdnow_rows()
    assert len(rows) == 6919
    assert len({row[0] for row in rows}) == 2357


def test_the_sample_loads_through_the_batch_api(api):
    assert cdnow_load(api) == {"customers": 2357, "orders": 6919}
    assert Customer.objects.filter(external_id__startswith="cdnow-").count() == 2357
    assert Order.objects.filter(external_id__startswith="cdnow-").count() == 6919
