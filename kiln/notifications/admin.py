from django.contrib import admin

from kiln.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created", "user", "kind", "level", "title", "read_at", "emailed")
    list_filter = ("kind", "level", "emailed")
    search_fields = ("title", "key", "user__username")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
