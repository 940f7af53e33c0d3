"""Email delivery and engagement webhooks from ESPs, through django-anymail.

`POST /hooks/email/<esp>/tracking/` is anymail's own tracking webhook view for that ESP (Postmark,
SendGrid, Mailgun, Brevo, …). Anymail checks the request and normalises the ESP's events, then
sends its `tracking` signal; channels.tracking.esp turns each event into a message status
(delivered, opened, clicked, bounced, failed) found by the ESP's message id, and complaints and
ESP unsubscribes into an email opt-out.

Auth: every ESP here must be configured with anymail's shared basic-auth secret
(`ANYMAIL = {"WEBHOOK_SECRET": "user:password"}`, put into the webhook URL as
`https://user:password@kaskad.example/hooks/email/postmark/tracking/`). Without it every
callback is refused, rather than anymail's default of accepting them with a warning. ESPs that
also sign their webhooks (Mailgun, Mandrill, Postal, Resend, …) need their signing key in
ANYMAIL as anymail documents; anymail checks both.

- missing or wrong auth or signature → 403 `invalid_signature`, nothing stored;
- a body that is not the ESP's JSON → 400 `malformed_body`;
- events for messages we do not know → ignored with 200; repeated events change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailersend import MailerSendTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.mailtrap import MailtrapTrackingWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from anymail.webhooks.postal import PostalTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from anymail.webhooks.unisender_go import UnisenderGoTrackingWebhookView
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from api.errors import error_body
from channels.hooks.common import Malformed, invalid_signature, malformed_response

# URL segment → anymail's tracking view for that ESP.
TRACKING_VIEWS: dict[str, type] = {
    "amazon_ses": AmazonSESTrackingWebhookView,
    "brevo": BrevoTrackingWebhookView,
    "mailersend": MailerSendTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "mailjet": MailjetTrackingWebhookView,
    "mailtrap": MailtrapTrackingWebhookView,
    "mandrill": MandrillCombinedWebhookView,
    "postal": PostalTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "resend": ResendTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
    "unisender_go": UnisenderGoTrackingWebhookView,
}


def _malformed_body(message: str) -> JsonResponse:
    # anymail parses the ESP's body itself and does not say which field it choked on.
    return JsonResponse(error_body("malformed_body", message), status=400)


def _guarded(view_class: type) -> Callable[[HttpRequest], HttpResponse]:
    """anymail's view, refusing everything until a webhook secret is set, and answering auth and
    parse failures in Kaskad's JSON error shape instead of Django's generic 400 page."""
    anymail_view = view_class.as_view()

    @csrf_exempt
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not get_anymail_setting("webhook_secret", default=None):
            return invalid_signature(
                "email webhooks are refused until ANYMAIL WEBHOOK_SECRET is set"
            )
        try:
            # One transaction: a batch with a malformed event applies none of its events.
            with transaction.atomic():
                return anymail_view(request, *args, **kwargs)
        except Malformed as exc:
            return malformed_response(exc)
        except AnymailWebhookValidationFailure as exc:
            return invalid_signature(str(exc).splitlines()[0])
        except ImproperlyConfigured as exc:
            # An ESP that signs its webhooks, without its signing key in ANYMAIL.
            return invalid_signature(f"not configured: {exc}")
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            return _malformed_body(f"body: {exc}")

    return view


urlpatterns = [
    path(f"{esp}/tracking/", _guarded(view_class), name=f"email-tracking-{esp.replace('_', '-')}")
    for esp, view_class in TRACKING_VIEWS.items()
]
