"""The one template tag for access rules: `{% allowed "cosign" user note as reviewer %}` asks
the predicate of that name in sessions.policies.RULES, so a template never restates a rule (a
misspelt rule name fails loudly with a KeyError)."""

from __future__ import annotations

from django import template

from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.policies import RULES

register = template.Library()


@register.simple_tag
def allowed(rule: str, user: User, note: CrisisSession) -> bool:
    return RULES[rule].allows(user=user, note=note)
