"""Five representative dynamic segments, created through `segment_create` and fully refreshed."""

from time import perf_counter

from benchmarks.segments.statements import slowest, timed_statements

# The name of the segment the latency test makes customers enter.
CART_ABANDONERS = "Cart abandoners"

SEGMENTS: dict[str, dict] = {
    "Gamers (bought a video card)": {"bought": {"category": "Electronics / Video cards"}},
    "Champions not opening email in 60 days": {
        "all": [
            {"rfm": {"segment": "champions"}},
            {"event": {"name": "email_opened", "performed": False, "within_days": 60}},
        ]
    },
    "Loyalty members, no order in 30 days": {
        "all": [
            {"field": "attributes.loyalty_member", "op": "equals", "value": True},
            {"orders": {"count": {"equals": 0}, "within_days": 30}},
        ]
    },
    "Women 18-25 in big cities preferring Telegram": {
        "all": [
            {"field": "attributes.gender", "op": "equals", "value": "female"},
            {"field": "birth_date", "op": "age_between", "value": [18, 25]},
            {"field": "attributes.city_population", "op": "gte", "value": 1000000},
            {"field": "attributes.preferred_channel", "op": "equals", "value": "telegram"},
            {"reachable": "telegram"},
        ]
    },
    CART_ABANDONERS: {
        "all": [
            {"event": {"name": "add_to_cart", "within_days": 7}},
            {"orders": {"count": {"equals": 0}, "within_days": 7}},
        ]
    },
}


def create_and_refresh(timeout_seconds: float) -> list[dict]:
    """Create each segment, then refresh each twice: filling its membership, then with no change.

    `segment_create` also queues a background refresh; the benchmark's broker queue is emptied
    before its worker starts, so only the refreshes timed here run. A refresh still running after
    `timeout_seconds` is cancelled (PostgreSQL's statement_timeout) and reported as timed out, so
    one pathological plan cannot stall the run.
    """
    from django.db import OperationalError, connection

    from customers.services.segments import segment_create, segment_refresh

    segments = [
        segment_create(name=name, kind="dynamic", rules=rules) for name, rules in SEGMENTS.items()
    ]
    results = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {round(timeout_seconds * 1000)}")
    for segment in segments:
        runs = []
        for attempt in ("first", "second"):
            with timed_statements() as sent:
                started = perf_counter()
                try:
                    refreshed = segment_refresh(segment=segment)
                except OperationalError as exc:
                    if "statement timeout" not in str(exc):
                        raise
                    refreshed = None
                seconds = perf_counter() - started
            runs.append(
                {
                    f"{attempt}_refresh_seconds": round(seconds, 2),
                    f"{attempt}_refresh_timed_out": refreshed is None,
                    f"{attempt}_refresh_entered": refreshed.entered if refreshed else None,
                    f"{attempt}_refresh_left": refreshed.left if refreshed else None,
                    f"{attempt}_refresh_statements": slowest(sent, 4),
                    "members": refreshed.member_count if refreshed else None,
                }
            )
        result = {
            "segment": segment.name,
            "segment_id": segment.pk,
            "rules": segment.rules,
            **runs[1],
            **runs[0],
        }
        first, second = runs[0]["first_refresh_seconds"], runs[1]["second_refresh_seconds"]
        members = "timed out" if result["members"] is None else f"{result['members']:,}"
        print(
            f"  {segment.name:<48} {members:>9} members  first {first:6.2f} s  "
            f"again {second:6.2f} s",
            flush=True,
        )
        results.append(result)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    return results
