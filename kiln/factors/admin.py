from django.contrib import admin

from kiln.factors.models import FactorSet, FactorValue


class FactorValueInline(admin.TabularInline):
    model = FactorValue
    extra = 0
    can_delete = False
    readonly_fields = [
        "item",
        "parameter",
        "series",
        "year_from",
        "year_to",
        "value",
        "unit",
        "confidence",
        "source",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FactorSet)
class FactorSetAdmin(admin.ModelAdmin):
    """Read-only here: sets are created by upload (a new version), never edited after use."""

    list_display = ["code", "version", "name", "default_grid_series", "locked_at", "created"]
    search_fields = ["code", "name"]
    readonly_fields = ["locked_at", "content_sha256", "created", "created_by"]
    inlines = [FactorValueInline]

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.locked

    def has_delete_permission(self, request, obj=None):
        return False
