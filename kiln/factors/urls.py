from django.urls import path

from kiln.factors import views

app_name = "factors"
urlpatterns = [
    path("", views.set_list, name="list"),
    path("new/", views.set_upload, name="upload"),
    path("diff/", views.set_diff, name="diff"),
    path("<int:pk>/", views.set_detail, name="detail"),
    path("<int:pk>/export.csv", views.set_export, name="export"),
]
