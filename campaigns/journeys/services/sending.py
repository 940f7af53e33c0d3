"""Storing the messages a batch of runs wants sent, together, with the same checks as any send.

For each run's SendRequest: a key already used returns its message (a retried batch sends
nothing twice); the journey's own limits (per customer per day, sends per hour) may delay it;
"best" picks the customer's preferred channel, else the first one the template has and the policy
lets through. Everything else (consent, caps, quiet hours, tracking, the SMS opt-out line) is
`messages_send_many`, as for broadcasts. A customer gets at most one message per flush; a second
run of theirs goes in the next one (the caps count stored messages).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from functools import lru_cache

from django.db.models import Count, F, Min

from campaigns.journeys.definition import BEST, CHANNELS
from campaigns.journeys.services.engine import Batch, Run
from campaigns.journeys.services.surveys import surveys_flush
from campaigns.message_templates.context import context_options, customer_contexts
from campaigns.message_templates.models import TemplateCategory, TemplateVersion
from campaigns.message_templates.rendering import (
    TemplateMissingValue,
    TemplateRenderFailed,
    render_compiled,
)
from campaigns.message_templates.uses import template_uses_insert
from channels.models import Message, MessageCategory, MessageSource, MessageStatus
from channels.services.bulk_send import OutgoingMessage, messages_send_many
from channels.services.policy import send_decisions_many


def source_ref(run: Run, step_id: str) -> str:
    e = run.enrollment
    return f"journey:{e.journey_id}:{e.pk}:{step_id}"


def sends_flush(batch: Batch, runs: list[Run]) -> None:
    """Store the pending send of each run (one per customer this time); fills each request."""
    taken: set[int] = set()
    pending = []
    for run in runs:
        if run.enrollment.customer_id not in taken:
            taken.add(run.enrollment.customer_id)
            pending.append(run)
    surveys = [run for run in pending if run.send.survey_id is not None]
    pending = _already_sent([run for run in pending if run.send.survey_id is None])
    pending = _within_limits(batch, pending)
    if surveys:
        surveys_flush(batch, _within_limits(batch, surveys))
    if not pending:
        return
    versions = _versions(pending)
    by_category: dict[str, list[Run]] = defaultdict(list)
    for run in pending:
        version = versions.get(run.send.template_version_id or -run.send.template_id)
        if version is None:
            run.send.message_id = 0
            run.send.status = MessageStatus.SUPPRESSED
            run.send.reason = "template missing"
            continue
        category = (
            MessageCategory.TRANSACTIONAL
            if version.template.category == TemplateCategory.TRANSACTIONAL
            else MessageCategory.MARKETING
        )
        by_category[category].append(run)
    for category, group in by_category.items():
        _send(batch, group, versions, category)


def _already_sent(runs: list[Run]) -> list[Run]:
    keys = {run.send.key: run for run in runs}
    for key, pk, status, reason, channel in Message.objects.filter(
        idempotency_key__in=list(keys)
    ).values_list("idempotency_key", "pk", "status", "status_reason", "channel"):
        request = keys.pop(key).send
        request.message_id, request.status, request.reason = pk, status, reason
        request.sent_channel = channel
    return list(keys.values())


def _within_limits(batch: Batch, runs: list[Run]) -> list[Run]:
    """The runs whose journey's limits allow a send now; the others get `delayed_until`."""
    allowed = []
    by_journey: dict[int, list[Run]] = defaultdict(list)
    for run in runs:
        limits = run.definition.limits
        if limits.per_customer_per_day or limits.sends_per_hour:
            by_journey[run.enrollment.journey_id].append(run)
        else:
            allowed.append(run)
    for journey_id, group in by_journey.items():
        limits = group[0].definition.limits
        journey_messages = Message.objects.filter(
            source=MessageSource.JOURNEY, source_ref__startswith=f"journey:{journey_id}:"
        ).exclude(status=MessageStatus.SUPPRESSED)
        if limits.per_customer_per_day:
            day = {
                row["customer_id"]: row
                for row in journey_messages.filter(
                    customer_id__in=[r.enrollment.customer_id for r in group],
                    queued_at__gt=batch.now - timedelta(days=1),
                )
                .values("customer_id")
                .annotate(n=Count("id"), first=Min("queued_at"))
            }
            still = []
            for run in group:
                row = day.get(run.enrollment.customer_id)
                if row and row["n"] >= limits.per_customer_per_day:
                    run.send.delayed_until = row["first"] + timedelta(days=1)
                    batch.log(run, "delayed", "per-customer daily limit")
                else:
                    still.append(run)
            group = still
        if limits.sends_per_hour and group:
            hour = journey_messages.filter(queued_at__gt=batch.now - timedelta(hours=1)).aggregate(
                n=Count("id"), first=Min("queued_at")
            )
            budget = max(limits.sends_per_hour - hour["n"], 0)
            for run in group[budget:]:
                run.send.delayed_until = (hour["first"] or batch.now) + timedelta(hours=1)
                batch.log(run, "delayed", "hourly send limit")
            group = group[:budget]
        allowed += group
    return allowed


