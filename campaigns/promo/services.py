"""Promo code services a journey or broadcast calls: generate, import, reserve, issue, release,
redeem and expire. Names follow `<entity>_<action>`.

Concurrency: a reservation picks an available code with `SELECT … FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent senders never wait on each other nor take the same code; the partial
unique index (pool, customer) makes a second code for the same customer impossible, and a race
for the same customer falls back to the code the winner took.
"""

import logging
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.promo.models import (
    LOOKALIKES,
    PromoCode,
    PromoCodeStatus,
    PromoPool,
    PromoRedemption,
)
from customers.models import Customer

log = logging.getLogger(__name__)

GENERATE_CHUNK = 5_000
GENERATE_MAX = 1_000_000
RESERVE_BATCH = 1_000
CODE_MAX_LENGTH = 64


class PromoError(Exception):
    """A promo action refused, with a machine code and a message for people."""

    code = "promo_error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class PromoStockExhausted(PromoError):
    code = "out_of_stock"


class PromoPoolUnavailable(PromoError):
    code = "pool_unavailable"


def promo_code_normalise(value: str) -> str:
    return "".join(str(value).split()).upper()


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def promo_alphabet_clean(alphabet: str) -> str:
    """Distinct upper-case characters, look-alikes (0 O 1 I L) removed."""
    seen = []
    for char in alphabet.upper():
        if char.isalnum() and char not in LOOKALIKES and char not in seen:
            seen.append(char)
    return "".join(seen)


def promo_pool_create(**fields) -> PromoPool:
    fields["alphabet"] = promo_alphabet_clean(
        fields.get("alphabet") or PromoPool.alphabet.field.default
    )
    fields["prefix"] = promo_code_normalise(fields.get("prefix") or "")
    pool = PromoPool(**fields)
    pool.full_clean(exclude=["low_stock_alerted_at"])
    pool.save()
    return pool


def promo_pool_update(pool: PromoPool, **fields) -> PromoPool:
    for name, value in fields.items():
        setattr(pool, name, value)
    if "alphabet" in fields:
        pool.alphabet = promo_alphabet_clean(pool.alphabet)
    if "prefix" in fields:
        pool.prefix = promo_code_normalise(pool.prefix)
    pool.full_clean()
    pool.save()
    return pool


def promo_pool_archive(pool: PromoPool) -> PromoPool:
    if pool.archived_at is None:
        pool.archived_at = timezone.now()
        pool.save(update_fields=["archived_at"])
    return pool


def promo_codes_generate(pool: PromoPool, count: int) -> int:
    """Add `count` new codes to a unique pool from its pattern. Returns how many were added.

    Codes are drawn with `secrets` and inserted in chunks with ON CONFLICT DO NOTHING; the loop
    goes on until `count` new codes exist, so clashes with existing codes cost a retry, not an
    error. Refuses when the pattern cannot hold that many more codes.
    """
    if pool.kind == PromoPool.Kind.SHARED:
        if PromoCode.objects.filter(pool=pool).exists():
            raise PromoError(_("A shared pool has one code, and this one has it."), "kind")
        count = 1
    if not 1 <= count <= GENERATE_MAX:
        raise PromoError(
            _("Generate between 1 and %(max)s codes at a time.") % {"max": GENERATE_MAX}, "count"
        )
    space = len(pool.alphabet) ** pool.code_length
    existing = PromoCode.objects.filter(pool=pool).count()
    # Keep the pattern at most half full, so random draws keep finding free codes quickly.
    if existing + count > space // 2:
        raise PromoError(
            _("The pattern is too small for that many codes: make the codes longer."), "pattern"
        )
    target = existing + count
    now = timezone.now()
    have = existing
    for _attempt in range(1000):
        if have >= target:
            break
        missing = target - have
        chunk = min(GENERATE_CHUNK, missing)
        drawn = {
            pool.prefix + "".join(secrets.choice(pool.alphabet) for _ in range(pool.code_length))
            for _ in range(chunk)
        }
        PromoCode.objects.bulk_create(
            [PromoCode(pool=pool, code=c, created_at=now) for c in drawn],
            ignore_conflicts=True,
            batch_size=GENERATE_CHUNK,
        )
        have = PromoCode.objects.filter(pool=pool).count()
    return have - existing


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    refused: list[dict] = field(default_factory=list)  # {"line", "code", "reason"}


