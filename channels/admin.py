"""Admin for channels: messages and their history, the sandbox outbox, delivery settings,
conversations, auto-reply rules, calls, push subscriptions and outbound webhooks with their log.

Messages and deliveries are written by services only, so their admins are read-only; staff change
the settings, rules and subscriptions that steer them.
"""

import re

from django import forms
from django.contrib import admin
from django.utils import timezone

from channels.models import (
    AutoReplyRule,
    CallLog,
    Conversation,
    DeliverySettings,
    InboundMessage,
    Message,
    MessageStatus,
    MessageStatusChange,
    PushSubscription,
    SandboxMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from channels.services.unconfirmed import message_resend
from channels.services.webhooks_out import forget_webhook_subscriptions
from customers.admin.pagination import EstimatedCountPaginator


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services: staff look, never edit (the admin would bypass the lifecycle)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = MessageStatusChange
    fields = ["status", "reason", "source", "occurred_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["occurred_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Messages a person must look at: unconfirmed ones (maybe delivered, maybe not)."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("unconfirmed", "Unconfirmed: may or may not have reached the gateway")]

    def queryset(self, request, queryset):
        if self.value() == "unconfirmed":
            return queryset.filter(status=MessageStatus.UNCONFIRMED)
        return queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer",
        "channel",
        "provider",
        "category",
        "status",
        "status_reason",
        "queued_at",
    ]
    list_filter = [NeedsAttentionFilter, "status", "channel", "category", "source", "provider"]
    actions = ["resend"]
    # Exact-match fields only: an address or a gateway id, so the search stays on an index.
    search_fields = ["=address", "=provider_message_id", "=idempotency_key"]
    raw_id_fields = ["customer", "conversation"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-queued_at", "-id"]
    inlines = [StatusChangeInline]

    def has_resend_permission(self, request) -> bool:
        # The admin never edits messages; resending is allowed to staff who may change them.
        return request.user.has_perm("kaskad_channels.change_message")

    @admin.action(description="Resend the selected unconfirmed messages", permissions=["resend"])
    def resend(self, request, queryset):
        ids = queryset.filter(status=MessageStatus.UNCONFIRMED).values_list("pk", flat=True)
        actor = f"staff:{request.user.get_username()}"
        resent = sum(message_resend(message_id=pk, actor=actor) for pk in ids)
        skipped = queryset.count() - resent
        self.message_user(
            request,
            f"{resent} messages will be sent again."
            + (f" {skipped} were not unconfirmed and were left alone." if skipped else ""),
        )


@admin.register(SandboxMessage)
class SandboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "address", "subject", "short_body", "created_at"]
    list_filter = ["channel"]
    search_fields = ["=address"]
    raw_id_fields = ["message"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="body")
    def short_body(self, obj: SandboxMessage) -> str:
        return obj.body[:80]

    def has_delete_permission(self, request, obj=None):
        return True  # clearing the sandbox outbox is harmless


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "marketing_per_day", "marketing_per_week", "quiet_hours_start"]

    def has_add_permission(self, request):
        return not DeliverySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "channel", "status", "assignee", "last_message_at"]
    list_select_related = ["customer", "assignee"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["customer"]
    fields = ["customer", "channel", "status", "assignee", "opened_at", "last_message_at"]
    readonly_fields = ["customer", "channel", "opened_at", "last_message_at"]
    ordering = ["-last_message_at"]

    def has_add_permission(self, request):
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer", "channel", "provider", "address", "body", "received_at"]
    list_filter = ["channel", "provider"]
    search_fields = ["=address", "=provider_message_id"]
    raw_id_fields = ["customer", "conversation"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-received_at"]


class AutoReplyRuleForm(forms.ModelForm):
    class Meta:
        model = AutoReplyRule
        fields = [
            "name",
            "channel",
            "match",
            "pattern",
            "reply",
            "opens_at",
            "closes_at",
            "business_days",
            "timezone",
            "priority",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        match, pattern = data.get("match"), data.get("pattern", "")
        if match == AutoReplyRule.Match.PATTERN:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                self.add_error("pattern", f"Not a valid regular expression: {exc}")
        if match == AutoReplyRule.Match.KEYWORD and not pattern.strip(" ,"):
            self.add_error("pattern", "Give at least one keyword.")
        if match == AutoReplyRule.Match.OUT_OF_HOURS:
            if not (data.get("opens_at") and data.get("closes_at")):
                self.add_error("opens_at", "Out-of-hours rules need opening and closing times.")
            days = data.get("business_days")
            if not isinstance(days, list) or not all(d in range(7) for d in days):
                self.add_error("business_days", "A list of weekdays 0–6 (0 = Monday).")
        return data


@admin.register(AutoReplyRule)
class AutoReplyRuleAdmin(admin.ModelAdmin):
    form = AutoReplyRuleForm
    list_display = ["name", "channel", "match", "pattern", "priority", "is_active"]
    list_filter = ["is_active", "match", "channel"]
    list_editable = ["priority", "is_active"]


@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer", "direction", "phone", "status", "started_at"]
    list_select_related = ["customer"]
    list_filter = ["direction", "provider"]
    search_fields = ["=phone", "=provider_call_id"]
    raw_id_fields = ["customer"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-started_at"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "identity", "kind", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["identity"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]

    def has_delete_permission(self, request, obj=None):
        # Pause instead: workers cache subscriptions for seconds, and the delivery log stays.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_webhook_subscriptions()  # this process sees the change at once, others in 10 s


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subscription",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event_type", "subscription"]
    search_fields = ["=event_id"]
    ordering = ["-created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.action(description="Retry the selected deliveries now")
    def retry_now(self, request, queryset):
        count = queryset.exclude(status=WebhookDelivery.Status.DELIVERED).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"{count} deliveries will be retried by the next sweep.")
