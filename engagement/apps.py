from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"

    def ready(self) -> None:
        from . import receivers_journeys  # noqa: F401 - connects journey exits
        from .views import register_pages

        register_pages()
