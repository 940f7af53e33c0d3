"""The template editor in Chromium: typing updates the preview for the chosen customer, the email
shows in its sandboxed frame, and nothing breaks the page's policy (the fixture fails on any CSP
violation)."""

import pytest
from playwright.sync_api import expect

from campaigns.message_templates.services import template_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_preview_follows_the_editor(signed_in_page, live_server):
    CustomerFactory(first_name="Марина", email="marina@example.com")
    template = template_create(
        name="Welcome",
        category="marketing",
        variants={
            "email": {"subject": "Hi {{ customer.first_name }}", "html": "<h1>Hello</h1>"},
            "sms": {"body": "Hi {{ customer.first_name }}"},
        },
    )
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/templates/{template.pk}/")
    page.fill("#customer-q", "marina@example.com")
    expect(page.locator("#preview-output")).to_contain_text("Hi Марина")
    frame = page.frame_locator("#preview-output iframe")
    expect(frame.locator("h1")).to_have_text("Hello")
    page.check("input[name=preview_channel][value=sms]")
    page.fill("#f-sms_body", "Sale for {{ customer.first_name }}!")
    expect(page.locator("#preview-output")).to_contain_text("Sale for Марина!")
    page.fill("#f-sms_body", "Sale for {{ customer.nick }}")
    expect(page.locator("#preview")).to_contain_text("customer.nick")
