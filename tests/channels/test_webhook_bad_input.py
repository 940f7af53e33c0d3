"""Every provider webhook answers a body it cannot store with 400 naming the field, and stores
nothing: no inbound message, no call, no customer, no status change. (NUL and range errors bite
on PostgreSQL; these run on both databases.)"""

import json

import pytest

from channels.hooks.telephony import signature_for
from channels.hooks.viber import viber_signature
from channels.hooks.whatsapp import whatsapp_signature
from channels.models import CallLog, InboundMessage, MessageStatusChange
from channels.providers.twilio import twilio_signature
from customers.models import ChannelIdentity, Customer

pytestmark = pytest.mark.django_db

SECRET = "hook-secret"
PUBLIC = "https://kaskad.example.com"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.WHATSAPP_APP_SECRET = SECRET
    settings.VIBER_AUTH_TOKEN = SECRET
    settings.EXOLVE_WEBHOOK_SECRET = SECRET
    settings.TWILIO_AUTH_TOKEN = SECRET
    settings.PUBLIC_BASE_URL = PUBLIC


def raw(body) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def post_telephony(client, body):
    data = raw(body)
    return client.post(
        "/hooks/telephony/call",
        data,
        content_type="application/json",
        headers={"X-Kaskad-Signature": signature_for(data, SECRET)},
    )


def post_telegram(client, body):
    return client.post(
        "/hooks/telegram/",
        raw(body),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )


def post_whatsapp(client, body):
    data = raw(body)
    return client.post(
        "/hooks/whatsapp/",
        data,
        content_type="application/json",
        headers={"X-Hub-Signature-256": whatsapp_signature(data, SECRET)},
    )


def post_viber(client, body):
    data = raw(body)
    return client.post(
        "/hooks/viber/",
        data,
        content_type="application/json",
        headers={"X-Viber-Content-Signature": viber_signature(data, SECRET)},
    )


def post_exolve(client, body):
    return client.post(
        f"/hooks/exolve/inbound?secret={SECRET}", raw(body), content_type="application/json"
    )


def post_twilio(client, params):
    path = "/hooks/twilio/inbound"
    signature = twilio_signature(PUBLIC + path, {k: [v] for k, v in params.items()}, SECRET)
    return client.post(path, params, headers={"X-Twilio-Signature": signature})


def call(**fields):
    return {
        "call_id": "call-1",
        "direction": "inbound",
        "from": "+79161234567",
        "to": "+74951234567",
        "status": "ringing",
        "started_at": "2025-05-14T10:03:00Z",
        **fields,
    }


def telegram_text(*, update_id=900001, date=1741000000, text="hello", **message):
    return {
        "update_id": update_id,
        "message": {
            "message_id": 77,
            "chat": {"id": 523987441, "type": "private"},
            "date": date,
            "text": text,
            **message,
        },
    }


def whatsapp_inbound(**fields):
    message = {"from": "79161234567", "id": "wamid.1", "timestamp": "1741000000", "type": "text"}
    message["text"] = {"body": "hello"}
    message.update(fields)
    return {"entry": [{"id": "WABA", "changes": [{"value": {"messages": [message]}}]}]}


def viber_message(**fields):
    return {
        "event": "message",
        "timestamp": 1741000000123,
        "message_token": 4912661846655238145,
        "sender": {"id": "01234567890A=="},
        "message": {"type": "text", "text": "hello"},
        **fields,
    }


def exolve_inbound(**fields):
    return {"message_id": "488958094327263621", "sender": "79161234567", "text": "hi", **fields}


def twilio_inbound(**fields):
    return {
        "MessageSid": "SM1",
        "From": "+15005550006",
        "To": "+79161234567",
        "Body": "hi",
    } | fields


def nested(depth: int):
    value: object = "deep"
    for _ in range(depth):
        value = {"a": value}
    return value


