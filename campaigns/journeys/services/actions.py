"""Action steps: each reuses the service that owns the thing (promo codes, points, attributes,
segments, CRM webhooks, conversations). An action that cannot be done (no code left, too few
points) does not stop the run: its result is "failed", which a later branch can test."""

from __future__ import annotations

from django.db import transaction

from campaigns.journeys.services.engine import Batch, Run


def action_run(batch: Batch, run: Run, step) -> tuple[str, str]:
    """(result, detail): result is "done" or "failed"."""
    handler = {
        "promo_issue": _promo_issue,
        "points_award": _points_award,
        "points_spend": _points_spend,
        "attribute_set": _attribute_set,
        "segment_add": _segment_change,
        "segment_remove": _segment_change,
        "webhook": _webhook,
        "conversation_open": _conversation_open,
    }[step.action]
    try:
        with transaction.atomic():  # a failed action leaves nothing half-done
            return handler(batch, run, step)
    except _Failed as exc:
        return "failed", str(exc)


class _Failed(Exception):
    pass


def _key(run: Run, step) -> str:
    visits = run.context.get("visits", {}).get(step.id, 1)
    return f"journey:{run.enrollment.pk}:{step.id}:{visits}"


def _promo_issue(batch: Batch, run: Run, step) -> tuple[str, str]:
    from campaigns.promo.models import PromoPool
    from campaigns.promo.services import PromoError, promo_code_issue, promo_code_reserve

    pool = PromoPool.objects.filter(pk=step.pool_id).first()
    if pool is None:
        raise _Failed("no such pool")
    try:
        code = promo_code_issue(promo_code_reserve(pool, run.customer))
    except PromoError as exc:
        raise _Failed(str(exc)) from None
    context = run.context
    context["promo_code"] = code.code
    context["promo_pool"] = pool.pk
    context["promo_pool_name"] = pool.name
    context["promo_discount"] = pool.discount_description
    context["promo_expires"] = pool.valid_until.isoformat() if pool.valid_until else ""
    run.changed = True
    return "done", code.code


def _points_award(batch: Batch, run: Run, step) -> tuple[str, str]:
    from campaigns.loyalty.services import points_earn

    points_earn(
        customer=run.enrollment.customer_id,
        points=step.points,
        reason=f"journey {run.enrollment.journey_id}",
        source="journey",
        idempotency_key=_key(run, step),
        now=batch.now,
    )
    return "done", str(step.points)


def _points_spend(batch: Batch, run: Run, step) -> tuple[str, str]:
    from campaigns.loyalty.services import InsufficientPoints, points_spend

    try:
        points_spend(
            customer=run.enrollment.customer_id,
            points=step.points,
            reason=f"journey {run.enrollment.journey_id}",
            source="journey",
            idempotency_key=_key(run, step),
            now=batch.now,
        )
    except InsufficientPoints:
        raise _Failed("not enough points") from None
    return "done", str(step.points)


def _attribute_set(batch: Batch, run: Run, step) -> tuple[str, str]:
    from customers.models import Customer
    from customers.services.attributes import attribute_types, attributes_merge

    customer = Customer.objects.select_for_update().get(pk=run.enrollment.customer_id)
    merged, problems = attributes_merge(
        customer.attributes or {}, {step.key: step.value}, attribute_types()
    )
    if problems:
        raise _Failed("; ".join(f"{k}: {p}" for k, p in problems))
    customer.attributes = merged
    customer.updated_at = batch.now
    customer.save(update_fields=["attributes", "updated_at"])
    if run.customer is not None:
        run.customer.attributes = merged
    return "done", f"{step.key}={step.value}"


def _segment_change(batch: Batch, run: Run, step) -> tuple[str, str]:
    from api.errors import ApiError
    from customers.models import Customer, Segment
    from customers.services.segments import segment_members_add, segment_members_remove

    segment = Segment.objects.filter(pk=step.segment_id).first()
    if segment is None:
        raise _Failed("no such segment")
    external_id = Customer.objects.filter(pk=run.enrollment.customer_id).values_list(
        "external_id", flat=True
    )[0]
    change = segment_members_add if step.action == "segment_add" else segment_members_remove
    try:
        change(segment=segment, external_ids=[external_id])
    except ApiError as exc:
        raise _Failed(str(exc)) from None
    return "done", segment.name


def _webhook(batch: Batch, run: Run, step) -> tuple[str, str]:
    from channels.services.webhooks_out import webhook_event_emit

    e = run.enrollment
    deliveries = webhook_event_emit(
        event_type="journey.action",
        data={
            "journey_id": e.journey_id,
            "enrollment_id": e.pk,
            "step": step.id,
            "customer": getattr(run.customer, "external_id", ""),
            "entry": run.context.get("entry") or {},
            "promo_code": run.context.get("promo_code", ""),
            "payload": step.payload,
        },
    )
    return "done", f"{len(deliveries)} webhook(s)"


def _conversation_open(batch: Batch, run: Run, step) -> tuple[str, str]:
    from channels.models import Conversation, ConversationNote
    from channels.services.conversations import conversation_for_inbound
    from customers.models import Customer

    customer = Customer.objects.get(pk=run.enrollment.customer_id)
    conversation, _changed = conversation_for_inbound(
        customer=customer, channel=step.channel, at=batch.now
    )
    if conversation.status != Conversation.Status.OPEN:
        conversation.status = Conversation.Status.OPEN
        conversation.save(update_fields=["status"])
    if step.note:
        ConversationNote.objects.create(conversation=conversation, body=step.note)
    return "done", f"conversation {conversation.pk}"
