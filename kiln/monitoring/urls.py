from django.urls import path

from kiln.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("region/<str:code>/", views.region, name="region"),
    path("region/<str:code>/industry/<str:division>/", views.industry, name="industry"),
    path("region/<str:code>/screen/", views.screen, name="screen"),
    path("region/<str:code>/map.json", views.map_data, name="map-data"),
    path("enterprise/<str:credit_code>/", views.enterprise, name="enterprise"),
    path("enterprise/<str:credit_code>/<str:period>/", views.rows, name="rows"),
    path("verifier/", views.verifier, name="verifier"),
    path("platform/", views.platform, name="platform"),
    path("maps/", views.maps, name="maps"),
]
