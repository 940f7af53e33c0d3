from django.conf import settings
from django.utils import timezone

from workspace.nav import nav_for


def workspace(request):
    if not request.path.startswith("/app/"):
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"staff_languages": settings.STAFF_LANGUAGES}
    return {
        "nav": nav_for(user),
        "staff_languages": settings.STAFF_LANGUAGES,
        "viewer_time_zone": timezone.get_current_timezone_name(),
        "search_query": request.GET.get("q", "") if request.path.startswith("/app/search") else "",
    }
