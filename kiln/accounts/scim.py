"""SCIM 2.0 provisioning (RFC 7643/7644) of users and role groups, for identity providers.

Authenticated by a Kiln API token with the ``scim`` scope whose membership may provision users
(platform admins); anything else is 401. Every change goes through ``kiln.accounts.services``
(and so the audit log), acting as the token's user and membership.

Users map to Kiln users (deleting one is Kiln's soft delete). A Group is one role in one
organisation: ``id`` ``<organisation id>.<role>``, ``displayName`` ``<credit code or
organisation id>/<role>``; its members are the users holding that role there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from kiln.accounts import errors, services
from kiln.accounts.models import ApiToken, Membership, User
from kiln.accounts.queries import manageable_users
from kiln.accounts.roles import ROLE_ORG_KINDS, Role
from kiln.accounts.tokens import scim_token

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CONTENT_TYPE = "application/scim+json"
MAX_COUNT = 500
FILTER = re.compile(r'^\s*(?P<attr>[A-Za-z.]+)\s+eq\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _response(data: Any, status: int = 200, **headers) -> JsonResponse:
    response = JsonResponse(
        data, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )
    for key, value in headers.items():
        response[key] = value
    return response


def _error(status: int, detail: str, scim_type: str | None = None) -> JsonResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    headers = {"WWW-Authenticate": 'Bearer realm="kiln-scim"'} if status == 401 else {}
    return _response(body, status=status, **headers)


def scim_view(handler):
    """Token check, JSON body, SCIM error responses, one transaction per request."""

    @csrf_exempt
    def view(request, *args, **kwargs):
        token = scim_token(request)
        if token is None:
            return _error(401, "A SCIM bearer token is required.")
        body = None
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return _error(400, "The body is not JSON.", "invalidSyntax")
            if not isinstance(body, dict):
                return _error(400, "The body must be a JSON object.", "invalidSyntax")
        try:
            with transaction.atomic():
                return handler(request, token, body, *args, **kwargs)
        except ScimError as exc:
            return _error(exc.status, exc.detail, exc.scim_type)
        except errors.NotInScope:
            return _error(404, "Not found.")
        except errors.AccountError as exc:
            return _error(400, f"{exc.code}: {exc.message}", "invalidValue")

    view.scim_handler = handler
    return view


def _location(request, name: str, pk: str) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"pk": pk}))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- users ---------------------------------------------------------------------------------------


def _user_groups(user: User) -> list[dict]:
    return [
        {"value": _group_id(m.organisation_id, m.role), "display": _group_name(m.organisation, m.role)}
        for m in Membership.objects.filter(user=user, active=True).select_related("organisation")
    ]


def user_resource(request, user: User) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "userName": user.username,
        "displayName": user.display_name,
        "name": {"givenName": user.first_name, "familyName": user.last_name, "formatted": str(user)},
        "emails": [{"value": user.email, "primary": True, "type": "work"}] if user.email else [],
        "active": user.is_active,
        "groups": _user_groups(user),
        "meta": {
            "resourceType": "User",
            "created": _iso(user.date_joined),
            "location": _location(request, "scim-user", str(user.pk)),
        },
    }


def _paginate(request, items: list) -> dict:
    try:
        start = max(int(request.GET.get("startIndex", "1")), 1)
        count = min(max(int(request.GET.get("count", "100")), 0), MAX_COUNT)
    except ValueError as exc:
        raise ScimError(400, "startIndex and count must be integers.", "invalidValue") from exc
    window = items[start - 1 : start - 1 + count]
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(items),
        "startIndex": start,
        "itemsPerPage": len(window),
        "Resources": window,
    }


def _parse_filter(raw: str, allowed: set[str]) -> tuple[str, str] | None:
    if not raw:
        return None
    match = FILTER.match(raw)
    if not match or match["attr"].lower() not in {a.lower() for a in allowed}:
        raise ScimError(
            400, f'Unsupported filter; use one of: {", ".join(sorted(allowed))} eq "..."', "invalidFilter"
        )
    return match["attr"].lower(), match["value"].replace('\\"', '"').replace("\\\\", "\\")


def _scope(token: ApiToken):
    return manageable_users(token.membership)


def _get_user(token: ApiToken, pk: str) -> User:
    if not str(pk).isdigit():
        raise ScimError(404, "User not found.")
    user = _scope(token).filter(pk=int(pk)).first()
    if user is None:
        raise ScimError(404, "User not found.")
    return user


def _user_fields(body: dict) -> dict:
    name = body.get("name") or {}
    emails = body.get("emails") or []
    primary = next(
        (e for e in emails if isinstance(e, dict) and e.get("primary")), emails[0] if emails else None
    )
    fields = {
        "display_name": str(body.get("displayName") or name.get("formatted") or "")[:100],
        "first_name": str(name.get("givenName") or "")[:150],
        "last_name": str(name.get("familyName") or "")[:150],
        "email": str(primary.get("value") or "") if isinstance(primary, dict) else "",
    }
    return fields


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _set_active(request, token: ApiToken, user: User, active: bool) -> None:
    if active and not user.is_active:
        services.activate_user(user, actor=token.user, acting=token.membership, request=request)
    elif not active and user.is_active:
        services.disable_user(user, actor=token.user, acting=token.membership, request=request)


@scim_view
def users(request, token, body):
    if request.method == "GET":
        qs = _scope(token).order_by("pk")
        parsed = _parse_filter(request.GET.get("filter", ""), {"userName", "emails.value", "displayName"})
        if parsed:
            attr, value = parsed
            column = {
                "username": "username__iexact",
                "emails.value": "email__iexact",
                "displayname": "display_name",
            }[attr]
            qs = qs.filter(**{column: value})
        return _response(_paginate(request, [user_resource(request, u) for u in qs]))
    if request.method == "POST":
        username = str(body.get("userName") or "").strip()
        if not username:
            raise ScimError(400, "userName is required.", "invalidValue")
        if User.objects.filter(username__iexact=username).exists():
            raise ScimError(409, "A user with this userName exists.", "uniqueness")
        user = services.provision_user(
            actor=token.user,
            acting=token.membership,
            username=username,
            active=_as_bool(body.get("active", True)),
            request=request,
            **_user_fields(body),
        )
        return _response(
            user_resource(request, user), status=201, Location=_location(request, "scim-user", str(user.pk))
        )
    return _error(405, "Method not allowed.")


@scim_view
def user(request, token, body, pk):
    found = _get_user(token, pk)
    if request.method == "GET":
        return _response(user_resource(request, found))
    if request.method == "PUT":
        if body.get("userName") and str(body["userName"]) != found.username:
            raise ScimError(400, "userName cannot be changed.", "mutability")
        services.update_user(
            found, actor=token.user, acting=token.membership, request=request, **_user_fields(body)
        )
        if "active" in body:
            _set_active(request, token, found, _as_bool(body["active"]))
        found.refresh_from_db()
        return _response(user_resource(request, found))
    if request.method == "PATCH":
        _patch_user(request, token, found, body)
        found.refresh_from_db()
        return _response(user_resource(request, found))
    if request.method == "DELETE":
        services.delete_user(found, actor=token.user, acting=token.membership, request=request)
        return HttpResponse(status=204)
    return _error(405, "Method not allowed.")


PATCHABLE = {"active", "displayname", "name.givenname", "name.familyname", "emails"}


def _patch_user(request, token, found: User, body: dict) -> None:
    operations = body.get("Operations")
    if PATCH_SCHEMA not in (body.get("schemas") or []) or not isinstance(operations, list):
        raise ScimError(400, "A PatchOp with Operations is required.", "invalidSyntax")
    changes: dict[str, Any] = {}
    for op in operations:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in {"replace", "add"}:
            raise ScimError(400, "Only add and replace operations are supported on users.", "invalidSyntax")
        path, value = op.get("path"), op.get("value")
        if path:
            items = {str(path): value}
        elif isinstance(value, dict):
            items = value
        else:
            raise ScimError(400, "An operation without path needs an object value.", "invalidValue")
        for key, item in items.items():
            if key.lower() not in PATCHABLE and key.lower() != "name":
                raise ScimError(400, f"Attribute {key} cannot be changed here.", "invalidPath")
            if key.lower() == "name" and isinstance(item, dict):
                for part in ("givenName", "familyName"):
                    if part in item:
                        changes[f"name.{part.lower()}"] = item[part]
            else:
                changes[key.lower()] = item
    fields: dict[str, str] = {}
    if "displayname" in changes:
        fields["display_name"] = str(changes["displayname"] or "")[:100]
    if "name.givenname" in changes:
        fields["first_name"] = str(changes["name.givenname"] or "")[:150]
    if "name.familyname" in changes:
        fields["last_name"] = str(changes["name.familyname"] or "")[:150]
    if "emails" in changes:
        fields["email"] = _user_fields({"emails": changes["emails"]})["email"]
    if fields:
        services.update_user(found, actor=token.user, acting=token.membership, request=request, **fields)
    if "active" in changes:
        _set_active(request, token, found, _as_bool(changes["active"]))


# --- groups: one role in one organisation ---------------------------------------------------------------


def _group_id(org_id: int, role: str) -> str:
    return f"{org_id}.{role}"


def _group_name(org, role: str) -> str:
    return f"{org.credit_code or org.pk}/{role}"


def _resolve_group(token: ApiToken, *, gid: str | None = None, name: str | None = None):
    from kiln.accounts.queries import manageable_organisations

    orgs = manageable_organisations(token.membership)
    org = role = None
    if gid is not None:
        left, _, role = gid.partition(".")
        org = orgs.filter(pk=int(left)).first() if left.isdigit() else None
    elif name is not None:
        left, _, role = name.rpartition("/")
        org = (orgs.filter(pk=int(left)).first() if left.isdigit() else None) or orgs.filter(
            credit_code=left.upper()
        ).first()
    if org is None or role not in Role.values or org.kind not in ROLE_ORG_KINDS.get(role, frozenset()):
        raise ScimError(404, "Group not found.")
    return org, role


def group_resource(request, org, role: str) -> dict:
    held = Membership.objects.filter(organisation=org, role=role, active=True, user__deleted_at__isnull=True)
    gid = _group_id(org.pk, role)
    return {
        "schemas": [GROUP_SCHEMA],
        "id": gid,
        "displayName": _group_name(org, role),
        "members": [
            {"value": str(m.user_id), "display": m.user.username} for m in held.select_related("user")
        ],
        "meta": {"resourceType": "Group", "location": _location(request, "scim-group", gid)},
    }


def _member_ids(values) -> list[str]:
    if not isinstance(values, list):
        raise ScimError(400, "members must be a list.", "invalidValue")
    return [str(v.get("value")) for v in values if isinstance(v, dict) and v.get("value") is not None]


def _add_members(request, token, org, role, ids: list[str]) -> None:
    for uid in ids:
        services.add_membership(
            _get_user(token, uid), org, role, actor=token.user, acting=token.membership, request=request
        )


def _remove_members(request, token, org, role, ids: list[str] | None) -> None:
    held = Membership.objects.filter(organisation=org, role=role, active=True)
    if ids is not None:
        held = held.filter(user_id__in=[int(i) for i in ids if i.isdigit()])
    for membership in held.select_related("user", "organisation"):
        services.remove_membership(membership, actor=token.user, acting=token.membership, request=request)


@scim_view
def groups(request, token, body):
    if request.method == "GET":
        parsed = _parse_filter(request.GET.get("filter", ""), {"displayName"})
        if parsed:
            try:
                pairs = [_resolve_group(token, name=parsed[1])]
            except ScimError:
                pairs = []
        else:
            from kiln.accounts.queries import manageable_organisations

            rows = (
                Membership.objects.filter(
                    active=True, organisation__in=manageable_organisations(token.membership)
                )
                .values_list("organisation_id", "role")
                .distinct()
                .order_by("organisation_id", "role")
            )
            orgs = {
                o.pk: o
                for o in manageable_organisations(token.membership).filter(pk__in={r[0] for r in rows})
            }
            pairs = [(orgs[oid], role) for oid, role in rows if oid in orgs]
        return _response(_paginate(request, [group_resource(request, org, role) for org, role in pairs]))
    if request.method == "POST":
        org, role = _resolve_group(token, name=str(body.get("displayName") or ""))
        _add_members(request, token, org, role, _member_ids(body.get("members") or []))
        gid = _group_id(org.pk, role)
        return _response(
            group_resource(request, org, role), status=201, Location=_location(request, "scim-group", gid)
        )
    return _error(405, "Method not allowed.")


MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"(?P<value>[^"]*)"\s*\]$', re.IGNORECASE)


@scim_view
def group(request, token, body, pk):
    org, role = _resolve_group(token, gid=pk)
    if request.method == "GET":
        return _response(group_resource(request, org, role))
    if request.method == "PUT":
        wanted = set(_member_ids(body.get("members") or []))
        current = {
            str(u)
            for u in Membership.objects.filter(organisation=org, role=role, active=True).values_list(
                "user_id", flat=True
            )
        }
        _remove_members(request, token, org, role, sorted(current - wanted))
        _add_members(request, token, org, role, sorted(wanted - current))
        return _response(group_resource(request, org, role))
    if request.method == "PATCH":
        operations = body.get("Operations")
        if PATCH_SCHEMA not in (body.get("schemas") or []) or not isinstance(operations, list):
            raise ScimError(400, "A PatchOp with Operations is required.", "invalidSyntax")
        for op in operations:
            kind = str(op.get("op", "")).lower() if isinstance(op, dict) else ""
            path = str(op.get("path") or "") if isinstance(op, dict) else ""
            value = op.get("value") if isinstance(op, dict) else None
            one = MEMBER_PATH.match(path)
            if kind == "add" and path.lower() in ("members", ""):
                members = value.get("members") if isinstance(value, dict) else value
                _add_members(request, token, org, role, _member_ids(members or []))
            elif kind == "remove" and one:
                _remove_members(request, token, org, role, [one["value"]])
            elif kind == "remove" and path.lower() == "members":
                _remove_members(request, token, org, role, _member_ids(value) if value else None)
            elif kind == "replace" and path.lower() == "members":
                wanted = set(_member_ids(value or []))
                current = {
                    str(u)
                    for u in Membership.objects.filter(organisation=org, role=role, active=True).values_list(
                        "user_id", flat=True
                    )
                }
                _remove_members(request, token, org, role, sorted(current - wanted))
                _add_members(request, token, org, role, sorted(wanted - current))
            else:
                raise ScimError(400, "Unsupported group operation.", "invalidPath")
        return _response(group_resource(request, org, role))
    if request.method == "DELETE":
        _remove_members(request, token, org, role, None)
        return HttpResponse(status=204)
    return _error(405, "Method not allowed.")


@scim_view
def service_provider_config(request, token, body):
    return _response(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Kiln API token",
                    "description": "A token with the scim scope.",
                }
            ],
        }
    )
