from django.contrib import admin

from kiln.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["id", "time", "event_type", "actor_label", "organisation_label", "target_label", "ip"]
    list_filter = ["event_type"]
    search_fields = ["actor_label", "target_label", "target_id"]
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
