"""The unified customer timeline: every source merged newest-first, with cursor pagination.

Apps add sources with `register_timeline_source()` in their AppConfig.ready(), so this module
never imports from them (customers registers events, orders, consent changes and notes; channels
will register messages and conversations, campaigns journeys, analytics survey answers).

Each source is a queryset of one customer's rows with a time field. A page asks every source for
at most `limit + 1` rows strictly older than the cursor position, merges them and keeps `limit`.
Position is (time, kind, id), so rows with equal times still page in a stable order.
"""

import base64
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db.models import Model, Q, QuerySet

MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    kind: str
    id: int
    title: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    rows_for_customer: Callable[[int], QuerySet]
    time_field: str
    to_entry: Callable[[Model], TimelineEntry]
    # The channel of each row, for the channel filter: a field of the row, or one channel for
    # every row (calls are "voice"). A source with neither is left out when filtering by channel.
    channel_field: str = ""
    channel: str = ""


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


_sources: dict[str, TimelineSource] = {}


def register_timeline_source(source: TimelineSource) -> None:
    _sources[source.kind] = source


def timeline_kinds() -> list[str]:
    return sorted(_sources)


class InvalidCursor(ValueError):
    pass


def encode_cursor(entry: TimelineEntry) -> str:
    raw = orjson.dumps([entry.occurred_at.isoformat(), entry.kind, entry.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, kind, pk = orjson.loads(raw)
        # The position goes into SQL: in UTC (PostgreSQL refuses offsets such as +20:00) and
        # with an id a bigint holds, or a hand-made cursor would be a 500 instead of a 400.
        moment, pk = datetime.fromisoformat(when), int(pk)
        if moment.tzinfo is None or abs(pk) > MAX_ID:
            raise ValueError
        return moment.astimezone(UTC), str(kind), pk
    except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise InvalidCursor("not a cursor this API gave out") from None


def _older_than(source: TimelineSource, position: tuple[datetime, str, int]) -> Q:
    when, kind, pk = position
    time = source.time_field
    if source.kind < kind:
        return Q(**{f"{time}__lte": when})
    if source.kind > kind:
        return Q(**{f"{time}__lt": when})
    return Q(**{f"{time}__lt": when}) | Q(**{time: when, "pk__lt": pk})


def _newer_than(source: TimelineSource, position: tuple[datetime, str, int]) -> Q:
    when, kind, pk = position
    time = source.time_field
    if source.kind > kind:
        return Q(**{f"{time}__gte": when})
    if source.kind < kind:
        return Q(**{f"{time}__gt": when})
    return Q(**{f"{time}__gt": when}) | Q(**{time: when, "pk__gt": pk})


def _rows(source: TimelineSource, customer_id: int, channels: list[str] | None) -> QuerySet | None:
    rows = source.rows_for_customer(customer_id)
    if not channels:
        return rows
    if source.channel_field:
        return rows.filter(**{f"{source.channel_field}__in": channels})
    if source.channel and source.channel in channels:
        return rows
    return None


def _sort_key(entry: TimelineEntry) -> tuple:
    return (entry.occurred_at, entry.kind, entry.id)


def customer_timeline(
    customer_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    kinds: list[str] | None = None,
    channels: list[str] | None = None,
) -> TimelinePage:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = decode_cursor(cursor) if cursor else None
    streams = []
    for kind, source in sorted(_sources.items()):
        if kinds and kind not in kinds:
            continue
        rows = _rows(source, customer_id, channels)
        if rows is None:
            continue
        if position is not None:
            rows = rows.filter(_older_than(source, position))
        rows = rows.order_by(f"-{source.time_field}", "-pk")[: limit + 1]
        streams.append([source.to_entry(row) for row in rows])
    merged = list(heapq.merge(*streams, key=_sort_key, reverse=True))
    page = merged[:limit]
    next_cursor = encode_cursor(page[-1]) if len(merged) > limit else None
    return TimelinePage(entries=page, next_cursor=next_cursor)


def timeline_head_cursor(entries: list[TimelineEntry], now: datetime) -> str:
    """The position to poll from: the newest entry shown, or `now` when none is."""
    if entries:
        return encode_cursor(entries[0])
    return encode_cursor(TimelineEntry(occurred_at=now, kind="", id=0, title=""))


def customer_timeline_since(
    customer_id: int,
    *,
    cursor: str,
    limit: int = 50,
    kinds: list[str] | None = None,
    channels: list[str] | None = None,
) -> TimelinePage:
    """Entries newer than `cursor` (a page's head), newest first: what a page polls for. The
    page's `next_cursor` is the new head to poll from (the same cursor when nothing is new)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = decode_cursor(cursor)
    streams = []
    for kind, source in sorted(_sources.items()):
        if kinds and kind not in kinds:
            continue
        rows = _rows(source, customer_id, channels)
        if rows is None:
            continue
        rows = rows.filter(_newer_than(source, position))
        rows = rows.order_by(source.time_field, "pk")[:limit]
        streams.append([source.to_entry(row) for row in reversed(rows)])
    merged = list(heapq.merge(*streams, key=_sort_key, reverse=True))[-limit:]
    # With more than `limit` new entries the oldest new ones are kept, and the next poll brings
    # the rest; the head moves to the newest entry returned.
    return TimelinePage(entries=merged, next_cursor=encode_cursor(merged[0]) if merged else cursor)
