"""Template tags that draw an architecture on pages of apps to the library's left (the studio's
candidate page), which cannot import the library: the page's template loads these instead."""
from django import template

from webapp.architectures.services import with_learned_weights
from webapp.architectures.views import drawing_boot

register = template.Library()


@register.simple_tag
def candidate_drawing(candidate) -> dict:
    """What viewer.js needs to draw a search candidate read-only, with the edge weights its training learned."""
    experiment = candidate.experiment
    return drawing_boot(with_learned_weights(candidate.spec, candidate.edge_weights), experiment.family,
                        f"{experiment.name}-{candidate.name}")
