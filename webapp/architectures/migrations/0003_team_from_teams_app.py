import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """An architecture's team is teams.Team now (the same studio_team table): state only."""

    dependencies = [
        ('architectures', '0002_evaluation'),
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='architecture',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='architectures', to='teams.team'),
            ),
        ]),
    ]
