from django.urls import path

from kiln.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_download, {"fmt": "xlsx"}, name="template-xlsx"),
    path("template.csv", views.template_download, {"fmt": "csv"}, name="template-csv"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:batch_id>/report.csv", views.batch_report, {"fmt": "csv"}, name="batch-report-csv"),
    path("batches/<int:batch_id>/report.xlsx", views.batch_report, {"fmt": "xlsx"}, name="batch-report-xlsx"),
    path("deposits/", views.deposit_overview, name="deposits"),
    path("deposits/overdue/", views.overdue, name="overdue"),
    path("deposits/<str:credit_code>/<str:period>/", views.deposit_month, name="deposit-month"),
    path("deposits/<str:credit_code>/<str:period>/freeze/", views.freeze, name="freeze"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence-download"),
    path("batches/<int:item_id>/proof.json", views.proof, {"kind": "batch"}, name="batch-proof"),
    path("evidence/<int:item_id>/proof.json", views.proof, {"kind": "evidence"}, name="evidence-proof"),
]
