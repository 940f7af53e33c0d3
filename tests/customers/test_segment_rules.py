from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.segments.rules import (
    RuleDependencies,
    RuleError,
    rule_dependencies,
    rule_to_q,
    rule_validate,
)
from tests.factories import (
    AttributeDefinitionFactory,
    ChannelIdentityFactory,
    ConsentFactory,
    CustomerFactory,
    EventFactory,
    OrderFactory,
    OrderItemFactory,
    RfmScoreFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def matching(rule: dict, *, now: datetime = NOW) -> set[str]:
    """External ids of the customers a rule selects, checking it is valid and one query."""
    rule_validate(rule)
    with CaptureQueriesContext(connection) as queries:
        customers = list(Customer.objects.filter(rule_to_q(rule, now=now)))
    assert len(queries) == 1, [query["sql"] for query in queries]
    return {customer.external_id for customer in customers}


def errors_of(rule: object, **kwargs) -> list[dict]:
    with pytest.raises(RuleError) as caught:
        rule_validate(rule, **kwargs)
    return caught.value.errors


def customer(name: str, **fields) -> Customer:
    return CustomerFactory(external_id=name, **fields)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# --- groups ---------------------------------------------------------------------------------


def test_all_with_no_rules_matches_everyone_and_its_negation_nobody():
    customer("a")
    customer("b")

    assert matching({"all": []}) == {"a", "b"}
    assert matching({"not": {"all": []}}) == set()


def test_all_any_and_not_nest():
    customer("anna", first_name="Anna", lifecycle_stage="lead")
    customer("boris", first_name="Boris", lifecycle_stage="lead")
    customer("vera", first_name="Vera", lifecycle_stage="customer")

    rule = {
        "all": [
            {"any": [{"field": "lifecycle_stage", "op": "equals", "value": "lead"}]},
            {"not": {"field": "first_name", "op": "equals", "value": "Anna"}},
        ]
    }
    either = {
        "any": [
            {"field": "first_name", "op": "equals", "value": "Anna"},
            {"field": "first_name", "op": "equals", "value": "Vera"},
        ]
    }

    assert matching(rule) == {"boris"}
    assert matching(either) == {"anna", "vera"}


# --- profile fields -------------------------------------------------------------------------


def test_text_fields_compare_equals_not_equals_in_and_not_in():
    customer("anna", first_name="Anna")
    customer("boris", first_name="Boris")
    customer("vera", first_name="Vera")

    assert matching({"field": "first_name", "op": "equals", "value": "Anna"}) == {"anna"}
    assert matching({"field": "first_name", "op": "not_equals", "value": "Anna"}) == {
        "boris",
        "vera",
    }
    assert matching({"field": "first_name", "op": "in", "value": ["Anna", "Vera"]}) == {
        "anna",
        "vera",
    }
    assert matching({"field": "first_name", "op": "not_in", "value": ["Anna", "Vera"]}) == {"boris"}


def test_email_equals_ignores_case_because_emails_are_stored_lower_case():
    customer("anna", email="anna@example.com")

    assert matching({"field": "email", "op": "equals", "value": "Anna@Example.COM"}) == {"anna"}
    assert matching({"field": "email", "op": "in", "value": ["ANNA@example.com"]}) == {"anna"}


def test_contains_and_starts_with_ignore_case():
    customer("anna", email="anna@mail.example")
    customer("boris", email="boris@corp.example")

    assert matching({"field": "email", "op": "contains", "value": "MAIL"}) == {"anna"}
    assert matching({"field": "email", "op": "starts_with", "value": "Bor"}) == {"boris"}


def test_is_set_and_is_not_set_on_a_text_field_treat_blank_as_not_set():
    customer("with_phone", phone="+79160000001")
    customer("without_phone", phone="")

    assert matching({"field": "phone", "op": "is_set"}) == {"with_phone"}
    assert matching({"field": "phone", "op": "is_not_set"}) == {"without_phone"}


def test_is_set_and_is_not_set_on_email_compile_and_treat_blank_as_not_set():
    customer("with_email", email="anna@example.com")
    customer("without_email", email="")

    assert matching({"field": "email", "op": "is_set"}) == {"with_email"}
    assert matching({"field": "email", "op": "is_not_set"}) == {"without_email"}


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "created_at", "op": "gt", "value": "9999-12-31"},
        {"field": "created_at", "op": "lte", "value": "9999-12-31"},
        {"field": "created_at", "op": "equals", "value": "9999-12-31"},
        {"field": "created_at", "op": "between", "value": ["2026-01-01", "9999-12-31"]},
        {"field": "birth_date", "op": "between", "value": ["0001-01-01", "9999-12-31"]},
        {"event": {"name": "viewed", "between": ["0001-01-01", "9999-12-31"]}},
        {"orders": {"count": {"gte": 1}, "between": ["2026-01-01", "9999-12-31"]}},
        {"field": "created_at", "op": "lt", "value": "2026-01-01T00:00:00+20:00"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_and_any_offset_compile_and_run(rule):
    customer("anna", birth_date=date(1990, 1, 1))
    matching(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"field": "first_name", "op": "equals", "value": "A\u0000"}, "value"),
        ({"event": {"name": "viewed", "where": [{"property": "p\u0000", "op": "is_set"}]}}, "event.where[0].property"),
        ({"field": "attributes.score", "op": "gt", "value": 1e300}, "value"),
    ],
)  # fmt: skip
def test_a_rule_value_no_database_can_store_is_a_rule_error_at_its_path(rule, path):
    # The API's schema refuses these too; the admin form reaches rule_validate directly.
    assert [p["path"] for p in errors_of(rule)] == [path]


