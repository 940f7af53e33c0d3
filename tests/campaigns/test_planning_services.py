import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from campaigns.planning.models import CjmCell, CjmSolutionLink, StrategyContent
from campaigns.planning.services import (
    CellSpec,
    StageSpec,
    cjm_cell_save,
    cjm_create,
    cjm_link_add,
    cjm_stage_add,
    cjm_stage_delete,
    cjm_stage_move,
    cjm_stages_reorder,
    cjm_stages_replace,
    cjm_update,
    strategy_content_add,
    strategy_create,
    strategy_update,
)
from tests.campaigns.planning_data import broadcast, template

pytestmark = pytest.mark.django_db


def names(cjm):
    return list(cjm.stages.values_list("name", flat=True))


def field_of(error: ValidationError) -> list[str]:
    return list(error.value.message_dict)


def test_a_new_map_gets_the_seven_default_stages_in_order():
    cjm = cjm_create(name="Shop")
    assert names(cjm) == ["Need", "Search", "Choice", "Purchase", "Use", "Loyalty", "Advocacy"]
    assert list(cjm.stages.values_list("position", flat=True)) == list(range(7))


def test_default_stage_names_are_stored_in_the_language_of_whoever_creates_the_map():
    with translation.override("ru"):
        cjm = cjm_create(name="Магазин")
    assert names(cjm)[0] == "Потребность"
    assert names(cjm)[-1] == "Рекомендация"


def test_stages_can_be_added_renamed_reordered_and_deleted():
    cjm = cjm_create(name="Shop", stage_names=["A", "B", "C"])
    d = cjm_stage_add(cjm=cjm, name="D")
    a, b, c = cjm.stages.all()[:3]
    cjm_stages_reorder(cjm=cjm, stage_ids=[c.pk, a.pk, d.pk, b.pk])
    assert names(cjm) == ["C", "A", "D", "B"]
    cjm_stage_move(stage=d, offset=-1)
    assert names(cjm) == ["C", "D", "A", "B"]
    cjm_stage_move(stage=cjm.stages.get(name="C"), offset=-1)  # already first: stays
    assert names(cjm) == ["C", "D", "A", "B"]
    cjm_stage_delete(stage=cjm.stages.get(name="D"))
    assert names(cjm) == ["C", "A", "B"]
    assert list(cjm.stages.values_list("position", flat=True)) == [0, 1, 2]


def test_a_reorder_that_leaves_out_a_stage_is_refused_naming_stage_ids():
    cjm = cjm_create(name="Shop", stage_names=["A", "B"])
    with pytest.raises(ValidationError) as error:
        cjm_stages_reorder(cjm=cjm, stage_ids=[cjm.stages.first().pk])
    assert field_of(error) == ["stage_ids"]


def test_an_empty_map_name_is_refused_naming_name():
    with pytest.raises(ValidationError) as error:
        cjm_create(name="  ")
    assert field_of(error) == ["name"]
    cjm = cjm_create(name="Shop")
    with pytest.raises(ValidationError) as error:
        cjm_update(cjm=cjm, name="")
    assert field_of(error) == ["name"]


def test_a_cell_on_a_new_channel_adds_the_channel_row():
    cjm = cjm_create(name="Shop", channels=["email"])
    stage = cjm.stages.first()
    cjm_cell_save(stage=stage, channel="Store", touchpoints="Shelf", barriers="Queue")
    cjm.refresh_from_db()
    assert cjm.channels == ["email", "Store"]
    cell = CjmCell.objects.get()
    assert (cell.touchpoints, cell.barriers) == ("Shelf", "Queue")


def test_a_solution_links_to_a_broadcast_or_a_template():
    cjm = cjm_create(name="Shop")
    cell = cjm_cell_save(stage=cjm.stages.first(), channel="email", solutions="A welcome")
    cjm_link_add(cell=cell, kind="broadcast", object_id=broadcast().pk)
    cjm_link_add(cell=cell, kind="template", object_id=template("Other").pk)
    assert sorted(CjmSolutionLink.objects.values_list("kind", flat=True)) == [
        "broadcast",
        "template",
    ]


@pytest.mark.parametrize(
    ("kind", "object_id", "field"),
    [("coupon", 1, "kind"), ("broadcast", 999, "object_id"), ("template", 0, "object_id")],
)
def test_a_link_to_an_unknown_kind_or_id_is_refused_naming_the_field(kind, object_id, field):
    cjm = cjm_create(name="Shop")
    cell = cjm_cell_save(stage=cjm.stages.first(), channel="email")
    with pytest.raises(ValidationError) as error:
        cjm_link_add(cell=cell, kind=kind, object_id=object_id)
    assert field_of(error) == [field]
    assert not CjmSolutionLink.objects.exists()


