from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
        from .views import register_pages

        register_pages()