def test_a_date_time_whose_utc_falls_before_year_1_is_not_a_valid_rule_value():
    problems = errors_of({"field": "created_at", "op": "gt", "value": "0001-01-01T00:00:00+01:00"})
    assert [p["path"] for p in problems] == ["value"]


def test_birth_date_comparisons_between_and_is_set():
    customer("old", birth_date=date(1970, 5, 1))
    customer("young", birth_date=date(2005, 5, 1))
    customer("unknown", birth_date=None)

    assert matching({"field": "birth_date", "op": "lt", "value": "1980-01-01"}) == {"old"}
    assert matching({"field": "birth_date", "op": "gte", "value": "2005-05-01"}) == {"young"}
    assert matching({"field": "birth_date", "op": "gt", "value": "2005-05-01"}) == set()
    assert matching({"field": "birth_date", "op": "lte", "value": "1970-05-01"}) == {"old"}
    assert matching(
        {"field": "birth_date", "op": "between", "value": ["1960-01-01", "1970-05-01"]}
    ) == {"old"}
    assert matching({"field": "birth_date", "op": "equals", "value": "2005-05-01"}) == {"young"}
    assert matching({"field": "birth_date", "op": "is_not_set"}) == {"unknown"}
    # Negating a comparison includes customers whose birth date is unknown.
    assert matching({"not": {"field": "birth_date", "op": "lt", "value": "1980-01-01"}}) == {
        "young",
        "unknown",
    }


def test_created_in_the_last_30_days_and_more_than_30_days_ago():
    customer("new", created_at=days_ago(3))
    customer("old", created_at=days_ago(45))

    assert matching({"field": "created_at", "op": "in_last_days", "value": 30}) == {"new"}
    assert matching({"field": "created_at", "op": "more_than_days_ago", "value": 30}) == {"old"}


def test_a_date_compared_with_a_date_time_field_stands_for_its_whole_day():
    customer("morning", created_at=datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    customer("next_day", created_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))

    assert matching({"field": "created_at", "op": "equals", "value": "2026-03-01"}) == {"morning"}
    assert matching({"field": "created_at", "op": "lte", "value": "2026-03-01"}) == {"morning"}
    assert matching({"field": "created_at", "op": "gt", "value": "2026-03-01"}) == {"next_day"}
    assert matching({"field": "created_at", "op": "gt", "value": "2026-03-01T05:00:00Z"}) == {
        "morning",
        "next_day",
    }
    assert matching(
        {"field": "created_at", "op": "between", "value": ["2026-02-01", "2026-03-01"]}
    ) == {"morning"}


def test_birthday_in_the_next_7_days_wraps_over_the_new_year():
    customer("dec_30", birth_date=date(1990, 12, 30))
    customer("jan_3", birth_date=date(1985, 1, 3))
    customer("jan_5", birth_date=date(1985, 1, 5))
    customer("dec_27", birth_date=date(2000, 12, 27))
    customer("no_birth_date", birth_date=None)
    before_new_year = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)

    rule = {"field": "birth_date", "op": "in_next_days", "value": 7}

    assert matching(rule, now=before_new_year) == {"dec_30", "jan_3"}
    assert matching({"not": rule}, now=before_new_year) == {"jan_5", "dec_27", "no_birth_date"}


def test_birthday_in_the_next_days_within_one_year():
    customer("today", birth_date=date(1990, 3, 10))
    customer("in_a_week", birth_date=date(1990, 3, 17))
    customer("yesterday", birth_date=date(1990, 3, 9))

    assert matching({"field": "birth_date", "op": "in_next_days", "value": 0}) == {"today"}
    assert matching({"field": "birth_date", "op": "in_next_days", "value": 7}) == {
        "today",
        "in_a_week",
    }


def test_people_born_on_29_february_celebrate_on_1_march_in_other_years():
    customer("leapling", birth_date=date(2004, 2, 29))
    rule = {"field": "birth_date", "op": "in_next_days", "value": 0}

    assert matching(rule, now=datetime(2027, 2, 28, tzinfo=UTC)) == set()
    assert matching(rule, now=datetime(2027, 3, 1, tzinfo=UTC)) == {"leapling"}
    assert matching(rule, now=datetime(2028, 2, 29, tzinfo=UTC)) == {"leapling"}
    assert matching(rule, now=datetime(2028, 3, 1, tzinfo=UTC)) == set()


