from django.db import migrations, models


class Migration(migrations.Migration):
    """Ensembles and exports become jobs of webapp.jobs: the shared field names (same tables, same data)."""

    dependencies = [("review", "0002_exports_and_thread_fates")]

    operations = [
        migrations.RenameField("export", "heartbeat", "heartbeat_at"),
        migrations.RenameField("ensemble", "error", "reason"),
        migrations.AddField(
            model_name='ensemble',
            name='attempt',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='stage',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name='ensemble',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='export',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='ensemble',
            name='reason',
            field=models.TextField(blank=True, help_text='why it failed, or why it was run again'),
        ),
        migrations.AlterField(
            model_name='export',
            name='reason',
            field=models.TextField(blank=True, help_text='why it failed, or why it was run again'),
        ),
    ]
