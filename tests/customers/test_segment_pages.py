"""The Segments pages: list, editor (builder, JSON tab, live preview), members, CSV, delete.

Each role: marketing and admin manage segments, support only reads them.
"""

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from django.db import DatabaseError
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings

from api.models import AuditEntry
from customers.models import Segment, SegmentMembership
from customers.segments import pages
from customers.segments.builder import canonical, rule_to_tree
from customers.segments.builder_form import tree_to_form
from tests.customers.test_segment_builder import ATTRIBUTES, EVERY_KIND
from tests.customers.test_segment_builder import rules as builder_rules
from tests.factories import (
    AttributeDefinitionFactory,
    CustomerFactory,
    EventFactory,
    RfmScoreFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db

ANNA = {"field": "first_name", "op": "equals", "value": "Anna"}


def editor_post(rule, *, name="Annas", description="", **extra):
    """The editor's form as the page posts it for `rule` (built by the builder's own model)."""
    data: dict[str, list[str]] = {"name": [name], "description": [description], "mode": ["builder"]}
    for key, value in tree_to_form(rule_to_tree(rule)):
        data.setdefault(key, []).append(value)
    for key, value in extra.items():
        data[key] = [value]
    return data


def annas(count=145):
    CustomerFactory.create_batch(count)  # first_name "Anna"
    CustomerFactory.create_batch(5, first_name="Boris")


# --- access per role ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_marketing_and_admin_see_the_list_with_new_segment(client_as, role):
    SegmentFactory(name="Gamers")
    response = client_as(role).get("/app/segments/")
    assert response.status_code == 200
    assert b"Gamers" in response.content
    assert b"/app/segments/new/" in response.content


def test_support_reads_segments_without_any_control_to_change_them(client_as):
    segment = SegmentFactory(name="Gamers")
    client = client_as("support")
    listing = client.get("/app/segments/")
    assert listing.status_code == 200
    assert b"Gamers" in listing.content
    assert b"/app/segments/new/" not in listing.content
    members = client.get(f"/app/segments/{segment.pk}/members/")
    assert members.status_code == 200
    assert b"/edit/" not in members.content and b"/delete/" not in members.content
    assert client.get(f"/app/segments/{segment.pk}/members.csv").status_code == 200
    assert client.get("/app/segments/new/").status_code == 403
    assert client.post("/app/segments/new/", editor_post(ANNA)).status_code == 403
    assert client.get(f"/app/segments/{segment.pk}/edit/").status_code == 403
    assert client.post(f"/app/segments/{segment.pk}/delete/").status_code == 403
    assert client.post("/app/segments/preview/", editor_post(ANNA)).status_code == 403
    assert client.post("/app/segments/builder/row/", {"action": "add"}).status_code == 403
    assert Segment.objects.filter(pk=segment.pk).exists()
    assert not Segment.objects.filter(name="Annas").exists()


def test_staff_without_a_role_get_403_and_visitors_sign_in(client, staff_user):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("nobody", password="x"))
    assert client.get("/app/segments/").status_code == 403
    client.logout()
    assert client.get("/app/segments/").status_code == 302


# --- list ---------------------------------------------------------------------------------------


def test_the_list_shows_stored_counts_and_pages_without_counting(
    client_as, django_assert_max_num_queries
):
    from django.utils import timezone

    now = timezone.now()
    SegmentFactory(name="Big", member_count=1_234_567, refreshed_at=now, updated_at=now)
    SegmentFactory(
        name="Broken", member_count=3, refreshed_at=now, updated_at=now, refresh_error="boom"
    )
    SegmentFactory(name="Fresh")  # never refreshed: counting
    for n in range(55):
        SegmentFactory(name=f"Z {n:02d}", refreshed_at=now, updated_at=now)
    client = client_as("marketing")
    with CaptureQueriesContext(__import__("django.db").db.connection) as queries:
        response = client.get("/app/segments/")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    html = response.content.decode()
    assert "1,234,567" in html
    assert "Refresh failed" in html
    assert "counting…" in html
    assert 'rel="next"' in html
    assert "Z 46" in html and "Z 47" not in html  # 3 + 47 = 50 a page
    second = client.get("/app/segments/?after=Z+46").content.decode()
    assert "Z 47" in second and "Z 54" in second and "Big" not in second
    assert 'rel="next"' not in second


