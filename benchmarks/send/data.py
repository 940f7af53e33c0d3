"""Customers to send to, and the queued messages of a campaign, made quickly inside PostgreSQL.

Customers, their SMS and email identities and their `opted_in` consents are one `INSERT … SELECT`
from `generate_series` each. The messages are made the way a campaign makes them, in two steps:
`message_send` (every policy check, the row, the enqueue after commit) for a small sample of
customers, which proves the path and fixes what a row looks like; then one `INSERT … SELECT`
copies the first sample row to every other customer, changing only the customer, the address and
the idempotency key. So the timed part measures delivery, not 100k policy checks, while the rows
are exactly what `message_send` stores.
"""

from __future__ import annotations

from datetime import datetime
from time import perf_counter

import psycopg
from psycopg import sql

SMS_TEXT = (
    "Весенняя распродажа в Каскаде: −20 % на всё до воскресенья по промокоду SPRING20. "
    "kaskad.example/s"
)
EMAIL_SUBJECT = "Весенняя распродажа: −20 % на всё до воскресенья"
EMAIL_TEXT = (
    "Здравствуйте!\n\nДо воскресенья в Каскаде скидка 20 % на всё по промокоду SPRING20.\n"
    "Каталог: https://kaskad.example/catalog?utm_source=email\n\nКоманда Каскада\n"
)
EMAIL_HTML = (
    '<!doctype html><html><body style="font-family:sans-serif">'
    "<h1>Весенняя распродажа</h1>"
    "<p>До воскресенья в Каскаде скидка <b>20 %</b> на всё по промокоду <b>SPRING20</b>.</p>"
    '<p><a href="https://kaskad.example/catalog?utm_source=email">Открыть каталог</a></p>'
    "<p>Команда Каскада</p></body></html>"
)
SOURCE_REF = "campaign:bench-spring-sale"

CUSTOMERS = """
    INSERT INTO customers_customer (id, external_id, email, phone, first_name, last_name, locale,
        timezone, lifecycle_stage, attributes, created_at, updated_at)
    SELECT g, 'send-' || lpad(g::text, 8, '0'), 'customer' || g || '@example.com',
        '+7900' || lpad(g::text, 7, '0'),
        (ARRAY['Анна', 'Мария', 'Иван', 'Пётр', 'Елена', 'Ольга', 'Дмитрий'])[1 + g %% 7],
        (ARRAY['Иванова', 'Петрова', 'Смирнов', 'Кузнецов', 'Попова'])[1 + g %% 5],
        'ru-RU', 'Europe/Moscow', 'customer', '{}'::jsonb, %(now)s, %(now)s
    FROM generate_series(1, %(customers)s) g
"""
IDENTITIES = """
    INSERT INTO customers_channelidentity (customer_id, channel, address, created_at)
    SELECT id, 'email', email, %(now)s FROM customers_customer
    UNION ALL SELECT id, 'sms', phone, %(now)s FROM customers_customer
"""
CONSENTS = """
    INSERT INTO customers_consent (customer_id, channel, status, source, updated_at)
    SELECT id, channel, 'opted_in', 'bench', %(now)s
    FROM customers_customer CROSS JOIN (VALUES ('email'), ('sms')) AS c (channel)
"""


def customers_create(url: str, customers: int, now: datetime) -> dict[str, float]:
    """Customers with an SMS and an email address each, opted in to marketing on both."""
    timings = {}
    with psycopg.connect(url) as connection:
        for table, statement in (
            ("customers_customer", CUSTOMERS),
            ("customers_channelidentity", IDENTITIES),
            ("customers_consent", CONSENTS),
        ):
            started = perf_counter()
            rows = connection.execute(statement, {"now": now, "customers": customers}).rowcount
            timings[table] = round(perf_counter() - started, 2)
            print(f"  {table:<28} {rows:>9,} rows {timings[table]:6.1f} s", flush=True)
        connection.execute(
            "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), max(id)) "
            "FROM customers_customer"
        )
    return timings


def delivery_settings_open() -> None:
    """No frequency cap and no quiet hours, so no marketing message is refused or deferred."""
    from channels.models import DeliverySettings
    from channels.services.policy import forget_delivery_settings

    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(
        marketing_per_day=0, marketing_per_week=0, quiet_hours_start=None, quiet_hours_end=None
    )
    forget_delivery_settings()


def sample_send(channel: str, count: int) -> list[int]:
    """`message_send` for the first `count` customers, as a campaign would; returns message ids.
    Every one must come out `queued` (not suppressed or deferred)."""
    from channels.models import MessageStatus
    from channels.services.messages import message_send
    from customers.models import Customer

    ids = []
    for customer in Customer.objects.order_by("pk")[:count]:
        fields = (
            {"body": SMS_TEXT}
            if channel == "sms"
            else {"subject": EMAIL_SUBJECT, "body": EMAIL_TEXT, "html": EMAIL_HTML}
        )
        message = message_send(
            customer=customer,
            channel=channel,
            category="marketing",
            source="campaign",
            source_ref=SOURCE_REF,
            idempotency_key=f"bench-{channel}-{customer.pk}",
            **fields,
        )
        if message.status != MessageStatus.QUEUED or message.send_after is not None:
            raise RuntimeError(
                f"message_send did not queue the {channel} message to customer {customer.pk}: "
                f"{message.status} ({message.status_reason}), send_after {message.send_after}"
            )
        ids.append(message.pk)
    return ids


def messages_copy(url: str, channel: str, template_id: int) -> int:
    """Copy message `template_id` to every customer who has no message on `channel` yet."""
    address = {"sms": "c.phone", "email": "c.email"}[channel]
    with psycopg.connect(url) as connection:
        columns = [
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'kaskad_channels_message' ORDER BY ordinal_position"
            )
        ]
        changed = {
            "customer_id": sql.SQL("c.id"),
            "address": sql.SQL(address),
            "idempotency_key": sql.SQL("'bench-' || t.channel || '-' || c.id"),
        }
        targets = [column for column in columns if column != "id"]
        values = [changed.get(column, sql.SQL("t.") + sql.Identifier(column)) for column in targets]
        statement = sql.SQL(
            "INSERT INTO kaskad_channels_message ({targets}) SELECT {values} "
            "FROM customers_customer c CROSS JOIN kaskad_channels_message t "
            "WHERE t.id = %(template)s AND NOT EXISTS ("
            "  SELECT 1 FROM kaskad_channels_message m WHERE m.customer_id = c.id AND m.channel = %(channel)s"
            ") ORDER BY c.id"
        ).format(
            targets=sql.SQL(", ").join(map(sql.Identifier, targets)),
            values=sql.SQL(", ").join(values),
        )
        rows = connection.execute(statement, {"template": template_id, "channel": channel}).rowcount
        connection.execute("ANALYZE kaskad_channels_message")
    return rows


def queued_ids(url: str, channel: str) -> list[int]:
    with psycopg.connect(url) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT id FROM kaskad_channels_message WHERE channel = %s AND status = 'queued' "
                "ORDER BY id",
                [channel],
            )
        ]


def queued_at_set(url: str, channel: str, at: datetime) -> None:
    """Stamp the messages as queued at `at`, the moment the campaign hands them to the queue."""
    with psycopg.connect(url) as connection:
        connection.execute(
            "UPDATE kaskad_channels_message SET queued_at = %s, updated_at = %s "
            "WHERE channel = %s AND status = 'queued'",
            [at, at, channel],
        )
