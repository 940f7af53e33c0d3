"""A strategy's per-stage funnel and a map's stage-to-stage conversion, on hand-built data whose
expected numbers are worked out in the comments."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.journeys.models import Journey
from campaigns.message_templates.models import MessageTemplateUse
from campaigns.planning.selectors import cjm_board, stage_conversions, strategy_funnel
from campaigns.planning.services import (
    StageSpec,
    cjm_create,
    cjm_stages_replace,
    strategy_content_add,
    strategy_create,
)
from channels.models import Message
from tests.campaigns.planning_data import broadcast, segment_of, template
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def message(
    customer, *, sent=T0, ref="", source="campaign", opened=None, clicked=None, version=None
):
    m = Message.objects.create(
        customer=customer,
        channel="email",
        address=customer.email,
        category="marketing",
        source=source,
        source_ref=ref,
        status="sent" if sent else "queued",
        sent_at=sent,
        opened_at=opened,
        clicked_at=clicked,
    )
    if version is not None:
        MessageTemplateUse.objects.create(message=m, version=version)
    return m


def order(customer, at, status="completed"):
    OrderFactory(customer=customer, placed_at=at, status=status)


def test_the_funnel_counts_reach_engagement_and_orders_within_seven_days_per_stage():
    c1, c2, c3, c4, c5 = (CustomerFactory() for _ in range(5))
    strategy = strategy_create(name="Spring", scheme="aida")
    sale, other_sale = broadcast("Sale"), broadcast("Other sale")
    welcome, unrelated = template("Welcome"), template("Unrelated")
    strategy_content_add(strategy=strategy, stage="attention", kind="broadcast", object_id=sale.pk)
    strategy_content_add(strategy=strategy, stage="interest", kind="template", object_id=welcome.pk)
    journey = Journey.objects.create(name="Welcome", draft={"steps": [{"id": "s1"}, {"id": "s10"}]})
    j = journey.pk
    strategy_content_add(
        strategy=strategy, stage="desire", kind="journey_step", object_id=j, step_id="s1"
    )

    # Attention (broadcast "Sale"): reached c1, c2, c3; engaged c1 (open), c3 (click);
    # converted c1 only (c2's order is 8 days later, c3's was cancelled). c4 was never sent.
    message(c1, ref=f"broadcast:{sale.pk}:A", opened=T0 + HOUR)
    message(c1, ref=f"broadcast:{sale.pk}:B", sent=T0 + HOUR)  # twice: still one customer
    message(c2, ref=f"broadcast:{sale.pk}:A")
    message(c3, ref=f"broadcast:{sale.pk}:A", clicked=T0 + HOUR)
    message(c4, ref=f"broadcast:{sale.pk}:A", sent=None)
    message(c5, ref=f"broadcast:{other_sale.pk}:A", opened=T0)  # not tagged
    order(c1, T0 + 2 * DAY)
    order(c2, T0 + 8 * DAY)
    order(c2, T0 - DAY)  # before any message
    order(c3, T0 + DAY, status="cancelled")
    # Interest (template "Welcome"): reached c2 (3 days after T0, opened) and c5; c2's order at
    # T0 + 8 days is 5 days after that message: converted. c4's message is another template's.
    message(c2, sent=T0 + 3 * DAY, opened=T0 + 3 * DAY, version=welcome.current_version)
    message(c5, version=welcome.current_version)
    message(c4, opened=T0, version=unrelated.current_version)
    # Desire (the journey's step s1): c3 opened; its step s10 and journey <j>0 do not match.
    message(c3, source="journey", ref=f"journey:{j}:11:s1", opened=T0 + HOUR)
    message(c4, source="journey", ref=f"journey:{j}:12:s10", opened=T0)
    message(c5, source="journey", ref=f"journey:{j}0:13:s1", opened=T0)

    rows = {row["stage"]: row for row in strategy_funnel(strategy)}

    assert [(r["reach"], r["engaged"], r["converted"]) for r in rows.values()] == [
        (3, 2, 1),  # attention
        (2, 1, 1),  # interest
        (1, 1, 0),  # desire
        (0, 0, 0),  # action: nothing tagged
    ]
    assert rows["attention"]["engagement_rate"] == pytest.approx(2 / 3)
    assert rows["interest"]["conversion_rate"] == pytest.approx(1 / 2)
    assert rows["action"]["conversion_rate"] is None


def test_an_order_exactly_seven_days_after_the_message_is_outside_the_window():
    c1, c2 = CustomerFactory(), CustomerFactory()
    strategy = strategy_create(name="Edge", scheme="acca")
    sale = broadcast()
    strategy_content_add(strategy=strategy, stage="action", kind="broadcast", object_id=sale.pk)
    message(c1, ref=f"broadcast:{sale.pk}:A")
    message(c2, ref=f"broadcast:{sale.pk}:A")
    order(c1, T0 + 7 * DAY - timedelta(seconds=1))
    order(c2, T0 + 7 * DAY)
    action = strategy_funnel(strategy)[-1]
    assert (action["reach"], action["converted"]) == (2, 1)


def test_stage_conversion_is_the_share_of_the_previous_stages_members_in_this_stage_now():
    c = [CustomerFactory() for _ in range(5)]
    need = segment_of(c[0:4])  # c0 c1 c2 c3
    search = segment_of([c[1], c[2], c[4]])  # 2 of need's 4: 50 %
    choice = segment_of([c[1]])  # 1 of search's 3
    cjm = cjm_create(name="Shop", stage_names=[])
    cjm_stages_replace(
        cjm=cjm,
        stages=[
            StageSpec(name="Need", segment=need),
            StageSpec(name="Search", segment=search),
            StageSpec(name="Choice", segment=choice),
            StageSpec(name="Purchase"),  # no segment: no conversion
            StageSpec(name="Use", segment=need),  # after a stage without one: none either
        ],
    )
    stages = list(cjm.stages.select_related("segment"))
    conversions = stage_conversions(stages)
    assert [conversions[s.pk] for s in stages] == [None, 0.5, pytest.approx(1 / 3), None, None]
    board = cjm_board(cjm)
    assert board["conversions"] == conversions


def test_stage_conversions_are_one_query(django_assert_num_queries):
    c = [CustomerFactory() for _ in range(3)]
    cjm = cjm_create(name="Shop", stage_names=[])
    cjm_stages_replace(
        cjm=cjm,
        stages=[StageSpec(name=str(i), segment=segment_of(c[: 3 - i])) for i in range(3)],
    )
    stages = list(cjm.stages.select_related("segment"))
    with django_assert_num_queries(1):
        conversions = stage_conversions(stages)
    assert [conversions[s.pk] for s in stages] == [None, pytest.approx(2 / 3), 0.5]
