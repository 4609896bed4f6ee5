from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from csplatform import bounds


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTING = "adopting", "Adopting"
    MATURE = "mature", "Mature"
    RENEWING = "renewing", "Renewing"
    CHURNED = "churned", "Churned"


class Region(models.TextChoices):
    AMERICAS = "Americas", "Americas"
    EMEA = "EMEA", "EMEA"
    APAC = "APAC", "APAC"
    MENA = "MENA", "MENA"


# A region's reference time zone, used for send windows when a contact has none.
REGION_TIME_ZONES = {
    Region.AMERICAS: "America/New_York",
    Region.EMEA: "Europe/Berlin",
    Region.APAC: "Asia/Singapore",
    Region.MENA: "Asia/Dubai",
}


class Vertical(models.TextChoices):
    RETAIL = "retail", "Retail"
    ECOMMERCE = "e-commerce", "E-commerce"
    TRAVEL = "travel", "Travel"
    GAMING = "gaming", "Gaming"
    AGENCIES = "agencies", "Agencies"
    B2B_SOFTWARE = "b2b-software", "B2B software"
    MEDIA = "media", "Media & publishing"
    FINANCE = "finance", "Financial services"
    OTHER = "other", "Other"


class TierSource(models.TextChoices):
    POLICY = "policy", "Policy"
    OVERRIDE = "override", "Override"


class Account(models.Model):
    crm_source = models.CharField(max_length=40, default="manual")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True, default="")
    vertical = models.CharField(max_length=20, choices=Vertical.choices, blank=True, default="")
    region = models.CharField(max_length=10, choices=Region.choices, blank=True, default="")
    acv = models.DecimalField(
        "ACV", max_digits=14, decimal_places=2, default=0, validators=bounds.MONEY.validators()
    )
    lifecycle_stage = models.CharField(
        max_length=12, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING
    )
    contract_start = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csm_accounts",
        # No index of its own: the (csm, name) index below starts with this column, and every
        # index on this table is rewritten by each tier change of a review.
        db_index=False,
        verbose_name="CSM",
    )
    ae = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ae_accounts",
        # No index of its own: the (ae, name) index below starts with this column, and every
        # index on this table is rewritten by each tier change of a review.
        db_index=False,
        verbose_name="AE",
    )
    # The effective tier, denormalised for fast reads. Written only by segmentation services.
    tier_code = models.CharField(max_length=10, blank=True, default="")
    tier_name = models.CharField(max_length=80, blank=True, default="")
    tier_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    tier_source = models.CharField(max_length=10, choices=TierSource.choices, blank=True, default="")
    tier_explanation = models.TextField(blank=True, default="")
    tier_updated_at = models.DateTimeField(null=True, blank=True)
    # The latest health, denormalised for lists and ordering. Written only by segmentation services.
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_band = models.CharField(max_length=10, blank=True, default="", db_default="")
    health_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["crm_source", "external_id"], name="account_unique_crm_id"),
            models.CheckConstraint(condition=Q(acv__gte=0), name="account_acv_non_negative"),
            models.CheckConstraint(
                condition=Q(renewal_date__isnull=True)
                | Q(contract_start__isnull=True)
                | Q(renewal_date__gte=F("contract_start")),
                name="account_renewal_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["csm", "name"], name="account_csm_name"),
            models.Index(fields=["ae", "name"], name="account_ae_name"),
            models.Index(fields=["tier_code", "id"], name="account_tier"),
            models.Index(fields=["updated_at", "id"], name="account_updated"),
            models.Index(fields=["renewal_date"], name="account_renewal"),
            models.Index(fields=["name"], name="account_name"),
            models.Index(fields=["health_score", "id"], name="account_health"),
        ]

    def __str__(self) -> str:
        return self.name


# Fields whose changes are kept in AccountFieldChange and re-evaluate the tier.
TRACKED_FIELDS = ("acv", "csm", "ae", "lifecycle_stage", "renewal_date")


