"""A launched broadcast's page: live progress, the A/B box, results per variant and for the
holdout, charts, and the fixed audience listed page by page.

Everything here reads the broadcast, its variants and its few `BroadcastStats` rows (refreshed
every minute by the tick); the recipients list reads one page of recipients by id.
"""

from datetime import UTC, datetime, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from campaigns.broadcasts.forms import RecipientFilterForm
from campaigns.broadcasts.models import (
    AbMetric,
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    BroadcastVariant,
)
from campaigns.broadcasts.selectors import (
    broadcast_progress,
    broadcast_results,
)
from campaigns.broadcasts.selectors import (
    broadcast_recipients as recipients_query,
)
from campaigns.views.broadcasts_labels import reason_label, reasons_list, status_of
from customers.models import Customer
from workspace.paging import PER_PAGE
from workspace.permissions import staff_permission_required

LIVE = (BroadcastStatus.SENDING, BroadcastStatus.TESTING)
MAX_HOURS = 24 * 14  # the hourly chart's span; a longer tail is cut


def fmt_int(value) -> str:
    return number_format(value or 0, 0, force_grouping=True)


def fmt_pct(value, digits: int = 1) -> str:
    return "—" if value is None else f"{number_format(value * 100, digits)}\u00a0%"


def fmt_money(value) -> str:
    return number_format(value or 0, 2, force_grouping=True)


def _pct_value(value) -> float:
    return round((value or 0) * 100, 2)


def _counts(row: dict) -> dict:
    rates = row["rates"]
    return {
        "audience": fmt_int(row["audience"]),
        "suppressed": fmt_int(row["suppressed"]),
        "pending": fmt_int(row["pending"]),
        "sent": fmt_int(row["sent"]),
        "delivered": fmt_int(row["delivered"]),
        "opened": fmt_int(row["opened"]),
        "clicked": fmt_int(row["clicked"]),
        "unsubscribed": fmt_int(row["unsubscribed"]),
        "complaints": fmt_int(row["complaints"]),
        "converted": fmt_int(row["converted"]),
        "revenue": fmt_money(row["revenue"]),
        "delivery_rate": fmt_pct(rates["delivery_rate"]),
        "open_rate": fmt_pct(rates["open_rate"]),
        "click_rate": fmt_pct(rates["click_rate"]),
        "unsubscribe_rate": fmt_pct(rates["unsubscribe_rate"], 2),
        "conversion_rate": fmt_pct(rates["conversion_rate"], 2),
        "revenue_per_recipient": fmt_money(rates["revenue_per_recipient"]),
    }


def _rates_chart(variants: list[dict]) -> dict:
    return {
        "labels": [_("Variant %(key)s") % {"key": v["key"]} for v in variants],
        "datasets": [
            {
                "label": _("Open rate, %"),
                "tone": "info",
                "data": [_pct_value(v["rates"]["open_rate"]) for v in variants],
            },
            {
                "label": _("Click rate, %"),
                "tone": "ok",
                "data": [_pct_value(v["rates"]["click_rate"]) for v in variants],
            },
            {
                "label": _("Conversion rate, %"),
                "tone": "violet",
                "data": [_pct_value(v["rates"]["conversion_rate"]) for v in variants],
            },
        ],
    }


