"""Creating and editing a broadcast while it is a draft (or scheduled, before launch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.audit import audit_record
from campaigns.broadcasts.models import (
    AbMetric,
    Broadcast,
    BroadcastStatus,
    BroadcastVariant,
    Timing,
)
from campaigns.message_templates.models import Template
from customers.models import Channel

VARIANT_KEYS = "ABCDE"
MAX_VARIANTS = len(VARIANT_KEYS)
EDITABLE = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)


class BroadcastError(Exception):
    """A broadcast that cannot be saved or moved this way; `field` names the culprit."""

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass
class VariantSpec:
    """One A/B variant: another template, another subject, another channel (or several)."""

    template: Template | None = None
    subject: str = ""
    channel: str = ""


def _channels_of(template: Template) -> set[str]:
    version = template.current_version
    return set((version.variants or {}).keys()) if version else set()


def _survey_validate(broadcast: Broadcast, variants: list[VariantSpec]) -> None:
    """A survey broadcast: the survey exists and is active; what only a template can do (A/B
    variants, promo codes, a fallback order, local-time sending) is refused on its field."""
    from campaigns.journeys.extensions import surveys_by_id

    if broadcast.template_id is not None:
        raise BroadcastError("survey", _("Send a template or a survey, not both."))
    survey = surveys_by_id().get(broadcast.survey_id)
    if survey is None:
        raise BroadcastError("survey", _("The survey does not exist."))
    if survey.archived:
        raise BroadcastError("survey", _("The survey is archived."))
    if (
        broadcast.test_percent
        or len(variants) > 1
        or any(v.template or v.subject or v.channel for v in variants)
    ):
        raise BroadcastError(
            "ab", _("An A/B test compares templates; a survey broadcast sends one survey.")
        )
    if broadcast.promo_pool_id:
        raise BroadcastError("promo_pool", _("A survey carries no promo code."))
    if not broadcast.channel and broadcast.channel_order:
        raise BroadcastError(
            "channel_order",
            _(
                "A survey goes on one channel, or on each customer's best channel (their "
                "preferred one, else the first that reaches them): leave the fallback order empty."
            ),
        )
    if broadcast.channel and broadcast.channel not in Channel.values:
        raise BroadcastError("channel", _("Unknown channel: %(c)s.") % {"c": broadcast.channel})
    if broadcast.channel == Channel.VOICE:
        raise BroadcastError("channel", _("Surveys are not sent by voice."))
    if broadcast.timing == Timing.LOCAL:
        raise BroadcastError(
            "timing", _("A survey goes now or at a set time, not at each customer's local time.")
        )


def broadcast_validate(broadcast: Broadcast, variants: list[VariantSpec]) -> None:
    """Raise BroadcastError for the first thing wrong; the rules every entry point shares."""
    if not broadcast.name.strip():
        raise BroadcastError("name", _("Give the broadcast a name."))
    if broadcast.survey_id is not None:
        _survey_validate(broadcast, variants)
        if not 0 <= broadcast.holdout_percent <= 50:
            raise BroadcastError("holdout_percent", _("The holdout is 0 to 50 %."))
        if not 1 <= broadcast.conversion_days <= 90:
            raise BroadcastError("conversion_days", _("The conversion window is 1 to 90 days."))
        if broadcast.timing == Timing.AT and broadcast.send_at is None:
            raise BroadcastError("send_at", _("Choose when to send."))
        return
    if broadcast.template is None:
        raise BroadcastError("template", _("Choose a template or a survey."))
    if broadcast.template.archived_at is not None:
        raise BroadcastError("template", _("The template is archived."))
    if broadcast.template.category != "marketing":
        raise BroadcastError("template", _("A broadcast sends marketing templates only."))
    channels = [broadcast.channel] if broadcast.channel else list(broadcast.channel_order)
    if not channels:
        raise BroadcastError("channel", _("Choose a channel, or a fallback order."))
    for channel in channels:
        if channel not in Channel.values:
            raise BroadcastError("channel", _("Unknown channel: %(c)s.") % {"c": channel})
    if len(set(channels)) != len(channels):
        raise BroadcastError("channel_order", _("A channel appears twice in the order."))
    if not 0 <= broadcast.holdout_percent <= 50:
        raise BroadcastError("holdout_percent", _("The holdout is 0 to 50 %."))
    if not 0 <= broadcast.test_percent <= 100:
        raise BroadcastError("test_percent", _("The test share is 0 to 100 %."))
    if broadcast.ab_metric not in AbMetric.values:
        raise BroadcastError("ab_metric", _("Unknown metric."))
    if not 1 <= broadcast.conversion_days <= 90:
        raise BroadcastError("conversion_days", _("The conversion window is 1 to 90 days."))
    if broadcast.test_percent and len(variants) < 2:
        raise BroadcastError("variants", _("An A/B test needs at least two variants."))
    if not broadcast.test_percent and len(variants) > 1:
        raise BroadcastError("test_percent", _("Several variants need a test share above 0 %."))
    if broadcast.test_percent and not 1 <= broadcast.test_hours <= 168:
        raise BroadcastError("test_hours", _("The test lasts 1 to 168 hours."))
    if len(variants) > MAX_VARIANTS:
        raise BroadcastError("variants", _("At most %(n)s variants.") % {"n": MAX_VARIANTS})
    for spec in variants:
        template = spec.template or broadcast.template
        if template.category != "marketing" or template.archived_at is not None:
            raise BroadcastError(
                "variants", _("A variant's template must be an active marketing template.")
            )
        needed = [spec.channel] if spec.channel else channels
        missing = [c for c in needed if c not in _channels_of(template)]
        if missing:
            raise BroadcastError(
                "variants" if spec.template or spec.channel else "template",
                _("The template “%(t)s” has no %(c)s version.")
                % {"t": template.name, "c": ", ".join(missing)},
            )
        if spec.channel and spec.channel not in Channel.values:
            raise BroadcastError("variants", _("Unknown channel: %(c)s.") % {"c": spec.channel})
        if spec.subject and "email" not in needed:
            raise BroadcastError("variants", _("A subject only applies to email."))
    if broadcast.timing == Timing.AT:
        if broadcast.send_at is None:
            raise BroadcastError("send_at", _("Choose when to send."))
    elif broadcast.timing == Timing.LOCAL:
        if broadcast.local_time is None:
            raise BroadcastError("local_time", _("Choose the local time."))
    elif broadcast.timing != Timing.NOW:
        raise BroadcastError("timing", _("Unknown timing."))


def broadcast_create(
    *,
    name: str,
    template: Template | None,
    segment,
    survey_id: int | None = None,
    channel: str = "",
    channel_order: list[str] | None = None,
    promo_pool=None,
    holdout_percent: int = 0,
    timing: str = Timing.NOW,
    send_at: datetime | None = None,
    local_time: time | None = None,
    test_percent: int = 0,
    ab_metric: str = AbMetric.CLICKED,
    test_hours: int = 4,
    conversion_days: int = 7,
    variants: list[VariantSpec] | None = None,
    actor=None,
) -> Broadcast:
    """A draft. Without variants it has one, "A": the template as it is."""
    broadcast = Broadcast(
        name=name.strip()[:200],
        template=template,
        survey_id=survey_id,
        segment=segment,
        channel=channel,
        channel_order=list(channel_order or []) if not channel else [],
        promo_pool=promo_pool,
        holdout_percent=holdout_percent,
        timing=timing,
        send_at=send_at,
        local_time=local_time,
        test_percent=test_percent,
        ab_metric=ab_metric,
        test_hours=test_hours,
        conversion_days=conversion_days,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    specs = variants or [VariantSpec()]
    broadcast_validate(broadcast, specs)
    with transaction.atomic():
        broadcast.save()
        broadcast.seed = broadcast.pk
        broadcast.save(update_fields=["seed"])
        _variants_save(broadcast, specs)
        audit_record(
            actor=actor,
            action="broadcast.create",
            object_type="broadcast",
            object_id=broadcast.pk,
            object_repr=broadcast.name,
            after=broadcast_summary(broadcast),
        )
    return broadcast


def broadcast_update(
    broadcast: Broadcast, *, variants: list[VariantSpec] | None = None, actor=None, **fields
) -> Broadcast:
    """Change a draft or a scheduled broadcast; a launched one is fixed."""
    if broadcast.status not in EDITABLE:
        raise BroadcastError(
            "status", _("Only a draft or a scheduled broadcast can be changed."), "conflict"
        )
    before = broadcast_summary(broadcast)
    allowed = {
        "name",
        "template",
        "survey_id",
        "segment",
        "channel",
        "channel_order",
        "promo_pool",
        "holdout_percent",
        "timing",
        "send_at",
        "local_time",
        "test_percent",
        "ab_metric",
        "test_hours",
        "conversion_days",
    }
    for key, value in fields.items():
        if key not in allowed:
            raise BroadcastError(key, _("This field cannot be changed."))
        setattr(broadcast, key, value)
    if broadcast.channel:
        broadcast.channel_order = []
    specs = variants if variants is not None else _specs_of(broadcast)
    broadcast_validate(broadcast, specs)
    if broadcast.status == BroadcastStatus.SCHEDULED:
        # Still scheduled only with a time to wait for; otherwise back to a draft to launch.
        if broadcast.timing != Timing.AT:
            broadcast.status = BroadcastStatus.DRAFT
        elif broadcast.send_at <= timezone.now():
            raise BroadcastError(
                "send_at", _("The time has passed; choose a later one or send now.")
            )
    with transaction.atomic():
        broadcast.updated_at = timezone.now()
        broadcast.save()
        if variants is not None:
            broadcast.variants.all().delete()
            _variants_save(broadcast, specs)
        audit_record(
            actor=actor,
            action="broadcast.update",
            object_type="broadcast",
            object_id=broadcast.pk,
            object_repr=broadcast.name,
            before=before,
            after=broadcast_summary(broadcast),
        )
    return broadcast


def _specs_of(broadcast: Broadcast) -> list[VariantSpec]:
    return [
        VariantSpec(template=v.template, subject=v.subject, channel=v.channel)
        for v in broadcast.variants.select_related("template", "template__current_version")
    ] or [VariantSpec()]


def _variants_save(broadcast: Broadcast, specs: list[VariantSpec]) -> None:
    BroadcastVariant.objects.bulk_create(
        BroadcastVariant(
            broadcast=broadcast,
            key=VARIANT_KEYS[i],
            template=spec.template,
            subject=spec.subject.strip(),
            channel=spec.channel,
        )
        for i, spec in enumerate(specs)
    )


def broadcast_summary(broadcast: Broadcast) -> dict:
    """The fields the audit log keeps for a broadcast."""
    return {
        "name": broadcast.name,
        "template": broadcast.template_id,
        "survey": broadcast.survey_id,
        "segment": broadcast.segment_id,
        "channel": broadcast.channel or broadcast.channel_order,
        "promo_pool": broadcast.promo_pool_id,
        "holdout_percent": broadcast.holdout_percent,
        "timing": broadcast.timing,
        "send_at": broadcast.send_at.isoformat() if broadcast.send_at else None,
        "local_time": broadcast.local_time.isoformat() if broadcast.local_time else None,
        "test_percent": broadcast.test_percent,
        "ab_metric": broadcast.ab_metric,
        "test_hours": broadcast.test_hours,
        "conversion_days": broadcast.conversion_days,
    }
