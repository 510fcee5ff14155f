from django.contrib import admin

from kiln.accounting.models import CalculationRun


@admin.register(CalculationRun)
class CalculationRunAdmin(admin.ModelAdmin):
    """Runs are records: viewable, never edited or deleted here."""

    list_display = ["pk", "region", "year", "kind", "official", "total_co2_t", "input_rows", "created"]
    list_filter = ["kind", "official", "year"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
