"""Which template version each message was rendered from, written for a batch of messages."""

from django.db import connection

from campaigns.message_templates.models import MessageTemplateUse


def template_uses_insert(rows: list[tuple[int, int]]) -> None:
    """Which version each message was rendered from (COPY on PostgreSQL: a million rows)."""
    if connection.vendor == "postgresql":
        table = MessageTemplateUse._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} (message_id, version_id) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    MessageTemplateUse.objects.bulk_create(
        MessageTemplateUse(message_id=message_id, version_id=version_id)
        for message_id, version_id in rows
    )
