"""A dry run: the path one customer would take through a journey's draft, with the messages it
would render and whether the policy would let each through, and nothing written or sent.

Waits take the outcome the caller assumes for them (`assume[step]`: an outcome name, "timeout",
or for a cascade "outcome" / "next"), else their timeout. Branches and splits are evaluated on
the customer's real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.journeys.definition import BEST, CHANNELS, definition_parse
from campaigns.journeys.models import Enrollment
from campaigns.journeys.services.engine import Run
from campaigns.journeys.services.outcomes import condition_holds
from campaigns.journeys.services.steps import split_bucket

MAX_DRY_STEPS = 100


@dataclass
class DryMessage:
    channel: str
    subject: str = ""
    body: str = ""
    refusal: str = ""  # why it would not be sent


@dataclass
class DryRunStep:
    step: str
    type: str
    name: str
    what: str
    way: str = ""
    messages: list[DryMessage] = field(default_factory=list)


def _message(customer, template_id: int, channel: str, context_extra: dict) -> DryMessage:
    from campaigns.message_templates.models import Template
    from campaigns.message_templates.rendering import TemplateMissingValue
    from campaigns.message_templates.services import template_render
    from channels.services.policy import send_decision

    template = Template.objects.select_related("current_version").filter(pk=template_id).first()
    if template is None or template.current_version is None:
        return DryMessage(channel, refusal=_("the template does not exist"))
    variants = template.current_version.variants or {}
    if channel == BEST:
        preferred = (customer.attributes or {}).get("preferred_channel")
        order = [preferred] if preferred in variants else []
        order += [c for c in CHANNELS if c in variants and c not in order]
        channel = next(
            (
                c
                for c in order
                if not send_decision(
                    customer=customer,
                    channel=c,
                    category=template.category,
                    payload={},  # as the engine chooses: before rendering
                    source="journey",
                ).refusal
            ),
            order[0] if order else "email",
        )
    if channel not in variants:
        return DryMessage(
            channel, refusal=_("the template has no %(channel)s variant") % {"channel": channel}
        )
    try:
        rendered = template_render(template.current_version, channel, customer, context_extra)
    except TemplateMissingValue as exc:
        return DryMessage(
            channel, refusal=_("a value is missing: %(name)s") % {"name": exc.variable}
        )
    # The payload decides WhatsApp's 24-hour window (a template message may go outside it).
    decision = send_decision(
        customer=customer,
        channel=channel,
        category=template.category,
        payload=rendered.payload or {},
        source="journey",
    )
    return DryMessage(
        channel,
        subject=rendered.subject,
        body=rendered.body or rendered.html,
        refusal=decision.refusal,
    )


def journey_dry_run(
    *, journey, customer, assume: dict[str, str] | None = None, properties: dict | None = None
) -> list[DryRunStep]:
    assume = assume or {}
    definition = definition_parse(journey.draft)
    now = timezone.now()
    fake = Enrollment(
        journey_id=journey.pk,
        customer_id=customer.pk,
        step=definition.start or "",
        context={"entry": properties or {}, "results": {}},
        entered_at=now,
        step_entered_at=now,
    )
    run = Run(fake, definition, customer)
    extra = {"journey": {"entry": properties or {}}, "promo": {"code": "PREVIEW-CODE"}}
    path: list[DryRunStep] = []
    current = definition.start
    visits: dict[str, int] = {}
    while current and len(path) < MAX_DRY_STEPS:
        step = definition.step(current)
        if step is None:
            break
        visits[current] = visits.get(current, 0) + 1
        if step.max_visits and visits[current] > step.max_visits:
            path.append(DryRunStep(step.id, step.type, step.name, _("exits: loop limit")))
            break
        entry, target = _one(step, run, customer, extra, assume, now)
        path.append(entry)
        run.context["results"][step.id] = entry.way
        current = target
    return path


def _one(step, run, customer, extra, assume, now) -> tuple[DryRunStep, str | None]:
    entry = DryRunStep(step.id, step.type, step.name, "")
    if step.type == "send":
        message = _message(customer, step.template_id, step.channel, extra)
        entry.messages.append(message)
        if message.refusal:
            entry.what, entry.way = (
                _("would not be sent: %(why)s") % {"why": message.refusal},
                "unreachable",
            )
            target = step.on_unreachable
            return entry, (
                step.next if target in (None, "continue") else None if target == "exit" else target
            )
        entry.what, entry.way = _("sends on %(channel)s") % {"channel": message.channel}, "next"
        return entry, step.next
    if step.type == "survey":
        return _survey(step, customer, entry)
    if step.type == "wait":
        if step.mode != "outcomes":
            entry.what, entry.way = _("waits"), "next"
            return entry, step.next
        chosen = assume.get(step.id, "timeout")
        for outcome in step.outcomes:
            if outcome.name == chosen:
                entry.what, entry.way = _("assumed outcome: %(name)s") % {"name": chosen}, chosen
                return entry, outcome.next
        entry.what, entry.way = _("times out"), "timeout"
        return entry, step.timeout_next
    if step.type == "branch":
        for case in step.cases:
            if condition_holds(case.condition, run, now):
                entry.what, entry.way = _("matches “%(name)s”") % {"name": case.name}, case.name
                return entry, case.next
        entry.what, entry.way = _("no case matches: default"), "default"
        return entry, step.default_next
    if step.type == "split":
        bucket = split_bucket(run.enrollment.journey_id, step.id, customer.pk)
        if bucket < step.holdout_percent:
            entry.what, entry.way = _("held out (no messages)"), "holdout"
            return entry, None
        edge = step.holdout_percent
        for arm in step.arms:
            edge += arm.percent
            if bucket < edge or arm is step.arms[-1]:
                entry.what, entry.way = _("arm %(name)s") % {"name": arm.name}, arm.name
                return entry, arm.next
    if step.type == "action":
        entry.what, entry.way = _("would do: %(action)s") % {"action": step.action}, "next"
        return entry, step.next
    if step.type == "cascade":
        for channel in step.channels:
            entry.messages.append(_message(customer, channel.template_id, channel.channel, extra))
        chosen = assume.get(step.id, "next")
        entry.what = _("cascade over %(n)s channels, %(rounds)s round(s)") % {
            "n": len(step.channels),
            "rounds": step.rounds,
        }
        entry.way = "outcome" if chosen == "outcome" else "next"
        return entry, step.next_on_outcome if chosen == "outcome" else step.next
    entry.what, entry.way = _("exits"), "exit"
    return entry, None


def _survey(step, customer, entry: DryRunStep) -> tuple[DryRunStep, str | None]:
    """Who would get the survey, and on what: the policy's answer for the channel (for "best",
    the first channel that lets it through), without rendering analytics' texts."""
    from campaigns.journeys.extensions import surveys_by_id
    from channels.services.policy import send_decision

    survey = surveys_by_id().get(step.survey_id)
    name = survey.name if survey else f"#{step.survey_id}"
    channels = [step.channel]
    if step.channel == BEST:
        preferred = (customer.attributes or {}).get("preferred_channel")
        channels = [preferred] if preferred in CHANNELS else []
        channels += [c for c in CHANNELS if c not in channels]
    refusal = _("the survey does not exist") if survey is None else ""
    chosen = ""
    if survey is not None:
        for channel in channels:
            decision = send_decision(
                customer=customer,
                channel=channel,
                category="marketing",
                payload={},
                source="journey",
            )
            if not decision.refusal:
                chosen, refusal = channel, ""
                break
            refusal = refusal or decision.refusal
    if refusal:
        entry.what = _("would not send survey %(name)s: %(why)s") % {"name": name, "why": refusal}
        entry.way = "unreachable"
        target = step.on_unreachable
        return entry, (
            step.next if target in (None, "continue") else None if target == "exit" else target
        )
    entry.what = _("sends survey %(name)s on %(channel)s") % {"name": name, "channel": chosen}
    entry.way = "next"
    return entry, step.next
