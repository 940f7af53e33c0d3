"""Settings → channels, delivery, auto-replies and CRM webhooks: each change with its audit entry.

Every function takes the acting staff user and their address, changes the rows in one transaction
and writes `audit_record` in the same one, so an action and its entry land together or not at all.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from api.audit import audit_record
from api.models import AuditAction
from channels.models import AutoReplyRule, DeliverySettings, Message, WebhookSubscription
from channels.services.policy import delivery_settings, forget_delivery_settings
from channels.services.test_send import channel_test_send
from channels.services.webhooks_out import forget_webhook_subscriptions, webhook_delivery_retry

DELIVERY_FIELDS = (
    "marketing_per_day",
    "marketing_per_week",
    "quiet_hours_start",
    "quiet_hours_end",
    "default_timezone",
    "sms_part_price",
    "sms_price_currency",
)
RULE_FIELDS = (
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
)
# The secret is never written to the audit log, only whether it changed.
SUBSCRIPTION_FIELDS = ("name", "url", "event_types", "is_active")


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _values(obj, fields) -> dict[str, Any]:
    return model_to_dict(obj, fields=fields)


def settings_test_send(*, actor, ip: str | None, channel: str, address: str, body: str) -> Message:
    with transaction.atomic():
        message = channel_test_send(channel=channel, address=address, body=body)
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_TEST_SEND,
            object_type="message",
            object_id=message.pk,
            object_repr=f"{channel} → {message.address}",
            after={"channel": channel, "address": message.address, "status": message.status},
            ip_address=ip,
        )
    return message


def delivery_settings_current() -> DeliverySettings:
    forget_delivery_settings()
    return delivery_settings()


def delivery_settings_update(*, actor, ip: str | None, values: dict[str, Any]) -> bool:
    """Save the one row; False (and no entry) when nothing changed."""
    with transaction.atomic():
        row = DeliverySettings.objects.select_for_update().get(pk=delivery_settings_current().pk)
        before, after = _changes(_values(row, DELIVERY_FIELDS), values)
        if not after:
            return False
        for field, value in after.items():
            setattr(row, field, value)
        row.updated_at = timezone.now()
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="delivery_settings",
            object_id=row.pk,
            object_repr="delivery settings",
            before=before,
            after=after,
            ip_address=ip,
        )
    forget_delivery_settings()
    return True


# --- Auto-reply rules ---------------------------------------------------------------------------
def auto_reply_rule_save(
    *, actor, ip: str | None, rule: AutoReplyRule | None, values: dict[str, Any]
) -> AutoReplyRule:
    with transaction.atomic():
        if rule is None:
            rule = AutoReplyRule.objects.create(**values)
            before, after = None, _values(rule, RULE_FIELDS)
        else:
            rule = AutoReplyRule.objects.select_for_update().get(pk=rule.pk)
            before, after = _changes(_values(rule, RULE_FIELDS), values)
            if not after:
                return rule
            for field, value in after.items():
                setattr(rule, field, value)
            rule.save()
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="auto_reply_rule",
            object_id=rule.pk,
            object_repr=rule.name,
            before=before,
            after=after,
            ip_address=ip,
        )
    return rule


def auto_reply_rule_delete(*, actor, ip: str | None, rule: AutoReplyRule) -> None:
    with transaction.atomic():
        before = _values(rule, RULE_FIELDS)
        pk = rule.pk
        rule.delete()
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="auto_reply_rule",
            object_id=pk,
            object_repr=before["name"],
            before=before,
            after=None,
            ip_address=ip,
        )


# --- CRM webhooks -------------------------------------------------------------------------------
def webhook_subscription_save(
    *,
    actor,
    ip: str | None,
    subscription: WebhookSubscription | None,
    values: dict[str, Any],
    secret: str = "",
) -> WebhookSubscription:
    """Create or change a subscription. `secret` replaces the stored one when given (a new
    subscription always gets one)."""
    with transaction.atomic():
        if subscription is None:
            subscription = WebhookSubscription.objects.create(**values, secret=secret)
            before, after = None, _values(subscription, SUBSCRIPTION_FIELDS)
        else:
            subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
            before, after = _changes(_values(subscription, SUBSCRIPTION_FIELDS), values)
            for field, value in after.items():
                setattr(subscription, field, value)
            if secret:
                subscription.secret = secret
                before["secret"], after["secret"] = "(old)", "(new)"
            if not after:
                return subscription
            subscription.save()
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="webhook_subscription",
            object_id=subscription.pk,
            object_repr=subscription.name,
            before=before,
            after=after,
            ip_address=ip,
        )
    forget_webhook_subscriptions()
    return subscription


def webhook_subscription_delete(
    *, actor, ip: str | None, subscription: WebhookSubscription
) -> None:
    with transaction.atomic():
        before = _values(subscription, SUBSCRIPTION_FIELDS)
        pk = subscription.pk
        subscription.delete()
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="webhook_subscription",
            object_id=pk,
            object_repr=before["name"],
            before=before,
            ip_address=ip,
        )
    forget_webhook_subscriptions()


def webhook_delivery_retry_audited(*, actor, ip: str | None, delivery_id: int) -> None:
    """ValueError if the delivery has not failed."""
    with transaction.atomic():
        delivery = webhook_delivery_retry(delivery_id=delivery_id)
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_RETRIED,
            object_type="webhook_delivery",
            object_id=delivery.pk,
            object_repr=f"{delivery.event_type} {delivery.event_id}",
            before={"status": "failed"},
            after={"status": "pending"},
            ip_address=ip,
        )