def promo_codes_import(pool: PromoPool, rows) -> ImportReport:
    """Import codes, one per row (the first column), into a pool. Deduplicates within the file and
    against the pool; refuses rows with a reason (empty, too long, bad characters)."""
    report = ImportReport()
    wanted: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        raw = row[0] if isinstance(row, list | tuple) else row
        raw = (raw or "").strip()
        if line == 1 and raw.lower() in {"code", "promo_code", "код"}:
            continue  # a header
        code = promo_code_normalise(raw)
        if not code:
            report.refused.append({"line": line, "code": raw, "reason": "empty"})
        elif len(code) > CODE_MAX_LENGTH:
            report.refused.append({"line": line, "code": raw[:80], "reason": "too_long"})
        elif not all(c.isalnum() or c in "-_" for c in code):
            report.refused.append({"line": line, "code": raw[:80], "reason": "bad_characters"})
        elif code in wanted:
            report.duplicates += 1
        else:
            wanted[code] = line
    if pool.kind == PromoPool.Kind.SHARED:
        has_code = PromoCode.objects.filter(pool=pool).exists()
        if has_code or len(wanted) > 1:
            for code, line in list(wanted.items())[0 if has_code else 1 :]:
                report.refused.append(
                    {"line": line, "code": code, "reason": "shared_pool_has_one_code"}
                )
            wanted = {} if has_code else dict(list(wanted.items())[:1])
    with transaction.atomic():
        codes = list(wanted)
        for start in range(0, len(codes), GENERATE_CHUNK):
            chunk = codes[start : start + GENERATE_CHUNK]
            taken = set(
                PromoCode.objects.filter(pool=pool, code__in=chunk).values_list("code", flat=True)
            )
            report.duplicates += len(taken)
            PromoCode.objects.bulk_create(
                [PromoCode(pool=pool, code=c) for c in chunk if c not in taken],
                ignore_conflicts=True,
            )
            report.created += len(chunk) - len(taken)
    report.refused.sort(key=lambda r: r["line"])
    return report


def _check_pool(pool: PromoPool, now) -> None:
    if pool.archived_at is not None:
        raise PromoPoolUnavailable(_("The pool is archived."))
    if pool.valid_until is not None and pool.valid_until <= now:
        raise PromoPoolUnavailable(_("The pool's codes have expired."))


def promo_code_reserve(pool: PromoPool, customer, message=None) -> PromoCode:
    """Reserve a code of `pool` for `customer` (for `message`, if given). Idempotent per
    (pool, customer): a customer who already holds a code of this pool gets it back."""
    now = timezone.now()
    _check_pool(pool, now)
    if pool.kind == PromoPool.Kind.SHARED:
        shared = PromoCode.objects.filter(pool=pool).first()
        if shared is None:
            raise PromoStockExhausted(_("The shared pool has no code yet."))
        return shared
    for _attempt in range(3):
        held = PromoCode.objects.filter(pool=pool, customer=customer).first()
        if held is not None:
            if (
                message is not None
                and held.status == PromoCodeStatus.RESERVED
                and held.message_id is None
            ):
                held.message = message
                held.save(update_fields=["message"])
            return held
        try:
            with transaction.atomic():
                code = (
                    PromoCode.objects.select_for_update(skip_locked=True)
                    .filter(pool=pool, status=PromoCodeStatus.AVAILABLE)
                    .order_by("id")
                    .first()
                )
                if code is None:
                    raise PromoStockExhausted(_("No codes left in the pool."))
                code.status = PromoCodeStatus.RESERVED
                code.customer = customer
                code.message = message
                code.reserved_at = now
                code.save(update_fields=["status", "customer", "message", "reserved_at"])
                return code
        except IntegrityError:
            continue  # another reservation for this customer won the race: return its code
    raise PromoError(_("Could not reserve a code; try again."), "conflict")


def promo_code_reserve_many(
    pool: PromoPool, customers, message_ids: dict[int, int] | None = None
) -> dict[int, PromoCode]:
    """Reserve one code per customer for a broadcast: {customer_id: code}. Customers who already
    hold a code of the pool keep it. On PostgreSQL one UPDATE … FROM (SELECT … SKIP LOCKED) per
    batch of 1,000; customers left over when stock runs out are missing from the result.
    `message_ids` ({customer_id: message id}, ids taken before the messages are written) ties each
    new reservation to its message in the same statement."""
    now = timezone.now()
    _check_pool(pool, now)
    message_ids = message_ids or {}
    customer_ids = list(dict.fromkeys(getattr(c, "pk", c) for c in customers))
    if pool.kind == PromoPool.Kind.SHARED:
        shared = PromoCode.objects.filter(pool=pool).first()
        return {cid: shared for cid in customer_ids} if shared else {}
    result: dict[int, PromoCode] = {}
    for start in range(0, len(customer_ids), RESERVE_BATCH):
        batch = customer_ids[start : start + RESERVE_BATCH]
        for code in PromoCode.objects.filter(pool=pool, customer_id__in=batch):
            result[code.customer_id] = code
        wanted = [cid for cid in batch if cid not in result]
        if not wanted:
            continue
        if _postgres():
            try:
                with transaction.atomic():
                    for code in _reserve_batch_sql(pool.pk, wanted, now, message_ids):
                        result[code.customer_id] = code
                continue
            except IntegrityError:
                pass  # a concurrent reservation for one of them: fall back to one by one
        for cid in wanted:
            if cid in result:
                continue
            try:
                result[cid] = promo_code_reserve(pool, Customer(pk=cid))
            except PromoStockExhausted:
                break
    promo_low_stock_check([pool])
    return result


