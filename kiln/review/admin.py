"""Admin: deadline rules and holidays are edited here; review records are read-only (history is kept)."""

from __future__ import annotations

from django.contrib import admin

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.review.models import (
    ConsultancyEngagement,
    DeadlinePolicy,
    Holiday,
    SamplingDraw,
    Submission,
    VerificationAssignment,
)


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "anchor",
        "days",
        "working_days",
        "fixed_month",
        "fixed_day",
        "roll_forward",
        "reminder_days",
        "updated",
    )

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        record(
            EventType.DATA_UPDATED if change else EventType.DATA_CREATED,
            actor=request.user,
            target=obj,
            request=request,
            after={f: form.cleaned_data.get(f) for f in form.changed_data},
        )


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "workday")
    list_filter = ("workday",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            EventType.DATA_UPDATED if change else EventType.DATA_CREATED,
            actor=request.user,
            target=obj,
            request=request,
            after={"date": obj.date, "name": obj.name, "workday": obj.workday},
        )

    def delete_model(self, request, obj):
        record(
            EventType.DATA_DELETED,
            actor=request.user,
            target=obj,
            request=request,
            before={"date": obj.date, "name": obj.name},
        )
        super().delete_model(request, obj)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnly):
    list_display = ("enterprise", "period", "report_type", "state", "submitted_at", "approved_at")
    list_filter = ("state", "report_type", "year")


@admin.register(VerificationAssignment)
class VerificationAssignmentAdmin(ReadOnly):
    list_display = ("enterprise", "year", "agency", "status", "conclusion", "access_until")


@admin.register(ConsultancyEngagement)
class ConsultancyEngagementAdmin(ReadOnly):
    list_display = ("agency", "enterprise", "starts", "ends")


@admin.register(SamplingDraw)
class SamplingDrawAdmin(ReadOnly):
    list_display = ("pk", "region", "year", "size", "stratify_by", "seed", "drawn_by", "drawn_at")
