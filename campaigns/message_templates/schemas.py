"""The shape of a version's per-channel variants (validated with pydantic before any Liquid)."""

from pydantic import BaseModel, ConfigDict, Field

CHANNELS = ("email", "sms", "whatsapp", "telegram", "viber", "push")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class EmailVariant(_Strict):
    subject: str = Field(min_length=1, max_length=998)
    html: str = Field(min_length=1, max_length=500_000)
    text: str = Field(default="", max_length=500_000)  # made from the HTML when empty


class SmsVariant(_Strict):
    body: str = Field(min_length=1, max_length=2000)


class WhatsappVariant(_Strict):
    template_name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    params: list[str] = Field(default_factory=list, max_length=20)


class CardVariant(_Strict):
    title: str = Field(default="", max_length=200)
    body: str = Field(min_length=1, max_length=4096)
    url: str = Field(default="", max_length=2000)


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
