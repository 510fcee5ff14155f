"""SCIM 2.0 provisioning: Users and Groups (roles), bearer token with the scim scope."""

import json

import pytest

from kiln.accounts import services
from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Role
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent

CT = "application/scim+json"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def scim(client, world):
    _token, raw = services.create_token(
        actor=world.admin, membership=world.admin.memberships.get(), name="idp", scopes=["scim"]
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    class Api:
        def get(self, path, **params):
            return client.get(f"/scim/v2/{path}", params, **headers)

        def send(self, method, path, body):
            return getattr(client, method)(f"/scim/v2/{path}", json.dumps(body), content_type=CT, **headers)

        def delete(self, path):
            return client.delete(f"/scim/v2/{path}", **headers)

    return Api()


def test_bad_or_missing_token_is_401(client, world):
    assert client.get("/scim/v2/Users").status_code == 401
    response = client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Bearer kiln_aaaaaaaa_" + "b" * 40)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_token_without_scim_scope_is_401(client, world):
    _t, raw = services.create_token(
        actor=world.admin, membership=world.admin.memberships.get(), name="api", scopes=["read", "write"]
    )
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_revoked_scim_token_is_401(client, world):
    token, raw = services.create_token(
        actor=world.admin, membership=world.admin.memberships.get(), name="idp", scopes=["scim"]
    )
    services.revoke_token(token, actor=world.admin)
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_list_and_filter_users(scim):
    body = scim.get("Users").json()
    assert body["totalResults"] == User.objects.count()
    found = scim.get("Users", filter='userName eq "E1_STAFF"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["userName"] == "e1_staff"
    assert scim.get("Users", filter='userName eq "nobody"').json()["totalResults"] == 0
    assert scim.get("Users", filter="userName sw 'e'").status_code == 400


def test_paging(scim):
    page = scim.get("Users", startIndex=2, count=3).json()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 3


def test_create_get_replace_patch_delete(scim):
    created = scim.send(
        "post",
        "Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "li.lei",
            "name": {"givenName": "Lei", "familyName": "Li"},
            "displayName": "李雷",
            "emails": [{"value": "li.lei@e1.example", "primary": True}],
            "active": True,
        },
    )
    assert created.status_code == 201 and created["Location"].endswith(
        f"/scim/v2/Users/{created.json()['id']}"
    )
    uid = created.json()["id"]
    user = User.objects.get(pk=uid)
    assert user.display_name == "李雷" and not user.has_usable_password()
    assert scim.get(f"Users/{uid}").json()["emails"][0]["value"] == "li.lei@e1.example"
    assert scim.send("post", "Users", {"userName": "LI.LEI"}).status_code == 409

    replaced = scim.send(
        "put", f"Users/{uid}", {"userName": "li.lei", "displayName": "Li Lei", "active": True}
    )
    assert replaced.status_code == 200 and replaced.json()["displayName"] == "Li Lei"

    patched = scim.send(
        "patch",
        f"Users/{uid}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    user.refresh_from_db()
    assert not user.is_active
    # Azure AD style: no path, value object, string booleans.
    scim.send(
        "patch",
        f"Users/{uid}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "value": {"active": "True"}}]},
    )
    user.refresh_from_db()
    assert user.is_active

    assert scim.delete(f"Users/{uid}").status_code == 204
    user.refresh_from_db()
    assert user.deleted_at is not None
    assert scim.get(f"Users/{uid}").status_code == 404
    types = set(
        AuditEvent.objects.filter(target_id=uid, target_type="accounts.user").values_list(
            "event_type", flat=True
        )
    )
    assert {
        EventType.USER_PROVISIONED,
        EventType.USER_UPDATED,
        EventType.USER_DISABLED,
        EventType.USER_DELETED,
    } <= types


def test_unknown_user_is_404(scim):
    assert scim.get("Users/999999").status_code == 404
    assert scim.get("Users/abc").status_code == 404


def test_bad_patch_is_400(scim, world):
    response = scim.send("patch", f"Users/{world.e1_staff.pk}", {"Operations": []})
    assert response.status_code == 400
    response = scim.send(
        "patch",
        f"Users/{world.e1_staff.pk}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "is_superuser", "value": True}]},
    )
    assert response.status_code == 400
    world.e1_staff.refresh_from_db()
    assert not world.e1_staff.is_superuser


def test_body_must_be_json(client, scim):
    assert scim.send("post", "Users", ["not", "an", "object"]).status_code == 400


def test_groups_are_roles_in_organisations(scim, world):
    gid = f"{world.e1.pk}.{Role.ENTERPRISE_REPORTER}"
    group = scim.get(f"Groups/{gid}").json()
    assert (
        group["displayName"] == f"{world.e1.credit_code}/{Role.ENTERPRISE_REPORTER}"
        and group["members"] == []
    )
    add = scim.send(
        "patch",
        f"Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": str(world.e2_staff.pk)}]}],
        },
    )
    assert add.status_code == 200 and add.json()["members"][0]["value"] == str(world.e2_staff.pk)
    assert Membership.objects.get(user=world.e2_staff, organisation=world.e1).role == Role.ENTERPRISE_REPORTER
    listed = scim.get(
        "Groups", filter=f'displayName eq "{world.e1.credit_code}/{Role.ENTERPRISE_REPORTER}"'
    ).json()
    assert listed["totalResults"] == 1
    remove = scim.send(
        "patch",
        f"Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{world.e2_staff.pk}"]'}],
        },
    )
    assert remove.json()["members"] == []
    assert not Membership.objects.get(user=world.e2_staff, organisation=world.e1).active


def test_create_replace_delete_group(scim, world):
    name = f"{world.e2.credit_code}/{Role.ENTERPRISE_REPORTER}"
    created = scim.send(
        "post", "Groups", {"displayName": name, "members": [{"value": str(world.e1_staff.pk)}]}
    )
    assert created.status_code == 201
    gid = created.json()["id"]
    put = scim.send(
        "put", f"Groups/{gid}", {"displayName": name, "members": [{"value": str(world.e2_staff.pk)}]}
    )
    assert [m["value"] for m in put.json()["members"]] == [str(world.e2_staff.pk)]
    assert scim.delete(f"Groups/{gid}").status_code == 204
    assert scim.get(f"Groups/{gid}").json()["members"] == []


def test_group_listing(scim, world):
    body = scim.get("Groups").json()
    ids = {g["id"] for g in body["Resources"]}
    assert f"{world.e1.pk}.{Role.ENTERPRISE_MANAGER}" in ids


def test_invalid_groups_are_404(scim, world):
    assert (
        scim.get(f"Groups/{world.e1.pk}.{Role.GOV_VIEWER}").status_code == 404
    )  # role unfit for an enterprise
    assert scim.get("Groups/999999.verifier").status_code == 404
    assert scim.send("post", "Groups", {"displayName": "nope/verifier"}).status_code == 404


def test_service_provider_config(scim):
    assert scim.get("ServiceProviderConfig").json()["patch"]["supported"] is True


def test_scim_needs_no_csrf_but_a_token(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.admin)  # a browser session is not a SCIM credential
    assert strict.post("/scim/v2/Users", "{}", content_type=CT).status_code == 401
