"""Account lifecycle by administrators of the right scope: invite, activate, disable, delete, roles."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kiln.accounts import errors, services
from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Role
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from tests.accounts.helpers import signed_in
from tests.personas import PASSWORD


def acting(user):
    return user.memberships.get()


# --- services ---------------------------------------------------------------------------------


def test_invite_creates_inactive_user_and_mails_a_one_time_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user, link = services.invite_user(
            actor=world.e1_staff,
            acting=acting(world.e1_staff),
            username="new_reporter",
            email="reporter@e1.example",
            organisation=world.e1,
            role=Role.ENTERPRISE_REPORTER,
        )
    assert not user.is_active and not user.has_usable_password()
    assert user.memberships.get().role == Role.ENTERPRISE_REPORTER
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["reporter@e1.example"]
    event = AuditEvent.objects.get(event_type=EventType.USER_INVITED)
    assert event.actor == world.e1_staff and event.organisation_id == world.e1.pk


def test_invitation_link_activates_once(client, world):
    user, link = services.invite_user(
        actor=world.admin,
        acting=acting(world.admin),
        username="auditor",
        email="a@gov.example",
        organisation=world.gov_a.memberships.get().organisation,
        role=Role.GOV_AUDITOR,
    )
    path = link.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    weak = client.post(path, {"password1": "short", "password2": "short"})
    assert weak.status_code == 200 and weak.context["form"].errors
    done = client.post(path, {"password1": "Audit-pass-2026!", "password2": "Audit-pass-2026!"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("Audit-pass-2026!")
    assert client.get(path).status_code == 404  # spent
    assert AuditEvent.objects.filter(event_type=EventType.INVITATION_ACCEPTED, actor=user).exists()


def test_forged_invitation_link_is_404(client, db):
    assert client.get(reverse("accept-invitation", args=["not-a-real-token"])).status_code == 404


def test_enterprise_manager_cannot_invite_elsewhere_or_grant_platform_roles(world):
    for org, role in [
        (world.e2, Role.ENTERPRISE_REPORTER),
        (world.e1, Role.PLATFORM_ADMIN),
        (world.e1, Role.GOV_VIEWER),
    ]:
        with pytest.raises((errors.NotInScope, errors.RoleNotAllowed)):
            services.invite_user(
                actor=world.e1_staff,
                acting=acting(world.e1_staff),
                username=f"x{role}{org.pk}",
                email="",
                organisation=org,
                role=role,
            )


def test_government_user_cannot_manage_users(world):
    with pytest.raises(errors.NotInScope):
        services.disable_user(world.e1_staff, actor=world.gov_a, acting=acting(world.gov_a))


def test_disable_and_activate(world, client):
    services.disable_user(world.e2_staff, actor=world.admin, acting=acting(world.admin))
    world.e2_staff.refresh_from_db()
    assert not world.e2_staff.is_active
    assert client.post(
        reverse("login"), {"login": "e2_staff", "password": PASSWORD}
    ).status_code != 302 or not (client.get("/").context["user"].is_authenticated)
    services.activate_user(world.e2_staff, actor=world.admin, acting=acting(world.admin))
    assert client.post(reverse("login"), {"login": "e2_staff", "password": PASSWORD}).status_code == 302


def test_disabling_ends_existing_sessions(world):
    browser = Client()
    browser.force_login(world.e2_staff)
    services.disable_user(world.e2_staff, actor=world.admin, acting=acting(world.admin))
    assert not browser.get("/").context["user"].is_authenticated


def test_delete_is_soft(world):
    services.delete_user(world.e2_staff, actor=world.admin, acting=acting(world.admin))
    user = User.objects.get(pk=world.e2_staff.pk)
    assert user.deleted_at is not None and not user.is_active
    assert not user.memberships.filter(active=True).exists()
    assert AuditEvent.objects.filter(event_type=EventType.USER_DELETED, target_id=str(user.pk)).exists()
    with pytest.raises(errors.UserDeleted):
        services.activate_user(user, actor=world.admin, acting=acting(world.admin))


def test_cannot_disable_or_delete_yourself(world):
    with pytest.raises(errors.SelfAction):
        services.disable_user(world.admin, actor=world.admin, acting=acting(world.admin))
    with pytest.raises(errors.SelfAction):
        services.delete_user(world.admin, actor=world.admin, acting=acting(world.admin))


def test_enterprise_manager_cannot_disable_a_shared_user(world):
    """A user who also works for E2 is not E1's to disable; E1 can only withdraw its own role."""
    Membership.objects.create(user=world.e2_staff, organisation=world.e1, role=Role.ENTERPRISE_REPORTER)
    with pytest.raises(errors.SharedUser):
        services.disable_user(world.e2_staff, actor=world.e1_staff, acting=acting(world.e1_staff))
    own = world.e2_staff.memberships.get(organisation=world.e1)
    services.remove_membership(own, actor=world.e1_staff, acting=acting(world.e1_staff))
    own.refresh_from_db()
    assert not own.active


