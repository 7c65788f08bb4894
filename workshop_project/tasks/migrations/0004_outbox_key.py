"""Outbox.key: a UUID per row, the job's idempotency key (instead of the row's id).

In three steps, as Django's docs advise for a unique field with a callable
default: add it nullable, give every existing row its own UUID, then make it
unique and required.
"""

import uuid

from django.db import migrations, models


def give_each_row_a_key(apps, schema_editor):
    Outbox = apps.get_model("tasks", "Outbox")
    for row in Outbox.objects.using(schema_editor.connection.alias).filter(key__isnull=True).only("pk"):
        row.key = uuid.uuid4()
        row.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0003_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="outbox",
            name="key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_row_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outbox",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
