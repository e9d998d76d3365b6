"""The Celery app. Workers: `celery -A webapp worker -Q default,train --pool solo --concurrency 1`.

Settings are the CELERY_* names in webapp/settings.py (JSON only, acks_late, prefetch 1,
a long visibility timeout). Candidate evaluations and the jobs of webapp.jobs (evaluations,
ensembles, exports) go to the `train` queue, so a GPU machine
can serve that queue alone (`-Q train`, one solo worker per GPU).
"""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("webapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["webapp.jobs", "webapp.studio"])
