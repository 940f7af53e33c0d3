"""Small display helpers shared by every workspace page."""

import json
from dataclasses import dataclass

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()


@dataclass(frozen=True)
class Tone:
    token: str  # ok | info | warn | danger | neutral
    icon: str  # a symbol in components/icons.html
    label: str


# One map for every status shown as a pill (WORKSPACE.md "Fixed status colours").
STATUS_TONES: dict[str, dict[str, tuple[str, str, str]]] = {
    "message": {
        "queued": ("neutral", "clock", _("queued")),
        "scheduled": ("neutral", "clock", _("scheduled")),
        "sending": ("info", "send", _("sending")),
        "sent": ("info", "send", _("sent")),
        "unconfirmed": ("warn", "alert", _("unconfirmed")),
        "delivered": ("ok", "check", _("delivered")),
        "read": ("ok", "check", _("read")),
        "opened": ("ok", "check", _("opened")),
        "clicked": ("ok", "check", _("clicked")),
        "failed": ("danger", "x", _("failed")),
        "bounced": ("danger", "x", _("bounced")),
        "suppressed": ("warn", "lock", _("suppressed")),
        "received": ("info", "chat", _("received")),
    },
    "consent": {
        "opted_in": ("ok", "check", _("opted in")),
        "opted_out": ("danger", "x", _("opted out")),
        "unknown": ("neutral", "info", _("unknown")),
    },
    "conversation": {
        "open": ("info", "chat", _("open")),
        "pending": ("warn", "clock", _("pending")),
        "snoozed": ("neutral", "clock", _("snoozed")),
        "resolved": ("ok", "check", _("resolved")),
    },
}


CHANNEL_LABELS = {
    "email": pgettext_lazy("channel", "Email"),  # not DRF's "Email" (an address)
    "sms": _("SMS"),
    "whatsapp": _("WhatsApp"),
    "telegram": _("Telegram"),
    "viber": _("Viber"),
    "push": _("Push"),
    "voice": _("Voice call"),
}


@register.filter
def channel_label(value) -> str:
    """A channel's name in the viewer's language."""
    return str(CHANNEL_LABELS.get(str(value), value))


@register.simple_tag
def status_tone(kind: str, value) -> Tone:
    token, icon, label = STATUS_TONES.get(kind, {}).get(
        str(value), ("neutral", "info", str(value or "—"))
    )
    return Tone(token, icon, str(label))


@register.simple_tag
def sparkline(series, width: int = 120, height: int = 28):
    """An inline SVG polyline of a short series; drawn on the server, no JS."""
    values = [float(v or 0) for v in series]
    if len(values) < 2:
        return ""
    top = max(values) or 1.0
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true">'
        '<polyline points="{p}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>',
        w=width,
        h=height,
        p=points,
    )


@register.simple_tag
def chart(chart_id: str, kind: str, data: dict, caption: str, size: str = "chart-md"):
    """A Chart.js chart (static/workspace/js/charts.js draws it) with a table for no-JS readers.

    data = {"labels": [...], "datasets": [{"label": str, "data": [numbers], "tone": "ok"|...}]}
    """
    payload = json.dumps(data, default=str).replace("<", "\\u003c").replace(">", "\\u003e")
    head = format_html_join(
        "", "<th scope='col'>{}</th>", ((d["label"],) for d in data["datasets"])
    )
    body = format_html_join(
        "",
        "<tr><th scope='row'>{}</th>{}</tr>",
        (
            (
                label,
                format_html_join("", "<td>{}</td>", ((d["data"][i],) for d in data["datasets"])),
            )
            for i, label in enumerate(data["labels"])
        ),
    )
    return format_html(
        '<figure class="chart {size}"><div class="chart-canvas"><canvas id="{id}" data-chart="{kind}" '
        'data-chart-source="{id}-data" role="img" aria-label="{caption}"></canvas></div>'
        '<script type="application/json" id="{id}-data">{payload}</script>'
        '<figcaption><details class="chart-table"><summary>{caption}</summary>'
        '<table class="table table-compact"><thead><tr><td></td>{head}</tr></thead>'
        "<tbody>{body}</tbody></table></details></figcaption></figure>",
        size=size,
        id=chart_id,
        kind=kind,
        caption=caption,
        payload=mark_safe(payload),  # JSON with <, > escaped, as json_script does
        head=head,
        body=body,
    )
