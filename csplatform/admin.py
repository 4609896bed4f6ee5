"""Admin for people and API tokens. A token's key is shown once, when it is issued, never again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiToken, User
from .services import api_token_issue, api_tokens_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "roles",
        "weekly_capacity_hours",
        "is_active",
    )
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Customer success", {"fields": ("weekly_capacity_hours", "time_zone")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "read_only")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "read_only", "created_at", "last_used_at", "revoked_at")
    list_filter = ("read_only", "revoked_at")
    search_fields = ("prefix", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    actions = ("revoke",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("user", "read_only")
        return ("user", "prefix", "read_only", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        # A token is never edited: revoke it and issue another.
        return ("user", "prefix", "read_only", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        token, key = api_token_issue(user=form.cleaned_data["user"], read_only=form.cleaned_data["read_only"])
        obj.pk = token.pk
        obj.key_hash = token.key_hash
        obj.prefix = token.prefix
        obj.created_at = token.created_at
        messages.warning(
            request, f"The new key is {key} — copy it now; it is not stored and will not be shown again."
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = api_tokens_revoke(tokens=queryset)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
