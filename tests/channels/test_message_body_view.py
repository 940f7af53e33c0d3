import pytest
from django.urls import reverse

from channels.models import Message
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _email(**kw):
    customer = CustomerFactory()
    return Message.objects.create(
        customer=customer,
        channel="email",
        address="a@example.com",
        subject="Hi",
        body="Hello",
        html='<p style="color:red">Hello<script>alert(1)</script></p>',
        category="transactional",
        source="api",
        **kw,
    )


@pytest.mark.parametrize("role", ["support", "marketing", "admin"])
def test_staff_who_read_customers_or_messages_get_the_html_under_its_own_policy(client_as, role):
    message = _email()
    response = client_as(role).get(reverse("channels:message_body", args=[message.pk]))
    assert response.status_code == 200
    assert b'style="color:red"' in response.content
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_visitor_is_sent_to_sign_in(client):
    message = _email()
    response = client.get(reverse("channels:message_body", args=[message.pk]))
    assert response.status_code == 302 and "/app/login/" in response.url


def test_a_text_only_message_is_served_as_text(client_as):
    message = _email()
    Message.objects.filter(pk=message.pk).update(html="")
    response = client_as("support").get(reverse("channels:message_body", args=[message.pk]))
    assert response["Content-Type"].startswith("text/plain")
