from django.urls import path

from kiln.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.system, name="system"),
    path("backup/", views.backup, name="backup"),
]
