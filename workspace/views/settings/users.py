"""Settings → Users: staff, their roles, a single permission for a support lead, deactivation.

Nobody is deleted: the audit log keeps a protected reference to everyone who acted.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from workspace.forms.settings import (
    SINGLE_PERMISSION_LABELS,
    StaffUserCreateForm,
    StaffUserUpdateForm,
)
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required
from workspace.roles import ROLES
from workspace.services.access import (
    staff_direct_permissions,
    staff_password_link,
    staff_role,
    staff_user_create,
    staff_user_update,
)
from workspace.views.settings import settings_context

ROLE_LABELS = dict(ROLES)


def _row(user) -> dict:
    role = staff_role(user)
    return {
        "user": user,
        "role": ROLE_LABELS.get(role, ""),
        "superuser": user.is_superuser,
        "permissions": [
            str(SINGLE_PERMISSION_LABELS[p.codename])
            for p in user.user_permissions.all()
            if p.content_type.app_label == "workspace" and p.codename in SINGLE_PERMISSION_LABELS
        ],
    }


@staff_permission_required("manage_users")
def user_list(request):
    users, next_url = keyset_page(
        get_user_model().objects.prefetch_related("groups", "user_permissions__content_type"),
        request,
    )
    ctx = settings_context(request, "users", rows=[_row(u) for u in users], next_url=next_url)
    return render(request, "workspace/settings/users.html", ctx)


@staff_permission_required("manage_users")
def user_create(request):
    form = StaffUserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = staff_user_create(
            actor=request.user,
            ip=client_ip(request),
            username=data["username"],
            email=data["email"],
            role=data["role"],
            password=data["password"],
        )
        if not data["password"]:
            return _link_page(request, user)
        messages.success(
            request,
            _("%(name)s can sign in now with the password you gave.")
            % {"name": user.get_username()},
        )
        return redirect("workspace:settings_users")
    ctx = settings_context(request, "users", form=form)
    return render(request, "workspace/settings/user_form.html", ctx)


@staff_permission_required("manage_users")
def user_edit(request, pk):
    user = get_object_or_404(get_user_model(), pk=pk)
    initial = {
        "role": staff_role(user),
        "is_active": user.is_active,
        "permissions": staff_direct_permissions(user),
    }
    form = StaffUserUpdateForm(request.POST or None, initial=initial)
    is_self = user.pk == request.user.pk
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if is_self and (data["role"] != initial["role"] or not data["is_active"]):
            form.add_error(
                None,
                _("You cannot change your own role or deactivate yourself; ask another admin."),
            )
        elif user.is_superuser and data["role"] != initial["role"]:
            form.add_error("role", _("A superuser holds every permission; their role is fixed."))
        else:
            changed = staff_user_update(
                actor=request.user,
                ip=client_ip(request),
                user=user,
                role=data["role"],
                is_active=data["is_active"],
                permissions=data["permissions"],
            )
            if changed:
                messages.success(request, _("%(name)s is saved.") % {"name": user.get_username()})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("workspace:settings_users")
    ctx = settings_context(request, "users", form=form, target=_row(user), is_self=is_self)
    return render(request, "workspace/settings/user_edit.html", ctx)


@require_POST
@staff_permission_required("manage_users")
def user_password_link(request, pk):
    user = get_object_or_404(get_user_model(), pk=pk, is_active=True)
    return _link_page(request, user)


def _link_page(request, user):
    """The set-password link, shown on this one response (it is a credential)."""
    path = staff_password_link(actor=request.user, ip=client_ip(request), user=user)
    ctx = settings_context(request, "users", target=user, link=request.build_absolute_uri(path))
    response = render(request, "workspace/settings/user_link.html", ctx)
    response["Cache-Control"] = "no-store"
    return response
