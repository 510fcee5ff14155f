"""Object-level permissions with django-rules, evaluated for the *acting membership*.

``kiln.accounts.roles`` says what a role may do; these rules add *on which object*. They take
the acting membership (not the user: a user acts as one membership at a time) and the object::

    from kiln.accounts.rules import allowed
    allowed(current_membership(request), "accounts.change_user", user)
"""

from __future__ import annotations

import rules

from kiln.accounts.queries import can_manage_users, fully_managed, manageable_users
from kiln.accounts.roles import Perm


@rules.predicate
def manages_users(membership, obj=None) -> bool:
    return can_manage_users(membership)


@rules.predicate
def user_in_scope(membership, user) -> bool:
    return user is not None and manageable_users(membership, include_deleted=True).filter(pk=user.pk).exists()


@rules.predicate
def whole_account_in_scope(membership, user) -> bool:
    return user is not None and fully_managed(membership, user)


@rules.predicate
def is_own_account(membership, user) -> bool:
    return user is not None and membership is not None and membership.user_id == user.pk


@rules.predicate
def views_audit(membership, obj=None) -> bool:
    return membership is not None and membership.active and membership.has_perm(Perm.VIEW_AUDIT)


@rules.predicate
def event_in_region(membership, event) -> bool:
    from kiln.audit.queries import visible_events

    return event is not None and visible_events(membership).filter(pk=event.pk).exists()


RULES = rules.RuleSet()
RULES.add_rule("accounts.view_user", manages_users & user_in_scope)
RULES.add_rule("accounts.change_user", manages_users & whole_account_in_scope & ~is_own_account)
RULES.add_rule("accounts.grant_role", manages_users & user_in_scope)
RULES.add_rule("audit.view_event", views_audit & event_in_region)


def allowed(membership, name: str, obj=None) -> bool:
    return RULES.test_rule(name, membership, obj)
