"""Fair use of the workers: each team's limits, what it uses now, and the checks that refuse more.

A team may ask a training (an evaluation, or every candidate of a search) for at most
``max_steps`` steps and ``max_batch_size`` clips per batch, and may hold at most
``max_queued_trainings`` trainings queued or running at once on the ``train`` queue, so one user
cannot fill it for everyone. What a team holds: every running search's candidates at once (its
parallelism, or more while an injected one trains), its evaluations and ensembles waiting or
training. A team's own limits are set by the site's admin (Team fields in the admin; empty is
the site default from the settings); its owner sees them, and what is in use, on the team page
and at /api/teams/<id>/.
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from webapp.teams.models import Team

from ..models import Candidate, Experiment
from .errors import LimitError, StudioError

ACTIVE_JOB = ("queued", "running")  # evaluations' and ensembles' statuses that hold a place on the train queue
LIMITS = ("max_steps", "max_batch_size", "max_queued_trainings")


def limits_of(team: Team) -> dict[str, int]:
    """The team's limits: its own where set, else the site's defaults (settings.STUDIO_TEAM_LIMITS)."""
    defaults = settings.STUDIO_TEAM_LIMITS
    limits = {name: getattr(team, name) if getattr(team, name) is not None else defaults[name] for name in LIMITS}
    limits["max_active_exports"] = settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS
    return limits


def trainings_in_use(team_id: int, *, except_experiment: int | None = None) -> int:
    """Trainings the team holds on the train queue now (see the module's docstring)."""
    searches = (Experiment.objects.filter(team_id=team_id, status__in=(Experiment.Status.RUNNING, Experiment.Status.STOPPING))
                .exclude(pk=except_experiment)
                .annotate(in_flight=Count("candidates", filter=Q(candidates__status__in=Candidate.IN_FLIGHT))))
    held = sum(max(e.parallelism, e.in_flight) for e in searches)
    jobs = Team.objects.filter(pk=team_id).aggregate(
        evaluations=Count("architectures__versions__evaluations", filter=Q(architectures__versions__evaluations__status__in=ACTIVE_JOB),
                          distinct=True),
        ensembles=Count("ensembles", filter=Q(ensembles__status__in=ACTIVE_JOB), distinct=True))
    return held + (jobs["evaluations"] or 0) + (jobs["ensembles"] or 0)


def usage_of(team: Team) -> dict[str, int]:
    return {"queued_trainings": trainings_in_use(team.pk)}


def check_budget(team: Team, *, steps: dict[str, int], batch_size: int, batch_field: str = "batch_size") -> None:
    """Steps and batch size within the team's limits (StudioError naming the field and the limit)."""
    limits = limits_of(team)
    for field, value in steps.items():
        if isinstance(value, int) and value > limits["max_steps"]:
            raise StudioError(f"At most {limits['max_steps']:,} steps per training in {team.name} (the team's max_steps "
                              f"limit), got {value:,}.", field)
    if isinstance(batch_size, int) and batch_size > limits["max_batch_size"]:
        raise StudioError(f"At most {limits['max_batch_size']:,} clips per batch in {team.name} (the team's max_batch_size "
                          f"limit), got {batch_size:,}.", batch_field)


def check_room(team: Team, needed: int, *, except_experiment: int | None = None) -> None:
    """Room for ``needed`` more trainings on the train queue (LimitError naming max_queued_trainings).

    Inside a transaction the team's row is locked, so two requests at once cannot both take the last place."""
    if transaction.get_connection().in_atomic_block:
        Team.objects.select_for_update().filter(pk=team.pk).first()
    cap = limits_of(team)["max_queued_trainings"]
    used = trainings_in_use(team.pk, except_experiment=except_experiment)
    if used + needed > cap:
        raise LimitError(f"{team.name} holds {used} of its {cap} queued or running trainings (the team's "
                         f"max_queued_trainings limit); this needs {needed} more. Wait for some to finish, or stop a search.",
                         "max_queued_trainings")
