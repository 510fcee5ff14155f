from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from kiln.registry.exports import ENTERPRISE_HEADERS, csv_bytes, enterprise_rows, xlsx_bytes
from kiln.registry.models import (
    Enterprise,
    Facility,
    GovernmentDepartment,
    Industry,
    Organisation,
    Region,
    ThirdPartyAgency,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "ets_sector"]
    list_filter = ["level", "ets_sector"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "credit_code", "region", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "name_en", "credit_code"]
    autocomplete_fields = ["region"]


class FacilityInline(admin.TabularInline):
    model = Facility
    extra = 0


def _download(content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    filename = f"enterprises-{timezone.localdate():%Y%m%d}.{extension}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "region", "industry", "size", "key_emitter"]
    list_filter = ["size", "key_emitter", "industry__ets_sector"]
    search_fields = ["name", "name_en", "credit_code"]
    autocomplete_fields = ["region", "industry"]
    inlines = [FacilityInline]
    actions = ["export_csv", "export_xlsx"]

    # Same files as /registry/enterprises/export.*, limited to the rows ticked in the changelist.
    @admin.action(description=_("Export selected enterprises as CSV"))
    def export_csv(self, request, queryset):
        return _download(
            csv_bytes(ENTERPRISE_HEADERS, enterprise_rows(queryset)), "text/csv; charset=utf-8", "csv"
        )

    @admin.action(description=_("Export selected enterprises as Excel"))
    def export_xlsx(self, request, queryset):
        content = xlsx_bytes(ENTERPRISE_HEADERS, enterprise_rows(queryset), "企业")
        return _download(content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")


@admin.register(GovernmentDepartment)
class GovernmentDepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "credit_code"]
    search_fields = ["name", "name_en"]
    autocomplete_fields = ["region"]


@admin.register(ThirdPartyAgency)
class ThirdPartyAgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "agency_type", "accreditation_no", "accredited_until"]
    list_filter = ["agency_type"]
    search_fields = ["name", "name_en", "credit_code"]
    autocomplete_fields = ["region"]
