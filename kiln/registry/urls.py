from django.urls import path

from kiln.registry import views

app_name = "registry"
urlpatterns = [
    path("enterprises/", views.enterprise_list, name="enterprise-list"),
    path("enterprises/<str:credit_code>/", views.enterprise_detail, name="enterprise-detail"),
]
