"""The inbox pages (/app/inbox): who may open them, the lists and their counts, the thread,
polling, and every agent action with its audit entry."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from api.models import AuditEntry
from channels.models import Conversation, ConversationNote, Message
from channels.services.inbound import inbound_receive
from channels.services.inbox import conversations_wake
from channels.views.inbox_forms import snooze_until
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

_ids = iter(range(1, 100_000))


def writes(customer, body="Hello", at=None):
    return inbound_receive(
        channel="sms",
        provider="exolve",
        address=customer.phone,
        body=body,
        provider_message_id=f"inbox-{next(_ids)}",
        payload={},
        received_at=at,
    )


@pytest.fixture
def conversation(reachable_customer):
    customer = reachable_customer("sms", external_id="crm-1", first_name="Анна", last_name="Ли")
    return writes(customer, "Где мой заказ?").conversation


def signed_in(client, user):
    client.force_login(user)
    return client


# --- Access -------------------------------------------------------------------------------------
PAGES = ["/app/inbox/", "/app/inbox/list/", "/app/inbox/{pk}/", "/app/inbox/{pk}/thread/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "status"), [("support", 200), ("admin", 200), ("marketing", 403)])
def test_support_and_admins_work_in_the_inbox_marketing_does_not(
    client_as, conversation, path, role, status
):
    assert client_as(role).get(path.format(pk=conversation.pk)).status_code == status


@pytest.mark.parametrize("action", ["reply", "assign", "snooze", "status", "note"])
def test_marketing_cannot_act_on_a_conversation(client_as, conversation, action):
    response = client_as("marketing").post(
        f"/app/inbox/{conversation.pk}/{action}/",
        {"body": "x", "assignee": "me", "preset": "1h", "status": "resolved"},
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_a_visitor_is_sent_to_sign_in(client, conversation):
    response = client.get(f"/app/inbox/{conversation.pk}/")
    assert response.status_code == 302 and "/app/login/" in response["Location"]


def test_someone_who_may_not_reply_sees_no_reply_box_and_cannot_post_one(
    client, staff_user, conversation
):
    user = staff_user("marketing")
    user.user_permissions.add(Permission.objects.get(codename="view_inbox"))
    client.force_login(user)
    html = client.get(f"/app/inbox/{conversation.pk}/").content.decode()
    assert 'id="reply-form"' not in html and 'id="note-body"' in html
    assert client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "hi"}).status_code == 403
    assert not Message.objects.filter(conversation=conversation, source="agent").exists()


def test_the_canned_link_shows_only_to_those_who_manage_them(client_as, conversation):
    assert "/app/inbox/canned/" not in client_as("support").get("/app/inbox/").content.decode()
    assert "/app/inbox/canned/" in client_as("admin").get("/app/inbox/").content.decode()


def test_an_unknown_conversation_is_a_404(client_as):
    assert client_as("support").get("/app/inbox/999999/").status_code == 404


# --- Lists and counts ---------------------------------------------------------------------------
@pytest.fixture
def spread(reachable_customer, staff_user):
    """One conversation in each list, for a support agent `me`."""
    me = staff_user("support")
    now = timezone.now()

    def conv(name, **fields):
        customer = reachable_customer("sms", first_name=name)
        c = writes(customer, f"from {name}").conversation
        Conversation.objects.filter(pk=c.pk).update(**fields)
        return c

    return {
        "me": me,
        "mine": conv("Mine", assignee=me),
        "other": conv("Other", assignee=staff_user("support")),
        "unassigned": conv("Nobody"),
        "snoozed": conv("Sleeper", snoozed_until=now + timedelta(hours=2)),
        "woken": conv("Woken", snoozed_until=now - timedelta(minutes=1)),
        "closed": conv("Done", status="resolved", resolved_at=now),
    }


def names(response):
    return [row.conversation.customer.first_name for row in response.context["rows"]]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("open", {"Mine", "Other", "Nobody", "Woken"}),
        ("mine", {"Mine"}),
        ("unassigned", {"Nobody", "Woken"}),
        ("snoozed", {"Sleeper"}),
        ("closed", {"Done"}),
    ],
)
def test_each_list_shows_its_conversations(client, spread, view, expected):
    response = signed_in(client, spread["me"]).get("/app/inbox/", {"view": view})
    assert set(names(response)) == expected


def test_tabs_show_each_lists_count(client, spread):
    response = signed_in(client, spread["me"]).get("/app/inbox/")
    counts = {str(tab["label"]): tab["count"] for tab in response.context["tabs"]}
    assert counts == {"Open": "4", "Mine": "1", "Unassigned": "2", "Snoozed": "1", "Closed": "1"}


def test_counts_stop_at_the_cap_instead_of_counting_everything(client, spread, monkeypatch):
    monkeypatch.setattr("channels.selectors_inbox.COUNT_CAP", 3)
    response = signed_in(client, spread["me"]).get("/app/inbox/")
    counts = {str(tab["label"]): tab["count"] for tab in response.context["tabs"]}
    assert counts["Open"] == "2+" and counts["Mine"] == "1"


def test_a_list_filters_by_channel(client, spread, reachable_customer):
    customer = reachable_customer("email", first_name="Mailer")
    inbound_receive(
        channel="email",
        provider="smtp",
        address=customer.email,
        body="hi",
        provider_message_id="mail-1",
        payload={},
    )
    client = signed_in(client, spread["me"])
    assert names(client.get("/app/inbox/", {"channel": "email"})) == ["Mailer"]
    assert "Mailer" not in names(client.get("/app/inbox/", {"channel": "sms"}))


def test_lists_are_newest_activity_first_and_page_with_a_cursor(
    client, staff_user, reachable_customer, monkeypatch
):
    monkeypatch.setattr("channels.selectors_inbox.PAGE_SIZE", 2)
    start = timezone.now() - timedelta(hours=1)
    for i in range(5):
        writes(reachable_customer("sms", first_name=f"C{i}"), at=start + timedelta(minutes=i))
    client = signed_in(client, staff_user("support"))
    first = client.get("/app/inbox/")
    assert names(first) == ["C4", "C3"]
    second = client.get(first.context["next_url"])
    assert names(second) == ["C2", "C1"]
    third = client.get(second.context["next_url"])
    assert names(third) == ["C0"] and third.context["next_url"] == ""


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"view": "nope", "channel": "fax"}])
def test_bad_list_parameters_fall_back_to_the_first_open_page(client_as, conversation, params):
    response = client_as("support").get("/app/inbox/", params)
    assert response.status_code == 200 and len(response.context["rows"]) == 1


def test_a_row_shows_the_last_message_and_whether_the_customer_waits(
    client, staff_user, conversation, sandbox
):
    support = staff_user("support")
    client = signed_in(client, support)
    row = client.get("/app/inbox/").context["rows"][0]
    assert (row.snippet, row.snippet_direction, row.waiting) == ("Где мой заказ?", "in", True)
    client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "Уже едет"})
    row = client.get("/app/inbox/").context["rows"][0]
    assert (row.snippet, row.snippet_direction, row.waiting) == ("Уже едет", "out", False)


# --- The thread ---------------------------------------------------------------------------------
def test_the_thread_shows_messages_in_and_out_and_notes_in_order_with_the_customer(
    client, staff_user, conversation, sandbox
):
    support = staff_user("support")
    client = signed_in(client, support)
    OrderFactory(customer=conversation.customer, external_id="ORD-77")
    client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "Проверяю"})
    client.post(f"/app/inbox/{conversation.pk}/note/", {"body": "VIP, не забыть"})
    writes(conversation.customer, "Спасибо!")
    response = client.get(f"/app/inbox/{conversation.pk}/")
    kinds = [(e.kind, e.body) for e in response.context["entries"]]
    assert kinds == [
        ("in", "Где мой заказ?"),
        ("out", "Проверяю"),
        ("note", "VIP, не забыть"),
        ("in", "Спасибо!"),
    ]
    html = response.content.decode()
    assert "bubble-note" in html and "/app/customers/crm-1/" in html and "ORD-77" in html


def test_the_thread_lists_the_customers_other_open_conversations(
    client_as, conversation, reachable_customer
):
    other = Conversation.objects.create(customer=conversation.customer, channel="email")
    response = client_as("support").get(f"/app/inbox/{conversation.pk}/")
    assert response.context["other_conversations"] == [other]


# --- Polling ------------------------------------------------------------------------------------
def test_the_list_poll_answers_204_until_a_message_arrives(client_as, conversation):
    client = client_as("support")
    version = client.get("/app/inbox/").context["list_version"]
    assert client.get("/app/inbox/list/", {"v": version}).status_code == 204
    writes(conversation.customer, "ещё вопрос")
    response = client.get("/app/inbox/list/", {"v": version})
    assert response.status_code == 200 and "ещё вопрос" in response.content.decode()


def test_the_thread_poll_answers_204_until_the_thread_changes(client_as, conversation):
    client = client_as("support")
    version = client.get(f"/app/inbox/{conversation.pk}/").context["thread_version"]
    poll = f"/app/inbox/{conversation.pk}/thread/"
    assert client.get(poll, {"v": version}).status_code == 204
    writes(conversation.customer, "алло?")
    response = client.get(poll, {"v": version})
    assert response.status_code == 200 and "алло?" in response.content.decode()


def test_a_status_change_of_a_reply_changes_the_thread_version(
    client, staff_user, conversation, sandbox
):
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "ok"})
    version = client.get(f"/app/inbox/{conversation.pk}/").context["thread_version"]
    Message.objects.filter(conversation=conversation).update(
        status="delivered", updated_at=timezone.now() + timedelta(seconds=1)
    )
    assert client.get(f"/app/inbox/{conversation.pk}/thread/", {"v": version}).status_code == 200


# --- Actions ------------------------------------------------------------------------------------
def audit(action=None):
    entries = AuditEntry.objects.order_by("pk")
    return list(entries.filter(action=action) if action else entries)


def test_assign_to_me_to_someone_else_and_to_nobody_each_audited(client, staff_user, conversation):
    me, colleague = staff_user("support"), staff_user("support")
    client = signed_in(client, me)
    url = f"/app/inbox/{conversation.pk}/assign/"
    client.post(url, {"assignee": "me"})
    conversation.refresh_from_db()
    assert conversation.assignee == me
    client.post(url, {"assignee": str(colleague.pk)})
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    client.post(url, {"assignee": ""})
    conversation.refresh_from_db()
    assert conversation.assignee is None
    entries = audit("conversation.changed")
    assert [(e.before, e.after) for e in entries] == [
        ({"assignee": None}, {"assignee": me.username}),
        ({"assignee": me.username}, {"assignee": colleague.username}),
        ({"assignee": colleague.username}, {"assignee": None}),
    ]
    assert all(e.actor == me and e.customer_id == conversation.customer_id for e in entries)


@pytest.mark.parametrize("value", ["999999", "abc"])
def test_assigning_to_someone_outside_the_inbox_is_refused(client, staff_user, conversation, value):
    client = signed_in(client, staff_user("support"))
    response = client.post(
        f"/app/inbox/{conversation.pk}/assign/", {"assignee": value}, follow=True
    )
    assert "Choose a staff member" in response.content.decode()
    assert not audit()


def test_marketing_staff_cannot_be_assigned(client, staff_user, conversation):
    marketer = staff_user("marketing")
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/assign/", {"assignee": str(marketer.pk)})
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_snooze_for_an_hour_hides_the_conversation_until_then(client, staff_user, conversation):
    client = signed_in(client, staff_user("support"))
    before = timezone.now()
    client.post(f"/app/inbox/{conversation.pk}/snooze/", {"preset": "1h"})
    conversation.refresh_from_db()
    assert timedelta(minutes=59) < conversation.snoozed_until - before < timedelta(minutes=61)
    assert names(client.get("/app/inbox/")) == []
    assert names(client.get("/app/inbox/", {"view": "snoozed"})) == ["Анна"]
    [entry] = audit("conversation.changed")
    assert entry.before == {"snoozed_until": None} and "snoozed_until" in entry.after


def test_tomorrow_at_nine_is_in_the_staff_members_time_zone():
    moscow = ZoneInfo("Europe/Moscow")
    now = timezone.make_aware(timezone.datetime(2026, 3, 4, 22, 30), moscow)  # 19:30 UTC
    with timezone.override(moscow):
        until = snooze_until("tomorrow", None, now=now)
    assert until.astimezone(moscow).isoformat() == "2026-03-05T09:00:00+03:00"


def test_snooze_until_a_chosen_time(client, staff_user, conversation):
    client = signed_in(client, staff_user("support"))
    later = timezone.localtime() + timedelta(days=2)
    client.post(
        f"/app/inbox/{conversation.pk}/snooze/",
        {"preset": "custom", "until": later.strftime("%Y-%m-%dT%H:%M")},
    )
    conversation.refresh_from_db()
    assert abs(conversation.snoozed_until - later) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "data",
    [
        {"preset": "custom", "until": ""},
        {"preset": "custom", "until": "2001-01-01T10:00"},
        {"preset": "custom", "until": "not a date"},
        {"preset": "forever"},
    ],
)
def test_a_bad_snooze_is_a_message_not_a_change(client, staff_user, conversation, data):
    client = signed_in(client, staff_user("support"))
    response = client.post(f"/app/inbox/{conversation.pk}/snooze/", data, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None and not audit()


def test_a_snoozed_conversation_wakes_when_its_time_passes(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() + timedelta(hours=1)
    )
    assert conversations_wake() == 0
    assert conversations_wake(now=timezone.now() + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None


def test_the_wake_up_is_a_periodic_job():
    from channels.periodic_tasks import PERIODIC_TASKS
    from channels.tasks import wake_snoozed_conversations

    assert "channels.tasks.wake_snoozed_conversations" in {j.task for j in PERIODIC_TASKS}
    assert wake_snoozed_conversations() == 0


def test_the_customer_writing_again_wakes_a_snoozed_conversation(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() + timedelta(days=1)
    )
    writes(conversation.customer, "вы тут?")
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None


def test_close_and_reopen_each_audited(client, staff_user, conversation):
    client = signed_in(client, staff_user("support"))
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() + timedelta(hours=1)
    )
    client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "resolved"})
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.resolved_at is not None
    assert conversation.snoozed_until is None
    client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "open"})
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.resolved_at is None
    assert [(e.before["status"], e.after["status"]) for e in audit("conversation.changed")] == [
        ("open", "resolved"),
        ("resolved", "open"),
    ]


def test_reopening_is_refused_when_the_customer_has_another_open_conversation(
    client, staff_user, conversation
):
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "resolved"})
    newer = writes(conversation.customer, "новый вопрос").conversation
    assert newer != conversation
    response = client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "open"}, follow=True)
    assert "another open conversation" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_an_unknown_status_is_refused(client, staff_user, conversation):
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "deleted"})
    conversation.refresh_from_db()
    assert conversation.status == "open" and not audit()


def test_a_private_note_is_stored_audited_and_never_sent(client, staff_user, conversation):
    me = staff_user("support")
    client = signed_in(client, me)
    client.post(f"/app/inbox/{conversation.pk}/note/", {"body": "  перезвонить завтра  "})
    note = ConversationNote.objects.get()
    assert (note.body, note.author, note.conversation) == ("перезвонить завтра", me, conversation)
    assert not Message.objects.filter(conversation=conversation).exists()
    [entry] = audit("note.added")
    assert (
        entry.object_type == "conversation_note" and entry.customer_id == conversation.customer_id
    )


def test_an_empty_note_is_refused(client, staff_user, conversation):
    client = signed_in(client, staff_user("support"))
    response = client.post(f"/app/inbox/{conversation.pk}/note/", {"body": "  "}, follow=True)
    assert response.status_code == 200
    assert not ConversationNote.objects.exists() and not audit()


def test_a_reply_goes_out_on_the_conversations_channel_and_is_audited(
    client, staff_user, conversation, sandbox
):
    me = staff_user("support")
    client = signed_in(client, me)
    response = client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "Заказ в пути"})
    assert response.status_code == 302
    message = Message.objects.get(conversation=conversation)
    assert (message.channel, message.source, message.source_ref, message.body) == (
        "sms",
        "agent",
        me.username,
        "Заказ в пути",
    )
    [entry] = audit("message.sent")
    assert entry.object_id == str(message.pk) and entry.after["conversation"] == conversation.pk


def test_a_reply_of_just_a_shortcode_sends_the_canned_text(
    client, staff_user, conversation, sandbox
):
    from channels.models import CannedResponse

    CannedResponse.objects.create(shortcode="thanks", body="Спасибо за обращение!")
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "/thanks"})
    assert Message.objects.get(conversation=conversation).body == "Спасибо за обращение!"


def test_an_empty_reply_sends_nothing(client, staff_user, conversation, sandbox):
    client = signed_in(client, staff_user("support"))
    response = client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": " "}, follow=True)
    assert response.status_code == 200
    assert not Message.objects.filter(conversation=conversation).exists() and not audit()


def test_a_reply_to_a_superseded_conversation_is_a_message_not_a_500(
    client, staff_user, conversation, sandbox
):
    client = signed_in(client, staff_user("support"))
    client.post(f"/app/inbox/{conversation.pk}/status/", {"status": "resolved"})
    writes(conversation.customer, "новый вопрос")
    response = client.post(f"/app/inbox/{conversation.pk}/reply/", {"body": "hi"}, follow=True)
    assert response.status_code == 200
    assert "reply there" in response.content.decode()
    assert not Message.objects.filter(conversation=conversation).exists()


def test_the_reply_box_counts_sms_parts(client_as, conversation):
    html = client_as("support").get(f"/app/inbox/{conversation.pk}/").content.decode()
    assert 'data-sms-counter="reply-sms-count"' in html and "data-submit-on-ctrl-enter" in html


@pytest.mark.parametrize(
    ("payload", "kinds"),
    [
        ({"message": {"photo": [{"file_id": "x"}], "caption": "вот"}}, ("image",)),
        ({"message": {"document": {"file_id": "x"}}}, ("file",)),
        ({"message": {"type": "image", "image": {"id": "1"}}}, ("image",)),  # WhatsApp
        ({"message": {"type": "picture"}}, ("image",)),  # Viber
        ({"message": {"text": "hi"}}, ()),
        ({}, ()),
        ("not a dict", ()),
    ],
)
def test_media_a_customer_sent_is_named_in_the_thread(payload, kinds):
    from channels.selectors_inbox import inbound_attachments

    assert inbound_attachments(payload) == kinds


def test_a_photo_without_text_shows_as_a_photo(client_as, reachable_customer):
    customer = reachable_customer("sms")
    conversation = inbound_receive(
        channel="sms",
        provider="exolve",
        address=customer.phone,
        body="",
        provider_message_id="media-1",
        payload={"message": {"type": "image"}},
    ).conversation
    html = client_as("support").get(f"/app/inbox/{conversation.pk}/").content.decode()
    assert "bubble-attachments" in html and "Photo" in html


def test_an_email_reply_has_a_subject_that_keeps_the_thread(
    client, staff_user, reachable_customer, sandbox
):
    customer = reachable_customer("email")
    conversation = Conversation.objects.create(customer=customer, channel="email")
    Message.objects.create(
        customer=customer,
        channel="email",
        subject="Ваш заказ 1042",
        body="…",
        category="transactional",
        source="api",
        conversation=conversation,
    )
    client = signed_in(client, staff_user("support"))
    html = client.get(f"/app/inbox/{conversation.pk}/").content.decode()
    assert 'value="Re: Ваш заказ 1042"' in html
    client.post(
        f"/app/inbox/{conversation.pk}/reply/",
        {"subject": "Re: Ваш заказ 1042", "body": "Отправили сегодня"},
    )
    reply = Message.objects.get(conversation=conversation, source="agent")
    assert (reply.subject, reply.body) == ("Re: Ваш заказ 1042", "Отправили сегодня")
