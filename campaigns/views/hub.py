"""Campaigns: one page that leads to each of its areas (templates, broadcasts, promo, loyalty…)."""

from dataclasses import dataclass

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from campaigns.promo.selectors import promo_pools_low_stock
from workspace.permissions import staff_permission_required


@dataclass(frozen=True)
class Area:
    url_name: str
    title: str
    text: str


AREAS = [
    Area(
        "campaigns:templates",
        _("Templates"),
        _("Messages in Liquid, one variant per channel, previewed against a real customer."),
    ),
    Area(
        "campaigns:broadcasts",
        _("Broadcasts"),
        _("One template to a segment, now or at a local time, with A/B tests and a holdout."),
    ),
    Area(
        "campaigns:journeys",
        _("Journeys"),
        _("Triggered paths of messages, waits, branches and cascades, versioned and measured."),
    ),
    Area(
        "campaigns:journey_library",
        _("Ready-made journeys"),
        _("Promo cascade, loyalty, abandoned cart, welcome series, win-back: start from one."),
    ),
    Area(
        "campaigns:journey_map",
        _("Trigger map"),
        _("Each base segment and the journeys that serve it; which segment has no scenario."),
    ),
    Area(
        "campaigns:promo_pools",
        _("Promo codes"),
        _("Pools of unique or shared codes, issued with messages and redeemed by orders."),
    ),
    Area(
        "campaigns:loyalty",
        _("Loyalty"),
        _("Points earned on orders and events, spent and expiring oldest first."),
    ),
    Area(
        "campaigns:recommendations",
        _("Recommendations"),
        _("Product picks from behaviour: bought together, popular, viewed, new."),
    ),
    Area(
        "campaigns:cjms",
        _("Customer journey maps"),
        _("Stages from need to advocacy: touchpoints, goals, barriers and solutions per channel."),
    ),
    Area(
        "campaigns:strategies",
        _("Communication strategies"),
        _("AIDA, ACCA or AIDMA: to whom, why, when and how, with a funnel per stage."),
    ),
]


@staff_permission_required("view_campaigns")
def campaigns_index(request):
    areas = []
    for area in AREAS:
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue  # an area whose pages are not installed yet
        areas.append({"url": url, "title": area.title, "text": area.text})
    ctx = {"page": "campaigns", "areas": areas, "low_pools": promo_pools_low_stock()}
    return render(request, "campaigns/index.html", ctx)
