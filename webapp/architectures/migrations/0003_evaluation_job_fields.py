from django.db import migrations, models


class Migration(migrations.Migration):
    """Evaluations become jobs of webapp.jobs: the shared field names (same table, same data)."""

    dependencies = [("architectures", "0002_evaluation")]

    operations = [
        migrations.RenameField("evaluation", "heartbeat", "heartbeat_at"),
        migrations.AddField(
            model_name='evaluation',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='evaluation',
            name='stage',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='reason',
            field=models.TextField(blank=True, help_text='why it failed, or why it was run again'),
        ),
    ]