def _hourly_chart(variants: list[dict]) -> dict | None:
    """Opens and clicks per hour, all variants together, in the viewer's time zone, with the
    empty hours between filled in so the line keeps its time scale."""
    totals: dict[str, list[int]] = {}
    for v in variants:
        for hour, opened, clicked in v["hourly"]:
            pair = totals.setdefault(hour, [0, 0])
            pair[0] += opened
            pair[1] += clicked
    if not totals:
        return None
    hours = sorted(totals)
    start = datetime.fromisoformat(hours[0]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(hours[-1]).replace(tzinfo=UTC)
    end = min(end, start + timedelta(hours=MAX_HOURS))
    labels, opened, clicked = [], [], []
    moment, day = start, None
    while moment <= end:
        key = moment.strftime("%Y-%m-%dT%H:00")
        local = timezone.localtime(moment)
        # The date only where it changes: "3 Dec 00:00", then "01:00", "02:00"…
        labels.append(date_format(local, "H:i" if local.date() == day else "j M H:i"))
        day = local.date()
        opened.append(totals.get(key, [0, 0])[0])
        clicked.append(totals.get(key, [0, 0])[1])
        moment += timedelta(hours=1)
    return {
        "labels": labels,
        "datasets": [
            {"label": _("Opens"), "tone": "info", "data": opened},
            {"label": pgettext("broadcast results", "Clicks"), "tone": "ok", "data": clicked},
        ],
    }


def _ab_box(broadcast: Broadcast, report: dict) -> dict | None:
    ab = report["ab"]
    if ab is None:
        return None
    stats = ab["stats"] or {}
    ends = broadcast.launched_at + timedelta(hours=broadcast.test_hours)
    lift = stats.get("lift")
    return {
        "metric": AbMetric(ab["metric"]).label,
        "test_percent": ab["test_percent"],
        "winner": ab["winner"],
        "decided_at": ab["decided_at"],
        "running": broadcast.status in (BroadcastStatus.TESTING, BroadcastStatus.PAUSED)
        and not ab["winner"],
        "ends_at": ends,
        "p_value": number_format(stats["p_value"], 4) if "p_value" in stats else "",
        "probability": fmt_pct(stats.get("probability_to_beat")),
        "lift": fmt_pct(lift) if lift is not None else "",
        "significant": stats.get("significant"),
        "decided_without_test": stats.get("method") == "none",
    }


def _uplift(report: dict) -> dict | None:
    up = report["uplift"]
    if up is None:
        return None
    return {
        "conversion_rate": fmt_pct(up["conversion_rate"], 2),
        "holdout_conversion_rate": fmt_pct(up["holdout_conversion_rate"], 2),
        "points": number_format(up["uplift_points"] * 100, 2),
        "positive": up["uplift_points"] >= 0,
        "relative": fmt_pct(up["uplift_relative"]) if up["uplift_relative"] is not None else "",
        "revenue_per_recipient": fmt_money(up["revenue_per_recipient"]),
        "holdout_revenue_per_recipient": fmt_money(up["holdout_revenue_per_recipient"]),
        "incremental_revenue": fmt_money(up["incremental_revenue"]),
        "p_value": number_format(up["p_value"], 4),
        "significant": up["significant"],
    }


def live_context(broadcast: Broadcast) -> dict:
    progress = broadcast_progress(broadcast)
    return {
        "progress": progress,
        "progress_fmt": {
            "processed": fmt_int(progress["processed"]),
            "target": fmt_int(progress["target"]),
            "queued": fmt_int(progress["queued"]),
            "suppressed": fmt_int(progress["suppressed"]),
            "percent": number_format(progress["percent"], 1),
        },
        "percent_int": int(progress["percent"]),
        "live": broadcast.status in LIVE,
    }


def results_context(broadcast: Broadcast) -> dict:
    report = broadcast_results(broadcast)
    variants = [
        {**v, "fmt": _counts(v), "reasons": reasons_list(v["suppressed_by_reason"])}
        for v in report["variants"]
    ]
    holdout = report["holdout"]
    return {
        **live_context(broadcast),
        "report": report,
        "variants": variants,
        "total": _counts(report["total"]),
        "reasons": reasons_list(report["total"]["suppressed_by_reason"]),
        "holdout": {**holdout, "fmt": _counts(holdout)} if holdout else None,
        "uplift": _uplift(report),
        "ab": _ab_box(broadcast, report),
        "rates_chart": _rates_chart(variants) if variants else None,
        "hourly_chart": _hourly_chart(variants),
        "conversion_days": report["conversion_days"],
        "refreshed_at": report["refreshed_at"],
        "has_side": False,
    }


@require_GET
@staff_permission_required("view_campaigns")
def broadcast_live(request, broadcast_id: int):
    """The progress fragment the page polls every 2 s while sending; it stops polling once the
    broadcast is no longer sending."""
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    ctx = {"broadcast": broadcast, "status": status_of(broadcast), **live_context(broadcast)}
    html = render_to_string("campaigns/broadcasts/_progress.html", ctx, request=request)
    if request.headers.get("HX-Request") and request.GET.get("status") != broadcast.status:
        # The status moved on (test over, sent, paused elsewhere): new pill and controls. Only
        # then, so a confirm dialog someone has open is not replaced under them.
        html += render_to_string(
            "campaigns/broadcasts/_header_live.html", {**ctx, "oob": True}, request=request
        )
    response = HttpResponse(html)
    response["Vary"] = "HX-Request"
    response["Cache-Control"] = "no-store"
    return response


STATE_TONES = {
    "pending": "neutral",
    "queued": "info",
    "suppressed": "warn",
    "held": "neutral",
    "cancelled": "danger",
}


def _recipient_rows(recipients: list[BroadcastRecipient], broadcast: Broadcast) -> list[dict]:
    customers = {
        c["pk"]: c
        for c in Customer.objects.filter(pk__in=[r.customer_id for r in recipients]).values(
            "pk", "external_id", "first_name", "last_name", "email", "phone"
        )
    }
    keys = dict(BroadcastVariant.objects.filter(broadcast=broadcast).values_list("pk", "key"))
    rows = []
    for r in recipients:
        customer = customers.get(r.customer_id)
        name = ""
        if customer:
            name = " ".join(p for p in (customer["first_name"], customer["last_name"]) if p)
            name = name or customer["email"] or customer["phone"] or customer["external_id"]
        rows.append(
            {
                "recipient": r,
                "customer": customer,
                "name": name,
                "variant": keys.get(r.variant_id, ""),
                "reason": reason_label(r.reason) if r.reason else "",
                "tone": STATE_TONES.get(r.state, "neutral"),
            }
        )
    return rows


@require_GET
@staff_permission_required("view_campaigns")
def broadcast_recipients(request, broadcast_id: int):
    """The fixed audience in snapshot order, a page at a time (`?after=<id>`), never counted."""
    broadcast = get_object_or_404(Broadcast.objects.select_related("segment"), pk=broadcast_id)
    filters = RecipientFilterForm(request.GET or None)
    state = group = ""
    if filters.is_valid():
        state, group = filters.cleaned_data["state"], filters.cleaned_data["group"]
    qs = recipients_query(broadcast)
    if state:
        qs = qs.filter(state=state)
    if group:
        qs = qs.filter(group=group)
    after = request.GET.get("after", "")
    if after.isdigit():
        qs = qs.filter(id__gt=int(after))
    page = list(qs[: PER_PAGE + 1])
    next_url = ""
    if len(page) > PER_PAGE:
        page = page[:PER_PAGE]
        params = request.GET.copy()
        params["after"] = str(page[-1].pk)
        next_url = f"{request.path}?{params.urlencode()}"
    ctx = {
        "page": "campaigns",
        "broadcast": broadcast,
        "status": status_of(broadcast),
        "filters": filters,
        "filtered": bool(state or group),
        "rows": _recipient_rows(page, broadcast),
        "next_url": next_url,
        "is_next_page": after.isdigit(),
    }
    return render(request, "campaigns/broadcasts/recipients.html", ctx)
