"""The inbox (/app/inbox): conversation lists, the thread with the customer beside it, and the
agent's actions. Logic lives in channels.selectors_inbox and channels.services.inbox."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from api.audit import client_ip
from channels.models import Conversation
from channels.selectors_inbox import (
    VIEWS,
    canned_list,
    conversation_context,
    conversation_thread_entries,
    conversation_version,
    inbox_counts,
    inbox_page,
    inbox_staff,
    inbox_version,
)
from channels.services.inbox import (
    InboxError,
    conversation_assign,
    conversation_note_add,
    conversation_set_status,
    conversation_snooze,
    inbox_reply,
)
from channels.views.inbox_forms import NoteForm, ReplyForm, SnoozeForm
from customers.models import Channel
from workspace.permissions import staff_permission_required

VIEW_LABELS = {
    "open": pgettext_lazy("inbox list", "Open"),
    "mine": pgettext_lazy("inbox list", "Mine"),
    "unassigned": pgettext_lazy("inbox list", "Unassigned"),
    "snoozed": pgettext_lazy("inbox list", "Snoozed"),
    "closed": pgettext_lazy("inbox list", "Closed"),
}


def _list_state(request) -> dict:
    """Which list the agent is looking at (?view=&channel=), kept across the thread pages."""
    view = request.GET.get("view", "open")
    channel = request.GET.get("channel", "")
    return {
        "view": view if view in VIEWS else "open",
        "channel": channel if channel in Channel.values else "",
    }


def _query(state: dict, **extra) -> str:
    params = {
        k: v for k, v in {**state, **extra}.items() if v and not (k == "view" and v == "open")
    }
    return f"?{urlencode(params)}" if params else ""


def _list_context(request, state: dict, current: Conversation | None = None) -> dict:
    cursor = request.GET.get("cursor", "")
    rows, next_cursor = inbox_page(
        view=state["view"], user=request.user, channel=state["channel"], cursor=cursor
    )
    counts = inbox_counts(user=request.user, channel=state["channel"])
    base = reverse("channels:inbox")
    tabs = [
        {
            "label": VIEW_LABELS[v],
            "url": base + _query({**state, "view": v}),
            "count": counts[v],
            "active": v == state["view"],
        }
        for v in VIEWS
    ]
    return {
        "state": state,
        "state_query": _query(state),
        "rows": rows,
        "tabs": tabs,
        "channels": Channel.choices,
        "cursor": cursor,
        "next_url": base + _query(state, cursor=next_cursor) if next_cursor else "",
        "list_version": inbox_version(),
        "current": current,
        "now_ymd": timezone.localtime().strftime("%Y%m%d"),
        "reset_url": base + _query({"view": state["view"]}),
    }


@require_GET
@staff_permission_required("view_inbox")
def inbox(request):
    """The lists; on a wide screen an empty reading pane beside them."""
    state = _list_state(request)
    ctx = {"page": "inbox", **_list_context(request, state)}
    return render(request, "channels/inbox/index.html", ctx)


@require_GET
@staff_permission_required("view_inbox")
def inbox_list(request):
    """The list panel for polling: 204 while nothing has happened since version `v`."""
    state = _list_state(request)
    if request.GET.get("v") and request.GET["v"] == inbox_version():
        return HttpResponse(status=204)
    current = None
    if request.GET.get("current", "").isdigit():
        current = Conversation.objects.filter(pk=int(request.GET["current"])).first()
    ctx = _list_context(request, state, current)
    return render(request, "channels/inbox/_list.html", ctx)


def _thread_context(conversation: Conversation) -> dict:
    entries, truncated = conversation_thread_entries(conversation)
    return {
        "conversation": conversation,
        "entries": entries,
        "truncated": truncated,
        "thread_version": conversation_version(conversation),
    }


def _conversation(pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("customer", "assignee"), pk=pk)


@require_GET
@staff_permission_required("view_inbox")
def conversation(request, pk: int):
    conversation = _conversation(pk)
    state = _list_state(request)
    reply_body = ""
    shortcode = request.GET.get("canned", "")
    canned = list(canned_list()[:200])
    if shortcode:  # the no-JavaScript way to insert a canned response
        reply_body = next((c.body for c in canned if c.shortcode == shortcode), "")
    ctx = {
        "page": "inbox",
        **_list_context(request, state, conversation),
        **_thread_context(conversation),
        **conversation_context(conversation),
        "reply_form": ReplyForm(initial={"body": reply_body}),
        "reply_subject": _reply_subject(conversation),
        "note_form": NoteForm(),
        "snooze_form": SnoozeForm(initial={"preset": "1h"}),
        "staff": list(inbox_staff()[:200]),
        "canned": canned,
        "canned_data": [{"shortcode": c.shortcode, "body": c.body} for c in canned],
        "is_sms": conversation.channel == "sms",
    }
    return render(request, "channels/inbox/index.html", ctx)


def _reply_subject(conversation: Conversation) -> str:
    """Email replies keep the thread's subject: "Re: <the last subject we used>"."""
    if conversation.channel != "email":
        return ""
    last = (
        conversation.messages.exclude(subject="")
        .order_by("-queued_at")
        .values_list("subject", flat=True)
        .first()
    )
    if not last:
        return ""
    return last if last.lower().startswith("re:") else f"Re: {last}"


