"""The wizard's review: how many of the segment a broadcast would reach, and why not the rest.

One grouped query over the segment's members, with the same checks in the same order as the
send policy (erased, address, consent, then the frequency caps), per channel of the broadcast's
order: a customer counts as reached on the first channel that passes, and as suppressed for the
first channel's reason otherwise. The holdout is random, so its share is taken off every count
(an expectation, shown as such). Quiet hours delay a send and do not suppress it; a template
value missing for some customers is only found when rendering, so neither appears here.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from campaigns.broadcasts.models import Broadcast
from channels.models import Message
from channels.services.policy import CAPPED_STATUSES, delivery_settings
from customers.models import ChannelIdentity, Consent, Customer, SegmentMembership

PHONE_CHANNELS = ("sms", "whatsapp")


def _channels(broadcast: Broadcast) -> list[str]:
    if broadcast.survey_id is not None and not broadcast.channel:
        from campaigns.journeys.definition import CHANNELS

        return list(CHANNELS)  # a survey on the best channel: the first one that reaches them
    return [broadcast.channel] if broadcast.channel else list(broadcast.channel_order)


def _reason_sql(channel: str, index: int) -> tuple[str, str]:
    """(join, CASE expression) giving one channel's refusal key for each member. Each takes the
    channel as its one parameter."""
    identity = ChannelIdentity._meta.db_table
    consent = Consent._meta.db_table
    has_identity = (
        f"EXISTS (SELECT 1 FROM {identity} i WHERE i.customer_id = c.id AND i.channel = %s)"
    )
    if channel == "email":
        no_address = f"(c.email = '' AND NOT {has_identity})"
    elif channel in PHONE_CHANNELS:
        no_address = f"(c.phone = '' AND NOT {has_identity})"
    else:
        no_address = f"(NOT {has_identity})"
    join = f"LEFT JOIN {consent} k{index} ON k{index}.customer_id = c.id AND k{index}.channel = %s"
    case = f"""CASE WHEN c.erased_at IS NOT NULL THEN 'erased'
        WHEN {no_address} THEN 'address'
        WHEN COALESCE(k{index}.status, 'unknown') <> 'opted_in'
            THEN 'consent:' || COALESCE(k{index}.status, 'unknown')
        ELSE 'ok' END"""
    return join, case


def _caps_sql(now) -> tuple[str, list]:
    """A CASE giving 'cap' for members at a frequency cap, '' otherwise ('' when no caps)."""
    rules = delivery_settings()
    checks, params = [], []
    message = Message._meta.db_table
    statuses = ", ".join(f"'{s}'" for s in CAPPED_STATUSES)
    for cap, days in ((rules.marketing_per_week, 7), (rules.marketing_per_day, 1)):
        if cap:
            checks.append(
                f"(SELECT COUNT(*) FROM {message} mm WHERE mm.customer_id = c.id "
                f"AND mm.category = 'marketing' AND mm.status IN ({statuses}) "
                f"AND mm.queued_at >= %s) >= %s"
            )
            params += [connection.ops.adapt_datetimefield_value(now - timedelta(days=days)), cap]
    if not checks:
        return "''", []
    return f"CASE WHEN {' OR '.join(checks)} THEN 'cap' ELSE '' END", params


def _label(key: str, channel: str) -> str:
    """The policy's own refusal text for a key, so the review and the results agree."""
    if key == "erased":
        return "customer erased"
    if key == "address":
        return f"address: no {channel} address"
    if key == "cap":
        return "frequency cap"
    status = key.removeprefix("consent:")
    if status == "opted_out":
        return f"consent: opted out of {channel}"
    what = "WhatsApp" if channel == "whatsapp" else f"marketing on {channel}"
    return f"consent: {what} needs opted_in (is {status})"


def broadcast_estimate(broadcast: Broadcast) -> dict:
    channels = _channels(broadcast)
    joins, cases = [], []
    for index, channel in enumerate(channels):
        join, case = _reason_sql(channel, index)
        joins.append(join)
        cases.append(case)
    caps, cap_params = _caps_sql(timezone.now())
    sql = f"""
        SELECT {", ".join(f"({c}) AS r{i}" for i, c in enumerate(cases))}, {caps} AS cap,
               COUNT(*)
        FROM {SegmentMembership._meta.db_table} m
        JOIN {Customer._meta.db_table} c ON c.id = m.customer_id
        {" ".join(joins)}
        WHERE m.segment_id = %s
        GROUP BY {", ".join(f"r{i}" for i in range(len(cases)))}, cap
    """
    members = 0
    reached: dict[str, int] = {}
    reasons: dict[str, int] = {}
    with connection.cursor() as cursor:
        # Parameters in the order they appear: one channel per CASE, the caps, one per join.
        cursor.execute(sql, [*channels, *cap_params, *channels, broadcast.segment_id])
        for *keys, cap, n in cursor.fetchall():
            members += n
            ok = next((ch for ch, key in zip(channels, keys, strict=True) if key == "ok"), None)
            if ok and not cap:
                reached[ok] = reached.get(ok, 0) + n
            else:
                label = _label("cap" if ok else keys[0], channels[0])
                reasons[label] = reasons.get(label, 0) + n
    share = 1 - broadcast.holdout_percent / 100
    holdout = round(members * broadcast.holdout_percent / 100)
    to_send = members - holdout
    return {
        "members": members,
        "holdout": holdout,
        "to_send": to_send,
        "test": round(to_send * broadcast.test_percent / 100) if broadcast.is_ab else 0,
        "reachable": round(sum(reached.values()) * share),
        "reachable_by_channel": {ch: round(n * share) for ch, n in reached.items()},
        "suppressed": round(sum(reasons.values()) * share),
        "suppressed_by_reason": {
            k: round(v * share) for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])
        },
    }
