from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Note,
    Order,
    RfmScore,
    RfmSegment,
    SegmentMembership,
)
from customers.normalize import normalize_phone
from customers.services.rfm import RFM_SEGMENT_GRID


def customer_list() -> QuerySet[Customer]:
    """Live (not erased) customers with what the API shows of each, loaded in four queries."""
    return (
        Customer.objects.filter(erased_at__isnull=True)
        .select_related("rfm", "value")
        .prefetch_related(
            "identities",
            "consents",
            Prefetch(
                "segment_memberships",
                queryset=SegmentMembership.objects.select_related("segment").order_by("segment_id"),
            ),
        )
    )


def customer_get(*, external_id: str) -> Customer:
    """The live customer with this CRM id, or 404."""
    return get_object_or_404(customer_list(), external_id=external_id)


def consent_list(*, customer: Customer) -> QuerySet[Consent]:
    return Consent.objects.filter(customer=customer).order_by("channel")


def customer_export_data(*, customer: Customer) -> dict[str, Any]:
    """Everything Kaskad holds about one customer (GDPR art. 15 and 20), as plain JSON data."""
    return {
        "exported_at": timezone.now(),
        "profile": {
            "external_id": customer.external_id,
            "email": customer.email,
            "phone": customer.phone,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "locale": customer.locale,
            "timezone": customer.timezone,
            "birth_date": customer.birth_date,
            "lifecycle_stage": customer.lifecycle_stage,
            "attributes": customer.attributes,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
        },
        "identities": list(
            ChannelIdentity.objects.filter(customer=customer)
            .order_by("channel", "address")
            .values("channel", "address", "created_at")
        ),
        "consents": list(
            consent_list(customer=customer).values("channel", "status", "source", "updated_at")
        ),
        "consent_log": list(
            ConsentChange.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values("channel", "previous_status", "status", "source", "occurred_at")
        ),
        "events": list(
            Event.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values("event_id", "name", "properties", "occurred_at", "received_at", "source")
        ),
        "orders": [
            {
                "external_id": order.external_id,
                "status": order.status,
                "placed_at": order.placed_at,
                "total": order.total,
                "currency": order.currency,
                "promo_code": order.promo_code,
                "items": [
                    {
                        "sku": i.sku,
                        "name": i.name,
                        "category": i.category,
                        "quantity": i.quantity,
                        "price": i.price,
                    }
                    for i in order.items.all()
                ],
            }
            for order in Order.objects.filter(customer=customer)
            .order_by("placed_at", "pk")
            .prefetch_related("items")
        ],
        "notes": list(
            Note.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("body", "created_at")
        ),
    }


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _average(amount: Decimal | None, count: int) -> Decimal | None:
    if not count or amount is None:
        return None
    return (Decimal(amount) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rfm_matrix() -> dict[str, Any]:
    """Customers, share and average monetary per R×F cell and per RFM segment.

    Every cell (R 5→1, F 1→5, as the matrix is drawn) and every segment is listed, empty ones too.
    One GROUP BY (r, f) in the database: a segment is a function of its cell (RFM_SEGMENT_GRID),
    so each segment's figures are the sums of its cells.
    """
    cells = {
        (row["r"], row["f"]): row
        for row in RfmScore.objects.values("r", "f")
        .annotate(
            customers=Count("*"),
            monetary=Sum("monetary"),
            as_of=Max("as_of"),
            computed_at=Max("computed_at"),
        )
        .order_by()
    }
    total = sum(row["customers"] for row in cells.values())
    segments = {s.value: {"customers": 0, "monetary": None} for s in RfmSegment}
    out_cells = []
    for r, row in RFM_SEGMENT_GRID.items():
        for f, segment in enumerate(row, start=1):
            cell = cells.get((r, f), {"customers": 0, "monetary": None})
            group = segments[segment.value]
            group["customers"] += cell["customers"]
            if cell["monetary"] is not None:
                group["monetary"] = (group["monetary"] or 0) + cell["monetary"]
            out_cells.append(
                {
                    "r": r,
                    "f": f,
                    "segment": segment.value,
                    "customers": cell["customers"],
                    "share": _share(cell["customers"], total),
                    "avg_monetary": _average(cell["monetary"], cell["customers"]),
                }
            )
    return {
        "customers": total,
        "as_of": max((row["as_of"] for row in cells.values()), default=None),
        "computed_at": max((row["computed_at"] for row in cells.values()), default=None),
        "cells": out_cells,
        "segments": [
            {
                "segment": segment.value,
                "label": segment.label,
                "customers": (group := segments[segment.value])["customers"],
                "share": _share(group["customers"], total),
                "avg_monetary": _average(group["monetary"], group["customers"]),
            }
            for segment in RfmSegment
        ],
    }


# --- Global search (the workspace's header box) ----------------------------------------------

SEARCH_NAME_MIN = 3  # shorter words cannot use the trigram indexes (customers 0002)
SEARCH_NAME_CANDIDATES = 200  # rows read for a name search before ranking; bounds its cost
_PHONE_CHARS = set("0123456789+()-. ")


@dataclass(frozen=True)
class SearchMatch:
    customer: Customer
    matched_by: str  # phone | email | external_id | order | identity | name
    exact: bool
    detail: str = ""  # the order id or the address that matched


@dataclass(frozen=True)
class SearchResult:
    query: str
    matches: list[SearchMatch]
    phone: str = ""  # the query as an E.164 phone, when it is one
    too_short: bool = False  # a name search needs a word of SEARCH_NAME_MIN letters

    @property
    def exact(self) -> SearchMatch | None:
        """The single customer an exact lookup found, if exactly one did."""
        exact = [m for m in self.matches if m.exact]
        ids = {m.customer.pk for m in exact}
        return exact[0] if len(ids) == 1 else None


def _as_phone(q: str) -> str:
    digits = sum(ch.isdigit() for ch in q)
    if digits < 7 or not set(q) <= _PHONE_CHARS:
        return ""
    try:
        return normalize_phone(q)
    except ValueError:
        return ""


def _exact_matches(q: str, phone: str) -> list[SearchMatch]:
    """Lookups that each read one unique or plain b-tree index: phone, email, ids, addresses."""
    live = Customer.objects.filter(erased_at__isnull=True)
    found: list[SearchMatch] = []
    if phone:
        found += [SearchMatch(c, "phone", True, phone) for c in live.filter(phone=phone)[:20]]
        found += [
            SearchMatch(i.customer, "identity", True, f"{i.channel}: {i.address}")
            for i in ChannelIdentity.objects.select_related("customer")
            .filter(address=phone, channel__in=["sms", "whatsapp", "voice"])
            .filter(customer__erased_at__isnull=True)[:20]
        ]
    if "@" in q and " " not in q:
        email = q.lower()
        found += [SearchMatch(c, "email", True, email) for c in live.filter(email=email)[:20]]
        found += [
            SearchMatch(i.customer, "identity", True, f"{i.channel}: {i.address}")
            for i in ChannelIdentity.objects.select_related("customer")
            .filter(address=email, channel="email")
            .filter(customer__erased_at__isnull=True)[:20]
        ]
    if len(q) <= 255:
        found += [SearchMatch(c, "external_id", True, q) for c in live.filter(external_id=q)]
        found += [
            SearchMatch(o.customer, "order", True, o.external_id)
            for o in Order.objects.select_related("customer")
            .filter(external_id=q)
            .filter(customer__erased_at__isnull=True)
        ]
        if not phone and ("@" not in q or q.startswith("@")):  # Telegram chat id / @username
            found += [
                SearchMatch(i.customer, "identity", True, f"{i.channel}: {i.address}")
                for i in ChannelIdentity.objects.select_related("customer")
                .filter(address=q, channel__in=["telegram", "viber", "push"])
                .filter(customer__erased_at__isnull=True)[:20]
            ]
    return found


def _word_filter(word: str, vendor: str) -> Q:
    # icontains is UPPER(col) LIKE UPPER('%word%') on PostgreSQL: the customer_*_trgm indexes.
    variants = {word} if vendor == "postgresql" else {word, word.lower(), word.capitalize()}
    q = Q()
    for variant in variants:  # SQLite's LIKE folds ASCII only; these cover "анна" → "Анна"
        q |= (
            Q(first_name__icontains=variant)
            | Q(last_name__icontains=variant)
            | Q(email__icontains=variant)
        )
    return q


def _name_rank(customer: Customer, words: list[str]) -> tuple:
    name = customer.full_name.lower()
    joined = " ".join(words).lower()
    parts = name.split()
    return (
        name != joined,  # the whole name as typed
        not all(any(p.startswith(w.lower()) for p in parts) for w in words),  # word starts
        customer.last_name.lower(),
        customer.first_name.lower(),
        customer.pk,
    )


def _name_matches(words: list[str], limit: int) -> list[SearchMatch]:
    """Customers whose first name, last name or email contains every word (3+ letters each).

    No ORDER BY in SQL: a sort would make PostgreSQL read every match (or walk the primary key
    looking for rare names). A bitmap scan of the trigram indexes with a LIMIT reads at most
    SEARCH_NAME_CANDIDATES rows; they are ranked here.
    """
    vendor = connection.vendor
    condition = Q()
    for word in words:
        condition &= _word_filter(word, vendor)
    rows = Customer.objects.filter(erased_at__isnull=True).filter(condition).order_by()
    if vendor == "postgresql":
        # With a LIMIT the planner bets on a sequential scan finding enough rows early, and
        # loses badly on rare names (a full scan of 1M rows). A materialised CTE is planned
        # without the LIMIT, so it takes the trigram indexes; the LIMIT then stops its heap scan.
        sql, params = rows.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH m AS MATERIALIZED ({sql}) SELECT id FROM m LIMIT %s",
                [*params, SEARCH_NAME_CANDIDATES],
            )
            ids = [row[0] for row in cursor.fetchall()]
        candidates = list(Customer.objects.filter(pk__in=ids)) if ids else []
    else:
        candidates = list(rows[:SEARCH_NAME_CANDIDATES])
    candidates.sort(key=lambda c: _name_rank(c, words))
    return [SearchMatch(c, "name", False) for c in candidates[:limit]]


