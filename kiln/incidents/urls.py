from django.urls import path

from kiln.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<str:what>/", views.act, name="act"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/report.md", views.report_markdown, name="report-md"),
    path("playbooks/", views.playbooks, name="playbooks"),
    path("playbooks/<str:kind>/", views.playbook_edit, name="playbook-edit"),
]
