from django.urls import path

from kiln.screening import views

app_name = "screening"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("run/", views.run, name="run"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("findings/", views.queue, name="queue"),
    path("findings/bulk/", views.bulk, name="bulk"),
    path("findings/<int:pk>/", views.finding, name="finding"),
    path("findings/<int:pk>/<str:action>/", views.act, name="act"),
    path("mine/", views.my_findings, name="mine"),
    path("enterprises/<str:credit_code>/", views.enterprise, name="enterprise"),
    path("overview/", views.overview, name="overview"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule-new"),
    path("rules/<str:rule_id>/", views.rule_detail, name="rule"),
    path("rules/<str:rule_id>/edit/", views.rule_edit, name="rule-edit"),
    path("anomalies/", views.anomalies, name="anomalies"),
]
