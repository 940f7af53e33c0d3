"""Stand-ins until h/render lands content.py and render_rate.py (trial runs only; removed then)."""

from time import perf_counter, process_time

BENCH_ATTRIBUTES = {"city": "string"}
_ROW = (
    '<tr><td width="120"><a href="{{ p.url }}"><img src="{{ p.image_url }}" width="120" '
    'alt="{{ p.name }}"></a></td><td><a href="{{ p.url }}">{{ p.name }}</a>'
    "<p>{{ p.price }} ₽</p></td></tr>"
)
BENCH_EMAIL_VARIANTS = {
    "email": {
        "subject": "{{ customer.first_name | default: 'Друг' }}, ваш промокод {{ promo.code }}",
        "html": (
            '<!DOCTYPE html><html lang="ru"><body><h1>Здравствуйте, '
            "{{ customer.first_name | default: 'друг' }}!</h1>"
            "<p>Доставим в {{ customer.attributes.city | default: 'ваш город' }} бесплатно.</p>"
            "<p>На счёте {{ points.balance }} баллов.</p>"
            "{% if rfm.segment == 'champions' %}<p>Спасибо!</p>{% endif %}<table>"
            "{% for p in recommendations.bought_together limit:3 %}" + _ROW + "{% endfor %}"
            "</table><p>Промокод: <strong>{{ promo.code }}</strong></p>"
            + "<p>Текст письма для объёма, примерно два килобайта. </p>" * 20
            + '<p><a href="{{ unsubscribe_url }}">Отписаться</a></p></body></html>'
        ),
    }
}


def measure_render_rate(version, customers, seconds=3.0, *, options=None) -> dict:
    """The shape of h/render's result, measured crudely: contexts and renders of one pass."""
    from campaigns.message_templates.context import customer_contexts
    from campaigns.message_templates.rendering import render_compiled

    cpu, wall = process_time(), perf_counter()
    contexts = {}
    for start in range(0, len(customers), 1000):
        contexts.update(customer_contexts(customers[start : start + 1000]))
    context_cpu, context_wall = process_time() - cpu, perf_counter() - wall
    cpu, wall = process_time(), perf_counter()
    for customer in customers:
        render_compiled(version, "email", contexts[customer.pk])
    render_cpu, render_wall = process_time() - cpu, perf_counter() - wall
    count = len(customers)
    return {
        "contexts": {
            "customers": count,
            "per_second_cpu": round(count / context_cpu),
            "per_second_wall": round(count / context_wall),
        },
        "render": {
            "messages": count,
            "per_second_cpu": round(count / render_cpu),
            "per_second_wall": round(count / render_wall),
        },
    }


def stand_in_launch(pool, source_ref: str) -> dict:
    """Until the engine lands: reserve every code, store a message per customer in SQL and put
    the ids on the send queue, so the harness (COPY, checks, queue decoding) can be tried."""
    from django.db import connection

    from campaigns.promo.services import promo_code_reserve_many
    from channels.services.messages import messages_enqueue
    from customers.models import Customer

    started = perf_counter()
    everyone = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(everyone), 10_000):
        promo_code_reserve_many(pool, everyone[start : start + 10_000])
    filler = "<p>Текст письма для объёма, примерно два килобайта.</p>" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO kaskad_channels_message (customer_id, channel, provider, address, subject,
                body, html, payload, category, source, source_ref, status, status_reason,
                request_hash, provider_message_id, attempts, rate_limited, queued_at, updated_at)
            SELECT c.id, 'email', '', c.email, c.first_name || ', ваш промокод ' || p.code,
                   'text ' || p.code, '<html><body>' || %s || '<b>' || p.code || '</b></body></html>',
                   '{}', 'marketing', 'campaign', %s, 'queued', '', '', '', 0, 0, now(), now()
            FROM customers_customer c JOIN campaigns_promocode p
              ON p.customer_id = c.id AND p.pool_id = %s
            RETURNING id
            """,
            [filler, source_ref, pool.pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
    messages_enqueue(ids)
    return {"seconds": round(perf_counter() - started, 2), "messages": len(ids)}
