"""The shape of a version's per-channel variants (validated with pydantic before any Liquid)."""

from pydantic import BaseModel, ConfigDict, Field

from api.types import text as bounded

CHANNELS = ("email", "sms", "whatsapp", "telegram", "viber", "push")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class EmailVariant(_Strict):
    subject: bounded(min_length=1, max_length=998)
    html: bounded(min_length=1, max_length=500_000)
    text: bounded(max_length=500_000) = ""  # made from the HTML when empty


class SmsVariant(_Strict):
    body: bounded(min_length=1, max_length=2000)


class WhatsappVariant(_Strict):
    template_name: bounded(min_length=1, max_length=512)
    language: bounded(min_length=2, max_length=15)
    params: list[bounded(min_length=1, max_length=1024)] = Field(
        default_factory=list, max_length=20
    )


class CardVariant(_Strict):
    title: bounded(max_length=200) = ""
    body: bounded(min_length=1, max_length=4096)
    url: bounded(max_length=2000) = ""


class Variants(_Strict):
    email: EmailVariant | None = None
    sms: SmsVariant | None = None
    whatsapp: WhatsappVariant | None = None
    telegram: CardVariant | None = None
    viber: CardVariant | None = None
    push: CardVariant | None = None

    def present(self) -> dict[str, dict]:
        return {k: v for k, v in self.model_dump(exclude_none=True).items()}


def variant_fields(channel: str, variant: dict) -> list[tuple[str, str]]:
    """(field name, Liquid source) of one variant, e.g. ("subject", "Hi {{ … }}")."""
    if channel == "whatsapp":
        return [(f"params[{i}]", p) for i, p in enumerate(variant.get("params", []))]
    return [(k, v) for k, v in variant.items() if isinstance(v, str) and v]