def _versions(runs: list[Run]) -> dict[int, TemplateVersion]:
    """Pinned versions by id; a draft's dry run has none pinned: by -template id, the current."""
    pinned = {r.send.template_version_id for r in runs if r.send.template_version_id}
    found = {
        v.pk: v for v in TemplateVersion.objects.select_related("template").filter(pk__in=pinned)
    }
    unpinned = {r.send.template_id for r in runs if not r.send.template_version_id}
    for version in TemplateVersion.objects.select_related("template").filter(
        template_id__in=unpinned, template__current_version_id=F("pk")
    ):
        found[-version.template_id] = version
    return found


def _channels(runs: list[Run], versions, category: str, now) -> tuple[dict, dict]:
    """{enrollment id: channel} and the decisions made choosing them (for "best")."""
    chosen: dict[int, str] = {}
    candidates: dict[int, list[str]] = {}
    for run in runs:
        if run.send.channel != BEST:
            chosen[run.enrollment.pk] = run.send.channel
            continue
        version = versions[run.send.template_version_id or -run.send.template_id]
        available = [c for c in CHANNELS if c in (version.variants or {})]
        preferred = (run.customer.attributes or {}).get("preferred_channel")
        order = [preferred] if preferred in available else []
        candidates[run.enrollment.pk] = order + [c for c in available if c not in order]
    decisions: dict = {}
    open_runs = [r for r in runs if r.enrollment.pk in candidates]
    round_ = 0
    while open_runs:
        by_channel: dict[str, list[Run]] = defaultdict(list)
        for run in open_runs:
            options = candidates[run.enrollment.pk]
            if round_ < len(options):
                by_channel[options[round_]].append(run)
            else:  # nothing reaches them: the first refusal stands
                chosen[run.enrollment.pk] = options[0] if options else "email"
        still = []
        for channel, group in by_channel.items():
            found = send_decisions_many(
                [r.customer for r in group],
                channel,
                category,
                source=MessageSource.JOURNEY,
                now=now,
            )
            for run in group:
                decision = found[run.customer.pk]
                decisions[(run.customer.pk, channel)] = decision
                if decision.refusal:
                    still.append(run)
                else:
                    chosen[run.enrollment.pk] = channel
        open_runs = still
        round_ += 1
    return chosen, decisions


def _context_extra(run: Run) -> dict:
    context = run.context
    extra = {"journey": {"entry": context.get("entry") or {}}}
    if context.get("promo_code"):
        extra["promo"] = {
            "code": context["promo_code"],
            "pool": context.get("promo_pool_name", ""),
            "discount": context.get("promo_discount", ""),
            "valid_until": context.get("promo_expires", ""),
        }
    return extra


@lru_cache(maxsize=256)
def _version_options(version_id: int, created_at) -> dict:
    return context_options(TemplateVersion.objects.get(pk=version_id))


def _context_options(versions: list[TemplateVersion]) -> dict:
    """Only what the batch's template versions read (three picks of one kind, not forty)."""
    kinds: set[str] = set()
    names: set[str] = set()
    limits = []
    for version in {v.pk: v for v in versions}.values():
        options = _version_options(version.pk, version.created_at)
        if "recommendations_kinds" not in options:
            return {}  # a version reads all of them
        kinds |= set(options["recommendations_kinds"])
        names |= set(options["names"])
        limits.append(options.get("recommendations_limit"))
    merged: dict = {"recommendations_kinds": sorted(kinds), "names": sorted(names)}
    if limits and None not in limits:
        merged["recommendations_limit"] = max(limits)
    return merged


def _send(batch: Batch, runs: list[Run], versions, category: str) -> None:
    channels, decisions = _channels(runs, versions, category, batch.now)
    used = [versions[r.send.template_version_id or -r.send.template_id] for r in runs]
    contexts = customer_contexts([r.customer for r in runs], options=_context_options(used))
    items = []
    for run in runs:
        request = run.send
        version = versions[request.template_version_id or -request.template_id]
        channel = channels[run.enrollment.pk]
        item = OutgoingMessage(
            customer=run.customer,
            channel=channel,
            source_ref=source_ref(run, request.step_id),
            idempotency_key=request.key,
        )
        context = {**contexts[run.customer.pk], **_context_extra(run)}
        if channel not in (version.variants or {}):
            item.refusal = f"template has no {channel} variant"
        else:
            try:
                rendered = render_compiled(version, channel, context)
            except TemplateRenderFailed as exc:
                item.refusal = f"template render failed: {exc.variable}"
            except TemplateMissingValue as exc:
                item.refusal = f"template value missing: {exc.variable}"
            else:
                item.subject, item.body = rendered.subject, rendered.body
                item.html, item.payload = rendered.html, rendered.payload
        items.append(item)
    messages = messages_send_many(
        items, category=category, source=MessageSource.JOURNEY, decisions=decisions, now=batch.now
    )
    template_uses_insert(
        [
            (m.pk, versions[r.send.template_version_id or -r.send.template_id].pk)
            for r, m in zip(runs, messages, strict=True)
        ]
    )
    for run, item, message in zip(runs, items, messages, strict=True):
        request = run.send
        request.message_id = message.pk
        request.status = message.status
        request.reason = message.status_reason
        request.sent_channel = item.channel