def test_role_change_is_membership_add_and_remove(world):
    admin = acting(world.admin)
    city_b_dept = world.gov_b.memberships.get().organisation
    m = services.add_membership(world.gov_a, city_b_dept, Role.GOV_VIEWER, actor=world.admin, acting=admin)
    assert m.active
    services.remove_membership(m, actor=world.admin, acting=admin)
    again = services.add_membership(
        world.gov_a, city_b_dept, Role.GOV_VIEWER, actor=world.admin, acting=admin
    )
    assert again.pk == m.pk and again.active
    kinds = list(
        AuditEvent.objects.filter(target_type="accounts.membership")
        .order_by("id")
        .values_list("event_type", flat=True)
    )
    assert kinds == [EventType.MEMBERSHIP_ADDED, EventType.MEMBERSHIP_REMOVED, EventType.MEMBERSHIP_ADDED]


def test_role_must_suit_the_organisation_kind(world):
    with pytest.raises(errors.RoleNotAllowed):
        services.add_membership(
            world.gov_a, world.e1, Role.GOV_VIEWER, actor=world.admin, acting=acting(world.admin)
        )


def test_service_and_audit_share_one_transaction(world, monkeypatch):
    """If writing the audit event fails, the change does not happen either."""
    from kiln.accounts import services as svc

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(svc, "record", broken)
    with pytest.raises(RuntimeError):
        svc.disable_user(world.e2_staff, actor=world.admin, acting=acting(world.admin))
    world.e2_staff.refresh_from_db()
    assert world.e2_staff.is_active


def test_unlock_clears_lockout(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"login": "e1_staff", "password": "bad"})
    assert client.post(reverse("login"), {"login": "e1_staff", "password": PASSWORD}).status_code == 429
    services.unlock_user(world.e1_staff, actor=world.admin, acting=acting(world.admin))
    assert client.post(reverse("login"), {"login": "e1_staff", "password": PASSWORD}).status_code == 302


# --- pages ------------------------------------------------------------------------------------


def test_admin_sees_all_users_enterprise_manager_only_its_own(client, world):
    signed_in(client, world.admin)
    listing = client.get(reverse("user-list")).text
    assert "e1_staff" in listing and "e2_staff" in listing and "gov_b" in listing
    signed_in(client, world.e1_staff)
    listing = client.get(reverse("user-list")).text
    assert "e1_staff" in listing and "e2_staff" not in listing and "gov_a" not in listing


@pytest.mark.parametrize("persona", ["gov_a", "verifier_e1"])
def test_outsiders_get_404_on_user_pages(client, world, persona):
    signed_in(client, getattr(world, persona))
    assert client.get(reverse("user-list")).status_code == 404
    assert client.get(reverse("user-detail", args=[world.e1_staff.pk])).status_code == 404
    assert client.post(reverse("user-disable", args=[world.e1_staff.pk])).status_code == 404


def test_enterprise_manager_gets_404_for_another_enterprises_user(client, world):
    signed_in(client, world.e1_staff)
    for name in ("user-detail",):
        assert client.get(reverse(name, args=[world.e2_staff.pk])).status_code == 404
    for name in ("user-disable", "user-delete", "user-activate", "user-unlock", "membership-add"):
        assert client.post(reverse(name, args=[world.e2_staff.pk])).status_code == 404
    m = world.e2_staff.memberships.get()
    assert client.post(reverse("membership-remove", args=[world.e2_staff.pk, m.pk])).status_code == 404
    world.e2_staff.refresh_from_db()
    assert world.e2_staff.is_active


