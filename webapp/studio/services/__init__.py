"""What the studio does, by concern: datasets, launching, status changes, scheduling, the worker.

The search engine (archsearch.engine.Evolution) keeps no state of its own here: its state is
a pure function of the recorded history, so every decision rebuilds it from the candidate
rows under the experiment's row lock. That makes every step idempotent and lets any worker
on any machine carry on where another stopped:

- ``advance`` (scheduler) proposes new candidates until ``parallelism`` are in flight, and
  queues each as a job of webapp.jobs on the ``train`` queue after the commit;
- the job runtime claims a candidate, trains it outside any transaction while its heartbeat
  reports and watches for stop/cancel, then records the result and advances (the kind's hooks
  in studio.candidate_job);
- a candidate whose worker died (no heartbeat) goes back to ``proposed`` and is run once more;
  a redelivered or duplicated task finds its candidate claimed or done and does nothing.

Heavy imports (torch, the engine) happen inside the functions that need them, so the web
process never loads them. Callers import from this package, not from its modules.
"""
from .datasets import check_source_path, data_dir, register_dataset
from .errors import LimitError, StudioError, TransitionError
from .estimates import latency_budget_warning, latency_floor_ms, train_workers
from .experiments import FORM_FIELDS, build_config, check_launch, config_errors, create_experiment
from .limits import check_budget, check_room, limits_of, trainings_in_use, usage_of
from .lifecycle import cancel_experiment, resume_experiment, start_experiment, stop_experiment
from .removal import (ConflictError, Removal, dataset_removal, delete_dataset, delete_experiment, experiment_removal,
                      owned_folder, remove_on_commit, rename_dataset, rename_experiment)
from .scheduler import advance, build_engine, finish, recover, wait_for
from .teams import default_team, team_for, teams_of
from .workers import WorkersUnknown, list_workers, workers_overview

__all__ = [
    "FORM_FIELDS", "LimitError", "StudioError", "TransitionError", "advance",
    "build_config", "build_engine", "cancel_experiment", "check_launch", "check_source_path", "config_errors",
    "create_experiment", "data_dir", "default_team", "finish", "recover", "register_dataset", "resume_experiment",
    "start_experiment", "stop_experiment", "team_for", "teams_of", "wait_for",
    "latency_budget_warning", "latency_floor_ms", "train_workers", "WorkersUnknown", "list_workers",
    "workers_overview", "check_budget", "ConflictError", "Removal", "dataset_removal", "delete_dataset", "delete_experiment",
    "experiment_removal", "owned_folder", "remove_on_commit", "rename_dataset", "rename_experiment", "check_room", "limits_of", "trainings_in_use", "usage_of",
]
