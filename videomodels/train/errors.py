"""The one exception for mistakes in what a caller asked the trainer to do."""
from __future__ import annotations


class TrainError(ValueError):
    """A problem with the caller's spec, data or settings; the message is meant for humans.

    The CLI prints it and exits with code 2; programmatic callers (the search engine,
    the web app) can catch it to mark a run as failed for a reason other than a bug.
    """
