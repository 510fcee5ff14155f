from django.urls import path

from kiln.grid import views

app_name = "grid"
urlpatterns = [
    path("", views.index, name="index"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("enterprises/<str:credit_code>/", views.enterprise, name="enterprise"),
]
