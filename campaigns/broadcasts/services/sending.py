"""One chunk of a broadcast: render and store a message for each pending recipient.

Per chunk, in one transaction: lock the chunk's pending recipients (SKIP LOCKED, so a duplicate
task finds nothing), reserve their promo codes, build their Liquid contexts set-based, pick each
customer's channel (the broadcast's, the variant's, or the first reachable one in the customer's
preferred order), render, and hand everything to `messages_send_many`, which applies consent,
caps and quiet hours and stores the rows. A message suppressed for any reason releases its code at
once. The chunk then writes back each recipient's state and message and bumps the live counts.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.utils import timezone

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastVariant,
    RecipientState,
    Timing,
)
from campaigns.broadcasts.services.launch import broadcast_progress_add, sendable_groups
from campaigns.message_templates.context import context_options, customer_contexts
from campaigns.message_templates.models import TemplateVersion
from campaigns.message_templates.rendering import (
    TemplateMissingValue,
    TemplateRenderFailed,
    render_compiled,
)
from campaigns.message_templates.uses import template_uses_insert
from campaigns.promo.models import PromoCode, PromoCodeStatus
from campaigns.promo.services import PromoError, promo_code_reserve_many
from channels.models import MessageCategory, MessageSource, MessageStatus
from channels.services.bulk_send import (
    OutgoingMessage,
    message_ids_allocate,
    messages_send_many,
)
from channels.services.policy import delivery_settings, frequency_capped, send_decisions_many
from customers.models import Channel, Customer

CUSTOMER_FIELDS = (
    "id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "locale",
    "timezone",
    "birth_date",
    "lifecycle_stage",
    "attributes",
    "created_at",
    "erased_at",
)


def broadcast_chunk_send(broadcast_id: int, first_id: int, last_id: int, *, now=None) -> int:
    """Send recipients first_id…last_id that are still pending. Returns how many it took."""
    now = now or timezone.now()
    broadcast = Broadcast.objects.select_related("promo_pool").filter(pk=broadcast_id).first()
    if broadcast is None:
        return 0
    groups = sendable_groups(broadcast)
    if not groups:  # paused, cancelled or done: pending recipients wait (or were cancelled)
        return 0
    variants = {
        v.pk: v
        for v in BroadcastVariant.objects.filter(broadcast=broadcast).select_related("version")
    }
    with transaction.atomic():
        recipients = list(
            BroadcastRecipient.objects.select_for_update(skip_locked=True)
            .filter(
                broadcast_id=broadcast_id,
                id__gte=first_id,
                id__lte=last_id,
                state=RecipientState.PENDING,
                group__in=groups,
                variant__isnull=False,
            )
            .order_by("id")
        )
        if not recipients:
            return 0
        # With frequency caps, locked in id order as message_send does one by one: two sends to
        # the same customer (another broadcast, a journey) cannot both pass the cap. Without caps
        # there is nothing to serialise, and a million row locks are a million page writes.
        query = Customer.objects.only(*CUSTOMER_FIELDS).filter(
            pk__in=[r.customer_id for r in recipients]
        )
        if frequency_capped():
            query = query.select_for_update()
        customers = {c.pk: c for c in query.order_by("pk")}
        recipients = [r for r in recipients if r.customer_id in customers]
        if broadcast.survey_id is not None:
            _send_survey(broadcast, recipients, customers, now)
        else:
            _send(broadcast, variants, recipients, customers, now)
    return len(recipients)


def _send_survey(broadcast, recipients, customers, now) -> None:
    """A survey broadcast's chunk: analytics sends the survey (campaigns' registry), each send
    keyed `broadcast:<id>:<customer id>`, so a chunk retried after a crash sends nothing twice."""
    from campaigns.journeys.extensions import SurveySent, survey_sender

    customer_list = [customers[r.customer_id] for r in recipients]
    sender = survey_sender()
    if sender is None:
        results = [SurveySent(None, MessageStatus.SUPPRESSED, "no survey sender")] * len(recipients)
    else:
        results = sender(
            broadcast.survey_id,
            customer_list,
            channel=broadcast.channel or "best",
            key_prefix=f"broadcast:{broadcast.pk}",
            source="broadcast",
            broadcast_id=broadcast.pk,
        )
    queued = 0
    for recipient, result in zip(recipients, results, strict=True):
        sent = result.message_id is not None and result.status != MessageStatus.SUPPRESSED
        queued += sent
        recipient.state = RecipientState.QUEUED if sent else RecipientState.SUPPRESSED
        recipient.channel = result.channel or broadcast.channel
        recipient.message_id = result.message_id
        recipient.reason = result.reason[:500]
        recipient.send_after = None
        recipient.processed_at = now
    BroadcastRecipient.objects.bulk_update(
        recipients,
        ["state", "channel", "message_id", "reason", "send_after", "processed_at"],
        batch_size=500,
    )
    broadcast_progress_add(
        broadcast.pk, processed=len(recipients), queued=queued, suppressed=len(recipients) - queued
    )


def _send(broadcast, variants, recipients, customers, now) -> None:
    customer_list = [customers[r.customer_id] for r in recipients]
    # Ids first (PostgreSQL): each promo code is reserved for its message in one statement.
    ids = message_ids_allocate(len(recipients))
    message_of = dict(zip([r.customer_id for r in recipients], ids, strict=True)) if ids else {}
    codes, promo_refusal = _promo_codes(broadcast, customer_list, message_of)
    contexts = customer_contexts(customer_list, options=_context_options(variants, recipients))
    channels, decisions = _channels(broadcast, variants, recipients, customers, now)
    items = []
    for recipient in recipients:
        customer = customers[recipient.customer_id]
        variant = variants[recipient.variant_id]
        channel = channels[recipient.pk]
        item = OutgoingMessage(
            customer=customer,
            channel=channel,
            source_ref=f"broadcast:{broadcast.pk}:{variant.key}",
            not_before=_local_send_time(broadcast, customer, now),
        )
        context = contexts[customer.pk]
        if broadcast.promo_pool_id:
            code = codes.get(customer.pk)
            if code is None:
                item.refusal = promo_refusal or "promo: no code left in the pool"
            else:
                context["promo"] = _promo_values(broadcast.promo_pool, code.code)
        if not item.refusal:
            _render_into(item, variant, channel, context)
        items.append(item)
    messages = messages_send_many(
        items,
        category=MessageCategory.MARKETING,
        source=MessageSource.CAMPAIGN,
        decisions=decisions,
        ids=ids,
        customers_locked=True,  # broadcast_chunk_send locked them, in id order
        now=now,
    )
    _codes_settle(codes, messages)
    template_uses_insert(
        [
            (m.pk, variants[r.variant_id].version_id)
            for r, m in zip(recipients, messages, strict=True)
        ]
    )
    _recipients_update(recipients, items, messages, now)
    queued = sum(1 for m in messages if m.status == MessageStatus.QUEUED)
    broadcast_progress_add(
        broadcast.pk,
        processed=len(messages),
        queued=queued,
        suppressed=len(messages) - queued,
    )


@lru_cache(maxsize=64)
def _options_of(version_id: int, created_at) -> dict:
    return context_options(TemplateVersion.objects.get(pk=version_id))


def _version_options(version) -> dict:
    """Versions never change, so each process analyses one once; the key has its creation time,
    as an id can come back after a rollback (SQLite reuses them)."""
    return _options_of(version.pk, version.created_at)


def _context_options(variants, recipients) -> dict:
    """Only what the chunk's template versions read (e.g. three picks of one kind, not forty)."""
    merged: dict = {"recommendations_kinds": set(), "names": set()}
    limits = []
    versions = {
        variants[r.variant_id].version_id: variants[r.variant_id].version for r in recipients
    }
    for version in versions.values():
        options = _version_options(version)
        if "recommendations_kinds" not in options:
            return {}  # a version reads all of them
        merged["recommendations_kinds"] |= set(options["recommendations_kinds"])
        merged["names"] |= set(options["names"])
        limits.append(options.get("recommendations_limit"))
    merged["recommendations_kinds"] = sorted(merged["recommendations_kinds"])
    merged["names"] = sorted(merged["names"])
    if limits and None not in limits:
        merged["recommendations_limit"] = max(limits)
    return merged


