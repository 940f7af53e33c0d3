"""Settings → API keys: list, create (the key is shown once, on the response that made it), revoke."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from api.models import ApiKey
from workspace.forms.settings import SCOPE_LABELS, ApiKeyForm
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required
from workspace.services.access import api_key_create_audited, api_key_revoke_audited
from workspace.views.settings import settings_context


@staff_permission_required("manage_api_keys")
def key_list(request):
    keys, next_url = keyset_page(ApiKey.objects.all(), request)
    ctx = settings_context(request, "api_keys", keys=keys, next_url=next_url)
    return render(request, "workspace/settings/api_keys.html", ctx)


@staff_permission_required("manage_api_keys")
def key_create(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        api_key, raw_key = api_key_create_audited(
            actor=request.user,
            ip=client_ip(request),
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
        )
        # Rendered, not redirected: the raw key exists only in this response. Only its hash is
        # stored, so no later page can show it.
        ctx = settings_context(
            request,
            "api_keys",
            api_key=api_key,
            raw_key=raw_key,
            scope_labels=[str(SCOPE_LABELS.get(s, s)) for s in api_key.scopes],
        )
        response = render(request, "workspace/settings/api_key_created.html", ctx)
        response["Cache-Control"] = "no-store"
        return response
    ctx = settings_context(request, "api_keys", form=form)
    return render(request, "workspace/settings/api_key_form.html", ctx)


@require_POST
@staff_permission_required("manage_api_keys")
def key_revoke(request, pk):
    api_key = get_object_or_404(ApiKey, pk=pk)
    if api_key_revoke_audited(actor=request.user, ip=client_ip(request), api_key=api_key):
        messages.success(
            request,
            _("The key “%(name)s” is revoked; the API refuses it now.") % {"name": api_key.name},
        )
    else:
        messages.info(request, _("This key was already revoked."))
    return redirect("workspace:settings_api_keys")
