from django import forms
from django.contrib import admin, messages

from api.models import DEFAULT_API_SCOPES, ApiKey, ApiScope, IdempotencyRecord
from api.services import api_key_create, api_key_revoke, api_scopes_clean


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(DEFAULT_API_SCOPES),
        help_text=f"Erasing customers ({ApiScope.GDPR_ERASE}) is granted only when ticked.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")

    def clean_scopes(self) -> list[str]:
        try:
            return api_scopes_clean(self.cleaned_data["scopes"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    # Revoking goes through the action (api_key_revoke); a revoked key is never brought back.
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        return ("name", "scopes") if obj is None else ("name", "scopes", *self.readonly_fields)

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, raw_key = api_key_create(name=obj.name, scopes=obj.scopes)
        obj.pk = api_key.pk
        obj.__dict__.update({f.attname: getattr(api_key, f.attname) for f in api_key._meta.fields})
        messages.warning(request, f"Copy the key now; it is not shown again: {raw_key}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset) -> None:
        api_keys = list(queryset)
        for api_key in api_keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(api_keys)} key(s).")


class OutcomeFilter(admin.SimpleListFilter):
    """By status class; listing the distinct statuses would read the whole table."""

    title = "response"
    parameter_name = "outcome"
    RANGES = {"2xx": (200, 300), "4xx": (400, 500), "5xx": (500, 600)}

    def lookups(self, request, model_admin):
        return [("pending", "Still processing"), *((name, name) for name in self.RANGES)]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(response_status__isnull=True)
        if self.value() in self.RANGES:
            low, high = self.RANGES[self.value()]
            return queryset.filter(response_status__gte=low, response_status__lt=high)
        return queryset


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """A day of API requests, kept only to replay responses: read-only, and possibly large.

    (api/ sits below customers/, so it cannot use customers.admin.pagination's estimated count.)
    """

    list_display = ("key", "api_key", "response_status", "created_at")
    list_filter = (OutcomeFilter, "created_at")
    list_select_related = ("api_key",)
    search_fields = ("=key",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
    ordering = ("-created_at",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
