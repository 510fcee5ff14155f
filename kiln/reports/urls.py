from django.urls import path

from kiln.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("templates/", views.templates, name="templates"),
    path("templates/activate/", views.activate, name="activate"),
    path("templates/<int:pk>/source", views.template_source, name="template-source"),
    path("templates/default.<str:fmt>", views.default_source, name="default-source"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/download.zip", views.job_download, name="job-download"),
    path("<str:credit_code>/<str:period>.<str:fmt>", views.download, name="download"),
]
