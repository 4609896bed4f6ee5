"""The demo people: CSMs, AEs, CS Leadership and the CRM integration user, one password for all."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from csplatform import roles
from csplatform.models import User

# Public on purpose: it only ever protects demo data on a laptop. Production has no demo users.
DEMO_PASSWORD = "demo-password"  # noqa: S105


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    weekly_capacity_hours: int
    time_zone: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("maria", "Maria", "Santos", roles.CSM, 40, "America/New_York"),
    DemoUser("james", "James", "Okafor", roles.CSM, 40, "America/Chicago"),
    DemoUser("priya", "Priya", "Raman", roles.CSM, 36, "Asia/Singapore"),
    DemoUser("lucas", "Lucas", "Meyer", roles.CSM, 40, "Europe/Berlin"),
    DemoUser("sofia", "Sofia", "Rossi", roles.CSM, 32, "Europe/Rome"),
    DemoUser("ahmed", "Ahmed", "Haddad", roles.CSM, 40, "Asia/Dubai"),
    DemoUser("yuki", "Yuki", "Tanaka", roles.CSM, 30, "Asia/Tokyo"),
    DemoUser("emma", "Emma", "Clarke", roles.CSM, 40, "Europe/London"),
    DemoUser("tom", "Tom", "Becker", roles.ACCOUNT_EXECUTIVE, 40, "America/New_York"),
    DemoUser("nina", "Nina", "Kowalski", roles.ACCOUNT_EXECUTIVE, 40, "Europe/Warsaw"),
    DemoUser("omar", "Omar", "Farouk", roles.ACCOUNT_EXECUTIVE, 40, "Asia/Dubai"),
    DemoUser("kenji", "Kenji", "Sato", roles.ACCOUNT_EXECUTIVE, 40, "Asia/Tokyo"),
    DemoUser("lena", "Lena", "Fischer", roles.CS_LEADERSHIP, 20, "Europe/Berlin"),
    DemoUser("david", "David", "Brooks", roles.CS_LEADERSHIP, 20, "America/New_York"),
    DemoUser("crm-sync", "CRM", "Integration", roles.INTEGRATION, 0, "UTC"),
)


def ensure_demo_users() -> dict[str, list[int]]:
    """Create or refresh the demo people; returns user ids per role, in DEMO_USERS order."""
    # One hash for all: hashing the same password fifteen times only costs seconds.
    password_hash = make_password(DEMO_PASSWORD)
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ALL_ROLES)}
    ids: dict[str, list[int]] = {role: [] for role in roles.ALL_ROLES}
    for person in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=person.username,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{person.username}@csplatform.example",
                "password": password_hash,
                "weekly_capacity_hours": person.weekly_capacity_hours,
                "time_zone": person.time_zone,
                "is_active": True,
                "is_staff": person.role == roles.CS_LEADERSHIP,
            },
        )
        user.groups.add(groups[person.role])
        ids[person.role].append(user.pk)
    return ids


def demo_user_ids() -> dict[str, list[tuple[str, int]]]:
    by_name = dict(
        User.objects.filter(username__in=[p.username for p in DEMO_USERS]).values_list("username", "id")
    )
    result: dict[str, list[tuple[str, int]]] = {role: [] for role in roles.ALL_ROLES}
    for person in DEMO_USERS:
        result[person.role].append((person.username, by_name[person.username]))
    return result
