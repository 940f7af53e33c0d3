"""The form for making a journey from a library entry: one select per slot, pre-filled."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.library import WINBACK_RULES, LibraryJourney, Slot

# Demo things a slot prefers when they exist (campaigns.journeys.demo makes them).
PREFERRED_TEMPLATES = {
    ("promo_cascade", "email"): "Каскад: письмо с промокодом",
    ("promo_cascade", "sms"): "Каскад: SMS с промокодом",
    ("promo_cascade", "messenger"): "Каскад: Telegram с промокодом",
    ("win_back", "email"): "Каскад: письмо с промокодом",
    ("win_back", "sms"): "Каскад: SMS с промокодом",
    ("abandoned_cart", "email"): "Каскад: письмо с промокодом",
    ("abandoned_cart", "sms"): "Каскад: SMS с промокодом",
    ("loyalty_joined", "email"): "Лояльность: баллы начислены",
    ("loyalty_joined", "messenger"): "Лояльность: Telegram о баллах",
    ("loyalty_joined", "sms"): "Лояльность: баллы сгорают",
    ("welcome_series", "email"): "Приветственное письмо",
    ("welcome_series", "email_second"): "Приветствие 2: как мы работаем",
    ("welcome_series", "email_tips"): "Приветствие: советы",
    ("welcome_series", "email_promo"): "Приветствие: скидка на первый заказ",
}
PREFERRED_POOL = "Осенняя распродажа −10%"
PREFERRED_SEGMENTS = {"welcome_series": "New customers", "promo_cascade": "Active customers"}


def _templates(channel: str):
    from campaigns.message_templates.models import Template

    return (
        Template.objects.filter(
            archived_at__isnull=True, current_version__variants__has_key=channel
        )
        .select_related("current_version")
        .order_by("name")
    )


def _field(entry: LibraryJourney, slot: Slot, preset_segment: int | None):
    from campaigns.promo.models import PromoPool
    from customers.models import Segment

    if slot.kind == "template":
        queryset = _templates(slot.channel)
        preferred = PREFERRED_TEMPLATES.get((entry.key, slot.key))
        initial = queryset.filter(name=preferred).first() if preferred else None
    elif slot.kind == "pool":
        queryset = PromoPool.objects.filter(archived_at__isnull=True).order_by("name")
        initial = queryset.filter(name=PREFERRED_POOL).first()
    else:
        queryset = Segment.objects.order_by("name")
        initial = None
        if preset_segment:
            initial = queryset.filter(pk=preset_segment).first()
        elif entry.key == "win_back":
            initial = next((s for s in queryset if s.rules == WINBACK_RULES), None)
        elif entry.key in PREFERRED_SEGMENTS:
            initial = queryset.filter(name=PREFERRED_SEGMENTS[entry.key]).first()
    initial = initial or (queryset.first() if slot.required else None)
    return forms.ModelChoiceField(
        queryset=queryset,
        label=slot.label,
        required=slot.required,
        initial=initial.pk if initial else None,
        help_text=slot.help,
        empty_label=_("— none —") if not slot.required else _("— choose —"),
    )


class LibraryJourneyForm(forms.Form):
    name = forms.CharField(label=_("Journey name"), max_length=150)

    def __init__(self, *args, entry: LibraryJourney, preset_segment: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.entry = entry
        self.fields["name"].initial = str(entry.name)
        for slot in entry.slots:
            self.fields[slot.key] = _field(entry, slot, preset_segment)

    def values(self) -> dict:
        return {
            slot.key: self.cleaned_data[slot.key].pk
            for slot in self.entry.slots
            if self.cleaned_data.get(slot.key) is not None
        }
