"""Template tags of the jobs: which saved versions a page may offer to a search."""
from django import template

from webapp.architectures import jobs
from webapp.architectures.evaluations import Evaluation

register = template.Library()


@register.simple_tag
def sort_for_search(experiment, limit: int = 50):
    """What the Inject form offers (``fits``) and why the team's other versions are not offered (``refused``)."""
    if experiment.status != "running":
        return jobs.SearchFit([], [])
    return jobs.sort_for_search(experiment, limit=limit)


@register.simple_tag
def evaluations_of(version, limit: int = 50):
    """A version's evaluations, newest first (what its page lists)."""
    return list(Evaluation.objects.filter(version=version).select_related("dataset", "created_by").order_by("-created", "-pk")[:limit])


@register.filter
def learned_weights(evaluations):
    """The learned edge weights of the newest evaluation that has some ([] when none has)."""
    return next((e.edge_weights for e in evaluations if e.status == "evaluated" and e.edge_weights), [])
