import pytest

from campaigns.planning.models import CjmSolutionLink, CommunicationStrategy, CustomerJourneyMap
from tests.campaigns.planning_data import broadcast, segment_of, template
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CJMS = "/api/v1/cjms"
STRATEGIES = "/api/v1/strategies"


def fields_of(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_a_map_created_without_stages_gets_the_default_seven(api):
    response = api.post(CJMS, {"name": "Shop", "channels": ["email", "Store"]})
    assert response.status_code == 201
    body = response.json()
    assert [s["name"] for s in body["stages"]] == [
        "Need", "Search", "Choice", "Purchase", "Use", "Loyalty", "Advocacy",
    ]  # fmt: skip
    assert body["channels"] == ["email", "Store"]


def test_a_map_with_stages_cells_and_links_reads_back_with_counts_and_conversion(api):
    c = [CustomerFactory() for _ in range(4)]
    first, second = segment_of(c), segment_of(c[:1])
    sale = broadcast()
    body = {
        "name": "Shop",
        "stages": [
            {"name": "Need", "segment": first.pk},
            {
                "name": "Buy",
                "segment": second.pk,
                "cells": [
                    {
                        "channel": "email",
                        "barriers": "Long form",
                        "solutions": "One click",
                        "links": [{"kind": "broadcast", "object_id": sale.pk}],
                    }
                ],
            },
        ],
    }
    made = api.post(CJMS, body).json()
    got = api.get(f"{CJMS}/{made['id']}").json()
    need, buy = got["stages"]
    assert (need["customers"], need["conversion"]) == (4, None)
    assert (buy["customers"], buy["conversion"]) == (1, 0.25)
    assert buy["cells"][0]["links"] == [{"kind": "broadcast", "object_id": sale.pk}]
    assert got["channels"] == ["email"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "X", "stages": [{"name": ""}]}, "stages[0].name"),
        ({"name": "X", "stages": [{"name": "A", "segment": 999}]}, "stages[0].segment"),
        (
            {"name": "X", "stages": [{"name": "A", "cells": [{"channel": "email", "links": [{"kind": "coupon", "object_id": 1}]}]}]},
            "stages[0].cells[0].links[0].kind",
        ),
        (
            {"name": "X", "stages": [{"name": "A", "cells": [{"channel": "email", "links": [{"kind": "template", "object_id": 999}]}]}]},
            "stages[0].cells[0].links[0].object_id",
        ),
        ({"name": "X", "channels": ["a/b"]}, "channels"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_a_bad_map_body_is_a_400_naming_the_field_and_stores_nothing(api, body, field):
    response = api.post(CJMS, body)
    assert response.status_code == 400
    assert field in fields_of(response)
    assert not CustomerJourneyMap.objects.exists()


def test_a_patch_keeps_stages_by_id_adds_new_ones_and_deletes_the_rest(api):
    made = api.post(CJMS, {"name": "Shop"}).json()
    need, search = made["stages"][0], made["stages"][1]
    stages = [
        {"id": search["id"], "name": "Looking"},
        {"name": "New"},
        {"id": need["id"], "name": "Need"},
    ]
    response = api.patch(f"{CJMS}/{made['id']}", {"name": "Shop 2", "stages": stages})
    assert response.status_code == 200
    got = response.json()
    assert got["name"] == "Shop 2"
    assert [s["name"] for s in got["stages"]] == ["Looking", "New", "Need"]
    assert got["stages"][0]["id"] == search["id"]
    assert api.patch(f"{CJMS}/{made['id']}", {"name": None}).status_code == 400


def test_maps_page_with_a_signed_cursor_and_delete(api):
    ids = [api.post(CJMS, {"name": f"Map {i}"}).json()["id"] for i in range(3)]
    first = api.get(CJMS, {"limit": 2}).json()
    assert [m["id"] for m in first["results"]] == ids[:0:-1]
    second = api.get(first["next"]).json()
    assert [m["id"] for m in second["results"]] == [ids[0]] and second["next"] is None
    assert api.get(CJMS, {"cursor": "cD0x"}).json()["code"] == "invalid_cursor"
    assert api.delete(f"{CJMS}/{ids[0]}").status_code == 204
    assert api.get(f"{CJMS}/{ids[0]}").status_code == 404


def test_a_create_retried_with_the_same_idempotency_key_makes_one_map(api):
    first = api.post(CJMS, {"name": "Once"}, HTTP_IDEMPOTENCY_KEY="m-1")
    retry = api.post(CJMS, {"name": "Once"}, HTTP_IDEMPOTENCY_KEY="m-1")
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert CustomerJourneyMap.objects.count() == 1
    assert api.post(CJMS, {"name": "Other"}, HTTP_IDEMPOTENCY_KEY="m-1").status_code == 422


def test_a_read_only_key_reads_maps_but_cannot_write(read_api):
    assert read_api.get(CJMS).status_code == 200
    assert read_api.post(CJMS, {"name": "No"}).status_code == 403
    assert read_api.post(STRATEGIES, {"name": "No", "scheme": "aida"}).status_code == 403


def test_a_strategy_with_segments_and_tagged_content_and_its_funnel(api):
    segment = segment_of([CustomerFactory()])
    made = api.post(
        STRATEGIES,
        {"name": "Spring", "scheme": "aidma", "segments": [segment.pk], "tone": "Friendly"},
    )
    assert made.status_code == 201
    strategy = made.json()
    assert [s["key"] for s in strategy["stages"]] == [
        "attention", "interest", "desire", "memory", "action",
    ]  # fmt: skip
    url = f"{STRATEGIES}/{strategy['id']}"
    tpl = template()
    tag = api.post(f"{url}/content", {"stage": "memory", "kind": "template", "object_id": tpl.pk})
    assert tag.status_code == 201
    got = api.get(url).json()
    assert got["segments"] == [segment.pk] and got["content"][0]["stage"] == "memory"
    funnel = api.get(f"{url}/funnel").json()
    assert funnel["conversion_days"] == 7
    assert [(r["stage"], r["content"], r["reach"]) for r in funnel["stages"]][3] == ("memory", 1, 0)
    assert api.delete(f"{url}/content/{tag.json()['id']}").status_code == 204
    assert api.get(url).json()["content"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "memory", "kind": "template", "object_id": 1}, "stage"),
        ({"stage": "action", "kind": "sms", "object_id": 1}, "kind"),
        ({"stage": "action", "kind": "broadcast", "object_id": 999}, "object_id"),
        ({"stage": "action", "kind": "template", "object_id": 0}, "object_id"),
    ],
)
def test_bad_content_is_a_400_naming_the_field(api, body, field):
    strategy = api.post(STRATEGIES, {"name": "S", "scheme": "aida"}).json()
    template()
    response = api.post(f"{STRATEGIES}/{strategy['id']}/content", body)
    assert response.status_code == 400
    assert fields_of(response) == [field]