def _render_into(item: OutgoingMessage, variant: BroadcastVariant, channel: str, context) -> None:
    try:
        rendered = render_compiled(variant.version, channel, context)
    except TemplateRenderFailed as exc:
        item.refusal = f"template render failed: {exc.variable}"
        return
    except TemplateMissingValue as exc:
        item.refusal = f"template value missing: {exc.variable}"
        return
    item.subject = (
        variant.subject if variant.subject and channel == Channel.EMAIL else rendered.subject
    )
    item.body, item.html, item.payload = rendered.body, rendered.html, rendered.payload


def _promo_codes(broadcast, customers, message_of: dict[int, int]) -> tuple[dict, str]:
    if not broadcast.promo_pool_id:
        return {}, ""
    try:
        return promo_code_reserve_many(broadcast.promo_pool, customers, message_of), ""
    except PromoError as exc:
        return {}, f"promo: {exc}"


def _promo_values(pool, code: str) -> dict:
    return {
        "pool": pool.name,
        "discount": pool.discount_description,
        "valid_until": pool.valid_until,
        "code": code,
    }


def _codes_settle(codes: dict, messages) -> None:
    """Tie each reserved code to its message; give back the codes of suppressed messages."""
    if not codes:
        return
    reserved = {c.customer_id: c for c in codes.values() if c.status == PromoCodeStatus.RESERVED}
    release, attach = [], []
    for message in messages:
        code = reserved.get(message.customer_id)
        if code is None:
            continue
        if message.status == MessageStatus.SUPPRESSED:
            release.append(code.pk)
        elif code.message_id != message.pk:
            attach.append((code.pk, message.pk))
    if release:
        PromoCode.objects.filter(pk__in=release, status=PromoCodeStatus.RESERVED).update(
            status=PromoCodeStatus.AVAILABLE, customer=None, message=None, reserved_at=None
        )
    _attach_messages(attach)


