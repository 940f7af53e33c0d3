import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def create_roles(apps, schema_editor):
    # The groups exist from this migration on; their permissions are kept by roles_sync, which
    # runs after every migrate (workspace/apps.py), once Django has created the permissions.
    Group = apps.get_model("auth", "Group")
    for name in ("admin", "marketing", "support"):
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Access",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_home", "See the home dashboard"),
                    ("view_customers", "Find customers and open the customer page"),
                    ("change_consent", "Change a customer's consent, with a reason"),
                    ("add_note", "Add notes to customers"),
                    ("export_customer", "Download a customer's data (GDPR export)"),
                    ("erase_customer", "Erase a customer (GDPR)"),
                    ("reply", "Send messages to a customer and reply in conversations"),
                    ("view_inbox", "Work in the inbox: assign, snooze, close, notes"),
                    ("manage_canned", "Manage canned responses"),
                    ("view_calls", "Open the caller card"),
                    ("view_segments", "See segments and their members"),
                    ("manage_segments", "Create, change and delete segments"),
                    ("view_rfm", "See the RFM analysis"),
                    ("view_messages", "See the message log and the sandbox outbox"),
                    ("manage_settings", "Change channel, delivery, auto-reply and webhook settings"),
                    ("manage_api_keys", "Create and revoke API keys"),
                    ("manage_users", "Manage staff users and their roles"),
                    ("view_audit", "See the audit log of every staff action"),
                ],
            },
        ),
        migrations.CreateModel(
            name="StaffProfile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("language", models.CharField(blank=True, max_length=8)),
                ("time_zone", models.CharField(blank=True, max_length=64)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="staff_profile", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