def test_age_between_counts_whole_years_from_now():
    customer("turns_18_today", birth_date=date(2008, 3, 10))
    customer("turns_18_tomorrow", birth_date=date(2008, 3, 11))
    customer("25_until_tomorrow", birth_date=date(2000, 3, 11))
    customer("turned_26_today", birth_date=date(2000, 3, 10))

    assert matching({"field": "birth_date", "op": "age_between", "value": [18, 25]}) == {
        "turns_18_today",
        "25_until_tomorrow",
    }


# --- custom attributes ----------------------------------------------------------------------


def test_string_attributes_compare_and_not_equals_includes_customers_without_the_attribute():
    AttributeDefinitionFactory(key="city", type="string")
    customer("moscow", attributes={"city": "Moscow"})
    customer("kazan", attributes={"city": "Kazan"})
    customer("nowhere", attributes={})

    assert matching({"field": "attributes.city", "op": "equals", "value": "Moscow"}) == {"moscow"}
    assert matching({"field": "attributes.city", "op": "not_equals", "value": "Moscow"}) == {
        "kazan",
        "nowhere",
    }
    assert matching({"field": "attributes.city", "op": "in", "value": ["Kazan", "Omsk"]}) == {
        "kazan"
    }
    assert matching({"field": "attributes.city", "op": "contains", "value": "zA"}) == {"kazan"}
    assert matching({"field": "attributes.city", "op": "starts_with", "value": "mos"}) == {"moscow"}
    assert matching({"field": "attributes.city", "op": "is_set"}) == {"moscow", "kazan"}
    assert matching({"field": "attributes.city", "op": "is_not_set"}) == {"nowhere"}
    assert matching({"not": {"field": "attributes.city", "op": "in", "value": ["Kazan"]}}) == {
        "moscow",
        "nowhere",
    }


def test_number_attributes_compare_as_numbers():
    AttributeDefinitionFactory(key="income", type="number")
    customer("low", attributes={"income": 9000})
    customer("high", attributes={"income": 45000.5})
    customer("unknown", attributes={})

    assert matching({"field": "attributes.income", "op": "gte", "value": 40000}) == {"high"}
    assert matching({"field": "attributes.income", "op": "lt", "value": 10000}) == {"low"}
    assert matching({"field": "attributes.income", "op": "between", "value": [1000, 9000]}) == {
        "low"
    }
    assert matching({"field": "attributes.income", "op": "equals", "value": 9000}) == {"low"}
    assert matching({"not": {"field": "attributes.income", "op": "gt", "value": 10000}}) == {
        "low",
        "unknown",
    }


def test_bool_attributes_compare_true_and_false():
    AttributeDefinitionFactory(key="vip", type="bool")
    customer("vip", attributes={"vip": True})
    customer("regular", attributes={"vip": False})
    customer("unknown", attributes={})

    assert matching({"field": "attributes.vip", "op": "equals", "value": True}) == {"vip"}
    assert matching({"field": "attributes.vip", "op": "equals", "value": False}) == {"regular"}


def test_date_attributes_compare_and_use_relative_dates():
    AttributeDefinitionFactory(key="loyalty_joined", type="date")
    customer("recent", attributes={"loyalty_joined": "2026-03-01"})
    customer("long_ago", attributes={"loyalty_joined": "2024-06-15"})
    customer("never", attributes={})

    assert matching({"field": "attributes.loyalty_joined", "op": "gte", "value": "2026-01-01"}) == {
        "recent"
    }
    assert matching(
        {
            "field": "attributes.loyalty_joined",
            "op": "between",
            "value": ["2024-01-01", "2024-12-31"],
        }
    ) == {"long_ago"}
    assert matching({"field": "attributes.loyalty_joined", "op": "in_last_days", "value": 30}) == {
        "recent"
    }
    assert matching(
        {"field": "attributes.loyalty_joined", "op": "more_than_days_ago", "value": 30}
    ) == {"long_ago"}


# --- consent and identities -----------------------------------------------------------------


def test_consent_status_on_a_channel_with_no_row_meaning_unknown():
    opted_in = customer("opted_in")
    opted_out = customer("opted_out")
    customer("no_row")
    ConsentFactory(customer=opted_in, channel="email", status="opted_in")
    ConsentFactory(customer=opted_out, channel="email", status="opted_out")
    ConsentFactory(customer=opted_out, channel="sms", status="opted_in")

    assert matching({"consent": {"channel": "email", "status": "opted_in"}}) == {"opted_in"}
    assert matching({"consent": {"channel": "email", "status": "unknown"}}) == {"no_row"}
    assert matching({"consent": {"channel": "email", "status": ["unknown", "opted_out"]}}) == {
        "no_row",
        "opted_out",
    }


