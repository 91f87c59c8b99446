"""Prometheus metrics of one syncengine process, and the ``/metrics`` route that serves them.

A :class:`MetricsRecorder` owns its own registry (never prometheus-client's global one), so several
apps in one process (tests, a daemon next to a status server) never count into each other. The
daemon calls its methods as things happen (``run_finished``, ``webhook_received``,
``event_applied``); HTTP calls are counted through the HTTP layer's observer hook, per attempt,
retries and 429s included. Open conflicts are read from the ledger at scrape time, so the gauge is
right even when another process opened or settled them.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import httpx
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncengine.http.observe import add_http_observer

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from syncengine.ledger import Ledger
    from syncengine.reconcile import RunReport

__all__ = ["RUN_OUTCOMES", "WEBHOOK_OUTCOMES", "MetricsRecorder", "metrics_route"]

RUN_OUTCOMES = ("ok", "partial", "error")
#: received: new and stored; duplicate: a delivery already stored; rejected: bad signature, body or size.
WEBHOOK_OUTCOMES = ("received", "duplicate", "rejected")
#: a run's count names (``created_right``) -> the write's operation
_WRITE_OPS = {"created": "create", "updated": "update", "deleted": "delete", "archived": "archive"}
#: the side written -> which way the data flowed
_DIRECTION = {"right": "left_to_right", "left": "right_to_left"}

_RUN_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_LAG_BUCKETS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300)

_log = structlog.get_logger("syncengine.observability")


class _LedgerCollector(Collector):
    """Gauges read from the ledger when scraped: open conflicts per pipeline, and whether it answered."""

    def __init__(self, ledger: Ledger, pipelines: Sequence[str]) -> None:
        self.ledger = ledger
        self.pipelines = list(pipelines)

    def describe(self) -> Iterable[Metric]:
        return [self._up(), self._open()]  # without values: registering must not query the ledger

    @staticmethod
    def _up() -> GaugeMetricFamily:
        return GaugeMetricFamily("syncengine_ledger_up", "1 if the ledger answered this scrape, else 0")

    @staticmethod
    def _open() -> GaugeMetricFamily:
        return GaugeMetricFamily("syncengine_conflicts_open", "Conflicts parked for a person, per pipeline",
                                 labels=["pipeline"])

    def collect(self) -> Iterable[Metric]:
        up, open_conflicts = self._up(), self._open()
        try:
            per_pipeline = Tally(c.pipeline for c in self.ledger.list_conflicts(status="open"))
        except Exception as exc:  # a scrape reports the outage rather than failing
            _log.warning("metrics.ledger_unreachable", error=str(exc))
            up.add_metric([], 0)
            return [up]
        for name in self.pipelines:
            per_pipeline.setdefault(name, 0)
        for name, count in sorted(per_pipeline.items()):
            open_conflicts.add_metric([name], count)
        up.add_metric([], 1)
        return [up, open_conflicts]


class MetricsRecorder:
    """The process's metrics in a registry of their own; the daemon tells it what happened."""

    def __init__(self, ledger: Ledger | None = None, pipelines: Sequence[str] = ()) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter("syncengine_runs", "Pipeline runs by how they ended: ok, partial or error",
                            ["pipeline", "outcome"], registry=r)
        self.records_written = Counter(
            "syncengine_records_written", "Records written, per pipeline, object pair, direction and operation",
            ["pipeline", "object", "direction", "op"], registry=r)
        self.run_duration = Histogram("syncengine_run_duration_seconds", "Wall time of a pipeline run",
                                      ["pipeline"], buckets=_RUN_BUCKETS, registry=r)
        self.last_run = Gauge("syncengine_last_run_finished_timestamp_seconds",
                              "When the pipeline's last run ended (Unix time)", ["pipeline"], registry=r)
        self.webhook_events = Counter(
            "syncengine_webhook_events", "Webhook deliveries per connector: received, duplicate or rejected",
            ["connector", "outcome"], registry=r)
        self.http_requests = Counter(
            "syncengine_http_requests", "HTTP calls per connector and status (every attempt, retries included; "
            "status 'error' when no answer came)", ["connector", "status"], registry=r)
        self.http_rate_limited = Counter("syncengine_http_rate_limited",
                                         "HTTP 429 answers per connector", ["connector"], registry=r)
        self.event_lag = Histogram(
            "syncengine_event_to_write_lag_seconds", "From a webhook's arrival to its record written on the other side",
            ["connector"], buckets=_LAG_BUCKETS, registry=r)
        for pipeline in pipelines:  # known series start at zero, so rates and alerts see them at once
            for outcome in RUN_OUTCOMES:
                self.runs.labels(pipeline, outcome)
        if ledger is not None:
            r.register(_LedgerCollector(ledger, pipelines))
        self._stop_http: Callable[[], None] | None = None

    # -- what the daemon calls -------------------------------------------------------------------

    def run_finished(self, report: RunReport) -> None:
        """Count a finished run: its outcome, duration and what it wrote. A plan writes nothing
        and is not a run; it is not counted."""
        if report.mode == "plan":
            return
        self.runs.labels(report.pipeline, report.status).inc()
        if report.finished_at is not None:
            self.run_duration.labels(report.pipeline).observe(
                max(0.0, (report.finished_at - report.started_at).total_seconds()))
            self.last_run.labels(report.pipeline).set(report.finished_at.timestamp())
        for pair in report.pairs:
            for name, count in pair.counts.items():
                kind, _, side = name.partition("_")
                if kind in _WRITE_OPS and side in _DIRECTION and count:
                    self.records_written.labels(report.pipeline, pair.pair, _DIRECTION[side],
                                                _WRITE_OPS[kind]).inc(count)

    def webhook_received(self, connector: str, outcome: str) -> None:
        """One delivery to ``POST /webhooks/{connector}``: received, duplicate or rejected."""
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"webhook outcome must be one of {', '.join(WEBHOOK_OUTCOMES)}, not {outcome!r}")
        self.webhook_events.labels(connector, outcome).inc()

    def event_applied(self, connector: str, lag_seconds: float) -> None:
        """A webhook's record was written on the other side ``lag_seconds`` after it arrived."""
        self.event_lag.labels(connector).observe(max(0.0, lag_seconds))

    def http_call(self, connector: str, request: httpx.Request, response: httpx.Response | None) -> None:
        """One HTTP attempt (an :data:`~syncengine.http.observe.HttpObserver`)."""
        status = "error" if response is None else str(response.status_code)
        self.http_requests.labels(connector, status).inc()
        if response is not None and response.status_code == 429:
            self.http_rate_limited.labels(connector).inc()

    # -- HTTP observation ------------------------------------------------------------------------

    def observe_http(self) -> MetricsRecorder:
        """Count this process's HTTP calls from now until :meth:`close`."""
        if self._stop_http is None:
            self._stop_http = add_http_observer(self.http_call)
        return self

    def close(self) -> None:
        if self._stop_http is not None:
            self._stop_http()
            self._stop_http = None

    def __enter__(self) -> MetricsRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def metrics_route(recorder: MetricsRecorder, path: str = "/metrics") -> Route:
    """``GET /metrics`` in the text exposition format (a sync endpoint: Starlette runs it in its
    thread pool, so the ledger read of a scrape never blocks the event loop)."""

    def metrics(request: Request) -> Response:
        return Response(recorder.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Route(path, metrics, methods=["GET"], name="metrics")
