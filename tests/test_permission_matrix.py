"""The permission matrix: every route of the project, what every persona gets (DESIGN.md rule 5).

Every URL pattern (walked from the root resolver) and every API operation (from the OpenAPI
schema) must have an entry below; a new route without one fails ``test_every_route_is_declared``.
Each entry says, per persona, the status code of one request (with sample arguments that point at
enterprise E1 where the route takes an object). Outsiders get 404, never 403, for objects of
another organisation.

Personas sign in fully (password + TOTP, recently), so MFA enrolment and re-authentication do not
get in the way; ``anon`` is a browser without a session.

Adding a route: run ``KILN_MATRIX_OBSERVE=1 pytest tests/test_permission_matrix.py -k <name> -s``
to print what each persona gets today, check it is what it should be, and add the entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kiln.api import api
from tests.accounts.helpers import signed_in

PERSONAS = ["anon", "gov_a", "gov_b", "e1_staff", "e2_staff", "verifier_e1", "verifier_unassigned", "admin"]
SIGNED = PERSONAS[1:]
LOGIN = "login"  # 302 to the login page
REDIRECT = "redirect"  # 302 anywhere else
OBSERVE = os.environ.get("KILN_MATRIX_OBSERVE") == "1"
MISSING = 999_999  # an id no object has


def E(default: Any, *, anon: Any = LOGIN, **personas: Any) -> dict[str, Any]:
    """Expected outcome per persona: ``default`` for signed-in personas unless overridden."""
    table = {p: default for p in SIGNED}
    table["anon"] = anon
    for name, value in personas.items():
        assert name in PERSONAS, name
        table[name] = value
    return table


def ONLY(allowed: dict[str, Any], *, others: Any = 404, anon: Any = LOGIN) -> dict[str, Any]:
    return E(others, anon=anon, **allowed)


@dataclass
class Route:
    expect: dict[str, Any]
    kwargs: Callable[[Any], dict] | None = None
    method: str = "get"
    data: Callable[[Any], dict] | None = None
    query: dict = field(default_factory=dict)
    note: str = ""


E1_CODE = lambda w: {"credit_code": w.e1.credit_code}  # noqa: E731
E1_USER = lambda w: {"pk": w.e1_staff.pk}  # noqa: E731
E1_MEMBERSHIP = lambda w: {"pk": w.e1_staff.pk, "membership_id": w.e1_staff.memberships.get().pk}  # noqa: E731
E1_MONTH = lambda w: {"credit_code": w.e1.credit_code, "period": "2025-01"}  # noqa: E731
MISSING_PK = lambda w: {"pk": MISSING}  # noqa: E731

# Expected for a page every signed-in persona may open.
ANY_SIGNED_IN = E(200)
# A POST-only view: GET is 405 for the signed in.
POST_ONLY = E(405)
# The admin site: staff only; everyone else is sent to the (Kiln) login.
STAFF = E(302, admin=200, anon=302)

# --- Django URL patterns, keyed by (namespaced) URL name, or by pattern for unnamed ones ---------------
ROUTES: dict[str, Route] = {
    # shell
    "home": Route(E(200, anon=200)),
    "healthz": Route(E(200, anon=200)),
    # operations: readiness probe (public), metrics (off unless a token or network is configured), System page
    "readyz": Route(E(200, anon=200)),
    "metrics": Route(
        E(404, anon=404), note="needs KILN_METRICS_TOKEN or an allow-listed network (tests/ops)"
    ),
    "ops:system": Route(ONLY({"admin": 200})),
    "ops:backup": Route(
        ONLY({"admin": 302}), method="post", note="rolled back with the request: nothing is enqueued"
    ),
    "set_language": Route(E(302, anon=302), method="post", data=lambda w: {"language": "en", "next": "/"}),
    # API documents (operations themselves are in API_ROUTES)
    "api:openapi-json": Route(E(200, anon=200)),
    "api:openapi-view": Route(E(200, anon=200)),
    "api:api-root": Route(E(404, anon=404), note="ninja's catch-all root: nothing there"),
    # accounts: login, profile, membership switch
    "login": Route(E(302, anon=200), note="signed-in users are sent home"),
    "account_login": Route(E(302, anon=200)),
    "logout": Route(E(200, anon=302), note="GET shows the confirmation; logging out is a POST"),
    "account_logout": Route(E(200, anon=302)),
    "switch-membership": Route(POST_ONLY),
    "profile": Route(ANY_SIGNED_IN),
    "account_email": Route(E(302, anon=302), note="e-mail is managed by administrators: to the profile"),
    # user administration: platform admin (all users), enterprise managers (their enterprise)
    "user-list": Route(ONLY({"admin": 200, "e1_staff": 200, "e2_staff": 200})),
    "user-invite": Route(ONLY({"admin": 200, "e1_staff": 200, "e2_staff": 200})),
    "user-detail": Route(ONLY({"admin": 200, "e1_staff": 200}), kwargs=E1_USER),
    "user-activate": Route(
        ONLY({"admin": 302, "e1_staff": 302}),
        kwargs=E1_USER,
        method="post",
        note="e1_staff acting on itself: refused with a message, still a redirect",
    ),
    "user-disable": Route(ONLY({"admin": 302, "e1_staff": 302}), kwargs=E1_USER, method="post"),
    "user-delete": Route(ONLY({"admin": 302, "e1_staff": 302}), kwargs=E1_USER, method="post"),
    "user-unlock": Route(ONLY({"admin": 302, "e1_staff": 302}), kwargs=E1_USER, method="post"),
    "membership-add": Route(
        ONLY({"admin": 302, "e1_staff": 302}),
        kwargs=E1_USER,
        method="post",
        data=lambda w: {"organisation": w.e1.pk, "role": "enterprise_reporter"},
    ),
    "membership-remove": Route(ONLY({"admin": 302, "e1_staff": 302}), kwargs=E1_MEMBERSHIP, method="post"),
    "accept-invitation": Route(E(404, anon=404), kwargs=lambda w: {"token": "forged"}),
    "token-list": Route(ANY_SIGNED_IN),
    "token-revoke": Route(E(404), kwargs=MISSING_PK, method="post", note="only one's own tokens"),
    # allauth
    "account_inactive": Route(E(200, anon=200)),
    "account_signup": Route(E(302, anon=200), note="shows 'no public sign-up'"),
    "account_reauthenticate": Route(E(200, anon=302)),
    "account_email_verification_sent": Route(E(200, anon=200)),
    "account_change_password": Route(ANY_SIGNED_IN),
    "account_set_password": Route(E(302), note="personas have passwords: to change-password"),
    "account_reset_password": Route(E(200, anon=200)),
    "account_confirm_login_code": Route(E(302, anon=302), note="no login-by-code in progress"),
    "account_confirm_email": Route(E(200, anon=200), kwargs=lambda w: {"key": "forged"}, note="says invalid"),
    "account_reset_password_from_key_done": Route(E(200, anon=200)),
    "account_reset_password_from_key": Route(
        E(200, anon=200), kwargs=lambda w: {"uidb36": "1", "key": "x-forged"}, note="says the link is invalid"
    ),
    "account_reset_password_done": Route(E(200, anon=200)),
    "mfa_index": Route(ANY_SIGNED_IN),
    "mfa_authenticate": Route(E(302, anon=302), note="no login in progress"),
    "mfa_reauthenticate": Route(ANY_SIGNED_IN),
    "mfa_activate_totp": Route(E(302), note="already enrolled: to the MFA overview"),
    "mfa_deactivate_totp": Route(ANY_SIGNED_IN),
    "mfa_view_recovery_codes": Route(E(404), note="no recovery codes generated for the personas"),
    "mfa_generate_recovery_codes": Route(ANY_SIGNED_IN),
    "mfa_download_recovery_codes": Route(E(404)),
    "mfa_list_webauthn": Route(ANY_SIGNED_IN),
    "mfa_add_webauthn": Route(ANY_SIGNED_IN),
    "mfa_reauthenticate_webauthn": Route(E(302), note="no security key registered: elsewhere"),
    "mfa_remove_webauthn": Route(E(404), kwargs=MISSING_PK),
    "mfa_edit_webauthn": Route(E(404), kwargs=MISSING_PK),
    "socialaccount_login_cancelled": Route(E(200, anon=200)),
    "socialaccount_login_error": Route(E(401, anon=401)),
    "socialaccount_signup": Route(E(302, anon=302), note="no SSO sign-up in progress"),
    "socialaccount_connections": Route(ANY_SIGNED_IN),
    "accounts/social/login/cancelled/": Route(E(301, anon=301), note="allauth's legacy redirects"),
    "accounts/social/login/error/": Route(E(301, anon=301)),
    "accounts/social/signup/": Route(E(301, anon=301)),
    "accounts/social/connections/": Route(E(301, anon=301)),
    "openid_connect_login": Route(E(404, anon=404), kwargs=lambda w: {"provider_id": "none-configured"}),
    "openid_connect_callback": Route(E(404, anon=404), kwargs=lambda w: {"provider_id": "none-configured"}),
    # audit: platform admin everything; a government auditor its region (tests/audit); others 404
    "audit:search": Route(ONLY({"admin": 200})),
    "audit:event": Route(ONLY({"admin": 200}), kwargs=lambda w: {"pk": w.audit_event.pk}),
    "audit:export": Route(ONLY({"admin": 200}), query={"format": "csv"}),
    "audit:analysis": Route(ONLY({"admin": 200})),
    # SCIM: a scim token only; sessions are not credentials there
    "scim-users": Route(E(401, anon=401)),
    "scim-user": Route(E(401, anon=401), kwargs=lambda w: {"pk": str(w.e1_staff.pk)}),
    "scim-groups": Route(E(401, anon=401)),
    "scim-group": Route(E(401, anon=401), kwargs=lambda w: {"pk": f"{w.e1.pk}.enterprise_manager"}),
    "scim-config": Route(E(401, anon=401)),
    # registry
    "registry:enterprise-list": Route(ANY_SIGNED_IN),
    "registry:enterprise-detail": Route(
        ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}),
        kwargs=E1_CODE,
        note="gov_b, e2_staff and (until assignments exist) verifiers get 404 for E1",
    ),
    "registry:enterprise-export-csv": Route(
        ANY_SIGNED_IN, note="the export holds only what the persona sees"
    ),
    "registry:enterprise-export-xlsx": Route(ANY_SIGNED_IN),
    "registry:import": Route(ONLY({"admin": 200})),
    "registry:import-report": Route(E(404), note="no import in this session"),
    # intake (enterprise staff submit; government sees its region's deposits)
    "intake:index": Route(E(302, verifier_e1=404, verifier_unassigned=404)),
    "intake:upload": Route(ONLY({"e1_staff": 200, "e2_staff": 200, "admin": 200})),
    "intake:template-xlsx": Route(ONLY({"e1_staff": 200, "e2_staff": 200, "admin": 200})),
    "intake:template-csv": Route(ONLY({"e1_staff": 200, "e2_staff": 200, "admin": 200})),
    "intake:batch-list": Route(ANY_SIGNED_IN, note="lists only the batches the persona may see"),
    "intake:batch-detail": Route(
        E(404),
        kwargs=lambda w: {"batch_id": MISSING},
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    "intake:batch-report-csv": Route(
        E(404),
        kwargs=lambda w: {"batch_id": MISSING},
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    "intake:batch-report-xlsx": Route(
        E(404),
        kwargs=lambda w: {"batch_id": MISSING},
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    "intake:batch-proof": Route(
        E(404),
        kwargs=lambda w: {"item_id": MISSING},
        note="no such object: 404 whoever asks; tests/intake/test_proofs.py covers scoping",
    ),
    "intake:evidence-proof": Route(
        E(404),
        kwargs=lambda w: {"item_id": MISSING},
        note="no such object: 404 whoever asks; tests/intake/test_proofs.py covers scoping",
    ),
    "intake:deposits": Route(E(302, e1_staff=200, e2_staff=200, verifier_e1=404, verifier_unassigned=404)),
    "intake:overdue": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "intake:deposit-month": Route(
        ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}),
        kwargs=E1_MONTH,
        note="E1's month: gov_b, e2_staff and verifiers get 404",
    ),
    "intake:freeze": Route(ONLY({"gov_a": 302, "admin": 302}), kwargs=E1_MONTH, method="post"),
    "intake:evidence-download": Route(
        E(404),
        kwargs=lambda w: {"evidence_id": MISSING},
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    # factors (platform-wide reference data; managing it needs manage_factors)
    "factors:list": Route(ANY_SIGNED_IN),
    "factors:upload": Route(ONLY({"admin": 200})),
    "factors:diff": Route(E(404), note="no factor sets to compare"),
    "factors:detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; the app's own tests cover scoping"
    ),
    "factors:export": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; the app's own tests cover scoping"
    ),
    # carbon-efficiency code (government oversees its region; enterprises see their own card)
    "efficiency:index": Route(E(200, e1_staff=302, e2_staff=302, verifier_e1=404, verifier_unassigned=404)),
    "efficiency:grade": Route(ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}), method="post"),
    "efficiency:movers": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "efficiency:diagnosis": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "efficiency:export-csv": Route(E(404), note="nothing graded yet"),
    "efficiency:export-xlsx": Route(E(404), note="nothing graded yet"),
    "efficiency:economic-import": Route(E(200, verifier_e1=404, verifier_unassigned=404)),
    "efficiency:economic-report": Route(E(404), note="no import in this session"),
    "efficiency:card": Route(
        ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}), kwargs=E1_CODE, note="E1's card: outsiders 404"
    ),
    "efficiency:card-qr": Route(E(404), kwargs=E1_CODE, note="E1 has no grade yet"),
    "efficiency-verify": Route(
        E(200, anon=200), kwargs=lambda w: {"token": "forged"}, note="public; says not genuine"
    ),
    # monitoring (region A's pages: gov_b and enterprises get 404)
    "monitoring:index": Route(E(302), note="to the persona's own portal"),
    "monitoring:region": Route(ONLY({"gov_a": 200, "admin": 200}), kwargs=lambda w: {"code": w.city_a.code}),
    "monitoring:industry": Route(
        ONLY({"gov_a": 200, "admin": 200}), kwargs=lambda w: {"code": w.city_a.code, "division": "C30"}
    ),
    "monitoring:screen": Route(ONLY({"gov_a": 200, "admin": 200}), kwargs=lambda w: {"code": w.city_a.code}),
    "monitoring:map-data": Route(
        E(404), kwargs=lambda w: {"code": w.city_a.code}, note="no map for the test region"
    ),
    "monitoring:enterprise": Route(ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}), kwargs=E1_CODE),
    "monitoring:rows": Route(ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}), kwargs=E1_MONTH),
    "monitoring:verifier": Route(ONLY({"verifier_e1": 200, "verifier_unassigned": 200})),
    "monitoring:platform": Route(ONLY({"admin": 200})),
    "monitoring:maps": Route(ONLY({"admin": 200})),
    # accounting
    "accounting:index": Route(E(REDIRECT, anon=REDIRECT)),
    "favicon": Route(E(301, anon=301)),
    "ledger:overview": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200}), note="kinds and hashes only"),
    "ledger:verify": Route(ONLY({"admin": 302}), method="post"),
    "ledger:verifier": Route(ANY_SIGNED_IN, note="the standalone verifier's source, for holders of a proof"),
    "ledger:sign": Route(ONLY({"admin": 302}), method="post"),
    "ledger:bundle": Route(
        ONLY({"admin": 404}), kwargs=lambda w: {"index": MISSING}, note="no entry that large"
    ),
    "accounting:run-list": Route(ANY_SIGNED_IN, note="lists only the runs the persona may see"),
    "accounting:run-detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; the app's own tests cover scoping"
    ),
    "accounting:provenance": Route(
        E(404),
        kwargs=lambda w: {"pk": MISSING, "credit_code": w.e1.credit_code},
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    "accounting:promote": Route(
        E(404),
        kwargs=MISSING_PK,
        method="post",
        note="no such object: 404 whoever asks; the app's own tests cover scoping",
    ),
    "accounting:calculate": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "accounting:compare": Route(E(404), note="no runs to compare"),
    # metered electricity (grid company feeds; readers see their region's enterprises)
    "grid:index": Route(
        ONLY({"admin": 200}), note="grid maintainers and platform-wide roles; no such persona here"
    ),
    "grid:batch-detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; the app's own tests cover scoping"
    ),
    "grid:enterprise": Route(ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}), kwargs=E1_CODE),
    # screening (government and platform-wide roles; enterprises see their own findings)
    "screening:dashboard": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "screening:run": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}),
        method="post",
        data=lambda w: {"year": "2025"},
        note="screens the persona's region (nothing reported here) and shows the run",
    ),
    "screening:run-detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; the app's own tests cover scoping"
    ),
    "screening:queue": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "screening:bulk": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}),
        method="post",
        data=lambda w: {"action": "assign", "ids": str(MISSING)},
        note="no such finding: nothing moves",
    ),
    "screening:finding": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; tests/screening cover scoping"
    ),
    "screening:act": Route(
        E(404),
        kwargs=lambda w: {"pk": MISSING, "action": "answer"},
        method="post",
        note="no such object: 404 whoever asks; tests/screening cover scoping",
    ),
    "screening:mine": Route(E(404, e1_staff=302, e2_staff=302), note="enterprise staff: to their own page"),
    "screening:enterprise": Route(ONLY({"gov_a": 200, "e1_staff": 200, "admin": 200}), kwargs=E1_CODE),
    "screening:overview": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "screening:rules": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "screening:rule-new": Route(ONLY({"admin": 200}), note="manage_rules"),
    "screening:rule": Route(
        ONLY({"gov_a": 200, "gov_b": 200, "admin": 200}), kwargs=lambda w: {"rule_id": "KLN-JUMP-002"}
    ),
    "screening:rule-edit": Route(ONLY({"admin": 200}), kwargs=lambda w: {"rule_id": "KLN-JUMP-002"}),
    "screening:anomalies": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    # incidents (government and platform-wide roles)
    "incidents:board": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "incidents:new": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "incidents:detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; tests/incidents cover scoping"
    ),
    "incidents:act": Route(
        E(404),
        kwargs=lambda w: {"pk": MISSING, "what": "note"},
        method="post",
        note="no such object: 404 whoever asks; tests/incidents cover scoping",
    ),
    "incidents:report": Route(E(404), kwargs=MISSING_PK, note="no such object"),
    "incidents:report-md": Route(E(404), kwargs=MISSING_PK, note="no such object"),
    "incidents:playbooks": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "incidents:playbook-edit": Route(ONLY({"admin": 200}), kwargs=lambda w: {"kind": "client_crisis"}),
    # notifications: the bell in the top bar, one's own only
    "notifications:list": Route(ANY_SIGNED_IN, note="one's own notifications"),
    "notifications:read": Route(E(302), method="post", note="marks only one's own"),
    # emission reports (anyone with view_registry lists what it sees; templates: platform admin; jobs: reviewers)
    "reports:index": Route(ANY_SIGNED_IN, note="lists only the enterprises the persona sees"),
    "reports:download": Route(
        ONLY({"gov_a": 302, "e1_staff": 302, "admin": 302}),
        kwargs=lambda w: {"credit_code": w.e1.credit_code, "period": "2024", "fmt": "pdf"},
        note="E1 in scope but no official run: back to the list with the message; outsiders 404",
    ),
    "reports:templates": Route(ONLY({"admin": 200})),
    "reports:activate": Route(ONLY({"admin": 302}), method="post", note="no format: refused with a message"),
    "reports:template-source": Route(E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks"),
    "reports:default-source": Route(ONLY({"admin": 200}), kwargs=lambda w: {"fmt": "pdf"}),
    "reports:jobs": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "reports:job": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; tests/reports cover scoping"
    ),
    "reports:job-download": Route(E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks"),
    # supervision: submissions (enterprise), review queue (government), verification, sampling, deadlines
    "review:index": Route(E(302), note="to the persona's own part: submissions, queue or verification"),
    "review:submissions": Route(ONLY({"e1_staff": 200, "e2_staff": 200})),
    "review:open": Route(
        ONLY({"e1_staff": 302, "e2_staff": 302}), method="post", note="no period: a message"
    ),
    "review:queue": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "review:bulk": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}), method="post", note="no action chosen: a message"
    ),
    "review:detail": Route(
        E(404), kwargs=MISSING_PK, note="no such object: 404 whoever asks; tests/review cover scoping"
    ),
    "review:transition": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:self-check": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:acknowledge": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:request-information": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:request-extension": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:reassign": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:recalculate": Route(
        E(404), kwargs=MISSING_PK, method="post", note="no such object; tests/review cover who may"
    ),
    "review:submission-report": Route(
        E(404), kwargs=lambda w: {"pk": MISSING, "fmt": "pdf"}, note="no such object"
    ),
    "review:answer-information": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:decide-extension": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:respond": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:verification": Route(
        ONLY({"gov_a": 200, "gov_b": 200, "admin": 200, "verifier_e1": 200, "verifier_unassigned": 200}),
        note="a body sees only its own assignments",
    ),
    "review:assign-verifier": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}), method="post", note="empty form: a message"
    ),
    "review:add-engagement": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}), method="post", note="empty form: a message"
    ),
    "review:assignment": Route(E(404), kwargs=MISSING_PK, note="no such object; tests/review cover scoping"),
    "review:add-finding": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:conclude": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:withdraw-assignment": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:proofs": Route(E(404), kwargs=MISSING_PK, note="no such object"),
    "review:verification-report": Route(E(404), kwargs=MISSING_PK, note="no such object"),
    "review:sampling": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "review:sampling-draw": Route(
        ONLY({"gov_a": 302, "gov_b": 302, "admin": 302}), method="post", note="empty form: a message"
    ),
    "review:draw": Route(E(404), kwargs=MISSING_PK, note="no such object"),
    "review:redraw": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:sampling-result": Route(E(404), kwargs=MISSING_PK, method="post", note="no such object"),
    "review:overdue": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
    "review:deadlines": Route(ONLY({"gov_a": 200, "gov_b": 200, "admin": 200})),
}

# --- API operations, keyed "METHOD /path" as in the OpenAPI schema -------------------------------------
API_ROUTES: dict[str, Route] = {
    "GET /api/v1/accounts/me": Route(E(200, anon=401)),
    "GET /api/v1/accounts/tokens": Route(E(200, anon=401)),
    "DELETE /api/v1/accounts/tokens/{prefix}": Route(
        E(404, anon=401), kwargs=lambda w: {"prefix": "kiln_nothere0"}
    ),
    "GET /api/v1/registry/regions": Route(E(200, anon=401)),
    "GET /api/v1/registry/industries": Route(E(200, anon=401)),
    "GET /api/v1/registry/enterprises": Route(E(200, anon=401)),
    "GET /api/v1/registry/enterprises/{credit_code}": Route(
        E(404, anon=401, gov_a=200, e1_staff=200, admin=200), kwargs=E1_CODE
    ),
    "GET /api/v1/efficiency/{year}": Route(
        E(200, anon=401, verifier_e1=404, verifier_unassigned=404), kwargs=lambda w: {"year": 2025}
    ),
    "GET /api/v1/efficiency/{year}/{credit_code}": Route(
        E(404, anon=401), note="E1 not graded", kwargs=lambda w: {"year": 2025, **E1_CODE(w)}
    ),
    "GET /api/v1/ledger/consistency": Route(E(422, anon=401), note="sizes missing"),
    "GET /api/v1/ledger/head": Route(E(404, anon=401), note="no signed tree head yet"),
    "GET /api/v1/ledger/proof/{index}": Route(
        E(409, anon=401), note="not yet signed", kwargs=lambda w: {"index": 0}
    ),
    "GET /api/v1/monitoring/enterprises/{credit_code}/months": Route(
        E(404, anon=401, gov_a=200, e1_staff=200, admin=200), kwargs=E1_CODE
    ),
    "GET /api/v1/monitoring/enterprises/{credit_code}/rows": Route(
        E(422, anon=401), note="period missing", kwargs=E1_CODE
    ),
    "GET /api/v1/monitoring/platform": Route(E(404, anon=401, admin=200)),
    "GET /api/v1/monitoring/regions/{code}/enterprises": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "GET /api/v1/monitoring/regions/{code}/industries": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "GET /api/v1/monitoring/regions/{code}/months": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "GET /api/v1/monitoring/regions/{code}/overview": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "GET /api/v1/monitoring/regions/{code}/subregions": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "GET /api/v1/monitoring/regions/{code}/years": Route(
        E(404, anon=401, gov_a=200, admin=200), kwargs=lambda w: {"code": w.city_a.code}
    ),
    "POST /api/v1/intake/activity": Route(E(400, anon=401), note="empty body: refused before anything else"),
    "GET /api/v1/intake/batches": Route(E(200, anon=401)),
    "GET /api/v1/intake/batches/{batch_id}": Route(E(404, anon=401), kwargs=lambda w: {"batch_id": MISSING}),
    "GET /api/v1/intake/batches/{batch_id}/report": Route(
        E(404, anon=401), kwargs=lambda w: {"batch_id": MISSING}
    ),
    "GET /api/v1/factors/sets": Route(E(200, anon=401)),
    "GET /api/v1/factors/sets/{set_id}": Route(E(404, anon=401), kwargs=lambda w: {"set_id": MISSING}),
    "GET /api/v1/factors/diff": Route(E(422, anon=401), note="parameters missing"),
    "GET /api/v1/accounting/runs": Route(E(200, anon=401)),
    "POST /api/v1/accounting/runs": Route(E(400, anon=401), note="empty body"),
    "GET /api/v1/accounting/runs/{run_id}": Route(E(404, anon=401), kwargs=lambda w: {"run_id": MISSING}),
    "GET /api/v1/accounting/runs/{run_id}/aggregates": Route(
        E(404, anon=401), kwargs=lambda w: {"run_id": MISSING}
    ),
    "GET /api/v1/accounting/runs/{run_id}/enterprises/{credit_code}/rows": Route(
        E(404, anon=401), kwargs=lambda w: {"run_id": MISSING, "credit_code": w.e1.credit_code}
    ),
    "POST /api/v1/accounting/runs/{run_id}/promote": Route(
        E(400, anon=401), kwargs=lambda w: {"run_id": MISSING}
    ),
    "POST /api/v1/grid/readings": Route(E(400, anon=401), note="empty body: refused before anything else"),
    "GET /api/v1/grid/batches/{batch_id}": Route(E(404, anon=401), kwargs=lambda w: {"batch_id": MISSING}),
    "GET /api/v1/grid/enterprises/{credit_code}/monthly": Route(
        E(404, anon=401, gov_a=200, e1_staff=200, admin=200), kwargs=E1_CODE
    ),
    "GET /api/v1/screening/findings": Route(E(200, anon=401), note="lists only what the persona may see"),
    "GET /api/v1/screening/findings/{finding_id}": Route(
        E(404, anon=401), kwargs=lambda w: {"finding_id": MISSING}
    ),
    "POST /api/v1/screening/findings/{finding_id}/transitions": Route(
        E(400, anon=401),
        kwargs=lambda w: {"finding_id": MISSING},
        note="empty body: refused before anything else",
    ),
    "GET /api/v1/screening/rules": Route(E(404, anon=401, gov_a=200, gov_b=200, admin=200)),
    "GET /api/v1/screening/warnings": Route(E(404, anon=401, gov_a=200, gov_b=200, admin=200)),
    "POST /api/v1/screening/runs": Route(E(400, anon=401), note="empty body: refused before anything else"),
    "GET /api/v1/incidents": Route(E(200, anon=401), note="lists only what the persona may see"),
    "GET /api/v1/incidents/{incident_id}": Route(E(404, anon=401), kwargs=lambda w: {"incident_id": MISSING}),
    "GET /api/v1/reports/{credit_code}/{period}": Route(
        E(404, anon=401, gov_a=422, e1_staff=422, admin=422),
        kwargs=lambda w: {"credit_code": w.e1.credit_code, "period": "2024"},
        note="in scope: no official run yet",
    ),
    "GET /api/v1/review/submissions": Route(E(200, anon=401), note="lists only what the persona may see"),
    "GET /api/v1/review/submissions/{submission_id}": Route(
        E(404, anon=401), kwargs=lambda w: {"submission_id": MISSING}
    ),
    "GET /api/v1/review/submissions/{submission_id}/versions": Route(
        E(404, anon=401), kwargs=lambda w: {"submission_id": MISSING}
    ),
    "GET /api/v1/review/submissions/{submission_id}/diff": Route(
        E(404, anon=401), kwargs=lambda w: {"submission_id": MISSING}, query={"old": 1, "new": 2}
    ),
    "POST /api/v1/review/submissions/{submission_id}/transitions": Route(
        E(400, anon=401),
        kwargs=lambda w: {"submission_id": MISSING},
        note="empty body: refused before anything else",
    ),
}


# --- walking the routes ------------------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield prefix + str(p.pattern), name


def django_routes() -> dict[str, str]:
    """Route key -> pattern, for every URL pattern outside the admin site and the API operations."""
    keys: dict[str, str] = {}
    for pattern, name in _walk(get_resolver().url_patterns):
        if pattern.startswith("admin/"):
            continue
        if (
            name
            and name.startswith("api:")
            and name not in ("api:openapi-json", "api:openapi-view", "api:api-root")
        ):
            continue  # API operations: checked from the OpenAPI schema
        keys.setdefault(name or pattern, pattern)
    return keys


def api_routes() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def admin_routes() -> list[tuple[str, str]]:
    return [(p, n) for p, n in _walk(get_resolver().url_patterns) if p.startswith("admin/")]


def test_every_route_is_declared():
    routes = django_routes()
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, f"new route without an entry in the matrix: {missing}"
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    api_missing = sorted(api_routes() - set(API_ROUTES))
    assert not api_missing, f"new API route without an entry in the matrix: {api_missing}"
    api_stale = sorted(set(API_ROUTES) - api_routes())
    assert not api_stale, f"matrix entries for API routes that no longer exist: {api_stale}"


def test_admin_site_is_all_under_its_namespace():
    assert all(name is None or name.startswith("admin:") for _p, name in admin_routes())


# --- the checks ---------------------------------------------------------------------------------------------


@pytest.fixture
def matrix_world(world):
    from kiln.audit.events import EventType
    from kiln.audit.services import record

    world.audit_event = record(EventType.USER_UPDATED, actor=world.e1_staff, target=world.e1_staff)
    clients = {"anon": Client()}
    for persona in SIGNED:
        clients[persona] = signed_in(Client(), getattr(world, persona))
    return world, clients


def _outcome(response) -> Any:
    if response.status_code == 302:
        location = response["Location"]
        return LOGIN if location.startswith(reverse("login")) and "next=" in location else REDIRECT
    return response.status_code


def _matches(expected: Any, got: Any) -> bool:
    if expected == 302:
        return got in (LOGIN, REDIRECT)
    return expected == got


def _check(world, clients, url: str, route: Route, label: str) -> None:
    results = {}
    for persona in PERSONAS:
        data = route.data(world) if route.data else {}
        with transaction.atomic():
            call = getattr(clients[persona], route.method)
            response = call(url, data or route.query) if route.method in ("get", "post") else call(url)
            transaction.set_rollback(True)
        results[persona] = _outcome(response)
    if OBSERVE:
        print(f"\n{label}: {results}")
        return
    wrong = {p: (route.expect[p], results[p]) for p in PERSONAS if not _matches(route.expect[p], results[p])}
    assert not wrong, f"{label}: persona -> (expected, got): {wrong}"


@pytest.mark.parametrize("key", sorted(ROUTES))
def test_route(matrix_world, key):
    world, clients = matrix_world
    route = ROUTES[key]
    if key in django_routes() and "/" in key and ":" not in key and not key.startswith("^"):
        url = "/" + key
    else:
        url = reverse(key, kwargs=route.kwargs(world) if route.kwargs else None)
    _check(world, clients, url, route, key)


@pytest.mark.parametrize("key", sorted(API_ROUTES))
def test_api_route(matrix_world, key):
    world, clients = matrix_world
    route = API_ROUTES[key]
    method, path = key.split(" ", 1)
    for name, value in (route.kwargs(world) if route.kwargs else {}).items():
        path = path.replace("{" + name + "}", str(value))
    _check(world, clients, path, Route(route.expect, method=method.lower(), query=route.query), key)


def test_admin_site(matrix_world):
    """Staff only: the index and every model's list; everyone else is sent to log in."""
    world, clients = matrix_world
    names = ["admin:index"] + sorted(n for _p, n in admin_routes() if n and n.endswith("_changelist"))
    for name in names:
        _check(world, clients, reverse(name), Route(STAFF), name)
