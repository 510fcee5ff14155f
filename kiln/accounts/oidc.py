"""OpenID Connect sign-in with a strict ID-token check.

allauth's OpenID Connect adapter skips the ID token's signature when the token came straight
from the token endpoint (allowed by OIDC Core §3.1.3.7 over TLS). Identity providers on
government intranets are often reached over plain HTTP or through proxies, so Kiln always checks:
the signature against the provider's JWKS (asymmetric algorithms the provider advertises only),
issuer, audience, expiry, and that the userinfo ``sub`` is the ID token's ``sub``.
These views replace allauth's at the same URLs and names.
"""

from __future__ import annotations

import jwt
import requests
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404
from django.shortcuts import render

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS = 30


class StrictOIDCAdapter(OpenIDConnectOAuth2Adapter):
    def _jwks(self) -> dict:
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            return response.json()

    def _decode_id_token(self, app, id_token: str) -> dict:
        config = self.openid_config
        try:
            header = jwt.get_unverified_header(id_token)
            advertised = set(config.get("id_token_signing_alg_values_supported") or ["RS256"])
            algorithm = header.get("alg")
            if algorithm not in advertised & ASYMMETRIC_ALGORITHMS:
                raise OAuth2Error(f"ID token algorithm not accepted: {algorithm!r}")
            keys = jwt.PyJWKSet.from_dict(self._jwks())
            kid = header.get("kid")
            candidates = [k for k in keys.keys if kid is None or k.key_id == kid]
            if len(candidates) != 1:
                raise OAuth2Error("ID token signed with an unknown key")
            data = jwt.decode(
                id_token,
                key=candidates[0].key,
                algorithms=[str(algorithm)],
                audience=app.client_id,
                issuer=config["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
            raise OAuth2Error("Invalid ID token") from exc
        audiences = data["aud"] if isinstance(data["aud"], list) else [data["aud"]]
        if len(audiences) > 1 and data.get("azp") != app.client_id:
            raise OAuth2Error("ID token issued to another client")
        jwtkit.verify_jti(data)
        return data

    def complete_login(self, request, app, token, **kwargs):
        response = kwargs.get("response") or {}
        id_token = response.get("id_token")
        if not id_token:
            raise OAuth2Error("The identity provider returned no ID token")
        claims = self._decode_id_token(app, id_token)
        data = {"id_token": claims}
        if app.settings.get("fetch_userinfo", True):
            userinfo = self._fetch_user_info(token.token)
            if str(userinfo.get("sub")) != str(claims.get("sub")):
                raise OAuth2Error("userinfo is about another subject than the ID token")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)


@login_not_required
def login(request, provider_id):
    try:
        return OAuth2LoginView.adapter_view(StrictOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc


@login_not_required
def callback(request, provider_id):
    try:
        return OAuth2CallbackView.adapter_view(StrictOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc
    except requests.RequestException:  # the provider's discovery document could not be fetched
        return render(request, "socialaccount/authentication_error.html", status=502)