@require_GET
@staff_permission_required("view_inbox")
def conversation_thread(request, pk: int):
    """The thread for polling: 204 while nothing has changed since version `v`."""
    conversation = _conversation(pk)
    ctx = _thread_context(conversation)
    if request.GET.get("v") == ctx["thread_version"]:
        return HttpResponse(status=204)
    return render(request, "channels/inbox/_thread.html", ctx)


# --- Actions ----------------------------------------------------------------------------------
def _back(request, conversation: Conversation):
    state = _list_state(request)
    return redirect(reverse("channels:inbox_conversation", args=[conversation.pk]) + _query(state))


def _run(request, conversation, action, success: str):
    try:
        action()
    except InboxError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return _back(request, conversation)


@require_POST
@staff_permission_required("view_inbox")
def conversation_assign_view(request, pk: int):
    conversation = _conversation(pk)
    value = request.POST.get("assignee", "")
    if value == "me":
        assignee = request.user
    elif value == "":
        assignee = None
    else:
        assignee = inbox_staff().filter(pk=value).first() if value.isdigit() else None
        if assignee is None:
            messages.error(request, _("Choose a staff member who works in the inbox."))
            return _back(request, conversation)
    done = _("Assigned to %(name)s.") % {"name": assignee.get_username()} if assignee else None
    return _run(
        request,
        conversation,
        lambda: conversation_assign(
            conversation=conversation,
            assignee=assignee,
            actor=request.user,
            ip=client_ip(request),
        ),
        done or _("Unassigned."),
    )


@require_POST
@staff_permission_required("view_inbox")
def conversation_snooze_view(request, pk: int):
    conversation = _conversation(pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, conversation)
    until = form.cleaned_data["until_at"]
    return _run(
        request,
        conversation,
        lambda: conversation_snooze(
            conversation=conversation, until=until, actor=request.user, ip=client_ip(request)
        ),
        _("Snoozed until %(time)s.") % {"time": _local(until)},
    )


def _local(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


@require_POST
@staff_permission_required("view_inbox")
def conversation_status_view(request, pk: int):
    conversation = _conversation(pk)
    status = request.POST.get("status", "")
    done = _("Conversation closed.") if status == "resolved" else _("Conversation reopened.")
    return _run(
        request,
        conversation,
        lambda: conversation_set_status(
            conversation=conversation, status=status, actor=request.user, ip=client_ip(request)
        ),
        done,
    )


@require_POST
@staff_permission_required("view_inbox")
def conversation_note_view(request, pk: int):
    conversation = _conversation(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The note is empty."))
        return _back(request, conversation)
    return _run(
        request,
        conversation,
        lambda: conversation_note_add(
            conversation=conversation,
            body=form.cleaned_data["body"],
            actor=request.user,
            ip=client_ip(request),
        ),
        _("Note added."),
    )


@require_POST
@staff_permission_required("view_inbox")
@staff_permission_required("reply")
def conversation_reply_view(request, pk: int):
    conversation = _conversation(pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The reply is empty."))
        return _back(request, conversation)
    try:
        message = inbox_reply(
            conversation=conversation,
            body=form.cleaned_data["body"],
            subject=form.cleaned_data["subject"],
            actor=request.user,
            ip=client_ip(request),
        )
    except InboxError as error:
        messages.error(request, str(error))
    else:
        if message.status == "suppressed":
            messages.warning(
                request,
                _("The reply was not sent: %(reason)s") % {"reason": message.status_reason},
            )
        else:
            messages.success(request, _("Reply sent."))
    return _back(request, conversation)
