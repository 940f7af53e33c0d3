"""Forms of the Settings pages. Labels and errors are translated; models keep English choices."""

from __future__ import annotations

import re
import secrets
import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from api.models import ApiScope
from campaigns.loyalty.forms import RateField  # a comma is the decimal mark in any language
from channels.models import AutoReplyRule, WebhookSubscription
from channels.services.test_send import TEST_SEND_CHANNELS
from customers.models import Channel
from workspace.roles import ROLES
from workspace.services.access import SINGLE_PERMISSIONS
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

MATCH_LABELS = {
    AutoReplyRule.Match.KEYWORD: _("Any of these words"),
    AutoReplyRule.Match.PATTERN: _("Regular expression"),
    AutoReplyRule.Match.OUT_OF_HOURS: _("Outside business hours"),
}
EVENT_LABELS = {
    WebhookSubscription.EventType.MESSAGE_STATUS: _("Message status changed"),
    WebhookSubscription.EventType.CONSENT: _("Consent changed"),
    WebhookSubscription.EventType.INBOUND: _("Inbound message"),
    WebhookSubscription.EventType.CONVERSATION: _("Conversation opened or changed"),
    WebhookSubscription.EventType.PROMO_LOW_STOCK: _("Promo code pool low on stock"),
    WebhookSubscription.EventType.JOURNEY_ACTION: _("A journey's webhook step"),
    WebhookSubscription.EventType.GOAL_OFF_TRACK: _("An analytics goal went off track"),
}
SCOPE_LABELS = {
    ApiScope.READ: _("read: every GET request"),
    ApiScope.WRITE: _("write: customers, consents, events, orders, segments, conversations"),
    ApiScope.MESSAGES_SEND: _("messages:send: send messages and conversation replies"),
    ApiScope.GDPR_ERASE: _("gdpr:erase: erase a customer"),
}
WEEKDAYS = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]
SINGLE_PERMISSION_LABELS = {"manage_canned": _("Manage canned responses (support lead)")}


def _check_timezone(value: str) -> str:
    value = value.strip()
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Not a time zone; write it like Europe/Moscow."))
    return value


class ChannelTestSendForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(c.value, CHANNEL_LABELS[c]) for c in TEST_SEND_CHANNELS]
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=512,
        help_text=_("An email, a phone number, a Telegram chat id or a Viber user id."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=500,
        initial=_("Kaskad test message"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeliverySettingsForm(forms.Form):
    marketing_per_day = forms.IntegerField(
        label=_("Marketing messages per customer per day"),
        min_value=0,
        max_value=1000,
        help_text=_("All channels together, over the last 24 hours; 0 = no cap."),
    )
    marketing_per_week = forms.IntegerField(
        label=_("Marketing messages per customer per 7 days"),
        min_value=0,
        max_value=10000,
        help_text=_("0 = no cap."),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the customer's time zone, e.g. 21:00. Empty = no quiet hours."),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("e.g. 09:00"),
    )
    default_timezone = forms.CharField(
        label=_("Time zone for customers without one"), max_length=64
    )

    sms_part_price = RateField(
        label=_("Price of one SMS part"),
        min_value=0,
        max_digits=8,
        decimal_places=4,
        help_text=_("Your gateway's tariff; previews show parts × price. 0 = not shown."),
    )
    sms_price_currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Z]{3}$",
        max_length=3,
        help_text=_("Three capital letters, e.g. RUB."),
        error_messages={"invalid": _("Three capital letters, e.g. RUB.")},
    )

    def clean_default_timezone(self):
        return _check_timezone(self.cleaned_data["default_timezone"])

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            raise ValidationError(_("Give both the start and the end of quiet hours, or neither."))
        if start is not None and start == end:
            self.add_error("quiet_hours_end", _("The end must differ from the start."))
        per_day, per_week = data.get("marketing_per_day"), data.get("marketing_per_week")
        if per_day and per_week and per_day > per_week:
            self.add_error(
                "marketing_per_week", _("The weekly cap cannot be lower than the daily one.")
            )
        return data


class AutoReplyRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Every channel"))]
        + [(c.value, CHANNEL_LABELS[c]) for c in Channel if c not in (Channel.PUSH, Channel.VOICE)],
    )
    match = forms.ChoiceField(label=_("Answers"), choices=list(MATCH_LABELS.items()))
    pattern = forms.CharField(
        label=_("Words or pattern"),
        max_length=500,
        required=False,
        help_text=_("Words separated by commas, or a regular expression (case-insensitive)."),
    )
    reply = forms.CharField(
        label=_("Reply"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    opens_at = forms.TimeField(
        label=_("Opens at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closes_at = forms.TimeField(
        label=_("Closes at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    business_days = forms.TypedMultipleChoiceField(
        label=_("Business days"),
        required=False,
        coerce=int,
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
    )
    timezone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Moscow")
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("Lower runs first; the first matching rule answers."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_timezone(self):
        return _check_timezone(self.cleaned_data["timezone"])

    def clean(self):
        data = super().clean()
        match, pattern = data.get("match"), (data.get("pattern") or "").strip()
        data["pattern"] = pattern
        if match in (AutoReplyRule.Match.KEYWORD, AutoReplyRule.Match.PATTERN) and not pattern:
            self.add_error("pattern", _("Give the words or the pattern this rule answers."))
        if match == AutoReplyRule.Match.PATTERN and pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.add_error(
                    "pattern", _("Not a valid regular expression: %(error)s") % {"error": exc}
                )
        if match == AutoReplyRule.Match.OUT_OF_HOURS:
            if data.get("opens_at") is None or data.get("closes_at") is None:
                self.add_error("closes_at", _("Give the hours the business opens and closes."))
            if not data.get("business_days"):
                self.add_error("business_days", _("Pick at least one business day."))
        return data


class WebhookSubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(
        label=_("URL"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("Kaskad POSTs each event here as JSON, signed with the secret."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        choices=list(EVENT_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every event."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    new_secret = forms.BooleanField(
        label=_("Generate a new secret"),
        required=False,
        help_text=_("The receiver must then verify signatures with the new one."),
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise ValidationError(_("Use an http or https address."))
        return url


def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who uses the key, e.g. “amoCRM sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=list(SCOPE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one scope.")},
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the key a name."))
        return name


ROLE_CHOICES = list(ROLES)


class StaffUserCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="support")
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Tell it to the person in person or by phone. Leave it empty to get a link on which "
            "they set their own password instead."
        ),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user_model = get_user_model()
        try:
            user_model.username_validator(username)
        except ValidationError:
            raise ValidationError(_("Use letters, digits and @ . + - _ only.")) from None
        if user_model.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            user = get_user_model()(username=data.get("username", ""), email=data.get("email", ""))
            try:
                validate_password(password, user)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class StaffUserUpdateForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("No role")), *ROLE_CHOICES], required=False
    )
    is_active = forms.BooleanField(label=_("May sign in"), required=False)
    permissions = forms.MultipleChoiceField(
        label=_("Single permissions"),
        required=False,
        choices=[(c, SINGLE_PERMISSION_LABELS[c]) for c in SINGLE_PERMISSIONS],
        widget=forms.CheckboxSelectMultiple,
    )
