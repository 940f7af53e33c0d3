"""Settings → CRM webhooks: subscriptions, the delivery log, and retrying a failed delivery."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from api.audit import client_ip
from channels.models import WebhookDelivery, WebhookSubscription
from workspace.forms.settings import EVENT_LABELS, WebhookSubscriptionForm, webhook_secret
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required
from workspace.services.settings import (
    SUBSCRIPTION_FIELDS,
    webhook_delivery_retry_audited,
    webhook_subscription_delete,
    webhook_subscription_save,
)
from workspace.views.settings import settings_context

DELIVERY_STATUSES = [
    ("failed", gettext_lazy("Failed")),
    ("pending", gettext_lazy("Pending")),
    ("delivered", gettext_lazy("Delivered")),
]


def _events(event_types: list[str]) -> list[str]:
    return [str(EVENT_LABELS.get(e, e)) for e in event_types]


@staff_permission_required("manage_settings")
def webhook_list(request):
    subscriptions = [
        {"sub": s, "events": _events(s.event_types)}
        for s in WebhookSubscription.objects.order_by("name", "pk")[:200]
    ]
    deliveries = WebhookDelivery.objects.select_related("subscription")
    status = request.GET.get("status", "")
    if status in dict(DELIVERY_STATUSES):
        deliveries = deliveries.filter(status=status)
    sub_id = request.GET.get("subscription", "")
    if sub_id.isdigit():
        deliveries = deliveries.filter(subscription_id=int(sub_id))
    rows, next_url = keyset_page(deliveries, request)
    ctx = settings_context(
        request,
        "webhooks",
        subscriptions=subscriptions,
        deliveries=rows,
        next_url=next_url,
        statuses=[(value, str(label)) for value, label in DELIVERY_STATUSES],
        status=status,
        sub_id=sub_id,
        filtered=bool(status or sub_id.isdigit()),
    )
    return render(request, "workspace/settings/webhooks.html", ctx)


@staff_permission_required("manage_settings")
def subscription_edit(request, pk=None):
    subscription = get_object_or_404(WebhookSubscription, pk=pk) if pk is not None else None
    initial = (
        {field: getattr(subscription, field) for field in SUBSCRIPTION_FIELDS}
        if subscription
        else None
    )
    form = WebhookSubscriptionForm(request.POST or None, initial=initial)
    if subscription is None:
        form.fields.pop("new_secret")
    if request.method == "POST" and form.is_valid():
        values = {field: form.cleaned_data[field] for field in SUBSCRIPTION_FIELDS}
        secret = webhook_secret() if subscription is None or form.cleaned_data["new_secret"] else ""
        saved = webhook_subscription_save(
            actor=request.user,
            ip=client_ip(request),
            subscription=subscription,
            values=values,
            secret=secret,
        )
        if not secret:
            messages.success(request, _("Webhook “%(name)s” is saved.") % {"name": saved.name})
            return redirect("workspace:settings_webhooks")
        # The secret is shown on this one response and never again.
        ctx = settings_context(request, "webhooks", subscription=saved, secret=secret)
        response = render(request, "workspace/settings/webhook_secret.html", ctx)
        response["Cache-Control"] = "no-store"
        return response
    ctx = settings_context(request, "webhooks", form=form, subscription=subscription)
    return render(request, "workspace/settings/webhook_form.html", ctx)


@require_POST
@staff_permission_required("manage_settings")
def subscription_delete(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    name = subscription.name
    webhook_subscription_delete(
        actor=request.user, ip=client_ip(request), subscription=subscription
    )
    messages.success(request, _("Webhook “%(name)s” is deleted.") % {"name": name})
    return redirect("workspace:settings_webhooks")


@require_POST
@staff_permission_required("manage_settings")
def delivery_retry(request, pk):
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        webhook_delivery_retry_audited(
            actor=request.user, ip=client_ip(request), delivery_id=delivery.pk
        )
    except ValueError:
        messages.error(request, _("Only a failed delivery can be retried."))
    else:
        messages.success(
            request, _("Delivery #%(id)s is queued to be sent again.") % {"id": delivery.pk}
        )
    return redirect("workspace:settings_webhooks")
