"""Settings → Channels: which providers are configured, and a test send."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.audit import client_ip
from workspace.forms.settings import CHANNEL_LABELS, ChannelTestSendForm
from workspace.permissions import staff_permission_required
from workspace.services.settings import settings_test_send
from workspace.settings_selectors import channels_overview
from workspace.views.settings import settings_context

# customers.normalize explains a refused address in English, for API clients; staff read these.
ADDRESS_ERRORS = {
    "must not be empty": gettext_lazy("it is empty"),
    "not a valid email address": gettext_lazy("not a valid email address"),
    "not a phone number": gettext_lazy("not a phone number"),
    "not a valid phone number for its country": gettext_lazy(
        "not a valid phone number for its country"
    ),
    "a Telegram address is a numeric chat id or an @username": gettext_lazy(
        "a Telegram address is a numeric chat id or an @username"
    ),
}


@staff_permission_required("manage_settings")
def channels(request):
    form = ChannelTestSendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            message = settings_test_send(
                actor=request.user,
                ip=client_ip(request),
                channel=data["channel"],
                address=data["address"],
                body=data["body"],
            )
        except ValueError as exc:
            form.add_error(
                "address",
                _("This address cannot be used: %(reason)s")
                % {"reason": ADDRESS_ERRORS.get(str(exc), str(exc))},
            )
        else:
            if message.status == "suppressed":
                messages.warning(
                    request,
                    _("The test message was refused: %(reason)s")
                    % {"reason": message.status_reason},
                )
            else:
                messages.success(
                    request,
                    _(
                        "Test message #%(id)s to %(address)s is queued; its status is on the message log."
                    )
                    % {"id": message.pk, "address": message.address},
                )
            return redirect("workspace:settings_channels")
    rows = [{"label": CHANNEL_LABELS[row.channel], "status": row} for row in channels_overview()]
    ctx = settings_context(
        request,
        "channels",
        rows=rows,
        form=form,
        sandbox=settings.MESSAGING_SANDBOX,
    )
    return render(request, "workspace/settings/channels.html", ctx)
