"""The studio's Celery app for the kill tests (``celery -A slow_jobs_app``, with tests/webapp on the
path): every ensemble member takes 1.5 s longer to score, and every video a dataset's preparation
decodes 0.5 s longer (the test polls every 0.2 s), so a test can kill the worker while an ensemble is surely being
evaluated or a dataset decoded. Both are over in a blink otherwise."""
from __future__ import annotations

import functools
import time

import archsearch.ensemble
import videomodels.data.cache
from webapp.celery import app  # noqa: F401 - what celery -A runs

SECONDS_PER_MEMBER = 1.5
SECONDS_PER_VIDEO = 0.5


def _slowed(work, seconds):
    @functools.wraps(work)
    def slow(*args, **kwargs):
        time.sleep(seconds)
        return work(*args, **kwargs)

    return slow


archsearch.ensemble.val_logits = _slowed(archsearch.ensemble.val_logits, SECONDS_PER_MEMBER)
videomodels.data.cache._load_video = _slowed(videomodels.data.cache._load_video, SECONDS_PER_VIDEO)
