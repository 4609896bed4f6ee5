"""The engagement pages, one URL list per capability, all named in the ``engagement`` namespace.

Journey screens have their own namespace (``journeys``, ``engagement.journeys.urls``).
"""

from .capacity.urls import urlpatterns as capacity_urls
from .coverage.urls import urlpatterns as coverage_urls
from .handoffs.urls import urlpatterns as handoffs_urls
from .retention.urls import urlpatterns as retention_urls
from .todo.urls import urlpatterns as todo_urls
from .touchpoints.urls import urlpatterns as touchpoints_urls
from .worklist.urls import urlpatterns as worklist_urls

app_name = "engagement"

urlpatterns = [
    *worklist_urls,
    *touchpoints_urls,
    *todo_urls,
    *handoffs_urls,
    *coverage_urls,
    *capacity_urls,
    *retention_urls,
]