def _reserve_batch_sql(pool_id: int, customer_ids: list[int], now, message_ids: dict) -> list:
    table = PromoCode._meta.db_table
    sql = f"""
        WITH picked AS (
            SELECT id, row_number() OVER (ORDER BY id) AS rn FROM (
                SELECT id FROM {table}
                WHERE pool_id = %s AND status = 'available'
                ORDER BY id LIMIT %s
                FOR UPDATE SKIP LOCKED
            ) free
        ), wanted AS (
            SELECT customer_id, message_id, rn
            FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS t(customer_id, message_id, rn)
        )
        UPDATE {table} AS p
        SET status = 'reserved', customer_id = wanted.customer_id,
            message_id = wanted.message_id, reserved_at = %s
        FROM picked JOIN wanted ON wanted.rn = picked.rn
        WHERE p.id = picked.id
        RETURNING p.id, p.code, p.customer_id, p.message_id
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                pool_id,
                len(customer_ids),
                customer_ids,
                [message_ids.get(cid) for cid in customer_ids],
                now,
            ],
        )
        return [
            PromoCode(
                pk=pk,
                pool_id=pool_id,
                code=code,
                customer_id=customer_id,
                message_id=message_id,
                status=PromoCodeStatus.RESERVED,
                reserved_at=now,
            )
            for pk, code, customer_id, message_id in cursor.fetchall()
        ]


def promo_code_issue(code: PromoCode) -> PromoCode:
    """The message carrying the code was sent: reserved → issued."""
    updated = PromoCode.objects.filter(pk=code.pk, status=PromoCodeStatus.RESERVED).update(
        status=PromoCodeStatus.ISSUED, issued_at=timezone.now()
    )
    if updated:
        code.refresh_from_db()
    return code


def promo_code_release(code: PromoCode) -> PromoCode:
    """The send failed or was suppressed: the reserved code goes back to the pool."""
    updated = PromoCode.objects.filter(pk=code.pk, status=PromoCodeStatus.RESERVED).update(
        status=PromoCodeStatus.AVAILABLE, customer=None, message=None, reserved_at=None
    )
    if updated:
        code.refresh_from_db()
    return code


# Message statuses after which a reserved code is released, or counts as issued.
RELEASE_ON = ("failed", "bounced", "suppressed")
ISSUE_ON = ("sent", "delivered", "opened", "clicked", "unconfirmed")
STALE_RESERVATION_HOURS = 48


def promo_codes_settle(now=None) -> dict[str, int]:
    """The periodic sweep that ties reservations to their messages' outcome, set-based: reserved
    codes whose message failed, bounced or was suppressed go back to the pool; those whose message
    went out become issued; reservations without a message older than 48 h are released."""
    now = now or timezone.now()
    released = PromoCode.objects.filter(
        status=PromoCodeStatus.RESERVED, message__status__in=RELEASE_ON
    ).update(status=PromoCodeStatus.AVAILABLE, customer=None, message=None, reserved_at=None)
    issued = PromoCode.objects.filter(
        status=PromoCodeStatus.RESERVED, message__status__in=ISSUE_ON
    ).update(status=PromoCodeStatus.ISSUED, issued_at=now)
    stale = PromoCode.objects.filter(
        status=PromoCodeStatus.RESERVED,
        message__isnull=True,
        reserved_at__lt=now - timezone.timedelta(hours=STALE_RESERVATION_HOURS),
    ).update(status=PromoCodeStatus.AVAILABLE, customer=None, reserved_at=None)
    return {"released": released + stale, "issued": issued}


def promo_codes_expire(now=None) -> int:
    """Codes of pools whose validity ended, not yet redeemed, become expired."""
    now = now or timezone.now()
    return PromoCode.objects.filter(
        pool__valid_until__lte=now,
        status__in=[PromoCodeStatus.AVAILABLE, PromoCodeStatus.RESERVED, PromoCodeStatus.ISSUED],
    ).update(status=PromoCodeStatus.EXPIRED)


def promo_code_redeem(code: PromoCode, order) -> PromoCode:
    """Redeem `code` with `order`. Replaying the same order is a no-op; another order, an expired
    code, or a shared code past the customer's limit is refused with a PromoError."""
    with transaction.atomic():
        locked = PromoCode.objects.select_for_update().select_related("pool").get(pk=code.pk)
        pool = locked.pool
        if pool.kind == PromoPool.Kind.SHARED:
            if PromoRedemption.objects.filter(code=locked, order=order).exists():
                return locked
            used = PromoRedemption.objects.filter(
                code=locked, customer_id=order.customer_id
            ).count()
            if used >= pool.per_customer_limit:
                raise PromoError(
                    _("The customer has used this code as often as allowed."), "limit_reached"
                )
            _check_window(pool, order)
            PromoRedemption.objects.create(code=locked, customer_id=order.customer_id, order=order)
            return locked
        if locked.status == PromoCodeStatus.REDEEMED:
            if locked.redeemed_order_id == order.pk:
                return locked
            raise PromoError(
                _("The code was already redeemed by another order."), "already_redeemed"
            )
        if locked.status == PromoCodeStatus.EXPIRED:
            raise PromoError(_("The code has expired."), "expired")
        if locked.customer_id is not None and locked.customer_id != order.customer_id:
            # A personal code ("secret", sent to one customer) is not a coupon for anyone who
            # saw it; a code never issued (printed, handed out offline) still works for anyone.
            raise PromoError(_("The code was issued to another customer."), "other_customer")
        _check_window(pool, order)
        locked.status = PromoCodeStatus.REDEEMED
        locked.redeemed_order = order
        locked.redeemed_at = timezone.now()
        locked.save(update_fields=["status", "redeemed_order", "redeemed_at"])
        return locked


