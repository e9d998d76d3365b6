"""The page filters for numbers: {% load figures %} then {{ c.params|count }}, {{ c.accuracy|accuracy }},
{{ c.latency_ms|ms }}, {{ c.generation|generation }} (rules in webapp.studio.figures)."""
from django import template

from webapp.studio import figures

register = template.Library()

for _name in ("count", "exact", "ms", "percent", "accuracy", "generation"):
    register.filter(_name, getattr(figures, _name))


@register.filter
def fixed(value, digits):
    return figures.fixed(value, int(digits))
