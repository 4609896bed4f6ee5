"""List filters for accounts (django-filter): the API list and the pages share them."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from .models import Account

# The bands segmentation's health scorecards assign (segmentation.models.HealthBand).
HEALTH_BANDS = (("at_risk", "At risk"), ("watch", "Watch"), ("healthy", "Healthy"))


class AccountFilter(django_filters.FilterSet):
    tier = django_filters.CharFilter(field_name="tier_code", help_text="Tier code, e.g. MM1.")
    csm = django_filters.CharFilter(field_name="csm__username", help_text="The CSM's username.")
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Accounts changed at or after this time."
    )
    health_band = django_filters.ChoiceFilter(
        field_name="health_band", choices=HEALTH_BANDS, help_text="Latest health band."
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Name or domain contains (case-insensitive)."
    )

    class Meta:
        model = Account
        fields = ["tier", "csm", "health_band", "updated_since", "search"]

    def filter_search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value))
