from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from kiln.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("kiln.accounts.urls")),
    path("registry/", include("kiln.registry.urls")),
    path("", include("kiln.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
