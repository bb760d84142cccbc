import datetime

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def running_runs_keep_the_old_rule(apps, schema_editor):
    """A run RUNNING at the upgrade is held as long as the old rule held it: until its hard time limit."""
    PullRun = apps.get_model("monitoring", "PullRun")
    hard_limit = datetime.timedelta(seconds=settings.MONITORING_PULL_RUN_TIME_LIMIT + 60)
    PullRun.objects.filter(status="RUNNING", started_at__isnull=False).update(
        lease_expires_at=F("started_at") + hard_limit
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0008_pull_run_queued_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="pullrun",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="held until"),
        ),
        migrations.RunPython(running_runs_keep_the_old_rule, migrations.RunPython.noop),
    ]
