"""Hook for tier entitlements, which live in the playbooks app (a higher app).

playbooks registers a provider in its ready()::

    from segmentation.entitlements import register_entitlements_provider
    register_entitlements_provider(entitlements_for_tiers)

``provider(tier_ids: list[int]) -> dict[int, list[dict]]`` maps a tier id to its entitlements,
each ``{"module": <module code>, "cadence_days": <int or None>}``. Until one is registered every
tier has no entitlements (``[]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EntitlementsProvider = Callable[[list[int]], dict[int, list[dict[str, Any]]]]
_provider: EntitlementsProvider | None = None


def register_entitlements_provider(provider: EntitlementsProvider | None) -> None:
    global _provider
    _provider = provider


def entitlements_for(tier_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if _provider is None or not tier_ids:
        return {tier_id: [] for tier_id in tier_ids}
    found = _provider(tier_ids)
    return {tier_id: list(found.get(tier_id, [])) for tier_id in tier_ids}
