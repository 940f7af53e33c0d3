"""`/hooks/telegram/`: updates from the Telegram Bot API webhook.

Telegram proves an update is from the webhook we registered by echoing the `secret_token` given to
`setWebhook` in `X-Telegram-Bot-Api-Secret-Token` (see docs/channels-messengers.md); without
TELEGRAM_WEBHOOK_SECRET nothing is accepted.

- `/start <token>` (the deep link from `telegram_link_for`) binds the chat to that customer, opts
  them in, and confirms in the chat.
- Any other message is an inbound message (`inbound_receive` finds or creates the customer).
- The user blocking the bot (`my_chat_member` → kicked) opts them out of Telegram.

Telegram redelivers an update until it gets a 2xx. Inbound messages are unique by
"<chat id>:<message id>" (Telegram's own key, which unlike update_id never restarts), and the
/start confirmation has an idempotency key from the same pair, so a redelivery is a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from channels.hooks.common import (
    Malformed,
    consent_set_by_address,
    json_object,
    secret_matches,
    signed_post_view,
    unix_time,
)
from channels.models import MessageCategory, MessageSource
from customers.models import Channel, ConsentStatus

logger = logging.getLogger(__name__)

PROVIDER = "telegram"
START = "/start"
BOUND_CONFIRMATION = {
    "ru": "Готово! Теперь вы будете получать наши сообщения в Telegram.",
    "en": "Done! You will now get our messages in Telegram.",
}


@dataclass(frozen=True)
class TelegramText:
    update_id: int
    chat_id: int
    message_id: int
    text: str
    sent_at: datetime | None
    message: dict[str, Any]


def _verified(request: HttpRequest) -> bool:
    return telegram_secret_valid(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""))


@signed_post_view(
    verified=_verified, refusal="X-Telegram-Bot-Api-Secret-Token is missing or wrong."
)
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    # Read the whole update first: a Malformed one is refused before anything is written.
    update = _update(request.body)
    text = telegram_message(update)
    blocked_chat = telegram_blocked_chat(update)
    if text is not None:
        _handle_message(text)
    elif blocked_chat is not None:
        _handle_blocked(blocked_chat)
    # Anything else (edits, channel posts, callback queries) is acknowledged and ignored, or
    # Telegram would keep redelivering it.
    return JsonResponse({"ok": True})


def telegram_secret_valid(header: str) -> bool:
    return secret_matches(header, settings.TELEGRAM_WEBHOOK_SECRET)


def telegram_message(update: dict[str, Any]) -> TelegramText | None:
    """The new private message in an update, if there is one."""
    message = update.get("message")
    if message is None:
        return None
    if not isinstance(message, dict):
        raise Malformed("message", "must be an object")
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_integer(chat.get("id")):
        raise Malformed("message.chat.id", "is required and must be an integer")
    if chat.get("type", "private") != "private":
        return None  # groups and channels the bot was added to are not a customer's chat
    if not _is_integer(message.get("message_id")):
        raise Malformed("message.message_id", "is required and must be an integer")
    text = message.get("text", message.get("caption", ""))
    if not isinstance(text, str):
        raise Malformed("message.text", "must be a string")
    date = message.get("date")
    return TelegramText(
        update_id=update["update_id"],
        chat_id=chat["id"],
        message_id=message["message_id"],
        text=text,
        sent_at=unix_time(date, "message.date") if date is not None else None,
        message=message,
    )


def _is_integer(value: Any) -> bool:
    # JSON true is a Python int too; json_object already bounds integers to ±(2**53 - 1).
    return isinstance(value, int) and not isinstance(value, bool)


def telegram_blocked_chat(update: dict[str, Any]) -> int | None:
    """The chat id of a user who blocked the bot (Telegram reports it as being kicked)."""
    member = update.get("my_chat_member")
    if not isinstance(member, dict):
        return None
    new = member.get("new_chat_member")
    chat = member.get("chat")
    if not isinstance(new, dict) or not isinstance(chat, dict):
        raise Malformed("my_chat_member", "needs chat and new_chat_member")
    if new.get("status") != "kicked" or not _is_integer(chat.get("id")):
        return None
    return chat["id"]


def start_token(text: str) -> str | None:
    """The token of a deep-link start ("/start <token>"), or None for any other text."""
    command, _, argument = text.strip().partition(" ")
    # In groups the command may be addressed to the bot: "/start@KaskadBot <token>".
    if command.split("@", 1)[0] != START:
        return None
    return argument.strip() or None


def _handle_message(text: TelegramText) -> None:
    from channels.services.inbound import inbound_receive

    provider_message_id = f"{text.chat_id}:{text.message_id}"
    token = start_token(text.text)
    if token is not None and _bind(text, token, provider_message_id):
        return
    # Not a link of ours (or an expired one): it is still what the person wrote to us.
    inbound_receive(
        channel=Channel.TELEGRAM,
        provider=PROVIDER,
        address=str(text.chat_id),
        body=text.text,
        provider_message_id=provider_message_id,
        payload={"update_id": text.update_id, "message": text.message},
        received_at=text.sent_at,
    )


@transaction.atomic
def _bind(text: TelegramText, token: str, provider_message_id: str) -> bool:
    from channels.services.messages import message_send
    from channels.services.telegram_link import telegram_link_bind

    customer = telegram_link_bind(token=token, chat_id=text.chat_id)
    if customer is None:
        return False
    language = "ru" if (customer.locale or "").lower().startswith("ru") else "en"
    message_send(
        customer=customer,
        channel=Channel.TELEGRAM,
        category=MessageCategory.TRANSACTIONAL,
        source=MessageSource.SYSTEM,
        body=BOUND_CONFIRMATION[language],
        source_ref="telegram:/start",
        idempotency_key=f"telegram:start:{provider_message_id}",
        address=str(text.chat_id),
    )
    return True


def _handle_blocked(chat_id: int) -> None:
    # A chat we never knew has nothing to opt out.
    consent_set_by_address(
        channel=Channel.TELEGRAM,
        address=str(chat_id),
        status=ConsentStatus.OPTED_OUT,
        source="telegram:blocked",
    )


def _update(raw: bytes) -> dict[str, Any]:
    update = json_object(raw)
    if not _is_integer(update.get("update_id")):
        raise Malformed("update_id", "is required and must be an integer")
    return update


urlpatterns = [path("", telegram_webhook, name="hooks-telegram")]
