from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WorkspaceConfig(AppConfig):
    name = "workspace"

    def ready(self) -> None:
        # Permissions are created by post_migrate, so the groups are brought up to date after it,
        # on every migrate: a role gains the permissions a later release adds to ROLE_PERMISSIONS.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="workspace-roles")


def _sync_roles(sender, using="default", **kwargs) -> None:
    from workspace.roles import roles_sync

    roles_sync(using=using)
