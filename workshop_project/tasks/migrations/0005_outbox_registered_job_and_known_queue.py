"""Outbox.func names a registered job, Outbox.queue a queue the settings know (validators only:
the admin's form refuses anything else; no change to the table)."""

from django.db import migrations, models

import workshop_project.tasks.job_registry
import workshop_project.tasks.models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0004_outbox_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outbox",
            name="func",
            field=models.CharField(
                help_text="A registered job's dotted path: workshop_project.tasks.jobs.get_url_length",
                max_length=255,
                validators=[workshop_project.tasks.job_registry.validate],
            ),
        ),
        migrations.AlterField(
            model_name="outbox",
            name="queue",
            field=models.CharField(
                default="default", max_length=64, validators=[workshop_project.tasks.models.validate_queue]
            ),
        ),
    ]
