"""Message templates: strict checks at save, defaults, suppression on a missing value, versions,
and one render per channel."""

import time
from decimal import Decimal

import pytest

from campaigns.message_templates.models import MessageTemplateUse, TemplateVersion
from campaigns.message_templates.rendering import (
    TemplateInvalid,
    TemplateMissingValue,
    render_compiled,
)
from campaigns.message_templates.services import (
    template_create,
    template_render,
    template_render_many,
    template_send,
    template_update,
)
from channels.models import MessageStatus
from tests.factories import AttributeDefinitionFactory, CustomerFactory

pytestmark = pytest.mark.django_db

EMAIL = {
    "subject": "Hello {{ customer.first_name }}",
    "html": "<p>Hi {{ customer.first_name | default: 'friend' }}</p>",
}


def make(variants=None, **kw):
    return template_create(
        name="Welcome",
        category=kw.pop("category", "marketing"),
        variants=variants or {"email": EMAIL},
        **kw,
    )


def test_an_unknown_variable_is_an_error_naming_the_variant_and_line():
    with pytest.raises(TemplateInvalid) as exc:
        make({"email": {"subject": "Hi", "html": "<p>a</p>\n<p>{{ customer.nickname }}</p>"}})
    (problem,) = exc.value.problems
    assert (problem.channel, problem.field, problem.line) == ("email", "html", 2)
    assert "customer.nickname" in problem.message


def test_an_unknown_filter_and_a_syntax_error_are_errors_with_lines():
    with pytest.raises(TemplateInvalid) as exc:
        make({"sms": {"body": "x\ny\n{{ customer.first_name | shout }}"}})
    assert exc.value.problems[0].line == 3 and "shout" in exc.value.problems[0].message
    with pytest.raises(TemplateInvalid) as exc:
        make({"telegram": {"body": "line\n{% if %}"}})
    assert exc.value.problems[0].channel == "telegram"


def test_typed_attributes_providers_links_and_declared_extras_are_known():
    AttributeDefinitionFactory(key="city", type="string")
    template = make(
        {
            "sms": {
                "body": "{{ customer.attributes.city | default: '' }} {{ promo_code.code | default: '' }}"
                " {{ order.number }} {{ preferences_url }} {{ rfm.segment | default: '' }}"
            }
        },
        extras=["order"],
    )
    assert template.current_version.extras == ["order"]
    with pytest.raises(TemplateInvalid):
        make({"sms": {"body": "{{ customer.attributes.shoe_size }}"}})


def test_default_fills_a_missing_value_and_a_missing_value_without_default_raises():
    version = make().current_version
    with pytest.raises(TemplateMissingValue) as exc:
        template_render(version, "email", CustomerFactory(first_name=""))
    assert exc.value.variable == "customer.first_name"
    rendered = template_render(version, "email", CustomerFactory(first_name="Анна"))
    assert rendered.subject == "Hello Анна"
    assert rendered.body == "Hi Анна"  # text made from the HTML


def test_a_missing_value_suppresses_that_one_message(reachable, enqueued):
    version = make().current_version
    customer = reachable("email", first_name="")
    message = template_send(version, "email", customer)
    assert message.status == MessageStatus.SUPPRESSED
    assert "customer.first_name" in message.status_reason
    assert MessageTemplateUse.objects.get(message=message).version == version
    assert "Hello ," not in message.subject


def test_a_sent_message_records_its_version_and_gets_tracking(reachable, enqueued):
    version = make(
        {
            "email": {
                "subject": "Hi {{ customer.first_name }}",
                "html": '<a href="https://ex.com/x">x</a>',
            }
        }
    ).current_version
    customer = reachable("email", first_name="Ivan")
    message = template_send(version, "email", customer)
    assert message.status == MessageStatus.QUEUED
    assert message.subject == "Hi Ivan"
    assert "https://ex.com/x" not in message.html  # the link was made a tracking link
    assert MessageTemplateUse.objects.get(message=message).version == version


