"""channels.providers.http.request: which answers are temporary, and the answer a failed request
carries on its ProviderError so a provider can read the gateway's own error code.

A pytest-httpserver plays the gateway.
"""

import socket
import threading
import time

import pytest
from werkzeug import Response

from channels.providers.base import ProviderError
from channels.providers.http import json_object, pooled_session, request


@pytest.fixture
def session():
    session = pooled_session()
    yield session
    session.close()


def test_an_error_answer_is_attached_to_the_provider_error(httpserver, session):
    httpserver.expect_request("/send", method="POST").respond_with_json(
        {"error": {"code": 131026, "message": "Message undeliverable"}}, status=400
    )

    with pytest.raises(ProviderError) as caught:
        request(
            session,
            "POST",
            httpserver.url_for("/send"),
            json={"to": "79161234567"},
            describe_error=lambda r: r.json()["error"]["message"],
        )

    error = caught.value
    assert (error.reason, error.permanent, error.code) == (
        "HTTP 400: Message undeliverable",
        True,
        "400",
    )
    assert error.response is not None
    assert error.response.status_code == 400
    assert json_object(error.response)["error"]["code"] == 131026


def test_a_rate_limited_answer_carries_its_retry_after_and_the_answer(httpserver, session):
    httpserver.expect_request("/send").respond_with_response(
        Response('{"parameters": {"retry_after": 7}}', status=429, headers={"Retry-After": "5"})
    )

    with pytest.raises(ProviderError) as caught:
        request(session, "POST", httpserver.url_for("/send"))

    assert (caught.value.permanent, caught.value.retry_after) == (False, 5.0)
    assert json_object(caught.value.response) == {"parameters": {"retry_after": 7}}


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (403, True), (404, True), (408, False), (425, False), (500, False), (503, False)],
)
def test_only_statuses_a_retry_cannot_fix_are_permanent(httpserver, session, status, permanent):
    httpserver.expect_request("/send").respond_with_data("nope", status=status)

    with pytest.raises(ProviderError) as caught:
        request(session, "POST", httpserver.url_for("/send"))

    assert caught.value.permanent is permanent
    assert caught.value.response.status_code == status
    assert json_object(caught.value.response) == {}  # "nope" is not JSON


def test_a_refused_connection_is_temporary_and_has_no_answer(session):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(ProviderError) as caught:
        request(session, "POST", f"http://127.0.0.1:{port}/send", timeout=2)

    assert (caught.value.permanent, caught.value.code) == (False, "connect")
    assert caught.value.uncertain is False  # nothing went out: safe to retry
    assert caught.value.response is None


def test_a_name_that_does_not_resolve_is_certain_not_to_have_arrived(session):
    with pytest.raises(ProviderError) as caught:
        request(session, "POST", "http://gateway.invalid/send", timeout=2)

    assert (caught.value.code, caught.value.uncertain) == ("connect", False)


@pytest.fixture
def gateway_that_reads_then_closes():
    """A gateway that takes the whole request, then closes the connection without answering."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/send"
    thread.join(timeout=5)
    server.close()


def test_a_connection_closed_after_the_request_is_uncertain(
    session, gateway_that_reads_then_closes
):
    with pytest.raises(ProviderError) as caught:
        request(session, "POST", gateway_that_reads_then_closes, data="text", timeout=5)

    assert (caught.value.permanent, caught.value.uncertain) == (False, True)
    assert caught.value.code == "connection"


def test_a_read_timeout_is_uncertain(httpserver, session):
    def too_slow(request):
        time.sleep(0.5)
        return Response("{}")

    httpserver.expect_request("/send").respond_with_handler(too_slow)

    with pytest.raises(ProviderError) as caught:
        request(session, "POST", httpserver.url_for("/send"), timeout=0.2)

    assert (caught.value.code, caught.value.uncertain) == ("timeout", True)


def test_a_2xx_answer_is_returned(httpserver, session):
    httpserver.expect_request("/send").respond_with_json({"id": "m-1"}, status=201)

    response = request(session, "POST", httpserver.url_for("/send"))

    assert json_object(response) == {"id": "m-1"}


def test_a_provider_error_made_without_an_answer_keeps_its_old_arguments():
    error = ProviderError("x" * 600, permanent=True, code="address", retry_after=3.0)
    assert (len(error.reason), error.permanent, error.code, error.retry_after) == (
        500,
        True,
        "address",
        3.0,
    )
    assert error.response is None


def test_an_unexpected_error_on_one_message_keeps_the_outcomes_of_the_others():
    from types import SimpleNamespace

    from channels.providers.base import Provider, SendResult

    class Flaky(Provider):
        name = "flaky"
        channel = "sms"

        def send(self, message):
            if message.pk == 2:
                raise KeyError("message_id")  # an answer the plug-in did not expect
            return SendResult(provider_message_id=f"id-{message.pk}")

    outcomes = list(Flaky({}).send_many([SimpleNamespace(pk=n) for n in (1, 2, 3)]))

    assert [o.result.provider_message_id if o.result else None for o in outcomes] == [
        "id-1",
        None,
        "id-3",
    ]
    assert outcomes[1].error.permanent is False
    assert outcomes[1].error.uncertain is True  # the request may have gone out
    assert outcomes[1].error.reason == "KeyError: 'message_id'"