def test_reachable_requires_both_an_identity_and_an_opt_in_on_the_channel():
    both = customer("both")
    identity_only = customer("identity_only")
    consent_only = customer("consent_only")
    opted_out = customer("opted_out")
    for someone in (both, identity_only, opted_out):
        ChannelIdentityFactory(customer=someone, channel="telegram")
    ConsentFactory(customer=both, channel="telegram", status="opted_in")
    ConsentFactory(customer=consent_only, channel="telegram", status="opted_in")
    ConsentFactory(customer=opted_out, channel="telegram", status="opted_out")
    ConsentFactory(customer=identity_only, channel="email", status="opted_in")

    assert matching({"reachable": "telegram"}) == {"both"}
    assert matching({"identity": "telegram"}) == {"both", "identity_only", "opted_out"}


# --- RFM ------------------------------------------------------------------------------------


def test_rfm_segment_and_scores_combine_and_unscored_customers_never_match():
    RfmScoreFactory(customer=customer("champion"), segment="champions", r=5, f=5, m=5)
    RfmScoreFactory(customer=customer("loyal"), segment="loyal_customers", r=4, f=3, m=2)
    RfmScoreFactory(customer=customer("lost"), segment="lost", r=1, f=1, m=1, monetary=100)
    customer("unscored")

    assert matching({"rfm": {"segment": ["champions", "loyal_customers"]}}) == {
        "champion",
        "loyal",
    }
    assert matching({"rfm": {"segment": "lost"}}) == {"lost"}
    assert matching({"rfm": {"r": {"gte": 4}, "f": {"between": [2, 4]}, "m": {"lte": 3}}}) == {
        "loyal"
    }
    assert matching({"rfm": {"monetary": {"lt": 1000}}}) == {"lost"}
    assert matching({"rfm": {}}) == {"champion", "loyal", "lost"}
    assert matching({"not": {"rfm": {"segment": "champions"}}}) == {"loyal", "lost", "unscored"}


# --- events ---------------------------------------------------------------------------------


def test_event_performed_and_not_performed_includes_customers_who_never_did_it():
    EventFactory(customer=customer("opener"), name="email_opened", occurred_at=days_ago(2))
    EventFactory(customer=customer("old_opener"), name="email_opened", occurred_at=days_ago(90))
    customer("never")

    assert matching({"event": {"name": "email_opened"}}) == {"opener", "old_opener"}
    assert matching({"event": {"name": "email_opened", "within_days": 60}}) == {"opener"}
    assert matching({"event": {"name": "email_opened", "performed": False, "within_days": 60}}) == {
        "old_opener",
        "never",
    }


def test_event_count_condition_counts_matching_events_in_the_window():
    twice = customer("twice")
    EventFactory.create_batch(2, customer=twice, name="add_to_cart", occurred_at=days_ago(3))
    EventFactory(customer=twice, name="page_view", occurred_at=days_ago(3))
    once = customer("once")
    EventFactory(customer=once, name="add_to_cart", occurred_at=days_ago(3))
    EventFactory(customer=once, name="add_to_cart", occurred_at=days_ago(40))
    customer("never")

    assert matching({"event": {"name": "add_to_cart", "count": {"gte": 2}}}) == {"twice", "once"}
    assert matching({"event": {"name": "add_to_cart", "count": {"gte": 2}, "within_days": 30}}) == {
        "twice"
    }
    assert matching({"event": {"name": "add_to_cart", "count": {"lt": 1}, "within_days": 30}}) == {
        "never"
    }
    assert matching(
        {"event": {"name": "add_to_cart", "count": {"equals": 1}, "within_days": 30}}
    ) == {"once"}
    assert matching(
        {"event": {"name": "add_to_cart", "performed": False, "count": {"gte": 2}}}
    ) == {"never"}


def test_event_between_two_dates_is_inclusive_of_whole_days():
    EventFactory(
        customer=customer("january"),
        name="app_opened",
        occurred_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC),
    )
    EventFactory(
        customer=customer("february"),
        name="app_opened",
        occurred_at=datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
    )

    assert matching({"event": {"name": "app_opened", "between": ["2026-01-01", "2026-01-31"]}}) == {
        "january"
    }
    assert matching(
        {
            "event": {
                "name": "app_opened",
                "between": ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"],
            }
        }
    ) == {"january", "february"}


def test_event_property_filters():
    gpu = customer("gpu")
    EventFactory(
        customer=gpu,
        name="add_to_cart",
        properties={"category": "Electronics / Video cards", "price": 89990, "gift": True},
    )
    book = customer("book")
    EventFactory(customer=book, name="add_to_cart", properties={"category": "Books", "price": 590})
    EventFactory(customer=customer("bare"), name="add_to_cart", properties={})

    def where(*filters: dict) -> set[str]:
        return matching({"event": {"name": "add_to_cart", "where": list(filters)}})

    assert where({"property": "category", "op": "equals", "value": "Books"}) == {"book"}
    assert where({"property": "category", "op": "not_equals", "value": "Books"}) == {"gpu", "bare"}
    assert where({"property": "category", "op": "in", "value": ["Books", "Toys"]}) == {"book"}
    assert where({"property": "category", "op": "contains", "value": "video"}) == {"gpu"}
    assert where({"property": "price", "op": "gt", "value": 1000}) == {"gpu"}
    assert where({"property": "price", "op": "lte", "value": 590}) == {"book"}
    assert where({"property": "gift", "op": "equals", "value": True}) == {"gpu"}
    assert where({"property": "price", "op": "is_set"}) == {"gpu", "book"}
    assert where({"property": "price", "op": "is_not_set"}) == {"bare"}
    assert where(
        {"property": "price", "op": "gte", "value": 500},
        {"property": "category", "op": "equals", "value": "Books"},
    ) == {"book"}


