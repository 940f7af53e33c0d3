import csv
import io

import pytest
from django.utils import timezone

from customers.models import Event, Segment, SegmentMembership
from customers.services.segments import (
    segment_members_add,
    segment_refresh,
    segments_refresh_all,
    segments_refresh_for_customers,
)
from customers.tasks import compute_rfm_nightly, refresh_segment
from tests.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

ANNAS = {"field": "first_name", "op": "equals", "value": "Anna"}


def members(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    )


def segment_events(name) -> list[tuple[str, dict]]:
    return [
        (e.customer.external_id, e.properties)
        for e in Event.objects.filter(name=name).select_related("customer").order_by("pk")
    ]


@pytest.fixture
def people():
    return {
        "anna": CustomerFactory(external_id="anna", first_name="Anna"),
        "olga": CustomerFactory(external_id="olga", first_name="Olga"),
        "anna2": CustomerFactory(external_id="anna2", first_name="Anna"),
    }


class TestFullRefresh:
    def test_the_first_refresh_fills_the_segment_without_an_event_per_member(self, people):
        segment = SegmentFactory(name="Annas", rules=ANNAS)
        result = segment_refresh(segment=segment)
        assert (result.entered, result.left, result.member_count) == (2, 0, 2)
        assert members(segment) == {"anna", "anna2"}
        assert segment_events("segment_entered") == []
        segment.refresh_from_db()
        assert segment.member_count == 2 and segment.refreshed_at is not None

    def test_later_refreshes_write_an_entered_event_for_each_newcomer(self, people):
        segment = SegmentFactory(name="Annas", rules=ANNAS)
        segment_refresh(segment=segment)
        people["olga"].first_name = "Anna"
        people["olga"].save()
        assert segment_refresh(segment=segment).entered == 1
        assert segment_events("segment_entered") == [
            ("olga", {"segment_id": segment.pk, "segment": "Annas"})
        ]

    def test_a_second_refresh_with_no_change_writes_nothing(self, people):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        result = segment_refresh(segment=segment)
        assert (result.entered, result.left) == (0, 0)
        assert not Event.objects.exists()

    def test_customers_who_no_longer_match_leave_with_an_event(self, people):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        people["anna2"].first_name = "Anya"
        people["anna2"].save()
        result = segment_refresh(segment=segment)
        assert (result.entered, result.left) == (0, 1)
        assert members(segment) == {"anna"}
        assert [c for c, _ in segment_events("segment_left")] == ["anna2"]

    def test_one_refresh_lets_some_in_and_others_out_and_counts_the_members(self, people):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        people["olga"].first_name = "Anna"
        people["olga"].save()
        people["anna2"].first_name = "Anya"
        people["anna2"].save()
        CustomerFactory(external_id="anna3", first_name="Anna")
        result = segment_refresh(segment=segment)
        assert (result.entered, result.left, result.member_count) == (2, 1, 3)
        assert members(segment) == {"anna", "olga", "anna3"}
        assert sorted(c for c, _ in segment_events("segment_entered")) == ["anna3", "olga"]
        assert [c for c, _ in segment_events("segment_left")] == ["anna2"]
        segment.refresh_from_db()
        assert segment.member_count == 3

    def test_members_added_before_the_first_full_refresh_are_kept_without_events(self, people):
        segment = SegmentFactory(rules=ANNAS)
        segments_refresh_for_customers(customer_ids=[people["anna"].pk], kinds={"profile"})
        Event.objects.all().delete()
        result = segment_refresh(segment=segment)
        assert (result.entered, result.left, result.member_count) == (1, 0, 2)
        assert members(segment) == {"anna", "anna2"}
        assert not Event.objects.exists()

    def test_erased_customers_are_never_members(self, people):
        people["anna"].erased_at = timezone.now()
        people["anna"].save()
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        assert members(segment) == {"anna2"}


