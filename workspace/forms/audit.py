"""The audit log list's filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import AuditAction

ACTION_LABELS = {
    AuditAction.CONSENT_CHANGED: _("consent changed"),
    AuditAction.MESSAGE_SENT: _("message sent"),
    AuditAction.NOTE_ADDED: _("note added"),
    AuditAction.CUSTOMER_EXPORTED: _("customer data exported"),
    AuditAction.CUSTOMER_ERASED: _("customer erased"),
    AuditAction.CONVERSATION_CHANGED: _("conversation changed"),
    AuditAction.SEGMENT_CREATED: _("segment created"),
    AuditAction.SEGMENT_CHANGED: _("segment changed"),
    AuditAction.SEGMENT_DELETED: _("segment deleted"),
    AuditAction.API_KEY_CREATED: _("API key created"),
    AuditAction.API_KEY_REVOKED: _("API key revoked"),
    AuditAction.SETTINGS_CHANGED: _("settings changed"),
    AuditAction.USER_CHANGED: _("user changed"),
    AuditAction.SETTINGS_TEST_SEND: _("test message sent"),
    AuditAction.WEBHOOK_RETRIED: _("webhook delivery retried"),
}


def action_label(value: str) -> str:
    return str(ACTION_LABELS.get(value, value))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any"))] + [(a.value, ACTION_LABELS.get(a, a.label)) for a in AuditAction],
    )
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=255,
        help_text=_("External id"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data
