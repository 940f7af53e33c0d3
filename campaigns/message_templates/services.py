"""Templates: create, save (a new version), archive, render, send. Journeys and broadcasts call
`template_render_many` / `template_send`; staff pages and the API call the rest."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from api.audit import audit_record
from campaigns.message_templates.context import customer_contexts
from campaigns.message_templates.models import (
    MessageTemplateUse,
    Template,
    TemplateCategory,
    TemplateVersion,
)
from campaigns.message_templates.rendering import (
    RenderedMessage,
    TemplateInvalid,
    TemplateMissingValue,
    TemplateProblem,
    TemplateRenderFailed,
    render_compiled,
    validate_variants,
)
from campaigns.message_templates.schemas import Variants

__all__ = [
    "TemplateInvalid",
    "TemplateMissingValue",
    "template_archive",
    "template_create",
    "template_render",
    "template_render_many",
    "template_send",
    "template_test_send",
    "template_update",
]


def variants_check(variants: dict, extras: list[str] | None = None) -> dict:
    """The variants as stored, or TemplateInvalid listing every problem (channel, field, line)."""
    try:
        parsed = Variants.model_validate(variants or {}).present()
    except ValidationError as exc:
        problems = [
            TemplateProblem(
                str(err["loc"][0]) if err["loc"] else "",
                ".".join(str(x) for x in err["loc"][1:]),
                None,
                err["msg"],
            )
            for err in exc.errors()
        ]
        raise TemplateInvalid(problems) from exc
    if not parsed:
        raise TemplateInvalid([TemplateProblem("", "", None, _("Add at least one channel."))])
    problems = validate_variants(parsed, extras or [])
    if problems:
        raise TemplateInvalid(problems)
    return parsed


def _extras_clean(extras) -> list[str]:
    out = []
    for name in extras or []:
        name = str(name).strip()
        if name and name.isidentifier() and name not in out:
            out.append(name)
    return out


def _version_add(template: Template, variants: dict, extras: list[str], actor) -> TemplateVersion:
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = TemplateVersion.objects.create(
        template=template,
        number=last + 1,
        variants=variants,
        extras=extras,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    template.current_version = version
    template.updated_at = timezone.now()
    template.save(update_fields=["current_version", "updated_at"])
    return version


def template_create(
    *,
    name: str,
    category: str,
    variants: dict,
    description: str = "",
    extras: list[str] | None = None,
    actor=None,
) -> Template:
    if category not in TemplateCategory.values:
        raise TemplateInvalid([TemplateProblem("", "category", None, _("Unknown category."))])
    extras = _extras_clean(extras)
    variants = variants_check(variants, extras)
    with transaction.atomic():
        template = Template.objects.create(
            name=name.strip()[:150], description=description, category=category
        )
        version = _version_add(template, variants, extras, actor)
        audit_record(
            actor=actor,
            action="template.create",
            object_type="template",
            object_id=template.pk,
            object_repr=template.name,
            after={"name": template.name, "category": category, "version": version.number},
        )
    return template


def template_update(
    template: Template,
    *,
    actor=None,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    variants: dict | None = None,
    extras: list[str] | None = None,
) -> TemplateVersion:
    """Save changes. New content always becomes a new version; old versions stay as they were."""
    current = template.versions.order_by("-number").first()
    extras = _extras_clean(extras if extras is not None else (current.extras if current else []))
    if variants is None:
        variants = current.variants if current else {}
    variants = variants_check(variants, extras)
    if category is not None and category not in TemplateCategory.values:
        raise TemplateInvalid([TemplateProblem("", "category", None, _("Unknown category."))])
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=template.pk)
        before = {"name": template.name, "category": template.category}
        if name is not None:
            template.name = name.strip()[:150]
        if description is not None:
            template.description = description
        if category is not None:
            template.category = category
        template.save(update_fields=["name", "description", "category"])
        current = template.current_version
        if current and current.variants == variants and current.extras == extras:
            version = current  # nothing new to keep
        else:
            version = _version_add(template, variants, extras, actor)
        audit_record(
            actor=actor,
            action="template.update",
            object_type="template",
            object_id=template.pk,
            object_repr=template.name,
            before=before,
            after={"name": template.name, "category": template.category, "version": version.number},
        )
    return version


def template_archive(template: Template, *, actor=None, archived: bool = True) -> Template:
    with transaction.atomic():
        template.archived_at = timezone.now() if archived else None
        template.save(update_fields=["archived_at"])
        audit_record(
            actor=actor,
            action="template.archive" if archived else "template.restore",
            object_type="template",
            object_id=template.pk,
            object_repr=template.name,
        )
    return template


def template_render(version, channel: str, customer, extra: dict | None = None) -> RenderedMessage:
    """One customer's message. TemplateMissingValue when a value without default is missing."""
    context = customer_contexts([customer], extra)[customer.pk]
    return render_compiled(version, channel, context)