def test_marketing_sms_gets_the_opt_out_line_after_rendering(reachable, enqueued):
    version = make({"sms": {"body": "Sale {{ promo_code.code | default: '' }}"}}).current_version
    customer = reachable("sms", locale="en")
    message = template_send(version, "sms", customer)
    assert message.body.startswith("Sale")
    assert len(message.body) > len("Sale ")


def test_saving_makes_a_new_version_and_old_versions_stay():
    template = make()
    first = template.current_version
    second = template_update(template, variants={"sms": {"body": "Hi"}})
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert "email" in first.variants and "sms" not in first.variants
    same = template_update(template, name="Renamed")
    assert same.pk == second.pk
    with pytest.raises(ValueError):
        second.save()
    assert TemplateVersion.objects.filter(template=template).count() == 2


def test_every_channel_renders():
    customer = CustomerFactory(first_name="Олег")
    template = make(
        {
            "email": EMAIL,
            "sms": {"body": "Привет, {{ customer.first_name }}"},
            "whatsapp": {
                "template_name": "welcome",
                "language": "ru",
                "params": ["{{ customer.first_name }}"],
            },
            "telegram": {"title": "Hi", "body": "{{ customer.first_name }}", "url": "https://e.x"},
            "viber": {"body": "v {{ customer.first_name }}"},
            "push": {"title": "T {{ customer.first_name }}", "body": "b", "url": "https://e.x/p"},
        }
    )
    version = template.current_version
    assert template_render(version, "sms", customer).body == "Привет, Олег"
    wa = template_render(version, "whatsapp", customer)
    assert wa.payload["template"] == {"name": "welcome", "language": "ru", "params": ["Олег"]}
    assert template_render(version, "telegram", customer).body == "Hi\n\nОлег\n\nhttps://e.x"
    assert template_render(version, "viber", customer).body == "v Олег"
    push = template_render(version, "push", customer)
    assert (push.subject, push.payload["url"]) == ("T Олег", "https://e.x/p")


def test_batch_render_is_fast(capsys):
    html = (
        "<h1>{{ customer.first_name | default: 'friend' }}</h1><p>{{ customer.email }}</p>"
        "{% for r in recommendations %}<p>{{ r }}</p>{% endfor %}"
        "<p>{{ customer.last_name | default: '' }} {{ customer.locale | default: 'ru' }}</p>"
        "<p>{{ preferences_url }}</p>" + "<p>Lorem ipsum dolor sit amet, consectetur.</p>" * 40
    )
    version = make({"email": {"subject": "Hi", "html": html}}).current_version
    customers = [CustomerFactory(first_name=f"N{i}") for i in range(200)]
    extra = {"recommendations": ["a", "b", "c"]}
    list(template_render_many(version, "email", customers[:1], extra))
    start = time.perf_counter()
    results = list(template_render_many(version, "email", customers, extra))
    elapsed = time.perf_counter() - start
    assert all(not isinstance(r, Exception) for _c, r in results)
    with capsys.disabled():
        print(f"\n{len(html)} chars of template: {len(customers) / elapsed:.0f} renders/s")


def test_a_missing_value_may_be_tested_in_an_if():
    version = make(
        {"sms": {"body": "Sale{% if promo_code.code %}: {{ promo_code.code }}{% endif %}"}}
    ).current_version
    assert template_render(version, "sms", CustomerFactory()).body == "Sale"
    rendered = template_render(version, "sms", CustomerFactory(), {"promo_code": {"code": "X1"}})
    assert rendered.body == "Sale: X1"


def test_demo_templates_load_once_and_render():
    from campaigns.message_templates.demo import message_templates_demo_load
    from campaigns.message_templates.models import Template

    assert message_templates_demo_load() == 4
    assert message_templates_demo_load() == 0
    customer = CustomerFactory(first_name="")
    for template in Template.objects.all():
        version = template.current_version
        for channel in version.variants:
            assert template_render(version, channel, customer).body