# --- orders ---------------------------------------------------------------------------------


def test_order_count_excludes_cancelled_and_refunded_and_never_bought_customers_count_zero():
    regular = customer("regular")
    OrderFactory.create_batch(3, customer=regular, placed_at=days_ago(10))
    returns = customer("returns")
    OrderFactory(customer=returns, status="cancelled", placed_at=days_ago(10))
    OrderFactory(customer=returns, status="refunded", placed_at=days_ago(10))
    customer("never")

    assert matching({"orders": {"count": {"gte": 3}}}) == {"regular"}
    assert matching({"orders": {"count": {"lt": 1}}}) == {"returns", "never"}


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ({"equals": 0}, {"returns", "never"}),
        ({"lt": 1}, {"returns", "never"}),
        ({"lte": 0}, {"returns", "never"}),
        ({"gte": 1}, {"regular"}),
        ({"gt": 0}, {"regular"}),
        ({"not_equals": 0}, {"regular"}),
    ],
)
def test_none_and_at_least_one_are_existence_checks_not_a_count_per_customer(count, expected):
    OrderFactory(customer=customer("regular"), placed_at=days_ago(10))
    OrderFactory(customer=customer("returns"), status="cancelled", placed_at=days_ago(10))
    customer("never")
    rule = {"orders": {"count": count, "within_days": 30}}
    assert matching(rule) == expected
    assert matching({"not": rule}) == {"regular", "returns", "never"} - expected
    sql = str(Customer.objects.filter(rule_to_q(rule, now=NOW)).query).upper()
    assert "EXISTS" in sql and "COUNT(" not in sql


def test_order_sum_and_average_in_a_window():
    big = customer("big")
    OrderFactory(customer=big, total=Decimal("8000"), placed_at=days_ago(10))
    OrderFactory(customer=big, total=Decimal("4000"), placed_at=days_ago(20))
    OrderFactory(customer=big, total=Decimal("100000"), placed_at=days_ago(200))
    small = customer("small")
    OrderFactory(customer=small, total=Decimal("300"), placed_at=days_ago(5))
    customer("never")

    assert matching({"orders": {"sum": {"gte": 10000}, "within_days": 90}}) == {"big"}
    assert matching({"orders": {"sum": {"lt": 500}, "within_days": 90}}) == {"small", "never"}
    assert matching({"orders": {"average": {"gt": 5000.5}, "within_days": 90}}) == {"big"}
    assert matching({"orders": {"average": {"lt": 500}}}) == {"small"}
    assert matching({"not": {"orders": {"average": {"lt": 500}}}}) == {"big", "never"}
    assert matching(
        {"orders": {"count": {"equals": 2}, "sum": {"between": [12000, 12000]}, "within_days": 90}}
    ) == {"big"}
    assert matching({"orders": {"count": {"gte": 1}, "between": ["2025-08-01", "2025-08-31"]}}) == {
        "big"
    }


def test_bought_a_sku_or_a_category_counts_only_counted_orders_in_the_window():
    gamer = customer("gamer")
    OrderItemFactory(
        order=OrderFactory(customer=gamer, placed_at=days_ago(10)),
        sku="GPU-1",
        category="Electronics / Video cards",
    )
    reader = customer("reader")
    OrderItemFactory(
        order=OrderFactory(customer=reader, placed_at=days_ago(100)), sku="BOOK-1", category="Books"
    )
    returned = customer("returned")
    OrderItemFactory(
        order=OrderFactory(customer=returned, status="refunded", placed_at=days_ago(10)),
        sku="GPU-2",
        category="Electronics / Video cards",
    )

    assert matching({"bought": {"sku": ["GPU-1", "GPU-2"]}}) == {"gamer"}
    assert matching({"bought": {"sku": "BOOK-1"}}) == {"reader"}
    assert matching({"bought": {"category": "electronics / video cards"}}) == {"gamer"}
    assert matching({"bought": {"category": "Electronics / *"}}) == {"gamer"}
    assert matching({"bought": {"category": ["Books", "Toys"], "within_days": 30}}) == set()
    assert matching({"not": {"bought": {"category": "Electronics / *"}}}) == {"reader", "returned"}


# --- segments -------------------------------------------------------------------------------