def test_a_bad_strategy_body_is_a_400_naming_the_field(api):
    assert fields_of(api.post(STRATEGIES, {"name": "S", "scheme": "4p"})) == ["scheme"]
    assert fields_of(api.post(STRATEGIES, {"name": "S", "scheme": "aida", "segments": [5]})) == [
        "segments[0]"
    ]
    assert not CommunicationStrategy.objects.exists()
    made = api.post(STRATEGIES, {"name": "S", "scheme": "aida"}).json()
    api.post(
        f"{STRATEGIES}/{made['id']}/content",
        {"stage": "desire", "kind": "broadcast", "object_id": broadcast().pk},
    )
    refused = api.patch(f"{STRATEGIES}/{made['id']}", {"scheme": "acca"})
    assert refused.status_code == 400 and fields_of(refused) == ["scheme"]


def test_strategies_page_with_a_cursor_and_a_content_tag_is_idempotent(api):
    ids = [api.post(STRATEGIES, {"name": f"S{i}", "scheme": "acca"}).json()["id"] for i in range(3)]
    first = api.get(STRATEGIES, {"limit": 2}).json()
    assert [s["id"] for s in first["results"]] == ids[:0:-1]
    assert [s["id"] for s in api.get(first["next"]).json()["results"]] == [ids[0]]
    body = {"stage": "action", "kind": "template", "object_id": template().pk}
    url = f"{STRATEGIES}/{ids[0]}/content"
    one = api.post(url, body, HTTP_IDEMPOTENCY_KEY="t-1")
    two = api.post(url, body, HTTP_IDEMPOTENCY_KEY="t-1")
    assert one.json() == two.json() and two.headers["Idempotent-Replayed"] == "true"
    assert api.delete(f"{STRATEGIES}/{ids[0]}").status_code == 204
    assert not CjmSolutionLink.objects.exists()
