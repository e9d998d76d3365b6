from django.db import migrations, models


class Migration(migrations.Migration):
    """Candidates become jobs of webapp.jobs: the shared field names (same table, same data; "proposed" stays the
    status of a candidate waiting for a worker). The per-experiment watchdog is gone: the runtime's watches each job."""

    dependencies = [("studio", "0007_dataset_preparation")]

    operations = [
        migrations.RenameField("candidate", "heartbeat", "heartbeat_at"),
        migrations.AddField("candidate", "stage", models.CharField(blank=True, max_length=100)),
        migrations.AddField("candidate", "progress", models.FloatField(default=0.0)),
        migrations.AlterField("candidate", "reason", models.TextField(blank=True, help_text="why it failed, or why it was run again")),
        migrations.RemoveField("experiment", "watchdog_due"),
    ]
