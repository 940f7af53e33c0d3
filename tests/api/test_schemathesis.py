"""Schemathesis over the whole API, against the schema the app serves at /api/v1/schema/.

Every operation gets generated valid and invalid requests, in-process through the WSGI app and
authenticated with a key of the broadest scope. Each answer must be no 5xx, a documented status,
the documented content type and a body matching the documented schema. The stateful test chains
operations through the links schemathesis infers from the schema (create a customer, then get,
patch or delete it). A fixed seed and a bounded number of examples keep it repeatable and about
a minute long.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiScope
from api.services import api_key_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # The schema is as strict as the validation: what it calls invalid must be refused.
    negative_data_rejection,
]
SEED = 20261202
MAX_EXAMPLES = 25
STATEFUL_STEPS = 10
STATEFUL_EXAMPLES = 10
HOST = "localhost"  # what schemathesis' WSGI client sends

with override_settings(ALLOWED_HOSTS=[HOST]):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
schema.config.seed = SEED
# The key is sent by the tests below (it must exist in the test's database), not generated.
schema.config.generation.update(
    max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False
)
# A batch of more than 1,000 items is refused with 413, as documented.
rejection = schema.config.checks.negative_data_rejection
rejection.expected_statuses = [*rejection.expected_statuses, "413"]
# The coverage phase walks every branch of every schema (the segment rule language alone has
# some sixty), which takes minutes; the generated phases reach the same code in seconds.
schema.config.phases.coverage.enabled = False
HYPOTHESIS = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="runs on PostgreSQL, as production and CI's second run do (issue 9)",
    ),
]


@pytest.fixture
def auth_headers(settings) -> dict[str, str]:
    """A key of the broadest scope, and requests served inside the test's transaction.

    Django closes the database connection around each request unless it is the test client's;
    schemathesis calls the WSGI app directly, so do what the test client does.
    """
    settings.ALLOWED_HOSTS = [HOST]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    _api_key, raw_key = api_key_create(name="schemathesis", scopes=ApiScope.values)
    yield {"Authorization": f"Bearer {raw_key}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_as_documented(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


def test_chained_operations_answer_as_documented(auth_headers):
    class ApiWorkflow(schema.as_state_machine()):
        """Each scenario starts from the same data, so that replaying one gives the same answers."""

        def setup(self):
            cache.clear()
            self.scenario = transaction.atomic()
            self.scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": auth_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    ApiWorkflow.run(
        settings=settings(
            HYPOTHESIS,
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
        )
    )
