from django.contrib import admin

from .models import AccountAddOn, Playbook, PlaybookStep, ServiceModule, TierEntitlement


@admin.register(ServiceModule)
class ServiceModuleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "default_cadence_days", "expected_minutes", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]


@admin.register(TierEntitlement)
class TierEntitlementAdmin(admin.ModelAdmin):
    list_display = ["tier", "module", "cadence_days", "updated_at", "updated_by"]
    list_filter = ["tier__policy", "tier__code"]
    list_select_related = ["tier__policy", "module", "updated_by"]
    raw_id_fields = ["updated_by"]


@admin.register(AccountAddOn)
class AccountAddOnAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "module",
        "cadence_days",
        "status",
        "source",
        "starts_on",
        "ends_on",
        "decided_by",
    ]
    list_filter = ["status", "source", "module"]
    list_select_related = ["account", "module", "decided_by"]
    raw_id_fields = ["account", "requested_by", "decided_by"]
    search_fields = ["account__name"]


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 0
    fields = [
        "position",
        "kind",
        "title",
        "due_offset_days",
        "checklist",
        "module",
        "estimated_minutes",
        "journey_code",
    ]


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "trigger", "tier_code", "renewal_days", "flag_kind", "is_active"]
    list_filter = ["trigger", "tier_code", "is_active"]
    search_fields = ["name", "code"]
    inlines = [PlaybookStepInline]
