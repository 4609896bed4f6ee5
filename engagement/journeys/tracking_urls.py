"""``/anymail/<provider>/tracking/``: anymail's tracking webhooks, each behind the basic-auth secret."""

from .tracking import tracking_urlpatterns

urlpatterns = tracking_urlpatterns()
