from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "playbooks"

    def ready(self) -> None:
        from segmentation.entitlements import register_entitlements_provider
        from segmentation.simulation import register_hours_estimator

        from . import receivers  # noqa: F401 - entitlements follow policy versions
        from .hooks import weekly_hours_by_tier
        from .selectors import entitlements_for_tiers

        register_entitlements_provider(entitlements_for_tiers)
        register_hours_estimator(weekly_hours_by_tier)
