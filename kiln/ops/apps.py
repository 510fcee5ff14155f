from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "kiln.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from kiln.ops import checks  # noqa: F401 - registers the system checks
