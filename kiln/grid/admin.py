from django.contrib import admin

from kiln.grid.models import MeterBatch


@admin.register(MeterBatch)
class MeterBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "door",
        "status",
        "rows",
        "created_count",
        "replaced_count",
        "error_count",
        "created",
    )
    list_filter = ("door", "status")
    readonly_fields = [f.name for f in MeterBatch._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
