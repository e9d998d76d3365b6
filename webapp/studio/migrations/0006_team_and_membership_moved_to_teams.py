import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Team and Membership moved to the teams app, tables and rows untouched (state only):
    the datasets' and experiments' teams are teams.Team, whose table is still studio_team."""

    dependencies = [
        ('architectures', '0003_team_from_teams_app'),  # no foreign key may point at studio.Team when it goes
        ('review', '0003_invitation_moved_to_teams'),
        ('studio', '0005_team_limits'),
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='team',
                name='members',
            ),
            migrations.AlterField(
                model_name='experiment',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='experiments', to='teams.team'),
            ),
            migrations.AlterField(
                model_name='dataset',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='datasets', to='teams.team'),
            ),
            migrations.DeleteModel(
                name='Membership',
            ),
            migrations.DeleteModel(
                name='Team',
            ),
        ]),
    ]
