"""Who may open a workspace page: signed-in staff holding one named permission."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render


def staff_permission_required(*permissions: str):
    """Sign-in redirect for visitors, a 403 page in the shell for staff holding none of `permissions`.

    Each is a workspace codename ("view_customers") or a full one ("app.codename"); holding any one
    of them is enough.
    """
    full = [p if "." in p else f"workspace.{p}" for p in permissions]

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or not user.is_active:
                return redirect_to_login(request.get_full_path())
            if not any(user.has_perm(p) for p in full):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapped.required_permission = full[0] if len(full) == 1 else tuple(full)
        return wrapped

    return decorator


def forbidden(request, message: str = ""):
    return render(request, "workspace/403.html", {"message": message}, status=403)
