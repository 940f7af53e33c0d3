"""`/hooks/<provider>/…`: delivery statuses, inbound messages and call events from gateways.

Each provider's module verifies that provider's signature before anything is stored.
"""

from django.urls import include, path

urlpatterns = [
    path("email/", include("channels.hooks.email")),
    path("exolve/", include("channels.hooks.exolve")),
    path("twilio/", include("channels.hooks.twilio")),
    path("whatsapp/", include("channels.hooks.whatsapp")),
    path("telegram/", include("channels.hooks.telegram")),
    path("viber/", include("channels.hooks.viber")),
    path("telephony/", include("channels.hooks.telephony")),
]
