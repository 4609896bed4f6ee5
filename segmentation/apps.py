from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
        from .selectors_health import register_api_columns
        from .views import register_pages

        register_pages()
        register_api_columns()
