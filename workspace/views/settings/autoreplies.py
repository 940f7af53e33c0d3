"""Settings → Auto-replies: the rules that answer keywords, patterns and out-of-hours messages."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from channels.models import AutoReplyRule
from workspace.forms.settings import CHANNEL_LABELS, MATCH_LABELS, AutoReplyRuleForm
from workspace.permissions import staff_permission_required
from workspace.services.settings import (
    RULE_FIELDS,
    auto_reply_rule_delete,
    auto_reply_rule_save,
)
from workspace.views.settings import settings_context


@staff_permission_required("manage_settings")
def rule_list(request):
    rules = [
        {
            "rule": rule,
            "channel": CHANNEL_LABELS.get(rule.channel, ""),
            "match": MATCH_LABELS.get(rule.match, rule.match),
        }
        for rule in AutoReplyRule.objects.order_by("priority", "id")[:500]
    ]
    ctx = settings_context(request, "autoreplies", rules=rules)
    return render(request, "workspace/settings/autoreplies.html", ctx)


@staff_permission_required("manage_settings")
def rule_edit(request, pk=None):
    rule = get_object_or_404(AutoReplyRule, pk=pk) if pk is not None else None
    initial = {field: getattr(rule, field) for field in RULE_FIELDS} if rule else None
    form = AutoReplyRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {field: form.cleaned_data[field] for field in RULE_FIELDS}
        saved = auto_reply_rule_save(
            actor=request.user, ip=client_ip(request), rule=rule, values=values
        )
        messages.success(request, _("Auto-reply “%(name)s” is saved.") % {"name": saved.name})
        return redirect("workspace:settings_autoreplies")
    ctx = settings_context(request, "autoreplies", form=form, rule=rule)
    return render(request, "workspace/settings/autoreply_form.html", ctx)


@require_POST
@staff_permission_required("manage_settings")
def rule_delete(request, pk):
    rule = get_object_or_404(AutoReplyRule, pk=pk)
    name = rule.name
    auto_reply_rule_delete(actor=request.user, ip=client_ip(request), rule=rule)
    messages.success(request, _("Auto-reply “%(name)s” is deleted.") % {"name": name})
    return redirect("workspace:settings_autoreplies")
