from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from kiln.accounts.models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class KilnUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "email", "is_active", "is_staff", "last_login"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Kiln", {"fields": ("display_name", "phone")}))

    def has_delete_permission(self, request, obj=None):
        # Users are never removed (the audit log refers to them): delete is the soft delete at /accounts/users/.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners (``/accounts/tokens/``); here they can only be looked at."""

    list_display = ["prefix", "name", "user", "scopes", "created", "expires", "last_used", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "key_hash"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
