"""Response rates: how many sends went out and how many were answered, per survey and channel.

One GROUP BY over the sends of the surveys asked for, in the period asked for (the
(survey, channel, sent_at) index), joined to the answers by their unique send id; sends the policy
refused (`unsent`) never reached anyone and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from analytics.models.surveys import SurveySend


@dataclass(frozen=True)
class ResponseRate:
    survey_id: int
    channel: str  # "" for the survey's total
    sends: int
    answers: int

    @property
    def rate(self) -> float | None:
        return self.answers / self.sends if self.sends else None


def survey_response_rates(
    survey_ids: list[int],
    *,
    sent_from: datetime | None = None,
    sent_until: datetime | None = None,
) -> dict[int, list[ResponseRate]]:
    """{survey id: [the total (channel ""), then one per channel]} for sends in [from, until)."""
    sends = SurveySend.objects.filter(survey_id__in=survey_ids).exclude(
        state=SurveySend.State.UNSENT
    )
    if sent_from is not None:
        sends = sends.filter(sent_at__gte=sent_from)
    if sent_until is not None:
        sends = sends.filter(sent_at__lt=sent_until)
    rows = (
        sends.values("survey_id", "channel")
        .annotate(sends=Count("id"), answers=Count("answer"))
        .order_by("survey_id", "channel")
    )
    out: dict[int, list[ResponseRate]] = {pk: [] for pk in survey_ids}
    for row in rows:
        out[row["survey_id"]].append(
            ResponseRate(row["survey_id"], row["channel"], row["sends"], row["answers"])
        )
    for pk, per_channel in out.items():
        total = ResponseRate(
            pk, "", sum(r.sends for r in per_channel), sum(r.answers for r in per_channel)
        )
        out[pk] = [total, *per_channel]
    return out
