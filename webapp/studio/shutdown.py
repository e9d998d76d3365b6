"""Set when this worker is asked to shut down (webapp.studio.signals sets it): a training in progress
is handed back (queued again) instead of holding the shutdown for minutes. A module of its own so
the code that trains can read it without importing the signal handlers."""
from __future__ import annotations

import threading

worker_shutting_down = threading.Event()
