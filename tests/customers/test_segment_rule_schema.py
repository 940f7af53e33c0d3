"""The rule language's JSON schema (in the OpenAPI document) agrees with rule_validate.

Rules the schema calls valid are accepted, rules it calls invalid are rejected; the few things a
JSON schema cannot know (defined attributes, existing segments, low ≤ high) are listed apart.
"""

import pytest
import yaml
from django.test import Client
from jsonschema import Draft202012Validator

from customers.models import AttributeDefinition
from customers.segments.rules import RuleError, rule_validate
from tests.factories import AttributeDefinitionFactory, SegmentFactory

pytestmark = pytest.mark.django_db

VALID = [
    {"all": []},
    {"any": [{"reachable": "telegram"}, {"identity": "email"}]},
    {"not": {"segment": 1}},
    {"field": "first_name", "op": "equals", "value": "Anna"},
    {"field": "email", "op": "in", "value": ["a@example.com", "b@example.com"]},
    {"field": "phone", "op": "starts_with", "value": "+7916"},
    {"field": "email", "op": "is_set"},
    {"field": "locale", "op": "is_not_set", "value": None},
    {"field": "lifecycle_stage", "op": "not_in", "value": ["lead", "churned"]},
    {"field": "birth_date", "op": "age_between", "value": [18, 25]},
    {"field": "birth_date", "op": "in_next_days", "value": 7},
    {"field": "birth_date", "op": "between", "value": ["1990-01-01", "1999-12-31"]},
    {"field": "created_at", "op": "lte", "value": "2026-03-01"},
    {"field": "updated_at", "op": "gt", "value": "2026-03-01T10:00:00+03:00"},
    {"field": "created_at", "op": "in_last_days", "value": 30},
    {"field": "attributes.city", "op": "in", "value": ["Москва", "Новосибирск"]},
    {"field": "attributes.income", "op": "gte", "value": 40000},
    {"consent": {"channel": "email", "status": ["opted_in", "unknown"]}},
    {"rfm": {}},
    {"rfm": {"segment": "champions", "r": {"gte": 4}, "f": {"between": [2, 5]}}},
    {"rfm": {"monetary": {"gte": 1000.5}, "recency_days": {"lt": 30}}},
    {
        "event": {
            "name": "product_viewed",
            "where": [
                {"property": "category", "op": "equals", "value": "Video cards"},
                {"property": "price", "op": "gte", "value": 100},
                {"property": "tags", "op": "in", "value": ["a", 2, True]},
                {"property": "coupon", "op": "is_not_set"},
            ],
            "count": {"gte": 2},
            "within_days": 30,
        }
    },
    {"event": {"name": "login", "performed": False, "between": ["2026-01-01", "2026-02-01"]}},
    {"orders": {"count": {"gte": 3}, "sum": {"gte": 10000}, "average": {"lt": 500}}},
    {"bought": {"sku": ["GPU-1", "GPU-2"]}},
    {"bought": {"category": "Electronics / *", "within_days": 180}},
]

INVALID = [
    {},
    [],
    {"all": [], "any": []},
    {"any": []},
    {"all": {"field": "email"}},
    {"sometimes": []},
    {"field": "nickname", "op": "equals", "value": "x"},
    {"field": "first_name", "op": "gt", "value": "x"},
    {"field": "first_name", "op": "equals"},
    {"field": "first_name", "op": "equals", "value": 5},
    {"field": "first_name", "op": "equals", "value": "x", "extra": 1},
    {"field": "email", "op": "is_set", "value": "x"},
    {"field": "email", "op": "in", "value": []},
    {"field": "lifecycle_stage", "op": "equals", "value": "vip"},
    {"field": "birth_date", "op": "equals", "value": "01.02.1990"},
    {"field": "birth_date", "op": "equals", "value": "1990-02-30"},
    {"field": "birth_date", "op": "age_between", "value": [18]},
    {"field": "birth_date", "op": "in_last_days", "value": -1},
    {"field": "created_at", "op": "in_next_days", "value": 3},
    {"field": "attributes.city__name", "op": "equals", "value": "x"},
    {"reachable": "pigeon"},
    {"consent": {"channel": "email"}},
    {"consent": {"channel": "email", "status": "maybe"}},
    {"rfm": {"r": {"gte": 6}}},
    {"rfm": {"r": {}}},
    {"rfm": {"r": {"about": 3}}},
    {"rfm": {"segment": "vip"}},
    {"event": {"performed": True}},
    {"event": {"name": " "}},
    {"event": {"name": "x", "within_days": 0}},
    {"event": {"name": "x", "within_days": 5, "between": ["2026-01-01", "2026-02-01"]}},
    {"event": {"name": "x", "where": [{"property": "a__b", "op": "equals", "value": 1}]}},
    {"event": {"name": "x", "where": [{"property": "a", "op": "contains", "value": 1}]}},
    {"event": {"name": "x", "where": [{"property": "a", "op": "equals"}]}},
    {"orders": {"within_days": 30}},
    {"orders": {"sum": {"gte": -1}}},
    {"bought": {"sku": "A", "category": "B"}},
    {"bought": {}},
    {"bought": {"sku": []}},
    {"segment": 0},
    {"segment": "12"},
]

# Valid as JSON, but only the database knows better: the schema cannot reject these.
BEYOND_THE_SCHEMA = [
    ({"field": "attributes.unknown", "op": "equals", "value": "x"}, "field"),
    ({"segment": 999_999}, "segment"),
    ({"field": "birth_date", "op": "between", "value": ["1999-01-01", "1990-01-01"]}, "value"),
    ({"rfm": {"f": {"between": [5, 2]}}}, "rfm.f.between"),
]


@pytest.fixture(scope="module")
def rule_schema():
    document = yaml.safe_load(Client().get("/api/v1/schema/").content)
    return Draft202012Validator(
        {"components": document["components"], "$ref": "#/components/schemas/SegmentRule"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.fixture(autouse=True)
def _attributes_and_a_segment():
    AttributeDefinitionFactory(key="city", type=AttributeDefinition.Type.STRING)
    AttributeDefinitionFactory(key="income", type=AttributeDefinition.Type.NUMBER)
    SegmentFactory(pk=1)


@pytest.mark.parametrize("rule", VALID, ids=str)
def test_a_rule_the_schema_calls_valid_is_accepted(rule_schema, rule):
    assert list(rule_schema.iter_errors(rule)) == []
    rule_validate(rule)


@pytest.mark.parametrize("rule", INVALID, ids=str)
def test_a_rule_the_schema_calls_invalid_is_rejected(rule_schema, rule):
    assert not rule_schema.is_valid(rule)
    with pytest.raises(RuleError):
        rule_validate(rule)


@pytest.mark.parametrize(("rule", "path"), BEYOND_THE_SCHEMA, ids=str)
def test_what_only_the_database_knows_is_rejected_naming_the_path(rule_schema, rule, path):
    assert rule_schema.is_valid(rule)
    with pytest.raises(RuleError) as error:
        rule_validate(rule)
    assert error.value.errors[0]["path"].endswith(path)
