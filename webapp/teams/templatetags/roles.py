"""The role decision in templates: a page shows a write control only where the server would accept it.

``{% decide "change" experiment as may_change %}`` is ``webapp.teams.roles.decide`` itself (the same
answer the view, the API and the service give); ``{% decide_anywhere "change" as may_launch %}`` asks
whether the user may do it in at least one team (a form that creates something). Either answer is
truthy when allowed and carries the server's ``reason`` when not, which a disabled control shows as
its title (templates/_refused_attrs.html)."""
from django import template

from webapp.teams import roles

register = template.Library()


@register.simple_tag(takes_context=True)
def decide(context, action: str, obj) -> roles.Decision:
    return roles.decide(context["request"].user, action, obj)


@register.simple_tag(takes_context=True)
def decide_anywhere(context, action: str) -> roles.Decision:
    return roles.decide_anywhere(context["request"].user, action)
