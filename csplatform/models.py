from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """A person using csplatform. Roles are groups (see csplatform.roles)."""

    weekly_capacity_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=40,
        help_text="Hours per week this person can spend on their portfolio (CSM capacity).",
    )
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_capacity_hours__gte=0), name="user_capacity_non_negative"
            )
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


# Whoever a request carries: a signed-in person, or an anonymous visitor before the login check.
# Decisions that may see either (authorization, roles, context processors) take this; services
# that act on someone's behalf take ``User``.
AnyUser = User | AnonymousUser


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API key. Only its SHA-256 hash is stored; the key is shown once when issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters of the key, to tell keys apart.")
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"{self.prefix}… ({self.user}, {mode})"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)


class PendingDispatch(models.Model):
    """A task written in the same transaction as the change that needs it (a task outbox).

    The row is deleted once the broker accepted the message; if the broker was down, the
    sweeper (``csplatform.jobs.dispatch_sweep``, every minute) publishes it again. Tasks are
    safe to run twice, so a message published twice does no harm; a message never published
    would lose work.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.task_name}({self.kwargs})"


class ScheduledRun(models.Model):
    """One row per (periodic job, time slot): the unique constraint makes a second beat harmless."""

    job = models.CharField(max_length=120)
    slot = models.DateTimeField(help_text="Start of the time slot this run covers.")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduledrun_unique_slot")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A person's named filter set on a list page (the worklist, the accounts list): the page's
    query string, opened again with one click. Each person sees only their own."""

    class Page(models.TextChoices):
        WORKLIST = "worklist", "Worklist"
        ACCOUNTS = "accounts", "Accounts"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    page = models.CharField(max_length=20, choices=Page.choices)
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "page", "name"], name="savedview_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.page}:{self.name}"