# --- saving -------------------------------------------------------------------------------------


def test_saving_a_segment_that_matches_145_shows_145_at_once_and_audits(client_as):
    annas()
    client = client_as("marketing")
    response = client.post("/app/segments/new/", editor_post(ANNA))
    segment = Segment.objects.get(name="Annas")
    assert response.status_code == 302
    assert response["Location"] == f"/app/segments/{segment.pk}/members/"
    assert segment.member_count == 145 and segment.refreshed_at is not None
    assert SegmentMembership.objects.filter(segment=segment).count() == 145
    page = client.get(response["Location"]).content.decode()
    assert "145" in page
    assert ">0<" not in page and "Counting" not in page
    entry = AuditEntry.objects.get(action="segment.created")
    assert entry.after["rules"] == ANNA and entry.object_id == str(segment.pk)


def test_a_segment_too_big_to_fill_at_once_shows_counting_never_zero(client_as, monkeypatch):
    annas()
    monkeypatch.setattr(pages, "SYNC_REFRESH_LIMIT", 10)
    client = client_as("marketing")
    response = client.post("/app/segments/new/", editor_post(ANNA), follow=True)
    html = response.content.decode()
    assert "About 145 members; counting them now." in html
    assert "Counting…" in html
    assert 'hx-trigger="every 2s"' in html  # the count polls until the refresh lands
    assert '<span class="count-big">0</span>' not in html
    listing = client.get("/app/segments/").content.decode()
    assert "counting…" in listing


def test_changing_the_rules_is_audited_with_before_and_after(client_as):
    annas(3)
    segment = SegmentFactory(name="Annas", rules={"all": []})
    client = client_as("admin")
    new_rule = {"all": [ANNA, {"not": {"reachable": "sms"}}]}
    response = client.post(f"/app/segments/{segment.pk}/edit/", editor_post(new_rule))
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.rules == new_rule
    assert segment.member_count == 3
    entry = AuditEntry.objects.get(action="segment.changed")
    assert entry.before == {"rules": {"all": []}} and entry.after == {"rules": new_rule}


def test_the_edit_page_shows_the_stored_rule_in_builder_rows(client_as):
    AttributeDefinitionFactory(key="income", type="number")
    rule = {
        "all": [
            {"field": "attributes.income", "op": "gte", "value": 40000},
            {
                "any": [
                    {"event": {"name": "add_to_cart", "within_days": 30}},
                    {"rfm": {"segment": "champions"}},
                ]
            },
        ]
    }
    segment = SegmentFactory(name="Rich", rules=rule)
    html = client_as("marketing").get(f"/app/segments/{segment.pk}/edit/").content.decode()
    assert 'value="40000"' in html
    assert 'value="add_to_cart"' in html
    assert 'value="champions" checked' in html
    assert html.count('class="rule-group rule-group-nested') == 1


# --- validation ---------------------------------------------------------------------------------


def test_rule_errors_are_shown_next_to_their_row(client_as):
    rule = {"all": [ANNA, {"field": "birth_date", "op": "age_between", "value": [40, 18]}]}
    response = client_as("marketing").post("/app/segments/new/", editor_post(rule))
    assert response.status_code == 400
    html = response.content.decode()
    row = html.split('id="row-n3"', 1)[1].split('id="row-', 1)[0]
    assert "the start must not be greater than the end" in row
    assert "has-errors" in html.split('id="row-n3"', 1)[0][-200:]
    assert not Segment.objects.exists()


