"""Read-only admin: the ledger is written by its services only."""

from __future__ import annotations

from django.contrib import admin

from kiln.ledger.models import LedgerEntry, SignedTreeHead


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "reference", "created"]
    list_filter = ["kind"]
    search_fields = ["reference"]
    show_full_result_count = False  # COUNT(*) over millions of rows on every page is wasted work


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["id", "tree_size", "timestamp", "key_id"]
