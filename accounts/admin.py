"""Django admin for operators. Account edits go through the same service as the API and pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest

from csplatform.authorization import signed_in

from .models import (
    Account,
    AccountFieldChange,
    AccountInputProposal,
    Contact,
    InputProposalStatus,
    RenewalOutcome,
    UsageSnapshot,
)
from .services import account_create, renewal_record
from .services.accounts import EDITABLE_FIELDS
from .services.contacts import contact_save
from .services.governance import (
    account_edit,
    account_edit_check,
    account_input_proposal_approve,
    account_input_proposal_decline,
)
from .services.renewals import renewal_errors


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "role", "is_champion", "is_executive", "email_opt_out")
    show_change_link = True


class FieldChangeInline(admin.TabularInline):
    model = AccountFieldChange
    extra = 0
    fields = ("changed_at", "field", "old_value", "new_value", "changed_by", "source")
    readonly_fields = fields
    ordering = ("-changed_at",)
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "crm_source",
        "external_id",
        "acv",
        "tier_code",
        "lifecycle_stage",
        "region",
        "csm",
    )
    list_filter = ("tier_code", "lifecycle_stage", "region", "vertical", "csm")
    search_fields = ("name", "domain", "external_id")
    list_select_related = ("csm", "ae")
    autocomplete_fields = ("csm", "ae")
    readonly_fields = (
        "tier_code",
        "tier_name",
        "tier_source",
        "tier_explanation",
        "tier_updated_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "crm_source", "external_id", "domain", "vertical", "region")}),
        ("Contract", {"fields": ("acv", "lifecycle_stage", "contract_start", "renewal_date")}),
        ("Owners", {"fields": ("csm", "ae")}),
        (
            "Tier (maintained by segmentation)",
            {"fields": ("tier_code", "tier_name", "tier_source", "tier_explanation", "tier_updated_at")},
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )
    inlines = (ContactInline, FieldChangeInline)

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> Any:
        # The CRM id is the sync key: fixed once the account exists.
        if obj is not None:
            return (*self.readonly_fields, "crm_source", "external_id")
        return self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type("AccountAdminForm", (AccountAdminForm, form_class), {"request": request})

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        """Save through the services so admin edits keep the history, follow the same governance as
        the API (tier inputs, owners) and re-evaluate the tier."""
        saved, proposal = _save_through_services(request, obj, form)
        if proposal is not None:
            fields = ", ".join(sorted(proposal.changes))
            messages.info(request, f"The change to {fields} waits for CS Leadership approval.")
        obj.pk = saved.pk
        obj.created_at = saved.created_at
        obj.updated_at = saved.updated_at

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Contacts added or edited inline are saved through the service, like anywhere else."""
        if formset.model is not Contact:
            super().save_formset(request, form, formset, change)
            return
        for contact in formset.save(commit=False):
            contact_save(contact=contact, actor=signed_in(request.user))
        for contact in formset.deleted_objects:
            contact.delete()


def _form_data(form: Any, account: Account) -> dict[str, Any]:
    data = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
    if account.pk is None:
        return data
    return {name: value for name, value in data.items() if name in form.changed_data}


def _save_through_services(
    request: HttpRequest, account: Account, form: Any
) -> tuple[Account, AccountInputProposal | None]:
    actor = signed_in(request.user)
    data = _form_data(form, account)
    if account.pk is not None:
        # The admin form has already copied its values onto ``account``: the rules must look at
        # the account as stored (its owner, its ACV), not as the form would have it.
        stored = Account.objects.select_related("csm", "ae").get(pk=account.pk)
        edit = account_edit(account=stored, actor=actor, source="admin", data=data)
        return edit.account, edit.proposal
    created = account_create(
        actor=actor,
        source="admin",
        crm_source=form.cleaned_data.get("crm_source") or "manual",
        external_id=form.cleaned_data["external_id"],
        **data,
    )
    return created, None