def test_a_not_group_with_two_rows_and_a_missing_name_are_form_errors(client_as):
    data = editor_post({"not": {"all": [ANNA]}}, name="")
    # Move the inner group's row up into the "not" group next to the group: two rows in a "not".
    data["n3-parent"] = ["n1"]
    response = client_as("marketing").post("/app/segments/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the segment a name." in html
    assert "holds exactly one row" in html


def test_a_taken_name_is_a_form_error(client_as):
    SegmentFactory(name="Annas")
    response = client_as("marketing").post("/app/segments/new/", editor_post(ANNA))
    assert response.status_code == 400
    assert "A segment with this name exists." in response.content.decode()


def test_the_json_tab_validates_and_shows_errors_with_their_path(client_as):
    client = client_as("marketing")
    bad_json = client.post(
        "/app/segments/new/", {"name": "J", "mode": "json", "rules_json": "{oops"}
    )
    assert bad_json.status_code == 400
    assert "This is not valid JSON" in bad_json.content.decode()
    bad_rule = client.post(
        "/app/segments/new/",
        {"name": "J", "mode": "json", "rules_json": '{"all": [{"reachable": "pigeon"}]}'},
    )
    assert bad_rule.status_code == 400
    assert "<code>all[0].reachable</code>" in bad_rule.content.decode()
    good = client.post(
        "/app/segments/new/", {"name": "J", "mode": "json", "rules_json": '{"identity": "sms"}'}
    )
    assert good.status_code == 302
    assert Segment.objects.get(name="J").rules == {"identity": "sms"}


def test_switching_between_builder_and_json_keeps_the_rule(client_as):
    client = client_as("marketing")
    rule = {"all": [ANNA, {"orders": {"count": {"gte": 3}, "within_days": 90}}]}
    to_json = client.post("/app/segments/new/", editor_post(rule, switch="json"))
    assert to_json.status_code == 200
    json_text = to_json.context["json_text"]
    import json

    assert json.loads(json_text) == rule
    back = client.post(
        "/app/segments/new/",
        {"name": "x", "mode": "json", "rules_json": json_text, "switch": "builder"},
    )
    assert back.context["mode"] == "builder"
    assert [c.type for c in back.context["root"].children] == ["field", "orders"]


def test_builder_buttons_work_without_javascript(client_as):
    client = client_as("marketing")
    added = client.post("/app/segments/new/", editor_post({"all": [ANNA]}, builder="add:group:n1"))
    root = added.context["root"]
    assert [c.type for c in root.children] == ["field", "group"]
    removed = client.post(
        "/app/segments/new/", editor_post({"all": [ANNA, {"identity": "sms"}]}, builder="remove:n2")
    )
    assert [c.type for c in removed.context["root"].children] == ["identity"]


# --- htmx rows and preview ----------------------------------------------------------------------


def test_the_row_endpoint_adds_redraws_and_removes_rows(client_as):
    client = client_as("marketing")
    base = editor_post({"all": [ANNA]})
    added = client.post(
        "/app/segments/builder/row/", {**base, "action": "add", "type": "field", "parent": "n1"}
    )
    assert added.status_code == 200 and added["HX-Trigger"] == "builder-changed"
    assert 'value="n1"' in added.content.decode()  # its parent
    changed = client.post(
        "/app/segments/builder/row/",
        {**base, "action": "refresh", "row": "n2", "change": "type", "n2-type": "event"},
    )
    assert 'name="n2-name"' in changed.content.decode()
    date_field = client.post(
        "/app/segments/builder/row/",
        {**base, "action": "refresh", "row": "n2", "n2-field": "birth_date"},
    )
    assert 'type="date"' in date_field.content.decode()
    removed = client.post("/app/segments/builder/row/", {**base, "action": "remove", "row": "n2"})
    assert removed.content.decode().strip() == ""
    missing = client.post("/app/segments/builder/row/", {**base, "action": "refresh", "row": "n9"})
    assert missing.status_code == 404


def test_the_preview_counts_and_samples_while_editing(client_as):
    annas(12)
    client = client_as("marketing")
    response = client.post("/app/segments/preview/", editor_post(ANNA))
    html = response.content.decode()
    assert 'data-preview-count="12"' in html
    assert html.count("<li>") == 10
    invalid = client.post(
        "/app/segments/preview/", editor_post({"field": "phone", "op": "gt", "value": "1"})
    )
    assert "Fix the rule" in invalid.content.decode()


class _SlowQuerySet:
    """Stands for a rule whose exact count is cancelled by the statement timeout."""

    def __init__(self, capped_ok: bool):
        self.capped_ok = capped_ok

    def count(self):
        raise DatabaseError("canceling statement due to statement timeout")

    def values(self, *args):
        return self

    def __getitem__(self, item):
        if not self.capped_ok:
            raise DatabaseError("canceling statement due to statement timeout")
        outer = self

        class Capped:
            def count(self):
                return pages.AT_LEAST_CAP

        return Capped() if isinstance(item, slice) and item.start is None and outer else []

    def order_by(self, *args):
        raise DatabaseError("canceling statement due to statement timeout")


@pytest.mark.parametrize(("capped_ok", "shown"), [(True, "≥ 10,000"), (False, "Still counting…")])
def test_a_slow_rule_shows_at_least_or_still_counting_instead_of_failing(
    client_as, monkeypatch, capped_ok, shown
):
    monkeypatch.setattr(pages, "segment_preview_queryset", lambda rules: _SlowQuerySet(capped_ok))
    response = client_as("marketing").post("/app/segments/preview/", editor_post(ANNA))
    assert response.status_code == 200
    assert shown in response.content.decode()


# --- members, CSV, delete -----------------------------------------------------------------------


def test_members_page_with_a_cursor(client_as):
    segment = SegmentFactory(name="Many", member_count=60)
    for n in range(60):
        SegmentMembershipFactory(segment=segment, customer=CustomerFactory(first_name=f"C{n:02d}"))
    client = client_as("support")
    first = client.get(f"/app/segments/{segment.pk}/members/")
    assert len(first.context["members"]) == 50
    next_url = first.context["next_url"]
    assert next_url and 'rel="next"' in first.content.decode()
    second = client.get(f"/app/segments/{segment.pk}/members/{next_url}")
    assert len(second.context["members"]) == 10
    shown = {m.customer_id for m in first.context["members"]} | {
        m.customer_id for m in second.context["members"]
    }
    assert len(shown) == 60
    assert client.get(f"/app/segments/{segment.pk}/members/?after=junk").status_code == 200


def test_members_csv_is_streamed_and_safe_for_spreadsheets(client_as):
    segment = SegmentFactory(name="Export")
    SegmentMembershipFactory(
        segment=segment, customer=CustomerFactory(external_id="c-1", first_name="=HYPERLINK(1)")
    )
    SegmentMembershipFactory(segment=segment, customer=CustomerFactory(external_id="c-2"))
    response = client_as("marketing").get(f"/app/segments/{segment.pk}/members.csv")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["external_id", "email", "phone", "first_name", "last_name", "joined_at"]
    assert [r[0] for r in rows[1:]] == ["c-1", "c-2"]
    assert rows[1][3] == "'=HYPERLINK(1)"


def test_deleting_a_segment_is_audited(client_as):
    segment = SegmentFactory(name="Old")
    response = client_as("marketing").post(f"/app/segments/{segment.pk}/delete/", follow=True)
    assert "Segment “Old” deleted." in response.content.decode()
    assert not Segment.objects.filter(pk=segment.pk).exists()
    entry = AuditEntry.objects.get(action="segment.deleted")
    assert entry.object_repr == "Old" and entry.before["rules"] == {"all": []}


def test_a_segment_other_rules_use_is_not_deleted(client_as):
    used = SegmentFactory(name="Base")
    SegmentFactory(name="Built on it", rules={"segment": used.pk})
    response = client_as("admin").post(f"/app/segments/{used.pk}/delete/", follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Segment.objects.filter(pk=used.pk).exists()
    assert not AuditEntry.objects.filter(action="segment.deleted").exists()


# --- in the browser -----------------------------------------------------------------------------


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(150)


@pytest.mark.django_db(transaction=True)
def test_a_marketer_builds_a_segment_with_a_nested_group_an_event_and_rfm(
    signed_in_page, live_server
):
    for n in range(4):
        customer = CustomerFactory(first_name=f"Cart{n}")
        EventFactory(customer=customer, name="add_to_cart")
        if n < 3:
            RfmScoreFactory(customer=customer, segment="champions")
    CustomerFactory.create_batch(3, first_name="Other")
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/segments/new/")
    page.fill("#segment-name", "Champions with a cart")
    # everyone: the empty "all" group matches all 7
    page.wait_for_selector("[data-preview-count='7']")

    page.click("#builder .group-actions >> text=Group")  # a nested group
    nested = page.locator(".rule-group-nested").first
    nested.wait_for()
    settle(page)
    nested.locator(".group-actions >> text=Condition").click()
    row = nested.locator(".rule-row").first
    row.wait_for()
    settle(page)
    row.locator("select.row-kind").select_option("event")
    page.wait_for_selector(".rule-group-nested [data-row-type='event'] input[name$='-name']")
    page.locator(".rule-group-nested [data-row-type='event'] input[name$='-name']").fill(
        "add_to_cart"
    )
    page.wait_for_selector("[data-preview-count='4']")

    page.click("#builder > .rule-group > .group-actions >> text=Condition")
    last = page.locator("#builder > .rule-group > .group-children > .rule-row").last
    last.wait_for()
    settle(page)  # htmx wires the new row's selects as it settles
    last.locator("select.row-kind").select_option("rfm")
    page.wait_for_selector("[data-row-type='rfm'] input[value='champions']")
    page.locator("[data-row-type='rfm'] label.check", has_text="Champions").click()
    page.wait_for_selector("[data-preview-count='3']")

    page.click("button[name=save]")
    page.wait_for_url("**/members/")
    assert page.locator(".count-big").inner_text() == "3"
    assert page.locator("#member-rows tbody tr").count() == 3
    segment = Segment.objects.get(name="Champions with a cart")
    assert segment.rules == {
        "all": [
            {"all": [{"event": {"name": "add_to_cart"}}]},
            {"rfm": {"segment": "champions"}},
        ]
    }


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="statement_timeout is PostgreSQL's",
)
def test_on_postgresql_a_statement_past_the_limit_is_cancelled_and_the_page_goes_on():
    from django.db import connection

    with pytest.raises(DatabaseError), pages._time_limit(50), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")
    with connection.cursor() as cursor:  # the connection is still usable
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"  # SET LOCAL ended with its transaction


def test_renaming_a_segment_does_not_leave_it_counting(client_as):
    annas(4)
    client = client_as("marketing")
    client.post("/app/segments/new/", editor_post(ANNA))
    segment = Segment.objects.get(name="Annas")
    response = client.post(f"/app/segments/{segment.pk}/edit/", editor_post(ANNA, name="Annas 2"))
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Annas 2" and segment.member_count == 4
    assert not pages.segment_is_counting(segment)
    entry = AuditEntry.objects.get(action="segment.changed")
    assert entry.before == {"name": "Annas"} and entry.after == {"name": "Annas 2"}


def test_rule_errors_are_shown_in_the_staff_members_language(client_as):
    from workspace.models import StaffProfile

    client = client_as("marketing")
    user = __import__("django.contrib.auth").contrib.auth.get_user(client)
    StaffProfile.objects.update_or_create(user=user, defaults={"language": "ru"})
    rule = {
        "all": [
            {"field": "birth_date", "op": "age_between", "value": [40, 18]},
            {"bought": {"sku": []}},
        ]
    }
    html = client.post("/app/segments/new/", editor_post(rule)).content.decode()
    assert "начало не может быть больше конца" in html
    assert "укажите хотя бы одно значение" in html


def test_every_message_of_the_rule_checker_has_a_pattern():
    """A new message in validation.py should get its translation pattern here."""
    import re
    from pathlib import Path

    from customers.views.rule_messages import _COMPILED

    source = Path("customers/segments/rules/validation.py").read_text()
    fixed = re.findall(r'self\.error\(\w+, "([^"{]+)"\)', source)
    assert fixed
    for message in fixed:
        assert any(p.match(message) for p, _m in _COMPILED), message


def test_a_missing_name_and_rule_errors_are_shown_together(client_as):
    rule = {"all": [{"field": "birth_date", "op": "age_between", "value": [40, 18]}]}
    response = client_as("marketing").post("/app/segments/new/", editor_post(rule, name=""))
    html = response.content.decode()
    assert "Give the segment a name." in html
    assert "the start must not be greater than the end" in html


class _FormReader(HTMLParser):
    """The (name, value) pairs a browser submits for the editor form, in page order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pairs, self.in_form, self.select, self.textarea = [], False, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "segment-form":
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.pairs.append(
                (a["name"], a.get("value", "on" if a.get("type") == "checkbox" else ""))
            )
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "first": None, "chosen": None}
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"] = value
        elif tag == "textarea" and a.get("name"):
            self.textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select" and self.select is not None:
            chosen = (
                self.select["chosen"] if self.select["chosen"] is not None else self.select["first"]
            )
            self.pairs.append((self.select["name"], chosen or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = self.textarea["text"]
            self.pairs.append((self.textarea["name"], text[1:] if text.startswith("\n") else text))
            self.textarea = None


@pytest.mark.parametrize(("rule", "row"), EVERY_KIND, ids=lambda v: json.dumps(v)[:50])
def test_the_rendered_page_posts_back_exactly_the_stored_rule(client_as, rule, row):
    """Render the editor, submit what a browser would, and get the same rule: the templates
    draw every value the builder's model needs."""
    for key, kind in ATTRIBUTES.items():
        AttributeDefinitionFactory(key=key, type=kind)
    nested = {"all": [{"any": [rule, {"identity": "sms"}]}, {"not": rule}]}
    segment = SegmentFactory(name="Round trip", rules=nested)
    client = client_as("marketing")
    reader = _FormReader()
    reader.feed(client.get(f"/app/segments/{segment.pk}/edit/").content.decode())
    assert (
        f'data-row-type="{row}"' in client.get(f"/app/segments/{segment.pk}/edit/").content.decode()
    )
    data: dict[str, list[str]] = {}
    for name, value in [*reader.pairs, ("switch", "json")]:
        data.setdefault(name, []).append(value)
    response = client.post(f"/app/segments/{segment.pk}/edit/", data)
    assert json.loads(response.context["json_text"]) == nested
    assert canonical(json.loads(response.context["json_text"])) == canonical(nested)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule=builder_rules)
