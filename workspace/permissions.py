"""Who may open a workspace page: signed-in staff holding one named permission."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render


def staff_permission_required(permission: str):
    """Sign-in redirect for visitors, a 403 page in the shell for staff without `permission`.

    `permission` is a workspace codename ("view_customers") or a full one ("app.codename").
    """
    full = permission if "." in permission else f"workspace.{permission}"

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or not user.is_active:
                return redirect_to_login(request.get_full_path())
            if not user.has_perm(full):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapped.required_permission = full
        return wrapped

    return decorator


def forbidden(request, message: str = ""):
    return render(request, "workspace/403.html", {"message": message}, status=403)
