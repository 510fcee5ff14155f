from django.urls import path
from django.views.generic import RedirectView

from kiln.accounting import views

app_name = "accounting"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounting:run-list"), name="index"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/enterprises/<str:credit_code>/", views.enterprise_provenance, name="provenance"),
    path("runs/<int:pk>/promote/", views.promote, name="promote"),
    path("calculate/", views.calculate, name="calculate"),
    path("compare/", views.compare, name="compare"),
]
