"""Sign in, sign out, and the staff member's language and time zone."""

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workspace.models import StaffProfile

STAFF_LANGUAGE_CODES = {code for code, _name in settings.STAFF_LANGUAGES}


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    redirect_authenticated_user = True


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The link an admin gives a new or locked-out colleague (Settings → Users): they choose a
    password and land in the workspace signed in."""

    template_name = "workspace/password_set.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("workspace:home")


password_set = PasswordSetView.as_view()


@require_POST
@login_required
def preferences(request):
    language = request.POST.get("language", "")
    time_zone = request.POST.get("time_zone", "").strip()
    profile, _created = StaffProfile.objects.get_or_create(user=request.user)
    changed = []
    if language in STAFF_LANGUAGE_CODES and language != profile.language:
        profile.language = language
        changed.append("language")
    if time_zone and time_zone != profile.time_zone:
        if time_zone in zoneinfo.available_timezones():
            profile.time_zone = time_zone
            changed.append("time_zone")
        else:
            messages.error(
                request,
                _("“%(zone)s” is not a time zone, e.g. Europe/Moscow.") % {"zone": time_zone},
            )
    if changed:
        profile.save(update_fields=changed)
        translation.activate(profile.language or translation.get_language())
        messages.success(request, _("Your preferences are saved."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "workspace:home"
    response = redirect(target)
    if profile.language:
        # The cookie carries the choice to the sign-in page, which has no profile yet.
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            profile.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response