def _attach_messages(pairs: list[tuple[int, int]]) -> None:
    if not pairs:
        return
    if connection.vendor == "postgresql":
        table = PromoCode._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS p SET message_id = v.message_id "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, message_id) WHERE p.id = v.id",
                [[a for a, _b in pairs], [b for _a, b in pairs]],
            )
        return
    for code_id, message_id in pairs:
        PromoCode.objects.filter(pk=code_id).update(message_id=message_id)


def _recipients_update(recipients, items, messages, now) -> None:
    for recipient, item, message in zip(recipients, items, messages, strict=True):
        recipient.state = (
            RecipientState.SUPPRESSED
            if message.status == MessageStatus.SUPPRESSED
            else RecipientState.QUEUED
        )
        recipient.channel = item.channel
        recipient.message_id = message.pk
        recipient.reason = message.status_reason[:500]
        recipient.send_after = item.not_before
        recipient.processed_at = now
    if connection.vendor == "postgresql":
        table = BroadcastRecipient._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS r SET state = v.state, channel = v.channel, "
                "message_id = v.message_id, reason = v.reason, send_after = v.send_after, "
                "processed_at = %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[], "
                "%s::timestamptz[]) AS v(id, state, channel, message_id, reason, send_after) "
                "WHERE r.id = v.id",
                [
                    now,
                    [r.pk for r in recipients],
                    [r.state for r in recipients],
                    [r.channel for r in recipients],
                    [r.message_id for r in recipients],
                    [r.reason for r in recipients],
                    [r.send_after for r in recipients],
                ],
            )
        return
    BroadcastRecipient.objects.bulk_update(
        recipients,
        ["state", "channel", "message_id", "reason", "send_after", "processed_at"],
        batch_size=500,
    )


def _channel_candidates(broadcast, variant, customer) -> list[str]:
    """The channels to try, in order, for this customer."""
    if variant.channel:
        return [variant.channel]
    if broadcast.channel:
        return [broadcast.channel]
    available = set((variant.version.variants or {}).keys())
    preferred = (customer.attributes or {}).get("preferred_channel")
    order = [preferred] if isinstance(preferred, str) else []
    order += [c for c in broadcast.channel_order if c not in order]
    return [c for c in order if c in available and c in Channel.values] or list(
        broadcast.channel_order[:1]
    )


def _channels(broadcast, variants, recipients, customers, now):
    """{recipient id: channel} and the policy decisions already made on the way.

    With one channel there is nothing to choose (messages_send_many decides). With a fallback
    order each round checks, set-based, the next channel of everyone not placed yet; a customer
    no channel can reach keeps the first channel's refusal."""
    candidates = {
        r.pk: _channel_candidates(broadcast, variants[r.variant_id], customers[r.customer_id])
        for r in recipients
    }
    chosen: dict[int, str] = {}
    decisions: dict[tuple[int, str], object] = {}
    if all(len(c) == 1 for c in candidates.values()):
        return {pk: c[0] for pk, c in candidates.items()}, decisions
    round_ = 0
    open_ = list(recipients)
    while open_:
        by_channel: dict[str, list] = {}
        for r in open_:
            options = candidates[r.pk]
            if round_ < len(options):
                by_channel.setdefault(options[round_], []).append(r)
            else:
                chosen[r.pk] = options[0]  # nothing reaches them: the first refusal stands
        still = []
        for channel, group in by_channel.items():
            found = send_decisions_many(
                [customers[r.customer_id] for r in group],
                channel,
                MessageCategory.MARKETING,
                source=MessageSource.CAMPAIGN,
                now=now,
            )
            for r in group:
                decision = found[r.customer_id]
                decisions[(r.customer_id, channel)] = decision
                if decision.refusal:
                    still.append(r)
                else:
                    chosen[r.pk] = channel
        open_ = still
        round_ += 1
    return chosen, decisions


def _local_send_time(broadcast, customer, now) -> datetime | None:
    """For "at a local time": the next moment the customer's clock shows it, from launch on."""
    if broadcast.timing != Timing.LOCAL or broadcast.local_time is None:
        return None
    name = customer.timezone or delivery_settings().default_timezone or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    start = broadcast.launched_at or now
    local = start.astimezone(zone)
    moment = datetime.combine(local.date(), broadcast.local_time, tzinfo=zone)
    if moment < local:
        moment = datetime.combine(
            local.date() + timedelta(days=1), broadcast.local_time, tzinfo=zone
        )
    return moment.astimezone(zoneinfo.ZoneInfo("UTC"))