def test_membership_of_another_segment():
    vip = SegmentFactory(name="VIP")
    SegmentMembershipFactory(segment=vip, customer=customer("member"))
    customer("outsider")

    assert matching({"segment": vip.pk}) == {"member"}
    assert matching({"not": {"segment": vip.pk}}) == {"outsider"}


def test_a_segment_referring_to_itself_is_a_cycle():
    segment = SegmentFactory()

    errors = errors_of({"all": [{"segment": segment.pk}]}, segment_id=segment.pk)

    assert errors == [{"path": "all[0].segment", "message": "a segment cannot refer to itself"}]


def test_a_segment_referring_to_one_that_refers_back_is_a_cycle():
    a = SegmentFactory(name="A")
    b = SegmentFactory(name="B", rules={"not": {"segment": a.pk}})

    errors = errors_of({"segment": b.pk}, segment_id=a.pk)

    assert errors == [
        {
            "path": "segment",
            "message": f"segment {b.pk} refers back to this segment ({a.pk} → {b.pk} → {a.pk}), "
            "a cycle",
        }
    ]


def test_a_longer_cycle_is_rejected_and_a_shared_reference_is_not():
    a = SegmentFactory(name="A")
    c = SegmentFactory(name="C", rules={"any": [{"segment": a.pk}]})
    b = SegmentFactory(name="B", rules={"all": [{"segment": c.pk}]})
    shared = SegmentFactory(name="Shared", rules={"all": []})
    d = SegmentFactory(name="D", rules={"all": [{"segment": shared.pk}]})

    errors = errors_of({"segment": b.pk}, segment_id=a.pk)
    rule_validate({"all": [{"segment": shared.pk}, {"segment": d.pk}]}, segment_id=a.pk)

    assert errors[0]["message"].startswith(f"segment {b.pk} refers back to this segment")
    assert f"({a.pk} → {b.pk} → {c.pk} → {a.pk})" in errors[0]["message"]


def test_a_reference_to_a_missing_segment_is_an_error():
    errors = errors_of({"any": [{"segment": 999_999}]})

    assert errors == [{"path": "any[0].segment", "message": "segment 999999 does not exist"}]


# --- dependencies ---------------------------------------------------------------------------


def test_dependencies_list_what_a_rule_reads():
    rule = {
        "all": [
            {"field": "first_name", "op": "equals", "value": "Anna"},
            {"field": "attributes.city", "op": "equals", "value": "Moscow"},
            {"not": {"event": {"name": "email_opened", "within_days": 60}}},
            {"event": {"name": "add_to_cart"}},
            {"reachable": "telegram"},
            {"rfm": {"segment": "champions"}},
            {"any": [{"segment": 7}, {"bought": {"sku": "GPU-1"}}]},
        ]
    }

    assert rule_dependencies(rule) == RuleDependencies(
        kinds=frozenset(
            {
                "profile",
                "attributes",
                "events",
                "time",
                "identities",
                "consent",
                "rfm",
                "segments",
                "orders",
            }
        ),
        event_names=frozenset({"email_opened", "add_to_cart"}),
        segment_ids=frozenset({7}),
    )


def test_only_relative_dates_make_a_rule_depend_on_time():
    assert "time" not in rule_dependencies({"orders": {"count": {"gte": 1}}}).kinds
    assert "time" in rule_dependencies({"orders": {"count": {"gte": 1}, "within_days": 9}}).kinds
    assert (
        "time" in rule_dependencies({"field": "birth_date", "op": "in_next_days", "value": 7}).kinds
    )
    assert rule_dependencies({"all": []}).kinds == frozenset()


# --- invalid rules --------------------------------------------------------------------------


def test_a_list_at_the_top_level_is_not_a_rule():
    assert errors_of([{"field": "email", "op": "is_set"}]) == [
        {"path": "", "message": 'must be an object, such as {"all": [...]} or {"field": ...}'}
    ]


def test_a_condition_with_two_keys_is_rejected():
    errors = errors_of({"all": [{"reachable": "sms", "identity": "sms"}]})

    assert errors[0]["path"] == "all[0]"
    assert errors[0]["message"].startswith("must have exactly one key")
    assert "found 'reachable', 'identity'" in errors[0]["message"]


def test_an_empty_object_and_an_unknown_kind_are_rejected():
    assert errors_of({})[0]["message"].endswith("found no keys")
    assert errors_of({"all": [{"wish": 1}]})[0] == {
        "path": "all[0]",
        "message": "unknown rule kind 'wish'; use one of: all, any, not, field, consent, "
        "reachable, identity, rfm, clv, event, orders, bought, segment",
    }


def test_groups_need_lists_and_any_needs_a_rule():
    assert errors_of({"all": {"segment": 1}}) == [
        {"path": "all", "message": "must be a list of rules"}
    ]
    assert errors_of({"any": []}) == [{"path": "any", "message": "needs at least one rule"}]
    assert errors_of({"not": [1]}) == [
        {"path": "not", "message": 'must be an object, such as {"all": [...]} or {"field": ...}'}
    ]


