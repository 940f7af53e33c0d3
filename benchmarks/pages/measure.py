"""Server time of each page, next to the Django admin's equivalent.

A page is (label, build, baseline label, goal): `build(samples, i)` returns the URL of the i-th
request (each request takes another sample customer, order or conversation, so no single row stays
hot), raises NoReverseMatch while the page is not installed (it is then reported, not measured), or
returns None when the data give it nothing to show. The same list drives the table, so adding a
page after a merge is one line.

Requests go through Django's test Client in this process: URL resolution, middleware (sessions,
CSRF, locale, CSP), the view, its queries and the template, with DEBUG off. No network, no WSGI
server, no static files.
"""

from __future__ import annotations

import html
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter

from django.urls import NoReverseMatch, reverse

SAMPLES = 200
GOAL_MS = 150
GOAL_RFM_MS = 500
PAGE_BUDGET_SECONDS = 120  # a slow page stops early (after at least 10 requests), said in the table


@dataclass
class Samples:
    customers: list[dict]  # id, external_id, email, phone, first_name, last_name
    orders: list[tuple[str, str]]  # (order external id, its customer's external id)
    conversations: list[int]
    timeline_cursors: dict[str, str]  # external_id → the customer page's "Show more" query
    journey: int | None = None  # the 200-step journey the builder page draws


@dataclass(frozen=True)
class Page:
    label: str
    build: Callable[[Samples, int], str | None]
    baseline: str | None = None  # the label of the admin page it is compared with
    # False when the admin has no equivalent page: the baseline is shown for scale only.
    beat_baseline: bool = True
    goal_ms: int = GOAL_MS
    htmx: bool = False  # sent as an htmx request (a partial)
    # Search answers a single match with a redirect to the customer page: that is its answer.
    statuses: tuple[int, ...] = (200,)
    # What the answer must name (in its body or its redirect), to check the page found the sample.
    expect: Callable[[Samples, int], str] | None = None


def load_samples(count: int = SAMPLES) -> Samples:
    """Customers spread over the id range (the generator gives low ids the most orders), their
    orders, and conversations; all from the database, in a fixed order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM customers_customer")
        top = cursor.fetchone()[0] or 0
        step = max(1, top // count)
        cursor.execute(
            "SELECT id, external_id, email, phone, first_name, last_name FROM customers_customer "
            "WHERE id %% %s = 1 ORDER BY id LIMIT %s",
            [step, count],
        )
        columns = [c.name for c in cursor.description]
        customers = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT o.external_id, c.external_id FROM customers_order o "
            "JOIN customers_customer c ON c.id = o.customer_id "
            "WHERE o.id %% %s = 7 ORDER BY o.id LIMIT %s",
            [max(1, _count(cursor, "customers_order") // count), count],
        )
        orders = [(row[0], row[1]) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM kaskad_channels_conversation ORDER BY id DESC LIMIT %s", [count]
        )
        conversations = [row[0] for row in cursor.fetchall()]
    from benchmarks.pages.journey import large_journey_id

    return Samples(customers, orders, conversations, {}, large_journey_id())


def _count(cursor, table: str) -> int:
    """The planner's estimate: no COUNT(*) over millions of rows."""
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
    row = cursor.fetchone()
    return max(1, int(row[0])) if row else 1


def _customer(s: Samples, i: int) -> dict:
    return s.customers[i % len(s.customers)]


def _local_phone(phone: str) -> str:
    """+79001234567 as a Russian agent types it: 8 900 123-45-67."""
    digits = phone.removeprefix("+7")
    return f"8 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


def _search(term: Callable[[Samples, int], str]) -> Callable[[Samples, int], str]:
    return lambda s, i: f"{reverse('workspace:search')}?q={_quote(term(s, i))}"


SEARCH_STATUSES = (200, 302)


def _admin_search(term: Callable[[Samples, int], str]) -> Callable[[Samples, int], str]:
    return lambda s, i: f"{reverse('admin:customers_customer_changelist')}?q={_quote(term(s, i))}"


def _quote(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value)


def _external_id(s: Samples, i: int) -> str:
    return _customer(s, i)["external_id"]


def _phone(s: Samples, i: int) -> str:
    return _local_phone(_customer(s, i)["phone"])


