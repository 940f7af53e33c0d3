import pytest
from rest_framework.test import APIClient

from api.services import api_key_create


@pytest.fixture
def write_key(db):
    _api_key, raw_key = api_key_create(name="crm", scope="write")
    return raw_key


@pytest.fixture
def read_key(db):
    _api_key, raw_key = api_key_create(name="reporting", scope="read")
    return raw_key


@pytest.fixture
def api(write_key) -> APIClient:
    """An API client authenticated with a write-scoped key; send JSON by default."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    client.default_format = "json"
    return client


@pytest.fixture
def read_api(read_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    client.default_format = "json"
    return client