def test_unknown_field_unknown_operator_and_operator_for_another_type():
    errors = errors_of(
        {
            "all": [
                {"field": "shoe_size", "op": "equals", "value": 42},
                {"field": "email", "op": "like", "value": "%@x"},
                {"field": "first_name", "op": "gt", "value": "A"},
            ]
        }
    )

    assert [error["path"] for error in errors] == ["all[0].field", "all[1].op", "all[2].op"]
    assert errors[0]["message"].startswith("unknown field 'shoe_size'; use one of: first_name")
    assert errors[1]["message"].startswith("unknown operator 'like'; use one of: equals")
    assert errors[2]["message"].startswith(
        "'gt' does not apply to first_name, a text field; use one of:"
    )


def test_wrong_value_types_are_reported_at_the_value():
    errors = errors_of(
        {
            "all": [
                {"field": "first_name", "op": "equals", "value": 5},
                {"field": "birth_date", "op": "gte", "value": "10.03.1990"},
                {"field": "created_at", "op": "in_last_days", "value": "30"},
                {"field": "lifecycle_stage", "op": "in", "value": ["lead", "vip"]},
                {"field": "birth_date", "op": "between", "value": ["2000-01-01"]},
                {"field": "birth_date", "op": "age_between", "value": [30, 18]},
                {"field": "phone", "op": "is_set", "value": "yes"},
                {"field": "phone", "op": "equals"},
            ]
        }
    )

    assert errors == [
        {"path": "all[0].value", "message": "must be a string"},
        {"path": "all[1].value", "message": "must be a date as YYYY-MM-DD"},
        {"path": "all[2].value", "message": "must be a whole number from 0 to 36500"},
        {
            "path": "all[3].value[1]",
            "message": "must be one of: lead, prospect, customer, repeat_customer, lapsed, churned",
        },
        {"path": "all[4].value", "message": "must be a list of two values [low, high]"},
        {"path": "all[5].value", "message": "low must not be greater than high"},
        {"path": "all[6].value", "message": "'is_set' takes no value"},
        {"path": "all[7].value", "message": "is required"},
    ]


def test_undefined_attributes_and_values_of_the_wrong_attribute_type_are_rejected():
    AttributeDefinitionFactory(key="income", type="number")
    AttributeDefinitionFactory(key="vip", type="bool")

    errors = errors_of(
        {
            "any": [
                {"field": "attributes.city", "op": "equals", "value": "Moscow"},
                {"field": "attributes.income", "op": "gte", "value": "40000"},
                {"field": "attributes.vip", "op": "contains", "value": "y"},
            ]
        }
    )

    assert errors == [
        {
            "path": "any[0].field",
            "message": "'attributes.city' is not a defined attribute; staff define attributes "
            "in the admin",
        },
        {"path": "any[1].value", "message": "must be a number"},
        {
            "path": "any[2].op",
            "message": "'contains' does not apply to attributes.vip, a yes/no field; use one of: "
            "equals, not_equals, is_set, is_not_set",
        },
    ]


def test_bad_channels_consent_statuses_and_rfm_values_are_rejected():
    errors = errors_of(
        {
            "all": [
                {"reachable": "pigeon"},
                {"consent": {"channel": "email", "status": ["opted_in", "maybe"]}},
                {"consent": {"channel": "email"}},
                {"rfm": {"segment": "whales", "r": {"gte": 6}, "x": 1}},
            ]
        }
    )

    assert errors == [
        {
            "path": "all[0].reachable",
            "message": "unknown channel 'pigeon'; use one of: email, sms, whatsapp, telegram, "
            "viber, push, voice",
        },
        {
            "path": "all[1].consent.status[1]",
            "message": "unknown consent status 'maybe'; use one of: opted_in, opted_out, unknown",
        },
        {"path": "all[2].consent.status", "message": "is required"},
        {
            "path": "all[3].rfm.x",
            "message": "unknown key; use: segment, r, f, m, recency_days, frequency, monetary",
        },
        {
            "path": "all[3].rfm.segment",
            "message": "unknown RFM segment 'whales'; use one of: champions, loyal_customers, "
            "potential_loyalists, new_customers, promising, need_attention, about_to_sleep, "
            "at_risk, cant_lose_them, hibernating, lost",
        },
        {"path": "all[3].rfm.r.gte", "message": "must be a whole number from 1 to 5"},
    ]


