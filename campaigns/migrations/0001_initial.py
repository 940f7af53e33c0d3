# The campaigns app's first migration: no tables yet. Templates, promo codes, loyalty,
# recommendations and broadcasts each add theirs after it.

from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("customers", "0009_rfm_cell_by_customer"),
        ("kaskad_channels", "0007_message_log_index"),
    ]

    operations = []
