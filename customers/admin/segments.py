"""Admins for RFM scores and settings, customer value (CLV), segments and their members."""

import csv
import io

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from api.errors import ValidationFailed
from customers.admin.common import CustomerColumnMixin, LargeTableAdmin
from customers.models import (
    CustomerValue,
    RfmDimensionSetting,
    RfmScore,
    Segment,
    SegmentMembership,
)
from customers.services.segments import (
    segment_create,
    segment_members_add,
    segment_preview_queryset,
    segment_update,
    segment_validate,
)


@admin.register(RfmScore)
class RfmScoreAdmin(CustomerColumnMixin, LargeTableAdmin):
    """Computed by compute_rfm; staff read them, never edit them."""

    list_display = ("customer_column", "segment", "r", "f", "m", "recency_days", "frequency",
                    "monetary", "as_of")  # fmt: skip
    list_filter = ("segment", "r", "f", "m")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    search_fields = ("=customer__external_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomerValue)
class CustomerValueAdmin(CustomerColumnMixin, LargeTableAdmin):
    """Written by the nightly CLV scoring (analytics.clv); staff read them, never edit them."""

    list_display = ("customer_column", "historic_revenue", "orders", "p_alive",
                    "expected_purchases_12m", "clv_12m", "scored_at")  # fmt: skip
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    search_fields = ("=customer__external_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RfmDimensionSettingForm(forms.ModelForm):
    class Meta:
        model = RfmDimensionSetting
        fields = ("dimension", "method", "thresholds")

    def clean(self):
        cleaned = super().clean()
        thresholds = cleaned.get("thresholds") or []
        if cleaned.get("method") == RfmDimensionSetting.Method.THRESHOLDS:
            numeric = all(
                isinstance(t, int | float) and not isinstance(t, bool) for t in thresholds
            )
            if len(thresholds) != 4 or not numeric or sorted(thresholds) != thresholds:
                self.add_error(
                    "thresholds", "Give four ascending numbers, e.g. [30, 90, 180, 365]."
                )
        return cleaned


@admin.register(RfmDimensionSetting)
class RfmDimensionSettingAdmin(admin.ModelAdmin):
    form = RfmDimensionSettingForm
    list_display = ("dimension", "method", "thresholds")


class SegmentAdminForm(forms.ModelForm):
    members_csv = forms.FileField(
        required=False,
        label="Add members from CSV",
        help_text="Static segments: a CSV whose first column holds external ids (a header row "
        "named external_id is skipped).",
    )

    class Meta:
        model = Segment
        fields = ("name", "description", "kind", "rules")

    def clean_members_csv(self) -> list[str]:
        upload = self.cleaned_data.get("members_csv")
        if not upload:
            return []
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        ids = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
        if ids and ids[0].lower() == "external_id":
            ids = ids[1:]
        if not ids:
            raise forms.ValidationError("The file holds no external ids.")
        return list(dict.fromkeys(ids))

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or (self.instance.kind if self.instance.pk else None)
        try:
            segment_validate(kind=kind, rules=cleaned.get("rules"), segment_id=self.instance.pk)
        except ValidationFailed as exc:
            for error in exc.errors:
                self.add_error("rules" if error["field"].startswith("rules") else None,
                               f"{error['field']}: {error['message']}")  # fmt: skip
        if cleaned.get("members_csv") and kind != Segment.Kind.STATIC:
            self.add_error("members_csv", "Only static segments take a member list.")
        return cleaned


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Rules are validated on save; the count shows how many customers they select right now."""

    form = SegmentAdminForm
    list_display = ("name", "kind", "member_count", "refreshed_at", "refresh_error", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = (
        "matching_now",
        "member_count",
        "refreshed_at",
        "refresh_error",
        "created_at",
    )

    def get_readonly_fields(self, request, obj=None):
        # A segment's kind is fixed once it exists.
        return (*self.readonly_fields, "kind") if obj else self.readonly_fields

    @admin.display(description="customers matching the rules now")
    def matching_now(self, segment: Segment) -> str:
        if segment.pk is None or segment.kind != Segment.Kind.DYNAMIC:
            return "-"
        try:
            with transaction.atomic():  # a savepoint: a failed query leaves the page usable
                return f"{segment_preview_queryset(rules=segment.rules).count():,}"
        except Exception as exc:  # a stored rule that no longer compiles must not hide the page
            return f"cannot be evaluated: {exc}"

    def save_model(self, request, obj, form, change) -> None:
        external_ids = form.cleaned_data.get("members_csv") or []
        if change:
            segment_update(
                segment=Segment.objects.get(pk=obj.pk),
                fields={name: form.cleaned_data[name] for name in ("name", "description", "rules")},
            )
            obj.refresh_from_db()
        else:
            created = segment_create(
                name=obj.name, kind=obj.kind, rules=obj.rules, description=obj.description
            )
            obj.pk = created.pk
            obj.refresh_from_db()
        if external_ids:
            try:
                result = segment_members_add(segment=obj, external_ids=external_ids)
            except ValidationFailed as exc:
                unknown = ", ".join(e["message"].rsplit(" ", 1)[-1] for e in exc.errors[:10])
                messages.error(request, f"No members added; unknown external ids: {unknown}")
            else:
                messages.success(request, f"{result.entered} member(s) added from the CSV.")


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(CustomerColumnMixin, LargeTableAdmin):
    """Materialised by segment refreshes; read-only here."""

    list_display = ("segment", "customer_column", "joined_at")
    list_filter = ("segment",)
    list_select_related = ("segment", "customer")
    raw_id_fields = ("customer",)
    search_fields = ("=customer__external_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
