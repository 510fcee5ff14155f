from django.urls import path

from kiln.accounts import scim

urlpatterns = [
    path("Users", scim.users, name="scim-users"),
    path("Users/<str:pk>", scim.user, name="scim-user"),
    path("Groups", scim.groups, name="scim-groups"),
    path("Groups/<str:pk>", scim.group, name="scim-group"),
    path("ServiceProviderConfig", scim.service_provider_config, name="scim-config"),
]
