"""Open pixel, click redirects, one-click unsubscribe and the preference page.

Short paths on purpose: click links go into SMS, where every character costs.
"""

from django.urls import path

from channels.tracking import views

urlpatterns = [
    path("t/o/<str:token>.gif", views.open_pixel, name="tracking-open"),
    path("t/c/<str:token>", views.click, name="tracking-click"),
    path("l/<str:code>", views.short_click, name="tracking-short-click"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>", views.preferences, name="preferences"),
]