BAD_CALLBACKS = [
    # telephony
    ("telephony", call(duration=float("nan")), "body"),  # json.dumps writes NaN, not JSON
    ("telephony", call(duration=float("inf")), "body"),
    ("telephony", call(duration=1e300), "duration"),
    ("telephony", call(duration=10**9), "duration"),
    ("telephony", call(duration=-1), "duration"),
    ("telephony", call(started_at="0001-01-01T00:00:00+01:00"), "started_at"),
    ("telephony", call(started_at="9999-12-31T23:00:00-05:00"), "started_at"),
    ("telephony", call(call_id="call\u0000"), "call_id"),
    ("telephony", call(**{"from": "+7" + "9" * 60}), "from"),
    ("telephony", call(extra={"key\u0000": 1}), "extra.key\\0"),
    ("telephony", call(extra=nested(40)), "extra" + ".a" * 31),
    ("telephony", call(extra=2**70), "extra"),
    # Telegram
    ("telegram", telegram_text(update_id=True), "update_id"),
    ("telegram", telegram_text(update_id="900001"), "update_id"),
    ("telegram", telegram_text(update_id=1.5), "update_id"),
    ("telegram", telegram_text(date=10**15), "message.date"),
    ("telegram", telegram_text(date=-(10**12)), "message.date"),
    ("telegram", telegram_text(date=True), "message.date"),
    ("telegram", telegram_text(text="hi\u0000"), "message.text"),
    ("telegram", telegram_text(message_id=False), "message.message_id"),
    # WhatsApp
    ("whatsapp", whatsapp_inbound(**{"from": "+79161234567"}), "from"),
    ("whatsapp", whatsapp_inbound(**{"from": "7916123abc"}), "from"),
    ("whatsapp", whatsapp_inbound(**{"from": "7" * 30}), "from"),
    ("whatsapp", whatsapp_inbound(**{"from": "٧٩١٦١٢٣٤٥٦٧"}), "from"),  # Arabic-Indic digits
    ("whatsapp", whatsapp_inbound(timestamp="99999999999999"), "timestamp"),
    ("whatsapp", whatsapp_inbound(id="w" * 300), "id"),
    # Viber
    ("viber", viber_message(timestamp=10**18), "timestamp"),
    ("viber", viber_message(sender={"id": "v" * 600}), "sender.id"),
    ("viber", viber_message(message_token="t" * 300), "message_token"),
    # Exolve
    ("exolve", exolve_inbound(sender="7" * 30), "sender"),
    ("exolve", exolve_inbound(message_id="m" * 300), "message_id"),
    ("exolve", exolve_inbound(date="9999-12-31T23:00:00-05:00"), "date"),
    ("exolve", exolve_inbound(text="hi\u0000"), "text"),
    # Twilio (a form)
    ("twilio", twilio_inbound(From="+1500555\u00000006"), "From"),
    ("twilio", twilio_inbound(Body="hi\u0000"), "Body"),
    ("twilio", twilio_inbound(From="+1" + "5" * 60), "From"),
    ("twilio", twilio_inbound(Extra="x\u0000"), "Extra"),
]
POSTERS = {
    "telephony": post_telephony,
    "telegram": post_telegram,
    "whatsapp": post_whatsapp,
    "viber": post_viber,
    "exolve": post_exolve,
    "twilio": post_twilio,
}


@pytest.mark.parametrize(("hook", "body", "field"), BAD_CALLBACKS)
def test_a_callback_that_cannot_be_stored_is_400_naming_the_field_and_stores_nothing(
    client, hook, body, field
):
    customers = Customer.objects.count()
    response = POSTERS[hook](client, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_payload"
    [error] = response.json()["errors"]
    assert error["field"] == field or error["field"].endswith("." + field), error
    assert not InboundMessage.objects.exists()
    assert not CallLog.objects.exists()
    assert not MessageStatusChange.objects.exists()
    assert not ChannelIdentity.objects.exists()
    assert Customer.objects.count() == customers


@pytest.mark.parametrize(
    "body",
    [b"{", b"", b'{"a": 1e400}', b'{"a": "\\ud800"}', b"[" * 2000 + b"]" * 2000, b"\xff\xfe"],
    ids=["truncated", "empty", "overflow", "lone-surrogate", "runaway-nesting", "not-utf8"],
)
@pytest.mark.parametrize("hook", ["telephony", "telegram", "whatsapp", "viber", "exolve"])
def test_a_body_that_is_not_storable_json_is_400_on_every_json_hook(client, hook, body):
    response = POSTERS[hook](client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert response.json()["errors"][0]["field"] == "body"


def test_a_call_time_with_an_offset_postgresql_cannot_store_is_kept_in_utc(client):
    response = post_telephony(client, call(started_at="2025-05-14T10:03:00+20:00"))
    assert response.status_code == 200
    assert CallLog.objects.get().started_at.isoformat() == "2025-05-13T14:03:00+00:00"


def test_a_whatsapp_message_from_digits_is_stored_under_the_e164_number(client):
    response = post_whatsapp(client, whatsapp_inbound())
    assert response.status_code == 200
    assert InboundMessage.objects.get().address == "+79161234567"


def test_a_viber_message_token_of_64_bits_is_still_accepted(client):
    response = post_viber(client, viber_message(message_token=2**63 - 1))
    assert response.status_code == 200
    assert InboundMessage.objects.get().provider_message_id == str(2**63 - 1)


def test_a_sender_that_is_not_a_phone_number_is_kept_but_never_becomes_a_profile_phone(client):
    sender = "+1" + "5" * 38  # 40 characters: as long as Twilio's From may be, but no number
    response = post_twilio(client, twilio_inbound(From=sender))
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.address == sender
    assert inbound.customer.phone == ""


def test_the_longest_viber_id_still_gives_a_placeholder_customer_an_id_that_fits(client):
    viber_id = "v" * 255
    response = post_viber(client, viber_message(sender={"id": viber_id}))
    assert response.status_code == 200
    customer = InboundMessage.objects.get().customer
    assert customer.external_id.startswith("viber:sha256:")
    assert len(customer.external_id) <= 255
    assert ChannelIdentity.objects.get(customer=customer).address == viber_id
