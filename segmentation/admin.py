"""Admin for operators: policies and tiers, reviews, tier changes and overrides.

Writes that carry business rules (activation, approvals) go through services, via admin actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from csplatform.authorization import signed_in

from .models import AccountTierState, PolicyStatus, Tier, TierChange, TierOverride, TierPolicy, TierReview
from .services import tier_override_approve, tier_policy_activate, tier_policy_clone


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ["rank", "code", "name", "touch_model", "min_acv"]


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "name",
        "status",
        "apply_mode",
        "hysteresis_band",
        "activated_by",
        "activated_at",
    ]
    list_filter = ["status", "apply_mode"]
    readonly_fields = ["status", "created_by", "created_at", "activated_by", "activated_at", "retired_at"]
    inlines = [TierInline]
    actions = ["activate", "clone"]

    def has_change_permission(self, request: HttpRequest, obj: TierPolicy | None = None) -> bool:
        # Active and retired policies are history: change a draft (clone the active one first).
        if obj is not None and obj.status != PolicyStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description="Activate the selected draft")
    def activate(self, request: HttpRequest, queryset: QuerySet[TierPolicy]) -> None:
        for policy in queryset:
            try:
                tier_policy_activate(policy=policy, by=signed_in(request.user))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"v{policy.version}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"v{policy.version} is now active.")

    @admin.action(description="Clone into a new draft")
    def clone(self, request: HttpRequest, queryset: QuerySet[TierPolicy]) -> None:
        for policy in queryset:
            draft = tier_policy_clone(policy=policy, by=signed_in(request.user))
            self.message_user(request, f"Draft v{draft.version} created from v{policy.version}.")


@admin.register(TierReview)
class TierReviewAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "trigger",
        "policy",
        "accounts_done",
        "accounts_total",
        "changes_applied",
        "changes_proposed",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "trigger"]
    readonly_fields = [f.name for f in TierReview._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "from_code", "to_code", "source", "status", "applied_at", "by"]
    list_filter = ["source", "status", "to_code"]
    search_fields = ["account__name", "account__external_id"]
    raw_id_fields = ["account", "review", "override", "by", "decided_by", "policy"]
    readonly_fields = [f.name for f in TierChange._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TierOverride)
class TierOverrideAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "policy_tier_code",
        "tier_code",
        "reason",
        "status",
        "expires_on",
        "requested_by",
    ]
    list_filter = ["status", "reason", "tier_code"]
    search_fields = ["account__name", "note"]
    raw_id_fields = ["account", "requested_by", "decided_by", "rejected_change"]
    readonly_fields = [f.name for f in TierOverride._meta.fields]
    actions = ["approve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve the selected pending overrides")
    def approve(self, request: HttpRequest, queryset: QuerySet[TierOverride]) -> None:
        for override in queryset:
            try:
                tier_override_approve(override=override, by=signed_in(request.user), note="Approved in admin")
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"#{override.pk}: {exc}", messages.ERROR)


@admin.register(AccountTierState)
class AccountTierStateAdmin(admin.ModelAdmin):
    list_display = ["account", "policy_tier_code", "pending_downgrade_reviews", "evaluated_at"]
    raw_id_fields = ["account", "policy"]
    readonly_fields = [f.name for f in AccountTierState._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
