from django.contrib import admin

from kiln.incidents.models import Incident, Playbook


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "kind", "level", "status", "region", "owner", "opened_at")
    list_filter = ("kind", "level", "status")
    readonly_fields = [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("kind", "updated", "updated_by")
