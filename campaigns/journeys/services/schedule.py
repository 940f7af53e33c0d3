"""Schedule and date triggers: who enters when a journey's run time comes, and the next one.

- schedule: every member of the segment, daily, weekly or monthly at a UTC time;
- date: once a day at a UTC time, the customers whose date is `-offset_days` from today (offset
  -3 = three days before it): their birthday (month and day), a date attribute, their soonest
  points expiry, or the expiry of a promo code issued to them. The entry key is the date, so
  "once" means once per birthday (per year), not once ever.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from campaigns.journeys.models import Journey, JourneyStatus
from campaigns.journeys.services.engine import version_definition
from campaigns.journeys.services.triggers import journey_enrol_many, segment_members_sql

ID_CHUNK = 10_000


def next_run_after(trigger, now: datetime) -> datetime:
    hour, minute = (int(p) for p in trigger.at.split(":"))
    day = now.date()
    for _ in range(0, 62):
        moment = datetime.combine(day, time(hour, minute), tzinfo=UTC)
        if moment > now and _runs_on(trigger, day):
            return moment
        day += timedelta(days=1)
    return now + timedelta(days=1)


def _runs_on(trigger, day: date) -> bool:
    if trigger.kind == "date" or trigger.every == "day":
        return True
    if trigger.every == "week":
        return day.weekday() == trigger.weekday
    return day.day == trigger.day


def journeys_scheduled_run(*, now: datetime | None = None) -> int:
    """Run every schedule/date trigger whose time has come. Returns how many runs started."""
    now = now or timezone.now()
    started = 0
    due = Journey.objects.filter(status=JourneyStatus.LIVE, next_run_at__lte=now)
    for journey_id in due.values_list("pk", flat=True):
        # Claim it: only one worker moves next_run_at forward and enrols.
        journey = Journey.objects.filter(pk=journey_id, next_run_at__lte=now).first()
        if journey is None:
            continue
        trigger = version_definition(journey.live_version_id).trigger
        claimed = Journey.objects.filter(pk=journey.pk, next_run_at=journey.next_run_at).update(
            next_run_at=next_run_after(trigger, now)
        )
        if not claimed:
            continue
        started += _enrol(journey, trigger, now)
    return started


def _enrol(journey: Journey, trigger, now: datetime) -> int:
    if trigger.kind == "schedule":
        sql, params = segment_members_sql(trigger.segment_id)
        return journey_enrol_many(
            journey=journey,
            customers_sql=sql,
            params=params,
            entry={"schedule": now.date().isoformat()},
            now=now,
            key=now.date().isoformat(),
        )
    target = now.date() - timedelta(days=trigger.offset_days)
    entered = 0
    ids = date_trigger_customers(trigger.field, target, now)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        placeholders = ", ".join(["%s"] * len(chunk))
        entered += journey_enrol_many(
            journey=journey,
            customers_sql=f"SELECT id FROM customers_customer WHERE id IN ({placeholders})",
            params=chunk,
            entry={"date": target.isoformat(), "field": trigger.field},
            now=now,
            key=f"{trigger.field}:{target.isoformat()}",
        )
    return entered


def date_trigger_customers(field: str, target: date, now: datetime) -> list[int]:
    from campaigns.loyalty.selectors import points_expiring_totals
    from campaigns.promo.models import PromoCode, PromoCodeStatus
    from customers.models import Customer

    live = Customer.objects.filter(erased_at__isnull=True)
    if field == "birth_date":
        return list(
            live.filter(birth_date__month=target.month, birth_date__day=target.day).values_list(
                "pk", flat=True
            )
        )
    if field.startswith("attribute:"):
        key = field.split(":", 1)[1]
        if connection.vendor == "postgresql":
            query = live.extra(where=["(attributes ->> %s) LIKE %s"], params=[key, f"{target}%"])
        else:
            query = live.extra(
                where=["json_extract(attributes, %s) LIKE %s"], params=[f'$."{key}"', f"{target}%"]
            )
        return list(query.values_list("pk", flat=True))
    if field == "points_expiring":
        within = max((target - now.date()).days + 1, 1)
        return [
            customer_id
            for customer_id, _points, when in points_expiring_totals(now=now, within_days=within)
            if when.date() == target
        ]
    if field == "promo_expiring":
        return list(
            PromoCode.objects.filter(
                status=PromoCodeStatus.ISSUED,
                customer__isnull=False,
                pool__valid_until__date=target,
            )
            .values_list("customer_id", flat=True)
            .distinct()
        )
    return []