def test_a_runaway_loop_stops_and_suppresses(reachable, enqueued):
    version = make({"sms": {"body": "{% for i in (1..100000000) %}x{% endfor %}"}}).current_version
    message = template_send(version, "sms", reachable("sms"))
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason.startswith("template render failed: loop")


def _fields(version, channel="email"):
    from campaigns.message_templates.rendering import compiled

    return {name: (template, steps) for name, template, steps in compiled(version, channel)}


def test_the_fast_path_renders_exactly_as_liquid_does():
    from benchmarks.broadcast.content import BENCH_ATTRIBUTES, BENCH_EMAIL_VARIANTS
    from campaigns.message_templates.rendering import _render

    for key, kind in BENCH_ATTRIBUTES.items():
        AttributeDefinitionFactory(key=key, type=kind)
    version = make(BENCH_EMAIL_VARIANTS).current_version
    product = {"name": "Чай", "url": "https://e.x/p", "image_url": "https://e.x/i", "price": 1}
    full = {
        "customer": {"first_name": "Анна", "attributes": {"city": "Казань"}},
        "points": {"balance": 120},
        "rfm": {"segment": "champions"},
        "promo": {"code": "BN12"},
        "recommendations": {"bought_together": [{**product, "price": Decimal("9.90")}] * 5},
        "preferences_url": "https://e.x/pref",
        "unsubscribe_url": "https://e.x/unsub",
    }
    variations = [
        full,
        {**full, "customer": {"attributes": {}}},  # defaults
        {**full, "rfm": {"segment": "lost"}},
        {k: v for k, v in full.items() if k != "rfm"},  # an undefined value in an if
        {**full, "promo": {"code": None}, "points": {"balance": True}},
        {**full, "recommendations": {"bought_together": []}},
        {**full, "recommendations": {"bought_together": [{**product, "price": 1.5}]}},
    ]
    fields = _fields(version)
    assert set(fields) == {"subject", "html", "text"}
    for template, steps in fields.values():
        assert steps is not None
        for context in variations:
            assert _render(template, steps, context) == template.render(**context)
    assert "Казань" in _render(*fields["html"], full) and "9.90" in _render(*fields["html"], full)


def test_the_fast_path_leaves_a_missing_value_to_liquid_which_names_it():
    body = "Hi {{ customer.last_name }}{{ rfm.segment | default: '' }}"
    version = make({"sms": {"body": body}}).current_version
    assert _fields(version, "sms")["body"][1] is not None
    with pytest.raises(TemplateMissingValue) as exc:
        template_render(version, "sms", CustomerFactory(last_name=""))
    assert exc.value.variable == "customer.last_name"
    assert template_render(version, "sms", CustomerFactory(last_name="Ivanov")).body == "Hi Ivanov"


def test_other_liquid_stays_with_python_liquid():
    version = make(
        {
            "sms": {
                "body": "{{ customer.first_name | upcase }} {% for i in (1..3) %}{{ i }}{% endfor %}"
                " {{ customer.email.size }}"
            }
        }
    ).current_version
    assert _fields(version, "sms")["body"][1] is None
    customer = CustomerFactory(first_name="Anna", email="a@e.x")
    assert template_render(version, "sms", customer).body == "ANNA 123 5"
    # A value the fast path does not stringify like Liquid (a list) falls back to Liquid.
    listed = make({"sms": {"body": "{{ order.items }}"}}, extras=["order"]).current_version
    assert _fields(listed, "sms")["body"][1] is not None
    rendered = template_render(listed, "sms", customer, {"order": {"items": ["a", "b"]}})
    assert rendered.body == "ab"


