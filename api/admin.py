from django.contrib import admin, messages

from api.models import ApiKey, IdempotencyRecord
from api.services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        return (
            ("name", "scope")
            if obj is None
            else ("name", "scope", *self.readonly_fields, "revoked_at")
        )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, raw_key = api_key_create(name=obj.name, scope=obj.scope)
        obj.pk = api_key.pk
        obj.__dict__.update({f.attname: getattr(api_key, f.attname) for f in api_key._meta.fields})
        messages.warning(request, f"Copy the key now; it is not shown again: {raw_key}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "api_key", "response_status", "created_at")
    list_filter = ("response_status",)
    search_fields = ("key",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