class AccountFieldChange(models.Model):
    """Who changed an account's ACV, owners, lifecycle stage or renewal date, and when."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="field_changes")
    field = models.CharField(max_length=30)
    old_value = models.CharField(max_length=255, blank=True, default="")
    new_value = models.CharField(max_length=255, blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=40, help_text="sync:<crm_source>, api, admin, web, seed")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-changed_at"], name="acctchange_account_time")]

    def __str__(self) -> str:
        return f"{self.account_id}.{self.field}: {self.old_value} → {self.new_value}"


# The account fields that decide a tier (signals of the tier rules). The CRM integration and CS
# Leadership write them; a CSM's change to them waits as an AccountInputProposal.
TIER_INPUT_FIELDS = ("acv", "lifecycle_stage", "renewal_date")


class InputProposalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class AccountInputProposal(models.Model):
    """A change to an account's tier inputs asked for by someone who may not write them.

    ``changes`` and ``previous`` map field names to the values as text (money with two places,
    ISO dates), as the field history writes them.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="input_proposals")
    changes = models.JSONField()
    previous = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=InputProposalStatus.choices, default=InputProposalStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=40)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A second request on the same account replaces the pending one's changes.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status=InputProposalStatus.PENDING),
                name="inputproposal_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="inputproposal_status")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.changes} ({self.status})"

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, value before, value asked for) of each proposed field."""
        labels = {"acv": "ACV", "lifecycle_stage": "Lifecycle stage", "renewal_date": "Renewal date"}
        return [
            (labels.get(field, field), self.previous.get(field, ""), value)
            for field, value in self.changes.items()
        ]


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True, default="")
    role = models.CharField(max_length=120, blank=True, default="")
    is_champion = models.BooleanField(default=False)
    is_executive = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # Unsubscribing is the person's decision: a CRM sync never clears it.
    email_opt_out = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="contact_unique_email_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class UsageSnapshot(models.Model):
    """One period of an account's product usage: the source of behavioural signals."""

    # The unique (account, period_start) index serves every read by account, newest first
    # included (a backward scan): a separate index on the account, or on (account, period_start
    # DESC), would only be written. A book's usage is its largest table: 26 rows per account.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="usage_snapshots", db_index=False
    )
    period_start = models.DateField()
    active_users = models.PositiveIntegerField(default=0)
    licensed_seats = models.PositiveIntegerField(default=0)
    feature_adoption = models.DecimalField(
        max_digits=4, decimal_places=3, default=0, help_text="Share of key features in use, 0–1."
    )
    support_tickets = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period_start"], name="usage_unique_period"),
            models.CheckConstraint(
                condition=Q(feature_adoption__gte=0) & Q(feature_adoption__lte=1),
                name="usage_feature_adoption_0_1",
            ),
        ]
        get_latest_by = "period_start"

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.period_start}"

    @property
    def seat_utilisation(self) -> float | None:
        if not self.licensed_seats:
            return None
        return self.active_users / self.licensed_seats


class RenewalOutcomeKind(models.TextChoices):
    RENEWED = "renewed", "Renewed"
    EXPANDED = "expanded", "Expanded"
    CONTRACTED = "contracted", "Contracted"
    CHURNED = "churned", "Churned"


class ChurnReason(models.TextChoices):
    BUDGET = "budget", "Budget"
    PRODUCT_FIT = "product_fit", "Product fit"
    COMPETITOR = "competitor", "Competitor"
    CHAMPION_LEFT = "champion_left", "Champion left"
    ACQUIRED = "acquired", "Acquired"
    SERVICE = "service", "Service"
    OTHER = "other", "Other"


class RenewalOutcome(models.Model):
    """What happened at one renewal of an account: the ground truth retention is measured on.

    The outcome rules (churned: ARR after 0 and a reason; expanded: ARR up; contracted: down;
    renewed: equal) are checked by the services with field-named errors and held by the database.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="renewals")
    renewal_date = models.DateField()
    outcome = models.CharField(max_length=12, choices=RenewalOutcomeKind.choices)
    arr_before = models.DecimalField("ARR before", max_digits=14, decimal_places=2)
    arr_after = models.DecimalField("ARR after", max_digits=14, decimal_places=2)
    churn_reason = models.CharField(max_length=20, choices=ChurnReason.choices, blank=True, default="")
    note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=40, help_text="sync:<crm_source>, web, api, seed")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The segments the account fell in on its renewal day (tier held, override, health band 90 days
    # before, coverage kept, ...), answered once the day has ended by the retention report, which
    # owns their meaning (engagement.retention.queries). NULL: not answered yet, the report looks
    # them up in the history. They depend on the account and the date only, never on the figures.
    segments_at_renewal = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "renewal_date"], name="renewal_unique_date"),
            models.CheckConstraint(
                condition=Q(arr_before__gte=0) & Q(arr_after__gte=0), name="renewal_arr_non_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(outcome=RenewalOutcomeKind.CHURNED, arr_after=0) & ~Q(churn_reason="")
                    | Q(outcome=RenewalOutcomeKind.EXPANDED, arr_after__gt=F("arr_before"), churn_reason="")
                    | Q(outcome=RenewalOutcomeKind.CONTRACTED, arr_after__lt=F("arr_before"), churn_reason="")
                    | Q(outcome=RenewalOutcomeKind.RENEWED, arr_after=F("arr_before"), churn_reason="")
                ),
                name="renewal_outcome_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["renewal_date", "account"], name="renewal_date_account"),
            models.Index(fields=["account", "-renewal_date"], name="renewal_account_latest"),
            # The outcomes whose segments the retention report still looks up (few).
            models.Index(
                fields=["renewal_date"],
                name="renewal_segments_not_kept",
                condition=Q(segments_at_renewal__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.renewal_date}: {self.outcome}"
