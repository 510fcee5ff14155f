from django.urls import path

from kiln.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("verify/", views.verify, name="verify"),
    path("sign/", views.sign, name="sign"),
    path("proof/<int:index>.json", views.bundle, name="bundle"),
    path("verifier.py", views.verifier_download, name="verifier"),
]
