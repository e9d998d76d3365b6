"""The studio's Celery app for the kill tests (``celery -A slow_jobs_app``, with tests/webapp on the
path): every ensemble member takes a few seconds longer to score, so a test can kill the worker while
an ensemble is surely being evaluated. Scoring a tiny ensemble is over in a blink otherwise."""
from __future__ import annotations

import functools
import time

import archsearch.ensemble
from webapp.celery import app  # noqa: F401 - what celery -A runs

SECONDS_PER_MEMBER = 3.0


def _slowed(score):
    @functools.wraps(score)
    def slow(*args, **kwargs):
        time.sleep(SECONDS_PER_MEMBER)
        return score(*args, **kwargs)

    return slow


archsearch.ensemble.val_logits = _slowed(archsearch.ensemble.val_logits)