def test_context_options_load_only_the_recommendation_kinds_a_template_reads():
    from django.utils import timezone

    from campaigns.message_templates.context import context_options, customer_contexts
    from campaigns.recommendations.models import Recommendation
    from tests.factories import ProductFactory

    html = "{% for p in recommendations.popular limit:2 %}{{ p.name }} {{ p.price }};{% endfor %}"
    version = make({"email": {"subject": "S", "html": html}}).current_version
    options = context_options(version)
    assert options == {
        "recommendations_kinds": ["popular"],
        "recommendations_limit": 2,
        "names": ["recommendations"],
    }
    everything = make({"sms": {"body": "{{ recommendations }}"}}).current_version
    assert context_options(everything) == {}
    counted = make({"sms": {"body": html + "{{ recommendations.popular.size }}"}}).current_version
    assert context_options(counted) == {  # all of them
        "recommendations_kinds": ["popular"],
        "names": ["recommendations"],
    }

    customer = CustomerFactory()
    now = timezone.now()
    for rank, kind in ((1, "popular"), (2, "popular"), (3, "popular"), (1, "viewed")):
        product = ProductFactory(name=f"{kind}{rank}", price=10 * rank)
        Recommendation.objects.create(
            customer=customer, kind=kind, rank=rank, product=product, score=1, computed_at=now
        )
    context = customer_contexts([customer], options=options)[customer.pk]
    assert list(context["recommendations"]) == ["popular"]
    # What the template does not read is not loaded: no points, no RFM, no signed links.
    assert not {"points", "rfm", "preferences_url"} & set(context)
    assert [p["rank"] for p in context["recommendations"]["popular"]] == [1, 2]
    rendered = render_compiled(version, "email", context)
    assert rendered.html == "popular1 10.00;popular2 20.00;"


EDGE_VALUES = {
    "x": {"y": "q", "z": 1, "n": 3, "d": Decimal("9.90"), "f": 1.5, "b": True, "none": None},
    "l": [{"k": [{"v": 1}, {"v": 2}]}, {"k": []}, {"k": [{"v": 3}]}],
}


@pytest.mark.parametrize(
    "source",
    [
        "a {{- x.y -}} b {{ x['y'] }}",
        "{%- if x.y == 'q' -%} Q {%- elsif x.z -%} Z {%- else -%} E {%- endif -%}",
        "{% if x.y != 'q' %}NE{% endif %}{% if x.n == 3 %}three{% endif %}{% if x.gone %}G{% endif %}",
        "{% for p in l limit:2 %}{% for q in p.k %}{{ q.v }}{{ x.y }}{% endfor %}{% else %}-{% endfor %}",
        "{% for x in l %}{{ x.k | default: 'none' }}{% endfor %}{{ x.y }}",  # a list: left to Liquid
        "{{ x.d }} {{ x.f }} {{ x.b }} {{ x.none }} {{ x.n | default: 5 }} {{ x.gone | default: 'E' }}",
        "{% if x %}a dict{% endif %}",  # a container in a condition: left to Liquid
    ],
)
@pytest.mark.parametrize(
    "context", [EDGE_VALUES, {"x": {"y": "r", "n": 4}, "l": []}, {"x": {}, "l": [{"k": "s"}]}]
)
def test_the_fast_path_agrees_with_liquid_on_edge_cases(source, context):
    from liquid.exceptions import UndefinedError

    from campaigns.message_templates.rendering import _flattened, _render, env

    template = env.from_string(source)
    steps = _flattened(template)
    assert steps is not None
    try:
        expected = template.render(**context)
    except UndefinedError:
        with pytest.raises(UndefinedError):
            _render(template, steps, context)
    else:
        assert _render(template, steps, context) == expected


def test_nested_loops_over_long_lists_are_left_to_liquid_and_its_limit():
    from campaigns.message_templates.rendering import TemplateRenderFailed

    body = "{% for i in order.items %}{% for j in order.items %}x{% endfor %}{% endfor %}"
    version = make({"sms": {"body": body}}, extras=["order"]).current_version
    assert _fields(version, "sms")["body"][1] is not None
    customer = CustomerFactory()
    short = template_render(version, "sms", customer, {"order": {"items": [1, 2, 3]}})
    assert short.body == "x" * 9
    with pytest.raises(TemplateRenderFailed):
        template_render(version, "sms", customer, {"order": {"items": list(range(200))}})
