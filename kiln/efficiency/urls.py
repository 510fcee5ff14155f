from django.urls import path

from kiln.efficiency import views

app_name = "efficiency"
urlpatterns = [
    path("", views.index, name="index"),
    path("grade/", views.grade, name="grade"),
    path("movers/", views.movers, name="movers"),
    path("diagnosis/", views.diagnosis, name="diagnosis"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export-csv"),
    path("export.xlsx", views.export, {"fmt": "xlsx"}, name="export-xlsx"),
    path("economic/", views.economic_import, name="economic-import"),
    path("economic/report.csv", views.economic_report, name="economic-report"),
    path("enterprise/<str:credit_code>/", views.card, name="card"),
    path("enterprise/<str:credit_code>/qr.svg", views.card_qr, name="card-qr"),
]
