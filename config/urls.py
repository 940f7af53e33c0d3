from django.contrib import admin
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.errors import json_not_found, json_server_error

api_v1 = [
    path("", include("customers.api.urls")),
    path("", include("channels.api.urls")),
    path("", include("campaigns.message_templates.api.urls")),
    path("", include("campaigns.loyalty.api.urls")),
    path("", include("campaigns.promo.api.urls")),
    path("", include("campaigns.broadcasts.api.urls")),
    path("", include("campaigns.journeys.api.urls")),
    path("", include("campaigns.recommendations.api.urls")),
    path("", include("campaigns.planning.api.urls")),
    path("", include("analytics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workspace:home", permanent=False)),
    # The staff workspace: the shell, then each app's own pages under the same prefix.
    path("app/", include("workspace.urls")),
    path("app/", include("customers.views.urls")),
    path("app/", include("channels.views.urls")),
    path("app/", include("campaigns.views.urls")),
    path("app/", include("analytics.views.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("hooks/", include("channels.hooks.urls")),
    path("s/", include("analytics.surveys.public_urls")),
    path("", include("channels.tracking.urls")),
]


def handler404(request, exception):
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
