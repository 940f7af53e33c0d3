"""API v1 request and response shapes for templates."""

from typing import Literal

from pydantic import Field
from rest_framework import serializers

from api.types import JsonObject, Text, text
from campaigns.message_templates.models import Template, TemplateVersion
from campaigns.message_templates.schemas import Variants
from customers.api.schemas import ExternalId, Strict

TemplateName = text(min_length=1, max_length=150, strip=True)
Category = Literal["marketing", "transactional"]
ChannelName = Literal["email", "sms", "whatsapp", "telegram", "viber", "push"]
Extra = text(min_length=1, max_length=64, strip=True)


class TemplateIn(Strict):
    name: TemplateName
    description: Text = ""
    category: Category
    variants: Variants = Field(description="One variant per channel, each field in Liquid.")
    extras: list[Extra] = Field(
        default_factory=list, max_length=20, description="Variables the sender passes itself."
    )


class TemplatePatch(Strict):
    # Fields left out are not changed; new variants or extras make a new version.
    name: TemplateName = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]
    category: Category = None  # type: ignore[assignment]
    variants: Variants = None  # type: ignore[assignment]
    extras: list[Extra] = Field(default=None, max_length=20)  # type: ignore[assignment]
    archived: bool = None  # type: ignore[assignment]


class _RenderFor(Strict):
    external_id: ExternalId = Field(description="The customer to render for.")
    channel: ChannelName
    extra: JsonObject = Field(default_factory=dict, description="Values of the declared extras.")


class RenderIn(_RenderFor):
    version: int = Field(
        default=None, ge=1, description="A version number; the newest if left out."
    )  # type: ignore[assignment]


class PreviewIn(_RenderFor):
    variants: Variants
    extras: list[Extra] = Field(default_factory=list, max_length=20)


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    variants = serializers.JSONField()
    extras = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = TemplateVersion
        fields = ["number", "variants", "extras", "created_by", "created_at"]


class TemplateSerializer(serializers.ModelSerializer):
    version = VersionSerializer(source="current_version", allow_null=True)
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = ["id", "name", "description", "category", "archived", "version",
                  "created_at", "updated_at"]  # fmt: skip

    def get_archived(self, template) -> bool:
        return template.archived_at is not None


class RenderedSerializer(serializers.Serializer):
    channel = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    html = serializers.CharField(allow_blank=True)
    payload = serializers.DictField()
