"""Telegram Bot API: `sendMessage` to the chat a customer bound with the signed /start link.

The address is the chat id (or a public @username). Telegram answers errors with the matching
HTTP status and `{"ok": false, "error_code", "description", "parameters"}`: 403 (the user blocked
the bot) and 400 (chat not found) are permanent; 429 carries `parameters.retry_after`, which the
retry honours. Bots get no delivery receipts, so a sent Telegram message stays `sent`.
"""

from __future__ import annotations

from typing import Any

import requests

from channels.models import Message
from channels.providers.base import Provider, ProviderError, SendResult
from channels.providers.http import json_object, pooled_session, request

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")


class TelegramProvider(Provider):
    name = "telegram"
    channel = "telegram"
    settings_required = ("TELEGRAM_BASE_URL", "TELEGRAM_BOT_TOKEN")
    # sendMessage has no idempotency key, and bots get no delivery reports.
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        base = config["TELEGRAM_BASE_URL"].rstrip("/")
        self.url = f"{base}/bot{config['TELEGRAM_BOT_TOKEN']}/sendMessage"
        self.session = pooled_session()

    def send(self, message: Message) -> SendResult:
        try:
            response = request(
                self.session,
                "POST",
                self.url,
                json=telegram_request_body(message),
                describe_error=_describe_error,
            )
        except ProviderError as exc:
            retry_after = _retry_after(exc.response)
            if retry_after is None or exc.permanent:
                raise
            raise ProviderError(
                exc.reason,
                permanent=False,
                code=exc.code,
                retry_after=retry_after,
                response=exc.response,
            ) from exc
        data = json_object(response)
        if not data.get("ok"):
            raise ProviderError(
                f"not ok: {data.get('description') or response.text[:200]}",
                permanent=True,
                code=str(data.get("error_code", "")),
            )
        try:
            message_id = data["result"]["message_id"]
        except (KeyError, TypeError) as exc:
            raise ProviderError(
                f"unexpected answer without result.message_id: {response.text[:200]}",
                permanent=True,
                code="bad_response",
            ) from exc
        # A message id is unique only within its chat.
        return SendResult(provider_message_id=f"{message.address}:{message_id}")

    def close(self) -> None:
        self.session.close()


def telegram_request_body(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {"chat_id": chat_id(message.address), "text": message.body}
    parse_mode = message.payload.get("parse_mode")
    if parse_mode in PARSE_MODES:
        body["parse_mode"] = parse_mode
    buttons = message.payload.get("buttons")
    if buttons:
        body["reply_markup"] = {"inline_keyboard": _keyboard(buttons)}
    return body


def chat_id(address: str) -> int | str:
    """Numeric chat ids go as numbers, @usernames as strings (the API takes either)."""
    return int(address) if address.lstrip("-").isdigit() else address


def _keyboard(buttons: list) -> list[list[dict[str, Any]]]:
    """payload.buttons: rows of buttons, or a flat list meaning one button per row.

    A button is {"text", "url"} (a link) or {"text", "callback_data"}; "url" is what campaigns use.
    """
    return [row if isinstance(row, list) else [row] for row in buttons]


def _describe_error(response: requests.Response) -> str:
    return str(json_object(response).get("description") or "")


def _retry_after(response: requests.Response | None) -> float | None:
    """`parameters.retry_after` of an error answer: Telegram says how long to wait in the body."""
    parameters = json_object(response).get("parameters")
    if isinstance(parameters, dict) and parameters.get("retry_after") is not None:
        return float(parameters["retry_after"])
    return None
