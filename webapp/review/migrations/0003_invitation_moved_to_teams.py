import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Invitation moved to the teams app (its table is still review_invitation), and review's
    foreign keys point at teams.Team (still the studio_team table): state only, no row moves."""

    dependencies = [
        ('review', '0002_exports_and_thread_fates'),
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='auditentry',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='audit', to='teams.team'),
            ),
            migrations.AlterField(
                model_name='ensemble',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ensembles', to='teams.team'),
            ),
            migrations.AlterField(
                model_name='pointer',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pointers', to='teams.team'),
            ),
            migrations.AlterField(
                model_name='subject',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_subjects', to='teams.team'),
            ),
            migrations.DeleteModel(
                name='Invitation',
            ),
        ]),
    ]
