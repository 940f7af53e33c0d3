"""Scopes finer than read/write. A `write` key keeps everything it could do (read, write, send
messages) except erasing customers, which is now the `gdpr:erase` scope, granted explicitly."""

import api.models
from django.db import migrations, models

SCOPES_OF_OLD_SCOPE = {
    "read": ["read"],
    "write": ["read", "write", "messages:send"],
}


def split_scopes(apps, schema_editor):
    ApiKey = apps.get_model("api", "ApiKey")
    for old, new in SCOPES_OF_OLD_SCOPE.items():
        ApiKey.objects.filter(scope=old).update(scopes=new)


def join_scopes(apps, schema_editor):
    ApiKey = apps.get_model("api", "ApiKey")
    for api_key in ApiKey.objects.all():
        api_key.scope = "write" if "write" in api_key.scopes else "read"
        api_key.save(update_fields=["scope"])


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(default=api.models.default_api_scopes),
        ),
        migrations.RunPython(split_scopes, join_scopes),
        migrations.RemoveField(
            model_name="apikey",
            name="scope",
        ),
    ]