def test_any_rule_survives_the_rendered_page(client_as, rule):
    """Same as above over the whole vocabulary (quotes, markup, spaces and any script in values)."""
    for key, kind in ATTRIBUTES.items():
        AttributeDefinitionFactory(key=key, type=kind)
    segment, _created = Segment.objects.update_or_create(name="Any", defaults={"rules": rule})
    client = client_as("marketing")
    reader = _FormReader()
    reader.feed(client.get(f"/app/segments/{segment.pk}/edit/").content.decode())
    data: dict[str, list[str]] = {}
    for name, value in [*reader.pairs, ("switch", "json")]:
        data.setdefault(name, []).append(value)
    response = client.post(f"/app/segments/{segment.pk}/edit/", data)
    assert canonical(json.loads(response.context["json_text"])) == canonical(rule)


def test_the_status_polls_while_counting_and_stops_once_refreshed(client_as):
    from customers.services.segments import segment_refresh

    annas(2)
    segment = SegmentFactory(name="Annas", rules=ANNA)
    client = client_as("support")
    counting = client.get(f"/app/segments/{segment.pk}/status/").content.decode()
    assert "Counting…" in counting and "every 2s" in counting
    segment_refresh(segment=segment)
    done = client.get(f"/app/segments/{segment.pk}/status/").content.decode()
    assert '<span class="count-big">2</span>' in done and "every 2s" not in done
