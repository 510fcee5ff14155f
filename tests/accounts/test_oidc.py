"""OpenID Connect single sign-on against a real provider (panva/oidc-provider, run with node).

The provider's development login accepts any name; the account's e-mail is ``<name>@sso.example``.
A forged ID token is produced by a small proxy in front of the provider's token endpoint.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from kiln.accounts.models import User
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("oidc_server.mjs")
REDIRECT_URI = "http://testserver/accounts/oidc/sso/login/callback/"
CLIENT_ID, CLIENT_SECRET = "kiln", "kiln-test-secret"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "oidc-provider").exists(),
    reason="needs node and `npm ci` (oidc-provider is a devDependency)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def idp():
    """The running provider's issuer URL."""
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        ["node", str(SERVER), str(port), REDIRECT_URI],  # noqa: S607
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready "), f"OIDC provider did not start: {line!r}"
        issuer = line.split()[1]
        for _ in range(50):
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class TokenProxy:
    """A token endpoint in front of the real one that can rewrite the ID token (the attacker)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.rewrite = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")
                }
                upstream = requests.post(proxy.upstream, data=body, headers=headers, timeout=5)
                data = upstream.json()
                if proxy.rewrite and "id_token" in data:
                    data["id_token"] = proxy.rewrite(data["id_token"])
                out = json.dumps(data).encode()
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def sso(settings, idp):
    """Kiln configured for the provider (what KILN_OIDC_* produce), optionally through the proxy."""

    def configure(token_endpoint: str | None = None):
        app = {
            "provider_id": "sso",
            "name": "Test IdP",
            "client_id": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "settings": {"server_url": idp, "fetch_userinfo": True},
        }
        if token_endpoint:
            app["settings"]["openid_configuration_overrides"] = {"token_endpoint": token_endpoint}
        settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [app]}}

    configure()
    return configure


@pytest.fixture
def proxy(idp, sso):
    config = requests.get(f"{idp}/.well-known/openid-configuration", timeout=5).json()
    p = TokenProxy(config["token_endpoint"])
    sso(token_endpoint=p.url)
    yield p
    p.close()


def _form(page: str, base: str) -> tuple[str, dict]:
    match = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert match, page[:500]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return urljoin(base, html.unescape(match.group(1))), fields


def sign_in_at_idp(authorize_url: str, login: str) -> str:
    """Drive the provider's login and consent pages; return the redirect back to Kiln."""
    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=5)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if url.startswith("http://testserver/"):
                return url
            continue
        action, fields = _form(response.text, url)
        if fields.get("prompt") == "login":
            fields.update(login=login, password="anything")  # noqa: S105
        url, method, data = action, "POST", fields
    raise AssertionError("the provider never redirected back")


def start(client) -> str:
    response = client.post(reverse("openid_connect_login", kwargs={"provider_id": "sso"}))
    assert response.status_code == 302, response
    return response["Location"]


def finish(client, back: str):
    parsed = urlparse(back)
    return client.get(f"{parsed.path}?{parsed.query}")


def test_login_page_offers_sso(client, world, sso):
    assert 'data-provider="openid_connect"' in client.get(reverse("login")).text


def test_known_user_signs_in_with_sso(client, world, sso):
    world.e1_staff.email = "e1_staff@sso.example"
    world.e1_staff.save()
    authorize = start(client)
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"]
    response = finish(client, sign_in_at_idp(authorize, "e1_staff"))
    assert response.status_code == 302, response.content[:500]
    assert client.get("/").context["user"] == world.e1_staff
    assert SocialAccount.objects.get(user=world.e1_staff).uid == "e1_staff"
    event = AuditEvent.objects.get(event_type=EventType.LOGIN, actor=world.e1_staff)
    assert event.after["method"].startswith("sso:")


def test_sso_keeps_requiring_mfa_for_government(client, world, sso):
    world.gov_a.email = "gov_a@sso.example"
    world.gov_a.save()
    authorize = start(client)
    finish(client, sign_in_at_idp(authorize, "gov_a"))
    assert client.get(reverse("registry:enterprise-list"))["Location"].startswith(
        reverse("mfa_activate_totp")
    )


def test_unknown_person_is_not_signed_up(client, world, sso):
    authorize = start(client)
    finish(client, sign_in_at_idp(authorize, "stranger"))
    assert not client.get("/").context["user"].is_authenticated
    assert not User.objects.filter(email="stranger@sso.example").exists()


def test_disabled_user_cannot_sso(client, world, sso):
    world.e1_staff.email = "e1_staff@sso.example"
    world.e1_staff.is_active = False
    world.e1_staff.save()
    finish(client, sign_in_at_idp(start(client), "e1_staff"))
    assert not client.get("/").context["user"].is_authenticated


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tamper_claims(token: str) -> str:
    """Change the subject and e-mail, keep the provider's signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(sub="admin", email="admin@sso.example")
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _resign_with_attacker_key(token: str) -> str:
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(sub="admin", email="admin@sso.example")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header.get("kid")})


def _alg_none(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(sub="admin", email="admin@sso.example")
    return ".".join([_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), ""])


def _symmetric_with_client_secret(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, CLIENT_SECRET + "-padding-to-32-bytes!!", algorithm="HS256")


def _expired(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = 1000
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


@pytest.mark.parametrize(
    "forge", [_tamper_claims, _resign_with_attacker_key, _alg_none, _symmetric_with_client_secret, _expired]
)
def test_forged_id_token_is_rejected(client, world, proxy, forge):
    world.admin.email = "admin@sso.example"
    world.admin.save()
    world.e1_staff.email = "e1_staff@sso.example"
    world.e1_staff.save()
    proxy.rewrite = forge
    response = finish(client, sign_in_at_idp(start(client), "e1_staff"))
    assert response.status_code == 401  # allauth's authentication-error page
    assert not client.get("/").context["user"].is_authenticated
    assert not SocialAccount.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.SSO_REJECTED).exists()


def test_untampered_token_through_the_proxy_still_works(client, world, proxy):
    world.e1_staff.email = "e1_staff@sso.example"
    world.e1_staff.save()
    finish(client, sign_in_at_idp(start(client), "e1_staff"))
    assert client.get("/").context["user"] == world.e1_staff


def test_callback_with_foreign_state_is_rejected(client, world, sso):
    world.e1_staff.email = "e1_staff@sso.example"
    world.e1_staff.save()
    attacker = type(client)()
    back = sign_in_at_idp(start(attacker), "e1_staff")  # the attacker's own login, replayed at the victim
    start(client)
    response = finish(client, back)
    assert not client.get("/").context["user"].is_authenticated
    assert response.status_code in (400, 401)


def test_starting_sso_needs_post(client, world, sso):
    response = client.get(reverse("openid_connect_login", kwargs={"provider_id": "sso"}))
    assert response.status_code == 200 and "csrfmiddlewaretoken" in response.text


def test_unknown_provider_is_404(client, db):
    assert client.post(reverse("openid_connect_login", kwargs={"provider_id": "nope"})).status_code == 404
