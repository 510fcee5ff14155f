from django.contrib import admin

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


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "region", "industry", "size", "key_emitter"]
    list_filter = ["size", "key_emitter", "industry__ets_sector"]
    search_fields = ["name", "name_en", "credit_code"]
    autocomplete_fields = ["region", "industry"]
    inlines = [FacilityInline]


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
