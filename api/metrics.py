"""Prometheus metrics of one app: latency per route, verdicts, reasons, index size, and
each key's queue (requests waiting for a slot, and how long they waited)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from address.verify import Verification
from api.protocol import connection_events, open_connections
from api.security import ConcurrencyLimiter

__all__ = ["Metrics"]

# Buckets from a keystroke (ms) to a batch of 1,000 (seconds).
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# From a free slot (no wait) to the queue's default limit of 10 s.
_WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's own registry, so two apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "addr_request_seconds",
            "Request latency by route and status.",
            ["route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "addr_verdicts", "Verdicts given.", ["verdict"], registry=self.registry
        )
        self.reasons = Counter("addr_reasons", "Reasons given.", ["reason"], registry=self.registry)
        self.classifier_runs = Counter(
            "addr_classifier_runs",
            "Verifications the classifier had to decide.",
            registry=self.registry,
        )
        self.index_size = Gauge(
            "addr_index_addresses", "Known-good addresses in the index.", registry=self.registry
        )

        self.queue_wait = Histogram(
            "addr_queue_wait_seconds",
            "Time requests waited for one of their key's slots.",
            buckets=_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "addr_queue_depth",
            "Requests waiting for one of their key's slots in this worker now.",
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "addr_requests_in_progress",
            "Requests being worked on in this worker now.",
            registry=self.registry,
        )
        self.work_stopped = Counter(
            "addr_work_stopped",
            "Requests whose work stopped early because the client hung up.",
            registry=self.registry,
        )

        self.registry.register(_Connections())

    def watch(self, limiter: ConcurrencyLimiter) -> None:
        """Read the queue depth and the requests in progress from ``limiter`` on scrape."""
        self.queue_depth.set_function(lambda: limiter.waiting)
        self.in_progress.set_function(lambda: limiter.in_progress)

    def record(self, result: Verification) -> None:
        self.verdicts.labels(result.verdict.value).inc()
        for reason in result.reasons:
            self.reasons.labels(reason.value).inc()
        if result.classifier_used:
            self.classifier_runs.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Connections(Collector):
    """The connections of this process that the server answered itself and closed (slow,
    oversized, malformed, too many from one address), and those open now."""

    def collect(self) -> Iterator[Metric]:
        rejected = CounterMetricFamily(
            "addr_connections_rejected",
            "Connections answered by the server itself and closed, by kind.",
            labels=["kind"],
        )
        for kind, count in sorted(connection_events().items()):
            rejected.add_metric([kind], count)
        yield rejected
        yield GaugeMetricFamily(
            "addr_connections_open", "Connections open now.", value=open_connections()
        )
