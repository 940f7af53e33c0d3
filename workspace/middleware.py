"""The staff member's language and time zone, and the Content-Security-Policy header."""

import contextlib
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

STAFF_LANGUAGE_CODES = {code for code, _name in settings.STAFF_LANGUAGES}
# Pages that carry a third party's inline scripts: the Django admin and the Swagger UI.
CSP_EXEMPT_PREFIXES = ("/admin/", "/api/v1/docs/")


class StaffPreferencesMiddleware:
    """Show the workspace in the signed-in staff member's saved language and time zone.

    The choice lives on StaffProfile, so it follows the person to another browser. Without one,
    LocaleMiddleware's pick (cookie, then Accept-Language) stands.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        profile = _profile(request)
        if profile is not None:
            if profile.language in STAFF_LANGUAGE_CODES:
                translation.activate(profile.language)
                request.LANGUAGE_CODE = profile.language
            if profile.time_zone:
                with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _profile(request):
    if not request.path.startswith("/app/"):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    from workspace.models import StaffProfile

    try:
        return user.staff_profile
    except StaffProfile.DoesNotExist:
        return None


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(CSP_EXEMPT_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