def template_render_many(version, channel: str, customers: list, extra: dict | None = None):
    """Yield (customer, RenderedMessage | TemplateMissingValue) for a batch: the context is read
    once per batch and the template parsed once per version."""
    contexts = customer_contexts(customers, extra)
    for customer in customers:
        try:
            yield customer, render_compiled(version, channel, contexts[customer.pk])
        except TemplateMissingValue as exc:
            yield customer, exc


def _category(version) -> str:
    from channels.models import MessageCategory

    if version.template.category == TemplateCategory.TRANSACTIONAL:
        return MessageCategory.TRANSACTIONAL
    return MessageCategory.MARKETING


def template_send(
    version,
    channel: str,
    customer,
    extra: dict | None = None,
    *,
    source: str = "campaign",
    source_ref: str = "",
    idempotency_key: str | None = None,
    rendered: RenderedMessage | TemplateMissingValue | None = None,
):
    """Render and send through `message_send` (which adds tracking links and the SMS opt-out
    line after rendering). A missing value stores the message as suppressed with the reason."""
    from channels.models import Message, MessageStatus, MessageStatusChange
    from channels.services.messages import message_send

    if rendered is None:
        try:
            rendered = template_render(version, channel, customer, extra)
        except TemplateMissingValue as exc:
            rendered = exc
    source_ref = source_ref or f"template:{version.template_id}:v{version.number}"
    with transaction.atomic():
        if isinstance(rendered, TemplateMissingValue):
            now = timezone.now()
            reason = (
                f"template render failed: {rendered.variable}"
                if isinstance(rendered, TemplateRenderFailed)
                else f"template value missing: {rendered.variable}"
            )
            message = Message.objects.create(
                customer=customer,
                channel=channel,
                category=_category(version),
                source=source,
                source_ref=source_ref,
                idempotency_key=idempotency_key or None,
                status=MessageStatus.SUPPRESSED,
                status_reason=reason,
                failed_at=now,
                queued_at=now,
                updated_at=now,
            )
            MessageStatusChange.objects.create(
                message=message,
                status=MessageStatus.SUPPRESSED,
                reason=reason,
                source="template",
                occurred_at=now,
            )
        else:
            message = message_send(
                customer=customer,
                channel=channel,
                category=_category(version),
                source=source,
                source_ref=source_ref,
                body=rendered.body,
                subject=rendered.subject,
                html=rendered.html,
                payload=rendered.payload,
                idempotency_key=idempotency_key,
            )
        MessageTemplateUse.objects.get_or_create(message=message, defaults={"version": version})
    return message


def template_test_send(version, channel: str, customer, address: str, *, actor=None):
    """A test of this version rendered for `customer`, sent to a typed address through the
    channels test-send path (its system customer, no tracking, transactional)."""
    from channels.services.test_send import channel_test_send

    rendered = template_render(version, channel, customer)
    body = rendered.body
    if channel == "email":
        body = rendered.body
    with transaction.atomic():
        message = channel_test_send(channel=channel, address=address, body=body)
        if channel == "email" and (rendered.subject or rendered.html):
            message.subject = rendered.subject
            message.html = rendered.html
            message.save(update_fields=["subject", "html"])
        MessageTemplateUse.objects.get_or_create(message=message, defaults={"version": version})
        audit_record(
            actor=actor,
            action="template.test_send",
            object_type="template",
            object_id=version.template_id,
            object_repr=f"v{version.number} {channel}",
            after={"channel": channel},
        )
    return message
