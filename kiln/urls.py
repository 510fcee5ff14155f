from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from kiln.api import api

# The admin site signs in through Kiln's login (lockout, MFA, audit), never its own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("kiln.accounts.urls")),
    path("registry/", include("kiln.registry.urls")),
    path("audit/", include("kiln.audit.urls")),
    path("scim/v2/", include("kiln.accounts.scim_urls")),
    path("", include("kiln.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
