from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outbound webhooks: the top of the dependency chain, it follows every other app's signals."""

    name = "integrations"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