def test_invite_page(client, world, django_capture_on_commit_callbacks):
    signed_in(client, world.e1_staff)
    assert client.get(reverse("user-invite")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("user-invite"),
            {
                "username": "clerk",
                "email": "clerk@e1.example",
                "display_name": "Clerk",
                "organisation": world.e1.pk,
                "role": Role.ENTERPRISE_REPORTER,
            },
        )
    user = User.objects.get(username="clerk")
    assert response["Location"] == reverse("user-detail", args=[user.pk])
    assert len(mail.outbox) == 1


def test_admin_invites_by_credit_code(client, world):
    signed_in(client, world.admin)
    client.post(
        reverse("user-invite"),
        {
            "username": "e2_clerk",
            "email": "c@e2.example",
            "organisation": world.e2.credit_code,
            "role": Role.ENTERPRISE_REPORTER,
        },
    )
    assert User.objects.get(username="e2_clerk").memberships.get().organisation_id == world.e2.pk


def test_enterprise_manager_cannot_invite_into_another_enterprise_by_tampering(client, world):
    signed_in(client, world.e1_staff)
    response = client.post(
        reverse("user-invite"),
        {
            "username": "mole",
            "email": "m@x.example",
            "organisation": world.e2.pk,
            "role": Role.ENTERPRISE_REPORTER,
        },
    )
    assert response.status_code == 200 and not User.objects.filter(username="mole").exists()


def test_disable_from_the_page_needs_recent_sign_in(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("user-disable", args=[world.e2_staff.pk]))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    world.e2_staff.refresh_from_db()
    assert world.e2_staff.is_active


def test_page_actions(client, world):
    signed_in(client, world.admin)
    pk = world.e2_staff.pk
    assert client.post(reverse("user-disable", args=[pk])).status_code == 302
    assert client.post(reverse("user-activate", args=[pk])).status_code == 302
    dept = world.gov_b.memberships.get().organisation
    client.post(reverse("membership-add", args=[pk]), {"organisation": dept.pk, "role": Role.GOV_VIEWER})
    assert world.e2_staff.memberships.filter(role=Role.GOV_VIEWER, active=True).exists()
    m = world.e2_staff.memberships.get(role=Role.GOV_VIEWER)
    client.post(reverse("membership-remove", args=[pk, m.pk]))
    m.refresh_from_db()
    assert not m.active
    assert client.post(reverse("user-delete", args=[pk])).status_code == 302
    world.e2_staff.refresh_from_db()
    assert world.e2_staff.deleted_at is not None
    detail = client.get(reverse("user-detail", args=[pk])).text
    assert "删除" in detail or "deleted" in detail


def test_user_pages_need_csrf(world):
    strict = Client(enforce_csrf_checks=True)
    signed_in(strict, world.admin)
    assert strict.post(reverse("user-disable", args=[world.e2_staff.pk])).status_code == 403


def test_html_in_names_is_escaped(client, world):
    world.e1_staff.display_name = '<script>alert("x")</script>'
    world.e1_staff.save()
    signed_in(client, world.admin)
    text = client.get(reverse("user-list")).text
    assert '<script>alert("x")</script>' not in text
    assert "&lt;script&gt;" in text


def test_profile_stores_injection_as_text(client, world):
    signed_in(client, world.e1_staff)
    payload = "Robert'); DROP TABLE accounts_user;--<b>"
    client.post(reverse("profile"), {"display_name": payload, "phone": "1"})
    world.e1_staff.refresh_from_db()
    assert world.e1_staff.display_name == payload
    assert User.objects.count() >= 7
    page = client.get(reverse("profile")).text
    assert payload not in page
    assert "DROP TABLE accounts_user;--&lt;b&gt;" in page


def test_object_rules_follow_the_acting_membership(world):
    from kiln.accounts.rules import allowed

    e1 = world.e1_staff.memberships.get()
    admin = world.admin.memberships.get()
    assert allowed(e1, "accounts.view_user", world.e1_staff)
    assert not allowed(e1, "accounts.view_user", world.e2_staff)
    assert not allowed(e1, "accounts.change_user", world.e1_staff)  # not oneself
    assert allowed(admin, "accounts.change_user", world.e2_staff)
    assert not allowed(world.gov_a.memberships.get(), "accounts.view_user", world.e1_staff)