class AccountAdminForm(forms.ModelForm):
    """Asks the account services' own checks while validating: a rule they enforce (who may write
    tier inputs, create accounts or move owners, owners' roles, dates) shows on the form."""

    request: HttpRequest

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        account = None
        if self.instance.pk is not None:
            account = Account.objects.select_related("csm", "ae").get(pk=self.instance.pk)
        try:
            account_edit_check(
                account=account, actor=signed_in(self.request.user), data=_form_data(self, self.instance)
            )
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
            for field, field_errors in errors.items():
                self.add_error(field if field in self.fields else None, field_errors)
        return cleaned


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "account", "role", "is_champion", "is_executive", "email_opt_out")
    list_filter = ("is_champion", "is_executive", "email_opt_out")
    search_fields = ("email", "name", "account__name")
    list_select_related = ("account",)
    raw_id_fields = ("account",)

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        contact_save(contact=obj, actor=signed_in(request.user))


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "period_start",
        "active_users",
        "licensed_seats",
        "feature_adoption",
        "support_tickets",
    )
    list_filter = ("period_start",)
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    date_hierarchy = "period_start"


@admin.register(AccountFieldChange)
class AccountFieldChangeAdmin(admin.ModelAdmin):
    """The history is evidence: operators read it, nobody edits it."""

    list_display = ("changed_at", "account", "field", "old_value", "new_value", "changed_by", "source")
    list_filter = ("field", "source")
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account", "changed_by")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RenewalOutcomeAdminForm(forms.ModelForm):
    class Meta:
        model = RenewalOutcome
        fields = ("account", "renewal_date", "outcome", "arr_before", "arr_after", "churn_reason", "note")

    def clean(self) -> dict[str, Any]:
        """The service's outcome rules, next to their fields (before the database constraint)."""
        data = super().clean() or self.cleaned_data
        instance = self.instance
        renewal_date = data.get("renewal_date", instance.renewal_date if instance.pk else None)
        errors = renewal_errors(
            renewal_date=renewal_date,
            outcome=data.get("outcome"),
            arr_before=data.get("arr_before"),
            arr_after=data.get("arr_after"),
            churn_reason=data.get("churn_reason"),
        )
        for name, field_errors in errors.items():
            if name not in self.errors:
                self.add_error(name if name in self.fields else None, field_errors)
        return data


@admin.register(RenewalOutcome)
class RenewalOutcomeAdmin(admin.ModelAdmin):
    """Outcomes are saved through the service: same rules, lifecycle and signal as the page and the API."""

    form = RenewalOutcomeAdminForm
    list_display = ("renewal_date", "account", "outcome", "arr_before", "arr_after", "churn_reason", "source")
    list_filter = ("outcome", "churn_reason", "source")
    search_fields = ("account__name", "account__external_id", "note")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    date_hierarchy = "renewal_date"
    readonly_fields = ("source", "recorded_by", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: RenewalOutcome | None = None) -> Any:
        # (account, renewal date) is the outcome's key: another date is another outcome.
        if obj is not None:
            return (*self.readonly_fields, "account", "renewal_date")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: RenewalOutcome, form: Any, change: bool) -> None:
        saved = renewal_record(
            account=obj.account,
            renewal_date=obj.renewal_date,
            outcome=obj.outcome,
            arr_before=obj.arr_before,
            arr_after=obj.arr_after,
            churn_reason=obj.churn_reason,
            note=obj.note,
            actor=signed_in(request.user),
            source="admin",
        )
        obj.pk = saved.pk
        obj.source = saved.source
        obj.recorded_by = saved.recorded_by
        obj.created_at = saved.created_at
        obj.updated_at = saved.updated_at


@admin.register(AccountInputProposal)
class AccountInputProposalAdmin(admin.ModelAdmin):
    """Changes to tier inputs asked for by CSMs: decided with the actions (through the service that
    the API uses), never edited by hand."""

    list_display = (
        "id",
        "account",
        "changes",
        "previous",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
    )
    list_filter = ("status",)
    search_fields = ("account__name", "account__external_id")
    list_select_related = ("account", "requested_by", "decided_by")
    actions = ("approve", "decline")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: Any, decide: Any, verb: str) -> None:
        done = 0
        for proposal in queryset.filter(status=InputProposalStatus.PENDING):
            try:
                decide(proposal=proposal, by=signed_in(request.user))
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(
                    request, f"{proposal.account}: {' '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
        if done:
            messages.success(request, f"{done} proposal(s) {verb}.")

    @admin.action(description="Approve the selected changes")
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, account_input_proposal_approve, "approved")

    @admin.action(description="Decline the selected changes")
    def decline(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, account_input_proposal_decline, "declined")
