from django.contrib import admin

from .models import (
    EntitlementCoverage,
    Flag,
    HandoffCommitment,
    ModuleDelivery,
    PlaybookRun,
    Task,
    Touchpoint,
)


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "occurred_at", "minutes", "module", "logged_by"]
    list_filter = ["kind", "module"]
    list_select_related = ["account", "module", "logged_by"]
    raw_id_fields = ["account", "logged_by", "participants"]
    date_hierarchy = "occurred_at"
    search_fields = ["account__name"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "account",
        "assignee",
        "due_on",
        "status",
        "snoozed_until",
        "module",
        "tier_code",
    ]
    list_filter = ["status", "tier_code"]
    list_select_related = ["account", "assignee", "module"]
    raw_id_fields = ["account", "assignee", "playbook_run", "created_by", "completed_by"]
    search_fields = ["title", "account__name"]


@admin.register(PlaybookRun)
class PlaybookRunAdmin(admin.ModelAdmin):
    list_display = ["playbook", "account", "key", "tier_code", "started_at"]
    list_filter = ["playbook"]
    list_select_related = ["playbook", "account"]
    raw_id_fields = ["account"]


@admin.register(HandoffCommitment)
class HandoffCommitmentAdmin(admin.ModelAdmin):
    list_display = ["account", "module", "cadence_days", "status", "logged_by", "decided_by", "created_at"]
    list_filter = ["status", "module"]
    list_select_related = ["account", "module", "logged_by", "decided_by"]
    raw_id_fields = ["account", "logged_by", "decided_by", "add_on"]
    search_fields = ["account__name", "deal_reference"]


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "status", "raised_at", "expires_at", "closed_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["account"]
    raw_id_fields = ["account", "resolved_by"]


@admin.register(ModuleDelivery)
class ModuleDeliveryAdmin(admin.ModelAdmin):
    list_display = ["account", "module", "delivered_on", "source", "source_id"]
    list_filter = ["source", "module"]
    list_select_related = ["account", "module"]
    raw_id_fields = ["account"]


@admin.register(EntitlementCoverage)
class EntitlementCoverageAdmin(admin.ModelAdmin):
    list_display = ["account", "module", "cadence_days", "last_delivered_on", "next_due_on", "is_add_on"]
    list_filter = ["module", "is_add_on"]
    list_select_related = ["account", "module"]
    raw_id_fields = ["account"]
