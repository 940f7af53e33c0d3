"""The HTML of one email, served alone for a sandboxed <iframe> (the customer page, the message log).

The workspace's policy forbids inline styles, which email HTML is full of; this response carries a
policy of its own instead: styles and images may load, nothing may run, and only our own pages may
frame it. The iframe that shows it has `sandbox` with no permissions, so links and forms are dead.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.views.decorators.http import require_GET

from channels.models import Message
from channels.tracking.tokens import open_url
from workspace.permissions import staff_permission_required

BODY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline' data:; img-src data: https: http:; "
    "font-src data: https:; frame-ancestors 'self'"
)


def _without_open_pixel(message: Message) -> str:
    """The stored HTML with our open pixel's address emptied: staff reading it is not an open."""
    pixel = open_url(message.pk)
    return message.html.replace(escape(pixel), "").replace(pixel, "")


@require_GET
@staff_permission_required("view_customers", "view_messages")
def message_body(request, message_id: int):
    message = get_object_or_404(Message, pk=message_id)
    if message.html:
        response = HttpResponse(
            _without_open_pixel(message), content_type="text/html; charset=utf-8"
        )
    else:
        response = HttpResponse(message.body, content_type="text/plain; charset=utf-8")
    response.headers["Content-Security-Policy"] = BODY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response
