"""Staff-readable words for what the broadcast engine stores as plain English: suppression
reasons (the send policy's own texts, kept as data so results and the review agree)."""

import re

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from workspace.templatetags.workspace_tags import channel_label

_PATTERNS = [
    (re.compile(r"^customer erased$"), lambda m: _("customer erased")),
    (
        re.compile(r"^address: no (\w+) address$"),
        lambda m: _("no %(channel)s address") % {"channel": channel_label(m[1])},
    ),
    (re.compile(r"^frequency cap"), lambda m: _("frequency cap reached")),
    (
        re.compile(r"^consent: opted out of (\w+)$"),
        lambda m: _("opted out of %(channel)s") % {"channel": channel_label(m[1])},
    ),
    (
        re.compile(r"^consent: (?:marketing on )?(\w+) needs opted_in \(is (\w+)\)$"),
        lambda m: (
            _("no opt-in for %(channel)s (consent: %(status)s)")
            % {"channel": channel_label(m[1].lower()), "status": _consent(m[2])}
        ),
    ),
    (
        re.compile(r"^template value missing: (.+)$"),
        lambda m: _("template value missing: %(name)s") % {"name": m[1]},
    ),
    (
        re.compile(r"^template render failed: (.+)$"),
        lambda m: _("template could not be rendered: %(name)s") % {"name": m[1]},
    ),
    (re.compile(r"^broadcast cancelled$"), lambda m: _("broadcast cancelled")),
    (re.compile(r"^cancelled$"), lambda m: _("cancelled before sending")),
]


def _consent(status: str) -> str:
    return {
        "unknown": _("unknown"),
        "opted_out": _("opted out"),
        "pending": _("pending"),
        "opted_in": _("opted in"),
    }.get(status, status)


def reason_label(reason: str) -> str:
    """A suppression reason in the viewer's language; unknown ones are shown as stored."""
    for pattern, label in _PATTERNS:
        match = pattern.match(reason or "")
        if match:
            return label(match)
    return reason or _("unknown")


def reasons_list(by_reason: dict) -> list[dict]:
    """[{reason, label, count}] from {reason: count}, largest first."""
    return [
        {
            "reason": reason,
            "label": reason_label(reason),
            "n": count,
            "count": number_format(count, 0, force_grouping=True),
        }
        for reason, count in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


STATUS_TONES = {
    "draft": "neutral",
    "scheduled": "info",
    "sending": "info",
    "testing": "warn",
    "paused": "warn",
    "sent": "ok",
    "cancelled": "danger",
}
STATUS_ICONS = {
    "draft": "info",
    "scheduled": "clock",
    "sending": "send",
    "testing": "clock",
    "paused": "clock",
    "sent": "check",
    "cancelled": "x",
}


def status_of(broadcast) -> dict:
    """The status pill: tone, icon and label from one map."""
    return {
        "value": broadcast.status,
        "label": broadcast.get_status_display(),
        "tone": STATUS_TONES.get(broadcast.status, "neutral"),
        "icon": STATUS_ICONS.get(broadcast.status, "info"),
    }
