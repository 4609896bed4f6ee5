"""Factories for the core and accounts models. Other apps keep theirs in tests/<app>/factories.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from accounts.models import Account, Contact, LifecycleStage, Region, RenewalOutcome, UsageSnapshot
from csplatform.models import User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@csplatform.example")
    first_name = factory.LazyAttribute(lambda o: o.username.capitalize())
    last_name = "Example"
    password = factory.django.Password("correct-horse-battery")
    weekly_capacity_hours = Decimal("40")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    crm_source = "salesforce"
    external_id = factory.Sequence(lambda n: f"001{n:012d}")
    name = factory.Sequence(lambda n: f"Account {n}")
    domain = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-") + ".example")
    vertical = "retail"
    region = Region.EMEA
    acv = Decimal("20000.00")
    lifecycle_stage = LifecycleStage.ADOPTING
    contract_start = dt.date(2026, 1, 1)
    renewal_date = dt.date(2027, 1, 1)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"person{n}@customer.example")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = "Head of Operations"


class UsageSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = UsageSnapshot

    account = factory.SubFactory(AccountFactory)
    period_start = dt.date(2026, 11, 2)
    active_users = 40
    licensed_seats = 50
    feature_adoption = Decimal("0.500")
    support_tickets = 2


class RenewalOutcomeFactory(DjangoModelFactory):
    """A renewal at the same ARR; pass ``outcome``, ``arr_after`` (and ``churn_reason``) for others."""

    class Meta:
        model = RenewalOutcome

    account = factory.SubFactory(AccountFactory)
    renewal_date = dt.date(2026, 1, 1)
    outcome = "renewed"
    arr_before = Decimal("20000.00")
    arr_after = factory.LazyAttribute(lambda o: o.arr_before)
    churn_reason = ""
    source = "seed"
