from allauth.account import views as allauth_views
from django.urls import include, path

from kiln.accounts import oidc, views

urlpatterns = [
    # allauth's login and logout under Django's conventional names (other apps reverse "login").
    path("login/", allauth_views.login, name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("switch/", views.switch_membership, name="switch-membership"),
    path("profile/", views.profile, name="profile"),
    path("email/", views.email_redirect, name="account_email"),
    path("users/", views.user_list, name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("users/<int:pk>/", views.user_detail, name="user-detail"),
    path("users/<int:pk>/activate/", views.user_action, {"action": "activate"}, name="user-activate"),
    path("users/<int:pk>/disable/", views.user_action, {"action": "disable"}, name="user-disable"),
    path("users/<int:pk>/delete/", views.user_action, {"action": "delete"}, name="user-delete"),
    path("users/<int:pk>/unlock/", views.user_action, {"action": "unlock"}, name="user-unlock"),
    path("users/<int:pk>/roles/add/", views.membership_add, name="membership-add"),
    path(
        "users/<int:pk>/roles/<int:membership_id>/remove/", views.membership_remove, name="membership-remove"
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept-invitation"),
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    # OpenID Connect with Kiln's strict ID-token check, in front of allauth's views at the same URLs.
    path("oidc/<str:provider_id>/login/", oidc.login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
    path("", include("allauth.urls")),
]