def test_replacing_stages_keeps_given_ids_adds_new_ones_and_names_a_bad_link_by_its_path():
    cjm = cjm_create(name="Shop", stage_names=["A", "B", "C"])
    a, b, _c = cjm.stages.all()
    cjm_stages_replace(
        cjm=cjm,
        stages=[StageSpec(name="B2", id=b.pk), StageSpec(name="New"), StageSpec(name="A", id=a.pk)],
    )
    assert names(cjm) == ["B2", "New", "A"]
    assert cjm.stages.first().pk == b.pk
    with pytest.raises(ValidationError) as error:
        cjm_stages_replace(
            cjm=cjm,
            stages=[
                StageSpec(
                    name="X",
                    cells=[CellSpec(channel="email", links=[("broadcast", 12345)])],
                )
            ],
        )
    assert field_of(error) == ["stages[0].cells[0].links[0].object_id"]


def test_content_is_tagged_only_with_a_stage_of_the_strategys_scheme():
    strategy = strategy_create(name="Spring", scheme="aida")
    tpl = template()
    strategy_content_add(strategy=strategy, stage="interest", kind="template", object_id=tpl.pk)
    with pytest.raises(ValidationError) as error:
        strategy_content_add(strategy=strategy, stage="memory", kind="template", object_id=tpl.pk)
    assert field_of(error) == ["stage"]
    with pytest.raises(ValidationError) as error:
        strategy_content_add(strategy=strategy, stage="action", kind="sms", object_id=tpl.pk)
    assert field_of(error) == ["kind"]
    with pytest.raises(ValidationError) as error:
        strategy_content_add(
            strategy=strategy, stage="action", kind="broadcast", object_id=tpl.pk + 50
        )
    assert field_of(error) == ["object_id"]
    with pytest.raises(ValidationError) as error:
        strategy_content_add(
            strategy=strategy, stage="action", kind="template", object_id=tpl.pk, step_id="s1"
        )
    assert field_of(error) == ["step_id"]
    assert StrategyContent.objects.count() == 1


def test_a_scheme_change_keeps_shared_stages_and_refuses_to_orphan_content():
    strategy = strategy_create(name="Spring", scheme="aida")
    tpl = template()
    strategy_content_add(strategy=strategy, stage="desire", kind="template", object_id=tpl.pk)
    strategy_update(strategy=strategy, scheme="aidma")  # AIDMA has desire too
    assert strategy.scheme == "aidma"
    with pytest.raises(ValidationError) as error:
        strategy_update(strategy=strategy, scheme="acca")
    assert field_of(error) == ["scheme"]
    with pytest.raises(ValidationError) as error:
        strategy_create(name="X", scheme="4p")
    assert field_of(error) == ["scheme"]


def test_the_demo_map_and_strategy_load_once_with_stage_segments_where_they_exist():
    from campaigns.planning.demo import CJM_NAME, planning_demo_load
    from campaigns.planning.models import CommunicationStrategy, CustomerJourneyMap
    from tests.factories import SegmentFactory

    buyers = SegmentFactory(name="Gamers and streamers")
    template("Приветственное письмо")
    cjm, strategy = planning_demo_load()
    again = planning_demo_load()
    assert again == (cjm, strategy)
    assert CustomerJourneyMap.objects.count() == CommunicationStrategy.objects.count() == 1
    assert cjm.name == CJM_NAME and cjm.stages.count() == 7
    assert cjm.stages.get(name="Покупка").segment == buyers
    assert cjm.stages.get(name="Поиск").segment is None
    assert CjmCell.objects.filter(stage__cjm=cjm).count() == 14
    assert list(strategy.segments.all()) == [buyers]
    assert StrategyContent.objects.get(strategy=strategy).stage == "interest"


def test_a_solution_links_to_a_journey_and_content_names_one_of_its_steps():
    from campaigns.journeys.models import Journey

    journey = Journey.objects.create(name="Welcome", draft={"steps": [{"id": "send-1"}]})
    cjm = cjm_create(name="Shop")
    cell = cjm_cell_save(stage=cjm.stages.first(), channel="email")
    assert cjm_link_add(cell=cell, kind="journey", object_id=journey.pk).kind == "journey"
    strategy = strategy_create(name="Spring", scheme="aida")
    strategy_content_add(
        strategy=strategy,
        stage="action",
        kind="journey_step",
        object_id=journey.pk,
        step_id="send-1",
    )
    with pytest.raises(ValidationError) as error:
        strategy_content_add(
            strategy=strategy,
            stage="action",
            kind="journey_step",
            object_id=journey.pk,
            step_id="nope",
        )
    assert field_of(error) == ["step_id"]
    with pytest.raises(ValidationError) as error:
        strategy_content_add(
            strategy=strategy, stage="action", kind="journey_step", object_id=journey.pk
        )
    assert field_of(error) == ["step_id"]