def customer_search(q: str, limit: int = 20) -> SearchResult:
    """Find customers from one search box: a phone in any notation, an email, a name (any script,
    any part of it), the CRM's customer id, an order id, or a channel address.

    Exact lookups run first and only read unique or b-tree indexes; the name search (trigram
    indexes on PostgreSQL) runs only when the query has letters and a word of at least
    SEARCH_NAME_MIN characters, and reads a bounded number of rows.
    """
    q = " ".join((q or "").split())[:200]
    if not q:
        return SearchResult(query="", matches=[])
    phone = _as_phone(q)
    matches = _exact_matches(q, phone)
    seen = {m.customer.pk for m in matches}
    words = [w for w in q.replace(",", " ").split() if w]
    if "@" in q and not q.startswith("@") and len(words) == 1:
        # An email that is nobody's exactly: look for its local part ("ivan.petrov"), whose
        # trigrams are rarer than the domain's, which every customer of that provider shares.
        words = [q.split("@")[0]]
    too_short = False
    # An exact hit is what was meant: the fuzzy search, the costly part, runs only without one.
    if not phone and not matches and any(ch.isalpha() for ch in q):
        long_words = [w for w in words if len(w) >= SEARCH_NAME_MIN]
        if long_words:
            for match in _name_matches(words, limit):
                if match.customer.pk not in seen:
                    seen.add(match.customer.pk)
                    matches.append(match)
        elif not matches:
            too_short = True
    unique: dict[int, SearchMatch] = {}
    for match in matches:
        unique.setdefault(match.customer.pk, match)
    return SearchResult(
        query=q, matches=list(unique.values())[:limit], phone=phone, too_short=too_short
    )