def _check_window(pool: PromoPool, order) -> None:
    if not pool.is_valid_at(order.placed_at):
        raise PromoError(_("The order was placed outside the code's validity window."), "expired")


REDEEMING_ORDER_STATUSES = ("pending", "paid", "shipped", "completed")


def promo_orders_redeem(order_ids: list[int]) -> int:
    """Redeem the promo codes named by these orders (the orders batch hook). Unknown codes and
    refused redemptions are logged and skipped: an order is never refused for its promo code."""
    from customers.models import Order

    orders = list(
        Order.objects.filter(pk__in=order_ids, status__in=REDEEMING_ORDER_STATUSES).exclude(
            promo_code=""
        )
    )
    if not orders:
        return 0
    by_code: dict[str, list[PromoCode]] = {}
    for code in PromoCode.objects.filter(
        code__in={promo_code_normalise(o.promo_code) for o in orders},
        pool__archived_at__isnull=True,
    ).select_related("pool"):
        by_code.setdefault(code.code, []).append(code)
    redeemed = 0
    for order in orders:
        for code in by_code.get(promo_code_normalise(order.promo_code), []):
            try:
                with transaction.atomic():
                    promo_code_redeem(code, order)
                redeemed += 1
                break
            except (PromoError, IntegrityError) as error:  # the order is accepted regardless
                log.info(
                    "promo code %s not redeemed by order %s: %s",
                    code.code,
                    order.external_id,
                    error,
                )
    return redeemed


def promo_low_stock_check(pools=None) -> list[int]:
    """Alert once per crossing: pools whose available codes fell below their threshold get a
    `promo.low_stock` CRM webhook and are marked; pools back above it are unmarked. Each pool's
    count is capped at its threshold, so a pool of a million codes costs an index range read."""
    from channels.services.webhooks_out import webhook_events_emit

    if pools is None:
        pools = PromoPool.objects.filter(archived_at__isnull=True, kind=PromoPool.Kind.UNIQUE)
    alerted = []
    events = []
    now = timezone.now()
    for pool in pools:
        if pool.kind != PromoPool.Kind.UNIQUE or pool.archived_at is not None:
            continue
        available = (
            PromoCode.objects.filter(pool=pool, status=PromoCodeStatus.AVAILABLE)
            .values("id")[: pool.low_stock_threshold]
            .count()
        )
        low = available < pool.low_stock_threshold
        if low and pool.low_stock_alerted_at is None:
            if PromoPool.objects.filter(pk=pool.pk, low_stock_alerted_at__isnull=True).update(
                low_stock_alerted_at=now
            ):
                pool.low_stock_alerted_at = now
                alerted.append(pool.pk)
                events.append(
                    (
                        "promo.low_stock",
                        {
                            "pool_id": pool.pk,
                            "pool_name": pool.name,
                            "available": available,
                            "threshold": pool.low_stock_threshold,
                        },
                    )
                )
        elif not low and pool.low_stock_alerted_at is not None:
            PromoPool.objects.filter(pk=pool.pk).update(low_stock_alerted_at=None)
            pool.low_stock_alerted_at = None
    if events:
        webhook_events_emit(events)
    return alerted
