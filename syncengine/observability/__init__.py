"""What an operator watches: Prometheus metrics (``/metrics``) and a read-only status page (``/``).

Both are plain Starlette routes, so the daemon mounts them next to its own endpoints and
:func:`serve_status` serves them alone (``syncengine status --serve``).
"""

from syncengine.observability.metrics import MetricsRecorder, metrics_route
from syncengine.observability.serve import serve_status, status_app
from syncengine.observability.status_page import SchedulerInfo, status_routes

__all__ = ["MetricsRecorder", "SchedulerInfo", "metrics_route", "serve_status", "status_app", "status_routes"]
