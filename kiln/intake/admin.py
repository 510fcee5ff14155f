"""Admin pages: external SQL sources (configured here), batches and evidence (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from kiln.intake import secrets, sqlsource
from kiln.intake.models import EvidenceFile, ImportBatch, SqlSource


class SqlSourceForm(forms.ModelForm):
    connection_url = forms.CharField(
        label=_("Connection URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "sqlite:////path/to/file.db or postgres://user:password@host:5432/database. Stored encrypted and never "
            "shown again; leave empty to keep the current one."
        ),
    )

    class Meta:
        model = SqlSource
        fields = [
            "name",
            "connection_url",
            "query",
            "table",
            "column_map",
            "watermark_column",
            "last_watermark",
            "max_rows",
            "corrections",
            "acting_as",
            "enabled",
        ]

    def clean(self):
        data = super().clean()
        url = (data.get("connection_url") or "").strip()
        if not url and not self.instance.url_encrypted:
            self.add_error("connection_url", _("A connection URL is required."))
        if url and not url.startswith(("sqlite://", "postgres://", "postgresql://")):
            self.add_error("connection_url", _("Use a sqlite:// or postgres:// URL."))
        if not (data.get("query") or "").strip() and not (data.get("table") or "").strip():
            self.add_error("table", _("Give either a query or a table."))
        try:
            if (data.get("query") or "").strip():
                sqlsource.check_query(data["query"])
            if (data.get("table") or "").strip():
                sqlsource.check_identifier(data["table"])
            sqlsource.check_identifier(data.get("watermark_column") or "")
        except sqlsource.SourceError as exc:
            self.add_error(None, str(exc))
        column_map = data.get("column_map") or {}
        if not isinstance(column_map, dict) or not all(isinstance(v, str) for v in column_map.values()):
            self.add_error("column_map", _("A JSON object from Kiln column keys to source column names."))
        return data

    def save(self, commit=True):
        url = (self.cleaned_data.get("connection_url") or "").strip()
        if url:
            self.instance.url_encrypted = secrets.encrypt(url)
            self.instance.url_display = secrets.masked(url)[:255]
        return super().save(commit)


@admin.register(SqlSource)
class SqlSourceAdmin(admin.ModelAdmin):
    form = SqlSourceForm
    list_display = ["name", "url_display", "enabled", "last_synced_at", "last_status", "last_watermark"]
    readonly_fields = ["url_display", "last_synced_at", "last_status"]
    actions = ["sync_now"]

    @admin.action(description=_("Sync now"))
    def sync_now(self, request, queryset):
        for source in queryset:
            sqlsource.sync(source)
            self.message_user(
                request,
                f"{source.name}: {source.last_status}",
                messages.SUCCESS
                if source.last_status.startswith(("imported", "no new"))
                else messages.WARNING,
            )


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnly):
    list_display = [
        "id",
        "created",
        "door",
        "status",
        "row_count",
        "error_count",
        "organisation",
        "submitted_by",
    ]
    list_filter = ["door", "status"]
    exclude = ["report"]


@admin.register(EvidenceFile)
class EvidenceFileAdmin(ReadOnly):
    list_display = [
        "id",
        "enterprise",
        "period",
        "kind",
        "original_name",
        "size",
        "uploaded_at",
        "ledger_index",
    ]
    list_filter = ["kind", "period"]
