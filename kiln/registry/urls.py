from django.urls import path

from kiln.registry import views

app_name = "registry"
urlpatterns = [
    path("enterprises/", views.enterprise_list, name="enterprise-list"),
    path("enterprises/export.csv", views.enterprise_export, {"fmt": "csv"}, name="enterprise-export-csv"),
    path("enterprises/export.xlsx", views.enterprise_export, {"fmt": "xlsx"}, name="enterprise-export-xlsx"),
    path("enterprises/<str:credit_code>/", views.enterprise_detail, name="enterprise-detail"),
    path("import/", views.registry_import, name="import"),
    path("import/report.csv", views.import_report, name="import-report"),
]