def test_bad_event_order_and_bought_conditions_are_rejected():
    errors = errors_of(
        {
            "all": [
                {"event": {"performed": "yes", "within_days": 30, "between": ["2026-01-01"]}},
                {"event": {"name": "x", "where": [{"property": "p", "op": "like", "value": 1}]}},
                {"event": {"name": "x", "count": {"atleast": 2}}},
                {"orders": {"within_days": 0}},
                {"bought": {"sku": [], "category": "Books"}},
                {"orders": {"sum": {"gte": "lots"}, "between": ["2026-02-01", "2026-01-01"]}},
            ]
        }
    )

    assert errors == [
        {"path": "all[0].event.name", "message": "is required"},
        {"path": "all[0].event.performed", "message": "must be true or false"},
        {"path": "all[0].event", "message": "give either within_days or between, not both"},
        {
            "path": "all[0].event.between",
            "message": "must be a list of two values [low, high]",
        },
        {
            "path": "all[1].event.where[0].op",
            "message": "unknown operator 'like'; use one of: equals, not_equals, in, contains, "
            "gt, gte, lt, lte, is_set, is_not_set",
        },
        {
            "path": "all[2].event.count.atleast",
            "message": "unknown comparison; use: equals, not_equals, gt, gte, lt, lte, between",
        },
        {"path": "all[3].orders", "message": "needs at least one of: count, sum, average"},
        {"path": "all[3].orders.within_days", "message": "must be a whole number from 1 to 36500"},
        {"path": "all[4].bought", "message": "needs exactly one of: sku, category"},
        {"path": "all[4].bought.sku", "message": "must be a non-empty list"},
        {"path": "all[5].orders.sum.gte", "message": "must be a number, 0 or more"},
        {"path": "all[5].orders.between", "message": "low must not be greater than high"},
    ]


def test_rule_error_says_every_problem_in_its_message():
    with pytest.raises(RuleError, match=r"all\[0\]\.reachable: unknown channel"):
        rule_validate({"all": [{"reachable": "fax"}, {"segment": "one"}]})


def test_rules_nested_too_deeply_are_rejected():
    rule: dict = {"all": []}
    for _ in range(25):
        rule = {"not": rule}

    assert errors_of(rule)[0]["message"] == "rules nest at most 20 levels deep"


# --- the examples in docs/segments.md -------------------------------------------------------


def test_young_women_in_big_cities_who_prefer_telegram():
    AttributeDefinitionFactory(key="gender", type="string")
    AttributeDefinitionFactory(key="city_population", type="number")
    AttributeDefinitionFactory(key="preferred_channel", type="string")
    attributes = {"gender": "female", "city_population": 1_200_000, "preferred_channel": "telegram"}
    target = customer("target", birth_date=date(2004, 6, 1), attributes=attributes)
    too_old = customer("too_old", birth_date=date(1990, 6, 1), attributes=attributes)
    small_town = customer(
        "small_town",
        birth_date=date(2004, 6, 1),
        attributes={**attributes, "city_population": 90_000},
    )
    for someone in (target, too_old, small_town):
        ChannelIdentityFactory(customer=someone, channel="telegram")
        ConsentFactory(customer=someone, channel="telegram", status="opted_in")

    rule = {
        "all": [
            {"field": "attributes.gender", "op": "equals", "value": "female"},
            {"field": "birth_date", "op": "age_between", "value": [18, 25]},
            {"field": "attributes.city_population", "op": "gte", "value": 1000000},
            {"field": "attributes.preferred_channel", "op": "equals", "value": "telegram"},
            {"reachable": "telegram"},
        ]
    }

    assert matching(rule) == {"target"}


def test_gamers_and_streamers_bought_video_cards():
    gamer = customer("gamer")
    OrderItemFactory(order=OrderFactory(customer=gamer), category="Electronics / Video cards")
    by_sku = customer("by_sku")
    OrderItemFactory(order=OrderFactory(customer=by_sku), sku="GPU-4080", category="")
    reader = customer("reader")
    OrderItemFactory(order=OrderFactory(customer=reader), sku="BOOK-1", category="Books")

    rule = {
        "any": [
            {"bought": {"category": "Electronics / Video cards"}},
            {"bought": {"sku": ["GPU-4090", "GPU-4080"]}},
        ]
    }

    assert matching(rule) == {"gamer", "by_sku"}


def test_loyalty_members_without_an_order_in_30_days():
    AttributeDefinitionFactory(key="loyalty_joined", type="date")
    idle = customer("idle", attributes={"loyalty_joined": "2026-01-15"})
    OrderFactory(customer=idle, placed_at=days_ago(45))
    active = customer("active", attributes={"loyalty_joined": "2026-01-15"})
    OrderFactory(customer=active, placed_at=days_ago(5))
    customer("not_a_member", attributes={})

    rule = {
        "all": [
            {"field": "attributes.loyalty_joined", "op": "is_set"},
            {"orders": {"count": {"equals": 0}, "within_days": 30}},
        ]
    }

    assert matching(rule) == {"idle"}


def test_champions_who_have_not_opened_an_email_in_60_days():
    quiet = customer("quiet")
    RfmScoreFactory(customer=quiet, segment="champions")
    EventFactory(customer=quiet, name="email_opened", occurred_at=days_ago(61))
    reader = customer("reader")
    RfmScoreFactory(customer=reader, segment="champions")
    EventFactory(customer=reader, name="email_opened", occurred_at=days_ago(3))

    rule = {
        "all": [
            {"rfm": {"segment": "champions"}},
            {"event": {"name": "email_opened", "performed": False, "within_days": 60}},
        ]
    }

    assert matching(rule) == {"quiet"}
