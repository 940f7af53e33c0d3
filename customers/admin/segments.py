"""Admins for RFM scores and settings, segments and their members."""

from django import forms
from django.contrib import admin

from customers.admin.common import CustomerColumnMixin, LargeTableAdmin
from customers.models import RfmDimensionSetting, RfmScore, Segment, SegmentMembership


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


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "member_count", "refreshed_at", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("member_count", "refreshed_at", "created_at")


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
