from django.contrib import admin
from django.utils import timezone

from analytics.models import SurveySettings


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    """One row: which CSAT survey goes out when a support conversation is closed."""

    list_display = ["__str__", "conversation_survey", "updated_at"]

    def has_add_permission(self, request):
        return not SurveySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
