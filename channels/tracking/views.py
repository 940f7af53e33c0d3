"""Public pages and endpoints reached from messages: pixel, click redirect, unsubscribe, preferences.

None of them needs a login: the signed token in the URL is the proof. A bad token is a 404 page,
never an error and never a redirect somewhere we did not sign.
"""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from channels.tracking import services
from channels.tracking.short_links import short_link_resolve
from channels.tracking.tokens import (
    BadToken,
    click_token_read,
    open_token_read,
    preferences_token_read,
    preferences_url,
    unsubscribe_token_read,
)
from customers.models import Customer

# The smallest transparent GIF: 1x1, one transparent colour.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


def _render_for(locale: str, request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Render a customer-facing page in the customer's language (ru, en or ro)."""
    language = services.customer_language(locale)
    with translation.override(language):
        response = render(request, template, context)
    response["Content-Language"] = language
    return response


def _read(reader, token: str):
    try:
        return reader(token)
    except BadToken as exc:
        raise Http404("unknown link") from exc


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    message_id = _read(open_token_read, token)
    services.message_open_record(message_id=message_id)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    # Every open must reach us, not a proxy's or the mail client's cache.
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    return response


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    message_id, url = _read(click_token_read, token)
    services.message_click_record(message_id=message_id, url=url)
    # HttpResponseRedirect refuses schemes other than http(s)/ftp, a second guard after the
    # signature: only URLs we signed, and only web URLs, are ever redirected to.
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token stays ours
    return response


@require_GET
def short_click(request: HttpRequest, code: str) -> HttpResponse:
    link = short_link_resolve(code)
    if link is None:
        raise Http404("No such link.")
    services.message_click_record(message_id=link.message_id, url=link.url)
    response = HttpResponseRedirect(link.url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # RFC 8058: the mail client POSTs without a session, so no CSRF token exists
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button and changes nothing: link scanners and previews follow
    GET links. POST `List-Unsubscribe=One-Click` (the mail client, or the button) opts out."""
    message_id = _read(unsubscribe_token_read, token)
    if request.method == "GET":
        locale = services.message_customer_locale(message_id)
        if locale is None:
            raise Http404("unknown link")
        return _render_for(
            locale, request, "channels/unsubscribe_confirm.html", {"action": request.path}
        )
    if request.POST.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        return HttpResponse(
            "Expected List-Unsubscribe=One-Click in the body (RFC 8058).",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    message = services.unsubscribe_one_click(message_id=message_id)
    if message is None:
        raise Http404("unknown link")
    return _render_for(
        message.customer.locale,
        request,
        "channels/unsubscribed.html",
        {
            "channel": message.channel,
            "preferences_url": preferences_url(message.customer_id),
        },
    )


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    customer_id = _read(preferences_token_read, token)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404("unknown link")
    if request.method == "POST":
        services.preferences_save(customer=customer, opted_in=set(request.POST.getlist("opted_in")))
        # Post/redirect/get: a reload does not resubmit the form.
        return redirect(f"{request.path}?saved=1")
    return _render_for(
        customer.locale,
        request,
        "channels/preferences.html",
        {
            "customer": customer,
            "preferences": services.customer_preferences(customer),
            "saved": request.GET.get("saved") == "1",
        },
    )