class TestIncrementalRefresh:
    def test_only_the_given_customers_are_re_evaluated(self, people):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        people["olga"].first_name = "Anna"
        people["olga"].save()
        people["anna2"].first_name = "Anya"
        people["anna2"].save()
        segments_refresh_for_customers(customer_ids=[people["olga"].pk], kinds={"profile"})
        assert members(segment) == {"anna", "anna2", "olga"}  # anna2 was not re-evaluated

    def test_segments_that_do_not_read_what_changed_are_skipped(self, people):
        segment = SegmentFactory(rules=ANNAS)
        people["olga"].first_name = "Anna"
        people["olga"].save()
        assert (
            segments_refresh_for_customers(customer_ids=[people["olga"].pk], kinds={"orders"}) == []
        )
        assert members(segment) == set()


class TestApi:
    def test_create_a_dynamic_segment_and_it_fills_in_the_background(
        self, api, people, django_capture_on_commit_callbacks, eager_celery
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/segments", {"name": "Annas", "rules": ANNAS})
        assert response.status_code == 201
        segment = Segment.objects.get()
        assert members(segment) == {"anna", "anna2"}
        assert api.get(f"/api/v1/segments/{segment.pk}").json()["member_count"] == 2

    def test_an_invalid_rule_is_a_400_naming_the_path(self, api):
        response = api.post(
            "/api/v1/segments",
            {
                "name": "Bad",
                "rules": {"all": [{"field": "shoe_size", "op": "equals", "value": 42}]},
            },
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"].startswith("rules.all[0]")
        assert not Segment.objects.exists()

    def test_a_dynamic_segment_needs_rules_and_a_static_one_has_none(self, api):
        assert api.post("/api/v1/segments", {"name": "A"}).json()["errors"][0]["field"] == "rules"
        response = api.post("/api/v1/segments", {"name": "B", "kind": "static", "rules": ANNAS})
        assert response.json()["errors"][0]["field"] == "rules"

    def test_a_duplicate_name_is_409(self, api):
        SegmentFactory(name="VIP")
        assert api.post("/api/v1/segments", {"name": "VIP", "rules": ANNAS}).status_code == 409

    def test_preview_counts_and_samples_without_saving(self, api, people):
        response = api.post("/api/v1/segments/preview", {"rules": ANNAS, "sample_size": 1})
        assert response.status_code == 200
        assert response.json()["count"] == 2
        assert len(response.json()["sample"]) == 1
        assert not Segment.objects.exists() and not SegmentMembership.objects.exists()

    def test_static_segment_from_external_ids_then_add_and_remove(self, api, people):
        response = api.post(
            "/api/v1/segments",
            {"name": "Call list", "kind": "static", "external_ids": ["anna", "olga"]},
        )
        assert response.status_code == 201
        segment_id = response.json()["id"]
        assert response.json()["member_count"] == 2
        api.post(f"/api/v1/segments/{segment_id}/members", {"external_ids": ["anna2"]})
        response = api.delete(f"/api/v1/segments/{segment_id}/members", {"external_ids": ["anna"]})
        assert response.json()["member_count"] == 2
        assert members(Segment.objects.get()) == {"olga", "anna2"}

    def test_unknown_external_ids_are_named_and_nothing_is_added(self, api, people):
        response = api.post(
            "/api/v1/segments",
            {"name": "Call list", "kind": "static", "external_ids": ["anna", "ghost"]},
        )
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"field": "external_ids[1]", "message": "no customer with external_id 'ghost'"}
        ]
        assert not Segment.objects.exists()

    def test_members_of_a_dynamic_segment_cannot_be_edited_by_hand(self, api, people):
        segment = SegmentFactory(rules=ANNAS)
        response = api.post(f"/api/v1/segments/{segment.pk}/members", {"external_ids": ["olga"]})
        assert response.status_code == 409
        assert response.json()["code"] == "segment_is_dynamic"

    def test_members_page_with_a_cursor_and_as_csv(self, api, people):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        page = api.get(f"/api/v1/segments/{segment.pk}/members", {"limit": 1}).json()
        assert len(page["results"]) == 1 and page["next"]
        response = api.get(f"/api/v1/segments/{segment.pk}/members.csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:2] == ["external_id", "email"]
        assert {r[0] for r in rows[1:]} == {"anna", "anna2"}

    def test_a_segment_used_by_another_cannot_be_deleted(self, api):
        base = SegmentFactory(name="Base", kind="static", rules=None)
        SegmentFactory(name="Uses base", rules={"segment": base.pk})
        response = api.delete(f"/api/v1/segments/{base.pk}")
        assert response.status_code == 409
        assert response.json()["code"] == "segment_in_use"

    def test_patching_rules_refreshes(
        self, api, people, django_capture_on_commit_callbacks, eager_celery
    ):
        segment = SegmentFactory(rules=ANNAS)
        segment_refresh(segment=segment)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.patch(
                f"/api/v1/segments/{segment.pk}",
                {"rules": {"field": "first_name", "op": "equals", "value": "Olga"}},
            )
        assert response.status_code == 200
        assert members(segment) == {"olga"}


class TestOneBrokenSegment:
    """A stored rule that fails to refresh (here: a field that no longer exists) is logged and
    marked, and never stops the refresh of the other segments."""

    BROKEN = {"field": "no_longer_a_field", "op": "equals", "value": "x"}

    def test_a_full_refresh_marks_it_and_refreshes_the_others(self, people, caplog):
        broken = SegmentFactory(name="Broken", rules=self.BROKEN)
        annas = SegmentFactory(name="Annas", rules=ANNAS)
        results = segments_refresh_all()
        assert [r.segment_id for r in results] == [annas.pk]
        assert members(annas) == {"anna", "anna2"}
        broken.refresh_from_db()
        assert "no_longer_a_field" in broken.refresh_error
        assert broken.refreshed_at is None
        assert "refreshing segment" in caplog.text

    def test_an_incremental_refresh_marks_it_and_refreshes_the_others(self, people):
        broken = SegmentFactory(name="Broken", rules=self.BROKEN)
        annas = SegmentFactory(name="Annas", rules=ANNAS)
        segments_refresh_for_customers(customer_ids=[people["anna"].pk], kinds={"profile"})
        assert members(annas) == {"anna"}
        broken.refresh_from_db()
        assert broken.refresh_error

    def test_the_nightly_rfm_job_still_finishes(self, people):
        SegmentFactory(name="Broken", rules=self.BROKEN)
        annas = SegmentFactory(name="Annas", rules=ANNAS)
        compute_rfm_nightly()
        assert members(annas) == {"anna", "anna2"}

    def test_the_single_segment_refresh_task_marks_it_instead_of_raising(self, people):
        broken = SegmentFactory(name="Broken", rules=self.BROKEN)
        assert refresh_segment(broken.pk) is None
        broken.refresh_from_db()
        assert "no_longer_a_field" in broken.refresh_error

    def test_a_refresh_that_works_again_clears_the_mark(self, people):
        segment = SegmentFactory(name="Fixed", rules=ANNAS, refresh_error="earlier failure")
        segment_refresh(segment=segment)
        segment.refresh_from_db()
        assert segment.refresh_error == ""


def test_static_members_add_is_idempotent(people):
    segment = SegmentFactory(kind="static", rules=None)
    segment_members_add(segment=segment, external_ids=["anna"])
    assert segment_members_add(segment=segment, external_ids=["anna"]).entered == 0
    assert members(segment) == {"anna"}


class TestDataChangesMoveCustomersAtOnce:
    """Incremental refresh: each write re-evaluates only the customers it touched."""

    @pytest.fixture(autouse=True)
    def _eager(self, eager_celery):
        pass

    def test_an_event_puts_the_customer_into_a_segment_that_reads_that_event(
        self, api, people, django_capture_on_commit_callbacks
    ):
        carts = SegmentFactory(
            name="Carts", rules={"event": {"name": "add_to_cart", "performed": True}}
        )
        event = {
            "event_id": "e1",
            "customer_external_id": "olga",
            "name": "add_to_cart",
            "occurred_at": "2026-11-20T10:00:00Z",
        }
        with django_capture_on_commit_callbacks(execute=True):
            api.post("/api/v1/events/batch", {"items": [event]})
        assert members(carts) == {"olga"}
        assert [c for c, _ in segment_events("segment_entered")] == ["olga"]

    def test_an_order_and_a_profile_change_move_customers_in_and_out(
        self, api, people, django_capture_on_commit_callbacks
    ):
        buyers = SegmentFactory(name="Buyers", rules={"orders": {"count": {"gte": 1}}})
        annas = SegmentFactory(name="Annas", rules=ANNAS)
        segment_refresh(segment=annas)
        order = {
            "external_id": "o1",
            "customer_external_id": "anna",
            "placed_at": "2026-11-20T10:00:00Z",
            "total": "10.00",
            "currency": "RUB",
        }
        with django_capture_on_commit_callbacks(execute=True):
            api.post("/api/v1/orders/batch", {"items": [order]})
            api.post(
                "/api/v1/customers/batch",
                {"items": [{"external_id": "anna", "first_name": "Anya"}]},
            )
        assert members(buyers) == {"anna"}
        assert members(annas) == {"anna2"}

    def test_a_consent_change_moves_a_customer(
        self, api, people, django_capture_on_commit_callbacks
    ):
        reachable = SegmentFactory(rules={"consent": {"channel": "sms", "status": "opted_in"}})
        with django_capture_on_commit_callbacks(execute=True):
            api.put("/api/v1/customers/olga/consents/sms", {"status": "opted_in"})
        assert members(reachable) == {"olga"}


def test_the_customer_object_lists_its_segments(api, people):
    segment = SegmentFactory(name="Annas", rules=ANNAS)
    segment_refresh(segment=segment)
    listed = api.get("/api/v1/customers/anna").json()["segments"]
    assert [(s["id"], s["name"]) for s in listed] == [(segment.pk, "Annas")]
    assert api.get("/api/v1/customers/olga").json()["segments"] == []


def test_a_segment_built_on_another_follows_it_when_a_customer_changes(people):
    annas = SegmentFactory(name="Annas", rules=ANNAS)
    not_annas = SegmentFactory(name="Not Annas", rules={"not": {"segment": annas.pk}})
    segment_refresh(segment=annas)
    segment_refresh(segment=not_annas)
    people["olga"].first_name = "Anna"
    people["olga"].save()
    segments_refresh_for_customers(customer_ids=[people["olga"].pk], kinds={"profile"})
    assert "olga" in members(annas)
    assert "olga" not in members(not_annas)


@pytest.mark.django_db
def test_memberships_and_scores_go_with_their_segment_or_customer():
    """Memberships and RFM scores have no database-level foreign keys (derived data rewritten
    by each refresh); deleting through Django still removes them."""
    from customers.models import RfmScore
    from customers.services.segments import segment_delete
    from tests.factories import RfmScoreFactory, SegmentMembershipFactory

    kept, deleted = CustomerFactory(), CustomerFactory()
    segment, other = SegmentFactory(kind="static"), SegmentFactory(kind="static")
    for customer in (kept, deleted):
        SegmentMembershipFactory(segment=segment, customer=customer)
        SegmentMembershipFactory(segment=other, customer=customer)
        RfmScoreFactory(customer=customer)
    segment_delete(segment=segment)
    assert not SegmentMembership.objects.filter(segment_id=segment.pk).exists()
    deleted.delete()
    assert list(SegmentMembership.objects.values_list("customer_id", flat=True)) == [kept.pk]
    assert list(RfmScore.objects.values_list("customer_id", flat=True)) == [kept.pk]
