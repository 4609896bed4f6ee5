from django.apps import AppConfig


class CsplatformConfig(AppConfig):
    name = "csplatform"
    verbose_name = "csplatform core"

    def ready(self) -> None:
        from . import checks, roles  # noqa: F401 (checks registers the deployment checks)
        from .home import register_home
        from .views import integration_home, leadership_overview

        register_home(roles.CS_LEADERSHIP, leadership_overview)
        register_home(roles.INTEGRATION, integration_home)
