from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"

    def ready(self) -> None:
        from segmentation.economics import register_minutes_sql

        from . import (
            health_signals,
            receivers,  # noqa: F401 - playbooks, flags and coverage follow other apps
            receivers_health,  # noqa: F401 - health flags, and health follows touchpoints and flags
            receivers_journeys,  # noqa: F401 - connects journey exits
        )
        from .queries.touchpoints import touchpoint_minutes_since_sql
        from .views import register_pages
        from .views_journeys import register_journey_pages

        register_pages()
        register_journey_pages()
        # Cost-to-serve counts the CSM minutes logged as touchpoints.
        register_minutes_sql(touchpoint_minutes_since_sql())
        # Coverage kept, open flags and recency of touch are inputs to account health.
        health_signals.register()
