from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from kiln.api import api
from kiln.efficiency import views as efficiency_views
from kiln.ops import views as ops_views

# The admin site signs in through Kiln's login (lockout, MFA, audit), never its own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("kiln.accounts.urls")),
    path("registry/", include("kiln.registry.urls")),
    path("intake/", include("kiln.intake.urls")),
    path("factors/", include("kiln.factors.urls")),
    path("accounting/", include("kiln.accounting.urls")),
    path("ledger/", include("kiln.ledger.urls")),
    # Looked up per request: the hashed (production) name exists only once collectstatic has run.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("kiln/favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("reports/", include("kiln.reports.urls")),
    path("review/", include("kiln.review.urls")),
    path("grid/", include("kiln.grid.urls")),
    path("screening/", include("kiln.screening.urls")),
    path("incidents/", include("kiln.incidents.urls")),
    path("notifications/", include("kiln.notifications.urls")),
    path("monitoring/", include("kiln.monitoring.urls")),
    path("audit/", include("kiln.audit.urls")),
    # Public, no login: where a carbon-efficiency QR code leads (a bank checks the code is genuine).
    path("efficiency/verify/<str:token>/", efficiency_views.verify, name="efficiency-verify"),
    path("efficiency/", include("kiln.efficiency.urls")),
    path("scim/v2/", include("kiln.accounts.scim_urls")),
    # Operations: readiness probe (public, JSON), Prometheus metrics (token or allow-list), System page.
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("ops/", include("kiln.ops.urls")),
    path("", include("kiln.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
