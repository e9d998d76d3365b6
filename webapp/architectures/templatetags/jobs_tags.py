"""Template tags of the jobs: which saved versions a page may offer to a search."""
from django import template

from webapp.architectures.models import ArchitectureVersion

register = template.Library()


@register.simple_tag
def versions_for_search(experiment, limit: int = 200):
    """The search team's saved versions of the search's family, newest architectures first."""
    return list(ArchitectureVersion.objects.filter(architecture__team_id=experiment.team_id, architecture__family=experiment.family)
                .select_related("architecture").order_by("-architecture__updated", "-number")[:limit])
