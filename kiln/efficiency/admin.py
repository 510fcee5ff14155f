"""Admin: the grading configuration (adding one makes a new version; versions are never edited)."""

from __future__ import annotations

from django.contrib import admin

from kiln.efficiency import services
from kiln.efficiency.models import EconomicBatch, EfficiencyConfig, EfficiencyRun


@admin.register(EfficiencyConfig)
class EfficiencyConfigAdmin(admin.ModelAdmin):
    list_display = ("version", "industry_level", "mean_kind", "include_process", "created", "created_by")
    fields = services.CONFIG_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        current = services.current_config()
        return {f: getattr(current, f) for f in services.CONFIG_FIELDS}

    def save_model(self, request, obj, form, change):
        if change:  # pragma: no cover - every field is read-only on an existing version
            return
        created = services.new_config(
            actor=request.user, **{f: form.cleaned_data[f] for f in services.CONFIG_FIELDS}
        )
        obj.pk, obj.version = created.pk, created.version


@admin.register(EfficiencyRun)
class EfficiencyRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "region",
        "year",
        "calculation",
        "config",
        "current",
        "graded",
        "not_graded",
        "created",
    )
    list_filter = ("year", "current")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EconomicBatch)
class EconomicBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "door",
        "organisation",
        "submitted_by",
        "rows",
        "created_count",
        "corrected_count",
        "created",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
