from importlib import import_module

from django.apps import AppConfig

# Capabilities that follow other apps' signals, in the order their receivers connect: a signal's
# receivers run in that order (playbooks start before the old tier's journeys stop).
CAPABILITIES_WITH_RECEIVERS = (
    "playbook_runs",
    "capacity",
    "coverage",
    "flags",
    "demo",
    "journeys",
    "health",
    "retention",
    "surveys",
    "notifications",
)


class EngagementConfig(AppConfig):
    name = "engagement"

    def ready(self) -> None:
        from segmentation.economics import register_minutes_sql

        from .capacity import views as capacity_views
        from .coverage import views as coverage_views
        from .handoffs import views as handoffs_views
        from .health import inputs as health_inputs
        from .journeys import views as journeys_views
        from .retention import views as retention_views
        from .surveys import views as surveys_views
        from .todo import views as todo_views
        from .touchpoints import views as touchpoints_views
        from .touchpoints.queries import touchpoint_minutes_since_sql
        from .worklist import views as worklist_views

        for capability in CAPABILITIES_WITH_RECEIVERS:
            import_module(f"{self.name}.{capability}.receivers")
        # Homes, account page sections and overview panels (each placed by its own order).
        for views in (
            worklist_views,
            handoffs_views,
            coverage_views,
            todo_views,
            touchpoints_views,
            capacity_views,
            journeys_views,
            retention_views,
            surveys_views,
        ):
            views.register_pages()
        # Cost-to-serve counts the CSM minutes logged as touchpoints.
        register_minutes_sql(touchpoint_minutes_since_sql())
        # Coverage kept, open flags and recency of touch are inputs to account health.
        health_inputs.register()
