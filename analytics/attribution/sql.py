"""The SQL that attributes a set of orders to their touches: one INSERT … SELECT per model.

Orders × their customer's messages, with each message's touch time worked out from its channel's
rule (the earliest engagement the rule counts), kept when the touch falls inside the channel's
window before the order; window functions then pick the last touch, the first touch, or give
every touch 1/n. The message's source is parsed from its `source_ref` in SQL (broadcasts write
"broadcast:<id>:<variant>", journeys "journey:<journey>:<enrollment>:<step>"), the template comes
from campaigns' MessageTemplateUse. PostgreSQL and SQLite differ only in the few expressions
below (interval arithmetic, string search, a digits test).
"""

from __future__ import annotations

from django.db import connection

from analytics.models.attribution import AttributionModel, OrderAttribution, TouchRule
from campaigns.message_templates.models import MessageTemplateUse, TemplateVersion
from channels.models import Message, MessageSource
from customers.models import Order

# Messages that can be credited: what campaigns, journeys and CRMs (through the API) send. Agent
# replies, auto-replies and system messages (consent confirmations) are not marketing touches.
CREDITED_SOURCES = (MessageSource.CAMPAIGN, MessageSource.JOURNEY, MessageSource.API)
# Orders that count, as in broadcast and journey results: completed ones.
CREDITED_ORDER_STATUSES = (Order.Status.COMPLETED,)
# A message engaged with more than this long after it was queued is not credited; it also bounds
# the messages read per order (the message_timeline index, customer then queued_at).
ENGAGEMENT_LOOKBACK_DAYS = 30


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _minus_seconds(column: str, seconds: str) -> str:
    if _postgres():
        return f"({column} - make_interval(secs => {seconds}))"
    return f"datetime({column}, '-' || ({seconds}) || ' seconds')"


def _earliest(a: str, b: str) -> str:
    """The earlier of two timestamps, ignoring a null one (LEAST differs between databases)."""
    return f"COALESCE(CASE WHEN {a} < {b} THEN {a} ELSE {b} END, {a}, {b})"


def _touch_time(rule: str) -> str:
    if rule == TouchRule.DELIVERED:
        return _earliest(_earliest("m.delivered_at", "m.opened_at"), "m.clicked_at")
    if rule == TouchRule.OPENED:
        return _earliest("m.opened_at", "m.clicked_at")
    return "m.clicked_at"


def _per_channel(settings: dict[str, tuple[str, int]]) -> tuple[str, str]:
    """(touch time, window in seconds) as CASE expressions over m.channel. Channel names come
    from the Channel enum and windows are ints, so they are safe to write into the SQL."""
    touched = " ".join(
        f"WHEN '{channel}' THEN {_touch_time(rule)}" for channel, (rule, _) in settings.items()
    )
    window = " ".join(
        f"WHEN '{channel}' THEN {int(hours) * 3600}" for channel, (_, hours) in settings.items()
    )
    return f"CASE m.channel {touched} END", f"CASE m.channel {window} ELSE 0 END"


def _position(text: str) -> str:
    return f"{'strpos' if _postgres() else 'instr'}({text}, ':')"


def _after_colon(text: str) -> str:
    return f"substr({text}, {_position(text)} + 1)"


def _before_colon(text: str) -> str:
    padded = f"{text} || ':'"
    return f"substr({text}, 1, {_position(padded)} - 1)"


def _int_or_null(text: str) -> str:
    if _postgres():
        return f"CASE WHEN {text} ~ '^[0-9]{{1,18}}$' THEN CAST({text} AS bigint) END"
    return (
        f"CASE WHEN {text} <> '' AND {text} NOT GLOB '*[^0-9]*' AND length({text}) <= 18 "
        f"THEN CAST({text} AS integer) END"
    )


def _source_columns() -> str:
    """broadcast_id, journey_id and step from t.source and t.source_ref."""
    ref = "t.source_ref"
    second = _before_colon(_after_colon(ref))
    fourth = _after_colon(_after_colon(_after_colon(ref)))
    is_broadcast = f"t.source = '{MessageSource.CAMPAIGN}' AND {ref} LIKE 'broadcast:%%:%%'"
    is_journey = f"t.source = '{MessageSource.JOURNEY}' AND {ref} LIKE 'journey:%%:%%:%%'"
    return (
        f"CASE WHEN {is_broadcast} THEN {_int_or_null(second)} END, "
        f"CASE WHEN {is_journey} THEN {_int_or_null(second)} END, "
        f"CASE WHEN {is_journey} THEN substr({fourth}, 1, 40) ELSE '' END"
    )


def _touches(settings: dict[str, tuple[str, int]], order_count: int, ranking: str) -> str:
    """Every touch of the given orders, with `ranking` (window-function columns) added."""
    touched, window = _per_channel(settings)
    placeholders = ", ".join(["%s"] * order_count)
    sources = ", ".join(f"'{s}'" for s in CREDITED_SOURCES)
    statuses = ", ".join(f"'{s}'" for s in CREDITED_ORDER_STATUSES)
    longest_window = max((hours for _, hours in settings.values()), default=0)
    lookback = ENGAGEMENT_LOOKBACK_DAYS * 86400 + int(longest_window) * 3600
    return f"""
        SELECT c.*, {ranking}
        FROM (
            SELECT o.id AS order_id, o.customer_id, o.placed_at, o.total,
                   m.id AS message_id, m.channel, m.source, m.source_ref,
                   {touched} AS touched_at, {window} AS window_s
            FROM {Order._meta.db_table} o
            JOIN {Message._meta.db_table} m ON m.customer_id = o.customer_id
            WHERE o.id IN ({placeholders}) AND o.status IN ({statuses})
              AND m.source IN ({sources})
              AND m.queued_at <= o.placed_at
              AND m.queued_at >= {_minus_seconds("o.placed_at", str(lookback))}
        ) c
        WHERE c.touched_at IS NOT NULL AND c.touched_at <= c.placed_at
          AND c.touched_at >= {_minus_seconds("c.placed_at", "c.window_s")}
    """


RANKING = {
    AttributionModel.LAST_TOUCH: (
        "ROW_NUMBER() OVER (PARTITION BY c.order_id ORDER BY c.touched_at DESC, c.message_id DESC)"
        " AS pick, 1 AS n"
    ),
    AttributionModel.FIRST_TOUCH: (
        "ROW_NUMBER() OVER (PARTITION BY c.order_id ORDER BY c.touched_at, c.message_id) AS pick,"
        " 1 AS n"
    ),
    AttributionModel.LINEAR: "1 AS pick, COUNT(*) OVER (PARTITION BY c.order_id) AS n",
}


def attribution_insert_sql(
    model: str, settings: dict[str, tuple[str, int]], order_count: int
) -> str:
    """INSERT the model's rows for `order_count` orders (the ids are the parameters)."""
    uses, versions = MessageTemplateUse._meta.db_table, TemplateVersion._meta.db_table
    return f"""
        INSERT INTO {OrderAttribution._meta.db_table}
            (order_id, message_id, customer_id, placed_at, model, weight, revenue, touched_at,
             channel, source, broadcast_id, journey_id, step, template_id)
        SELECT t.order_id, t.message_id, t.customer_id, t.placed_at, '{model}',
               1.0 / t.n, ROUND(t.total * 1.0 / t.n, 2), t.touched_at, t.channel, t.source,
               {_source_columns()}, v.template_id
        FROM ({_touches(settings, order_count, RANKING[model])}) t
        LEFT JOIN {uses} u ON u.message_id = t.message_id
        LEFT JOIN {versions} v ON v.id = u.version_id
        WHERE t.pick = 1
    """
