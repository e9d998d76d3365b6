import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = [("studio", "team"), ("studio", "membership"), ("review", "invitation")]


def move_content_types(apps, schema_editor, backwards=False):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_app, model in MOVED:
        source, target = ("teams", old_app) if backwards else (old_app, "teams")
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):
    """Team and Membership (from the studio app) and Invitation (from review) now belong here.

    Their tables stay as they were (db_table: studio_team, studio_membership, review_invitation),
    so this creates them in Django's state only: on a fresh database the studio's and review's
    first migrations made the tables, on an existing one the rows are simply still there. Their
    content types move too, so admin permissions and log entries follow the models.
    """

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("studio", "0005_team_limits"),  # the tables exist, with every column the state below names
        ("review", "0002_exports_and_thread_fates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Membership',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('role', models.CharField(choices=[('owner', 'Owner'), ('member', 'Member'), ('viewer', 'Viewer')], default='member', max_length=10)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'studio_membership',
                },
            ),
            migrations.CreateModel(
                name='Team',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=100, unique=True)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('max_steps', models.PositiveIntegerField(blank=True, help_text='Most steps one training may ask for', null=True)),
                    ('max_batch_size', models.PositiveIntegerField(blank=True, help_text='Largest batch one training may ask for', null=True)),
                    ('max_queued_trainings', models.PositiveIntegerField(blank=True, help_text='Most trainings queued or running at once on the train queue', null=True)),
                    ('members', models.ManyToManyField(related_name='teams', through='teams.Membership', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'studio_team',
                    'ordering': ['name'],
                },
            ),
            migrations.AddField(
                model_name='membership',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='teams.team'),
            ),
            migrations.CreateModel(
                name='Invitation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('role', models.CharField(choices=[('owner', 'Owner'), ('member', 'Member'), ('viewer', 'Viewer')], default='member', max_length=10)),
                    ('digest', models.CharField(max_length=64, unique=True)),
                    ('note', models.CharField(blank=True, help_text='who it is for, as a reminder', max_length=200)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('expires', models.DateTimeField()),
                    ('used_at', models.DateTimeField(blank=True, null=True)),
                    ('revoked', models.BooleanField(default=False)),
                    ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('used_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='teams.team')),
                ],
                options={
                    'db_table': 'review_invitation',
                    'ordering': ['-created'],
                },
            ),
            migrations.AddConstraint(
                model_name='membership',
                constraint=models.UniqueConstraint(fields=('user', 'team'), name='one_membership_per_team'),
            ),
        ]),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
