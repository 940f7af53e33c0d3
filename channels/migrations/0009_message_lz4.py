"""Message bodies are compressed with lz4 rather than pglz on PostgreSQL (14+, built with lz4,
as Debian's and the official images are): an email's HTML is written once per message, a million
at a time by a broadcast, and lz4 compresses several times faster for about the same size. Other
databases, and servers without lz4, keep their default."""

from django.db import migrations

COLUMNS = ("html", "body")


def _set(apps, schema_editor, method):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("kaskad_channels", "Message")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
        if cursor.fetchone() is None:
            return  # a server built without lz4
        for column in COLUMNS:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def forwards(apps, schema_editor):
    _set(apps, schema_editor, "lz4")


def backwards(apps, schema_editor):
    _set(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("kaskad_channels", "0008_sms_part_price")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