def _email(s: Samples, i: int) -> str:
    return _customer(s, i)["email"]


def _name(s: Samples, i: int) -> str:
    c = _customer(s, i)
    return f"{c['first_name']} {c['last_name']}"


def _order(s: Samples, i: int) -> str:
    return s.orders[i % len(s.orders)][0]


def _order_customer(s: Samples, i: int) -> str:
    return s.orders[i % len(s.orders)][1]


def _customer_page(s: Samples, i: int) -> str:
    return reverse("workspace:customer", args=[_customer(s, i)["external_id"]])


def _timeline_page(s: Samples, i: int) -> str | None:
    """The second page of a timeline, as infinite scroll asks for it (customers that have one)."""
    if not s.timeline_cursors:
        return None
    external_id, query = list(s.timeline_cursors.items())[i % len(s.timeline_cursors)]
    return f"{reverse('workspace:customer', args=[external_id])}{query}"


def _admin_change(s: Samples, i: int) -> str:
    return reverse("admin:customers_customer_change", args=[_customer(s, i)["id"]])


def _fixed(name: str, query: str = "") -> Callable[[Samples, int], str]:
    return lambda s, i: reverse(name) + query


PAGES: list[Page] = [
    Page(
        "search: phone (8 900 …)",
        _search(_phone),
        "admin customers ?q=phone",
        statuses=SEARCH_STATUSES,
        expect=_external_id,
    ),
    Page(
        "search: email",
        _search(_email),
        "admin customers ?q=email",
        statuses=SEARCH_STATUSES,
        expect=_external_id,
    ),
    Page("search: name", _search(_name), "admin customers ?q=name", statuses=SEARCH_STATUSES),
    Page(
        "search: order id",
        _search(_order),
        "admin orders ?q=order id",
        statuses=SEARCH_STATUSES,
        expect=_order_customer,
    ),
    Page("customer list", _fixed("workspace:customers"), "admin customers"),
    Page("customer page", _customer_page, "admin customer change"),
    Page("timeline page 2", _timeline_page, "admin customer change", htmx=True),
    Page("inbox list", _fixed("channels:inbox"), "admin conversations"),
    Page(
        "conversation",
        lambda s, i: reverse(
            "channels:inbox_conversation", args=[s.conversations[i % len(s.conversations)]]
        ),
        "admin conversations",
    ),
    Page("segment list", _fixed("customers:segments"), "admin segments"),
    Page("RFM", _fixed("customers:rfm"), "admin RFM scores", goal_ms=GOAL_RFM_MS),
    Page("message log", _fixed("channels:messages"), "admin messages"),
    Page(
        "journey builder, 200 steps",
        lambda s, i: reverse("campaigns:journey", args=[s.journey]) if s.journey else None,
        "admin customer change",
        goal_ms=200,  # issue 12: a 200-step journey renders in under 200 ms
        beat_baseline=False,  # the admin draws no graphs: its heaviest form, for scale
    ),
]

BASELINES: list[Page] = [
    Page("admin customers", _fixed("admin:customers_customer_changelist")),
    Page("admin customers ?q=phone", _admin_search(lambda s, i: _customer(s, i)["phone"])),
    Page("admin customers ?q=email", _admin_search(_email)),
    Page("admin customers ?q=name", _admin_search(_name)),
    Page(
        "admin orders ?q=order id",
        lambda s, i: f"{reverse('admin:customers_order_changelist')}?q={_order(s, i)}",
    ),
    Page("admin customer change", _admin_change),
    Page("admin conversations", _fixed("admin:kaskad_channels_conversation_changelist")),
    Page("admin segments", _fixed("admin:customers_segment_changelist")),
    Page("admin RFM scores", _fixed("admin:customers_rfmscore_changelist")),
    Page("admin messages", _fixed("admin:kaskad_channels_message_changelist")),
]

TIMELINE_SAMPLES = 50
SHOW_MORE = re.compile(r'href="(\?[^"]*cursor=[^"]*)"')


