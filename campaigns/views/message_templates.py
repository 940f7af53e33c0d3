"""Template pages: the list, the editor (one form, a section per channel) with a live preview
for a real customer, the email preview served alone for a sandboxed iframe, and a test send."""

import secrets
from datetime import datetime

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from campaigns.message_templates.forms import (
    FIELDS,
    extras_from_post,
    post_from_variants,
    problems_by_field,
    variants_from_post,
)
from campaigns.message_templates.models import Template, TemplateCategory
from campaigns.message_templates.preview import preview_build
from campaigns.message_templates.selectors import template_versions, templates_page
from campaigns.message_templates.services import (
    TemplateInvalid,
    TemplateMissingValue,
    template_archive,
    template_create,
    template_test_send,
    template_update,
)
from channels.views.message_body import BODY_POLICY
from customers.models import Customer
from workspace.permissions import staff_permission_required

CHANNEL_LABELS = {
    "email": "Email",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "viber": "Viber",
    "push": "Push",
}
PREVIEW_TTL = 600


def _after(value: str | None):
    try:
        stamp, pk = (value or "").split("_")
        return datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        return None


@staff_permission_required("view_campaigns")
def template_list(request):
    archived = request.GET.get("archived") == "1"
    q = request.GET.get("q", "")
    rows, more = templates_page(archived=archived, q=q, after=_after(request.GET.get("after")))
    next_url = ""
    if more:
        last = rows[-1]
        next_url = f"?after={last.updated_at.isoformat()}_{last.pk}" + (
            "&archived=1" if archived else ""
        )
        next_url = next_url.replace("+", "%2B")
    ctx = {
        "page": "campaigns",
        "templates": rows,
        "archived": archived,
        "q": q,
        "next_url": next_url,
        "tabs": [
            {"label": _("Active"), "url": "?", "active": not archived},
            {"label": _("Archived"), "url": "?archived=1", "active": archived},
        ],
    }
    return render(request, "campaigns/templates/list.html", ctx)


def _editor_context(request, template, data, problems=(), version=None):
    sections = []
    by_field = problems_by_field(list(problems))
    filled = [c for c, fields in FIELDS.items() if any(data.get(f"{c}_{f}") for f in fields)]
    for channel, fields in FIELDS.items():
        sections.append(
            {
                "channel": channel,
                "label": CHANNEL_LABELS[channel],
                "open": channel in filled or (not filled and channel == "email"),
                "fields": [
                    {
                        "key": f"{channel}_{name}",
                        "name": name,
                        "value": data.get(f"{channel}_{name}", ""),
                        "problems": by_field.get(f"{channel}_{name}", []),
                    }
                    for name in fields
                ],
            }
        )
    return {
        "page": "campaigns",
        "template": template,
        "version": version,
        "versions": template_versions(template) if template else [],
        "data": data,
        "sections": sections,
        "general_problems": by_field.get("", []),
        "problems": list(problems),
        "categories": TemplateCategory.choices,
        "channels": CHANNEL_LABELS.items(),
        "preview_channel": data.get("preview_channel") or (filled[0] if filled else "email"),
    }


@staff_permission_required("view_campaigns")
def template_edit(request, template_id: int | None = None):
    template = get_object_or_404(Template, pk=template_id) if template_id else None
    version = template.current_version if template else None
    if request.method != "POST":
        data = post_from_variants(version.variants if version else {})
        if template:
            data.update(
                name=template.name,
                description=template.description,
                category=template.category,
                extras=", ".join(version.extras if version else []),
            )
        data.setdefault("category", TemplateCategory.MARKETING)
        # ?customer=<search> opens the preview for that customer (a link from elsewhere).
        data["customer_q"] = request.GET.get("customer", "")[:200]
        return render(
            request,
            "campaigns/templates/edit.html",
            _editor_context(request, template, data, version=version),
        )
    if not request.user.has_perm("workspace.manage_campaigns"):
        raise PermissionDenied
    data = request.POST
    name = (data.get("name") or "").strip()
    try:
        if not name:
            from campaigns.message_templates.rendering import TemplateProblem

            raise TemplateInvalid([TemplateProblem("", "", None, _("Give the template a name."))])
        fields = {
            "name": name,
            "description": data.get("description", ""),
            "category": data.get("category", ""),
            "variants": variants_from_post(data),
            "extras": extras_from_post(data),
            "actor": request.user,
        }
        if template is None:
            template = template_create(**fields)
            version = template.current_version
        else:
            version = template_update(template, **fields)
    except TemplateInvalid as exc:
        ctx = _editor_context(request, template, data, exc.problems, version=version)
        return render(request, "campaigns/templates/edit.html", ctx, status=400)
    messages.success(request, _("Saved as version %(number)s.") % {"number": version.number})
    return redirect("campaigns:template_edit", template_id=template.pk)


@require_POST
@staff_permission_required("view_campaigns")
def template_preview(request):
    """The preview panel (htmx): problems with lines, or the message for the chosen customer."""
    data = request.POST
    ctx = preview_build(
        variants=variants_from_post(data),
        extras=extras_from_post(data),
        category=data.get("category", TemplateCategory.MARKETING),
        channel=data.get("preview_channel") or "email",
        customer_q=data.get("customer_q", ""),
        customer_id=data.get("customer_id", ""),
    )
    ctx["channels"] = CHANNEL_LABELS.items()
    if ctx.get("email_html") is not None:
        token = secrets.token_urlsafe(16)
        cache.set(f"template-preview:{token}", (request.user.pk, ctx["email_html"]), PREVIEW_TTL)
        ctx["email_token"] = token
    return render(request, "campaigns/templates/_preview.html", ctx)


@require_GET
@staff_permission_required("view_campaigns")
def template_preview_email(request, token: str):
    """The rendered email alone, for a sandboxed iframe, with a policy of its own."""
    stored = cache.get(f"template-preview:{token}")
    if not stored or stored[0] != request.user.pk:
        raise Http404
    response = HttpResponse(stored[1], content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = BODY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@require_POST
@staff_permission_required("manage_campaigns")
def template_test_send_view(request, template_id: int):
    template = get_object_or_404(Template, pk=template_id)
    version = template.current_version
    channel = request.POST.get("preview_channel") or "email"
    address = (request.POST.get("test_address") or "").strip()
    customer = Customer.objects.filter(pk=_int(request.POST.get("customer_id"))).first()
    back = redirect("campaigns:template_edit", template_id=template.pk)
    if version is None or channel not in version.variants:
        messages.error(
            request,
            _("The saved version has no %(channel)s variant.")
            % {"channel": CHANNEL_LABELS.get(channel, channel)},
        )
        return back
    if customer is None or not address:
        messages.error(request, _("Choose a customer to preview and type an address for the test."))
        return back
    try:
        template_test_send(version, channel, customer, address, actor=request.user)
    except TemplateMissingValue as exc:
        messages.error(
            request,
            _("Not sent: %(variable)s has no value for this customer.")
            % {"variable": exc.variable},
        )
    except ValueError as exc:
        messages.error(request, _("Not sent: %(reason)s") % {"reason": exc})
    else:
        messages.success(request, _("Test sent to %(address)s.") % {"address": address})
    return back


@require_POST
@staff_permission_required("manage_campaigns")
def template_archive_view(request, template_id: int):
    template = get_object_or_404(Template, pk=template_id)
    archive = template.archived_at is None
    template_archive(template, actor=request.user, archived=archive)
    messages.success(request, _("Template archived.") if archive else _("Template restored."))
    return redirect("campaigns:template_edit", template_id=template.pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
