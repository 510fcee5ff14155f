from django.urls import path

from kiln.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.search, name="search"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("export/", views.export, name="export"),
    path("analysis/", views.analysis, name="analysis"),
]
