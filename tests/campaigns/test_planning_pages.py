"""Planning pages: marketing edits maps and strategies (forms show errors on the field, cells edit
in place with HTMX), a viewer (view_campaigns alone) reads without controls, support is refused."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.planning.models import (
    CjmCell,
    CjmSolutionLink,
    CommunicationStrategy,
    CustomerJourneyMap,
    StrategyContent,
)
from campaigns.planning.services import (
    cjm_cell_save,
    cjm_create,
    strategy_content_add,
    strategy_create,
)
from tests.campaigns.planning_data import broadcast, segment_of, template
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, staff_user):
    user = staff_user("support")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="workspace", codename="view_campaigns")
    )
    client.force_login(user)
    return client


@pytest.fixture
def cjm():
    cjm = cjm_create(name="Shop", channels=["email"])
    cjm_cell_save(stage=cjm.stages.first(), channel="email", barriers="Spam folder")
    return cjm


@pytest.fixture
def strategy():
    return strategy_create(name="Spring", scheme="aida", tone="Warm")


def pages(cjm, strategy):
    stage = cjm.stages.first()
    return [
        reverse("campaigns:cjms"),
        reverse("campaigns:cjm", args=[cjm.pk]),
        reverse("campaigns:strategies"),
        reverse("campaigns:strategy", args=[strategy.pk]),
    ], [
        reverse("campaigns:cjm_new"),
        reverse("campaigns:cjm_edit", args=[cjm.pk]),
        reverse("campaigns:cjm_stages", args=[cjm.pk]),
        reverse("campaigns:cjm_cell", args=[cjm.pk, stage.pk, "email"]),
        reverse("campaigns:strategy_new"),
        reverse("campaigns:strategy_edit", args=[strategy.pk]),
    ]


def test_marketing_opens_every_planning_page(client_as, cjm, strategy):
    client = client_as("marketing")
    reads, writes = pages(cjm, strategy)
    for url in reads + writes:
        assert client.get(url).status_code == 200, url


def test_a_viewer_reads_the_board_and_strategies_without_controls_and_cannot_edit(
    viewer, cjm, strategy
):
    reads, writes = pages(cjm, strategy)
    for url in reads:
        assert viewer.get(url).status_code == 200, url
    for url in writes:
        assert viewer.get(url).status_code == 403, url
    board = viewer.get(reads[1]).content.decode()
    assert "Spam folder" in board and "cjm-edit" not in board
    assert reverse("campaigns:cjm_edit", args=[cjm.pk]) not in board


def test_support_is_refused_every_planning_page(client_as, cjm, strategy):
    client = client_as("support")
    reads, writes = pages(cjm, strategy)
    for url in reads + writes:
        assert client.get(url).status_code == 403, url


def test_the_hub_links_to_maps_and_strategies(client_as):
    page = client_as("marketing").get(reverse("campaigns:index")).content.decode()
    assert reverse("campaigns:cjms") in page and reverse("campaigns:strategies") in page


def test_a_new_map_without_a_name_shows_the_error_on_the_field(client_as):
    response = client_as("marketing").post(reverse("campaigns:cjm_new"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not CustomerJourneyMap.objects.exists()


def test_a_new_map_gets_default_stages_and_its_channels_online_and_offline(client_as):
    response = client_as("marketing").post(
        reverse("campaigns:cjm_new"),
        {"name": "Shop", "channels": ["email", "sms"], "offline_channels": "Store, Call centre"},
    )
    cjm = CustomerJourneyMap.objects.get()
    assert response.url == reverse("campaigns:cjm", args=[cjm.pk])
    assert cjm.channels == ["email", "sms", "Store", "Call centre"]
    assert cjm.stages.count() == 7


def test_the_board_shows_stage_counts_and_the_conversion_definition(client_as):
    c = [CustomerFactory() for _ in range(4)]
    cjm = cjm_create(name="Shop", stage_names=["A", "B"])
    a, b = cjm.stages.all()
    a.segment, b.segment = segment_of(c), segment_of(c[:3])
    a.save()
    b.save()
    page = client_as("marketing").get(reverse("campaigns:cjm", args=[cjm.pk])).content.decode()
    assert "4 customers now" in page and "3 customers now" in page
    assert "← 75 %" in page
    assert "share of the previous stage’s customers who are also in this stage now" in page


def test_a_cell_is_edited_in_place_with_htmx_and_comes_back_as_the_cell(client_as, cjm):
    client = client_as("marketing")
    stage = cjm.stages.first()
    url = reverse("campaigns:cjm_cell_field", args=[cjm.pk, stage.pk, "email", "goal"])
    editor = client.get(url, HTTP_HX_REQUEST="true")
    assert editor.status_code == 200 and "<textarea" in editor.content.decode()
    assert "<html" not in editor.content.decode()
    assert "HX-Request" in editor["Vary"]
    saved = client.post(url, {"goal": "Find a gift"}, HTTP_HX_REQUEST="true")
    assert "Find a gift" in saved.content.decode() and "<textarea" not in saved.content.decode()
    assert CjmCell.objects.get(stage=stage, channel="email").goal == "Find a gift"
    # Without JavaScript the same address leads to the cell's own page.
    assert client.get(url).url == reverse("campaigns:cjm_cell", args=[cjm.pk, stage.pk, "email"])
    assert client.get(url.replace("/goal/", "/mood/"), HTTP_HX_REQUEST="true").status_code == 404


def test_the_cell_page_links_a_solution_and_refuses_a_bad_target(client_as, cjm):
    client = client_as("marketing")
    stage = cjm.stages.first()
    links = reverse("campaigns:cjm_link_add", args=[cjm.pk, stage.pk, "email"])
    sale = broadcast()
    client.post(links, {"target": f"broadcast:{sale.pk}"})
    assert CjmSolutionLink.objects.get().object_id == sale.pk
    page = client.get(reverse("campaigns:cjm_cell", args=[cjm.pk, stage.pk, "email"]))
    assert sale.name in page.content.decode()
    client.post(links, {"target": "coupon:1"})
    assert CjmSolutionLink.objects.count() == 1


def test_stages_are_added_moved_renamed_and_deleted_from_the_stages_page(client_as):
    client = client_as("marketing")
    cjm = cjm_create(name="Shop", stage_names=["A", "B"])
    url = reverse("campaigns:cjm_stages", args=[cjm.pk])
    a, b = cjm.stages.all()
    client.post(url, {"action": "add", "new-name": "C"})
    client.post(url, {"action": "right", "stage": a.pk})
    client.post(url, {"action": "save", "stage": b.pk, f"s{b.pk}-name": "Bee"})
    assert list(cjm.stages.values_list("name", flat=True)) == ["Bee", "A", "C"]
    client.post(url, {"action": "delete", "stage": a.pk})
    assert list(cjm.stages.values_list("name", flat=True)) == ["Bee", "C"]
    refused = client.post(url, {"action": "save", "stage": b.pk, f"s{b.pk}-name": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()


def test_a_new_strategy_form_shows_errors_and_then_creates(client_as):
    client = client_as("marketing")
    response = client.post(reverse("campaigns:strategy_new"), {"name": "", "scheme": "4p"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scheme"}
    segment = segment_of([CustomerFactory()])
    client.post(
        reverse("campaigns:strategy_new"),
        {"name": "Spring", "scheme": "acca", "segments": [segment.pk], "why": "", "goal": "Sell"},
    )
    strategy = CommunicationStrategy.objects.get()
    assert (strategy.scheme, strategy.goal, list(strategy.segments.all())) == (
        "acca", "Sell", [segment],
    )  # fmt: skip


def test_content_is_tagged_from_the_strategy_page_and_a_wrong_step_shows_on_the_field(
    client_as, strategy
):
    client = client_as("marketing")
    url = reverse("campaigns:strategy_content_add", args=[strategy.pk])
    tpl = template()
    client.post(url, {"stage": "interest", "target": f"template:{tpl.pk}"})
    assert StrategyContent.objects.get().stage == "interest"
    refused = client.post(url, {"stage": "action", "target": f"template:{tpl.pk}", "step_id": "s1"})
    assert refused.status_code == 400
    assert refused.context["content_form"].errors["step_id"]
    page = client.get(reverse("campaigns:strategy", args=[strategy.pk])).content.decode()
    assert tpl.name in page and "Funnel by stage" in page


def test_the_strategy_page_shows_the_funnel_and_its_chart_data(client_as, strategy):
    from channels.models import Message

    sale = broadcast()
    strategy_content_add(strategy=strategy, stage="attention", kind="broadcast", object_id=sale.pk)
    customer = CustomerFactory()
    Message.objects.create(
        customer=customer, channel="email", category="marketing", source="campaign",
        source_ref=f"broadcast:{sale.pk}:A", status="opened", sent_at="2026-11-01T10:00Z",
        opened_at="2026-11-01T11:00Z",
    )  # fmt: skip
    page = client_as("marketing").get(reverse("campaigns:strategy", args=[strategy.pk]))
    html = page.content.decode()
    assert "100.0 %" in html and 'id="plan-funnel-chart-data"' in html
    assert [r["reach"] for r in page.context["funnel"]] == [1, 0, 0, 0]


def test_deleting_a_map_and_a_strategy(client_as, cjm, strategy):
    client = client_as("marketing")
    assert client.post(reverse("campaigns:cjm_delete", args=[cjm.pk])).url == reverse(
        "campaigns:cjms"
    )
    assert client.post(reverse("campaigns:strategy_delete", args=[strategy.pk])).status_code == 302
    assert not CustomerJourneyMap.objects.exists() and not CommunicationStrategy.objects.exists()
