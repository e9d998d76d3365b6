from django.db import migrations, models


class Migration(migrations.Migration):
    """The viewer role (reads and comments only) and the leaderboards' sort indexes on candidates."""

    dependencies = [
        ("studio", "0002_experiment_outcome"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(choices=[("owner", "Owner"), ("member", "Member"), ("viewer", "Viewer")], default="member",
                                   max_length=10),
        ),
        *[migrations.AddIndex(model_name="candidate", index=models.Index(fields=["experiment", field, "id"], name=f"cand_exp_{short}"))
          for field, short in (("accuracy", "acc"), ("latency_ms", "lat"), ("params", "params"), ("macs", "macs"))],
        *[migrations.AddIndex(model_name="candidate", index=models.Index(fields=[field, "id"], name=f"cand_{short}"))
          for field, short in (("accuracy", "acc"), ("latency_ms", "lat"), ("params", "params"), ("macs", "macs"))],
    ]
