from django.conf import settings
from django.db import models

from workspace.roles import PERMISSIONS


class Access(models.Model):
    """No table: it only carries the workspace's permissions, which the roles (groups) hold.

    Each page and action checks one of these (`workspace.<codename>`); see workspace/roles.py.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = PERMISSIONS

    def __str__(self) -> str:
        return "workspace access"


class StaffProfile(models.Model):
    """A staff member's own settings: the language and time zone the workspace is shown in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    language = models.CharField(max_length=8, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'}, {self.time_zone or '-'})"