def find_timeline_cursors(client, samples: Samples) -> None:
    """The customer page's "Show more" link of each sample customer (the timeline's 2nd page)."""
    try:
        reverse("workspace:customer", args=["x"])
    except NoReverseMatch:
        return
    for customer in samples.customers:
        if len(samples.timeline_cursors) >= TIMELINE_SAMPLES:
            break
        response = client.get(reverse("workspace:customer", args=[customer["external_id"]]))
        if response.status_code != 200:
            continue
        found = SHOW_MORE.search(response.content.decode())
        if found:
            samples.timeline_cursors[customer["external_id"]] = html.unescape(found.group(1))


def measure(client, page: Page, samples: Samples, requests: int, warmup: int) -> dict:
    try:
        first = page.build(samples, 0)
    except NoReverseMatch:
        return {"label": page.label, "status": "not installed"}
    if first is None:
        return {"label": page.label, "status": "no data"}
    headers = {"HTTP_HX_REQUEST": "true"} if page.htmx else {}
    times: list[float] = []
    found = 0
    started = perf_counter()
    for i in range(warmup + requests):
        url = page.build(samples, i)
        if url is None:
            continue
        t0 = perf_counter()
        response = client.get(url, **headers)
        elapsed = perf_counter() - t0
        if response.status_code not in page.statuses:
            return {"label": page.label, "status": f"HTTP {response.status_code} on {url}"}
        if i >= warmup:
            times.append(elapsed * 1000)
            if page.expect:
                answer = response.get("Location", "") + response.content.decode()
                found += page.expect(samples, i) in answer
        if len(times) >= 10 and perf_counter() - started > PAGE_BUDGET_SECONDS:
            break
    return {
        "label": page.label,
        "status": "ok",
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
        "found": found if page.expect else None,
    }


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def run(user, requests: int, warmup: int, only: str = "") -> dict:
    from django.test import Client

    client = Client()
    client.force_login(user)
    samples = load_samples()
    find_timeline_cursors(client, samples)
    wanted = [p for p in PAGES if only.lower() in p.label.lower()] if only else PAGES
    needed = {p.baseline for p in wanted} if only else {b.label for b in BASELINES}
    print(f"\nPages: {requests} requests each after {warmup} untimed, signed in as a superuser")
    results: dict[str, dict] = {}
    for page in [b for b in BASELINES if b.label in needed] + wanted:
        result = measure(client, page, samples, requests, warmup)
        results[page.label] = result
        if result["status"] == "ok":
            print(
                f"  {page.label:<28} p50 {result['p50_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms"
                f"  ({result['requests']} requests"
                + (f", found {result['found']})" if result["found"] is not None else ")"),
                flush=True,
            )
        else:
            print(f"  {page.label:<28} {result['status']}", flush=True)
    table = _table(wanted, results)
    print("\n" + table)
    return {"results": results, "table": table}


def _table(pages: list[Page], results: dict[str, dict]) -> str:
    def cell(result: dict | None) -> tuple[str, str]:
        if not result or result["status"] != "ok":
            return ("—", "—")
        return (f"{result['p50_ms']:.0f}", f"{result['p95_ms']:.0f}")

    rows = [
        "| page | p50 ms | p95 ms | admin equivalent | admin p50 / p95 ms | goal p95 | met? |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for page in pages:
        result = results.get(page.label, {})
        base = results.get(page.baseline or "", {})
        p50, p95 = cell(result)
        b50, b95 = cell(base)
        if result.get("status") != "ok":
            met = result.get("status", "—")
        else:
            within = result["p95_ms"] <= page.goal_ms
            faster = (
                not page.beat_baseline
                or base.get("status") != "ok"
                or result["p95_ms"] < base["p95_ms"]
            )
            met = "yes" if within and faster else ("no: slower than admin" if within else "no")
        rows.append(
            f"| {page.label} | {p50} | {p95} | {page.baseline or '—'} | {b50} / {b95} | "
            f"≤ {page.goal_ms} | {met} |"
        )
    rows.append("")
    rows.append("| admin page | p50 ms | p95 ms | requests |")
    rows.append("|---|---:|---:|---:|")
    for baseline in BASELINES:
        result = results.get(baseline.label)
        if result:
            p50, p95 = cell(result)
            rows.append(f"| {baseline.label} | {p50} | {p95} | {result.get('requests', '—')} |")
    return "\n".join(rows)
