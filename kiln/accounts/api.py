"""Accounts API: who the caller is (token or session), and the caller's own API tokens."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from kiln.accounts import services
from kiln.accounts.current import current_membership
from kiln.accounts.models import ApiToken
from kiln.accounts.roles import permissions_of
from kiln.accounts.tokens import token_or_session

router = Router(tags=["accounts"], auth=token_or_session)


class MembershipOut(Schema):
    id: int
    organisation: str
    organisation_kind: str
    role: str
    region_code: str


class MeOut(Schema):
    username: str
    display_name: str
    membership: MembershipOut | None
    permissions: list[str]
    via: str
    token_prefix: str | None = None
    scopes: list[str] = []


class TokenOut(Schema):
    prefix: str
    name: str
    scopes: list[str]
    organisation: str
    role: str
    created: datetime
    expires: datetime | None
    last_used: datetime | None
    revoked: bool


@router.get("/me", response=MeOut)
def me(request):
    membership = current_membership(request)
    token = getattr(request, "auth_token", None)
    return {
        "username": request.user.username,
        "display_name": request.user.display_name,
        "membership": {
            "id": membership.id,
            "organisation": membership.organisation.name,
            "organisation_kind": membership.organisation.kind,
            "role": membership.role,
            "region_code": membership.organisation.region.code,
        }
        if membership
        else None,
        "permissions": sorted(permissions_of(membership.role)) if membership else [],
        "via": "token" if token else "session",
        "token_prefix": token.prefix if token else None,
        "scopes": token.scopes if token else [],
    }


def _token_out(t: ApiToken) -> dict:
    return {
        "prefix": t.prefix,
        "name": t.name,
        "scopes": t.scopes,
        "organisation": t.membership.organisation.name,
        "role": t.membership.role,
        "created": t.created,
        "expires": t.expires,
        "last_used": t.last_used,
        "revoked": t.revoked_at is not None,
    }


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request):
    qs = ApiToken.objects.filter(user=request.user).select_related("membership__organisation")
    return [_token_out(t) for t in qs]


@router.delete("/tokens/{prefix}", response={204: None})
def revoke_token(request, prefix: str):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), prefix=prefix)
    services.revoke_token(token, actor=request.user, request=request)
    return Status(204, None)
