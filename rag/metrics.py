"""Prometheus metrics: requests and latencies by route, memory, index size, LLM calls."""
from __future__ import annotations

import threading
import time
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Request counters and latency histograms, by route template."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            self.sums[route] += seconds
            self.counts[route] += 1
            bucket = self.buckets[route]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    bucket[i] += 1

    def render(self, gauges: dict[str, float], llm: dict) -> str:
        """The Prometheus text exposition format."""
        lines = ["# TYPE http_requests_total counter"]
        with self._lock:
            for (route, method, status), n in sorted(self.requests.items()):
                lines.append(f'http_requests_total{{route="{route}",method="{method}",status="{status}"}} {n}')
            lines.append("# TYPE http_request_duration_seconds histogram")
            for route in sorted(self.counts):
                lines += _histogram(route, self.buckets[route], self.sums[route], self.counts[route])
        for name, value in gauges.items():
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
        lines += _llm_lines(llm)
        return "\n".join(lines) + "\n"


def _histogram(route: str, bucket: list[int], total: float, count: int) -> list[str]:
    name = "http_request_duration_seconds"
    lines = [f'{name}_bucket{{route="{route}",le="{bound}"}} {n}' for bound, n in zip(BUCKETS, bucket)]
    lines.append(f'{name}_bucket{{route="{route}",le="+Inf"}} {count}')
    return lines + [f'{name}_sum{{route="{route}"}} {total:.6f}', f'{name}_count{{route="{route}"}} {count}']


def _llm_lines(llm: dict) -> list[str]:
    lines = ["# TYPE llm_calls_total counter", "# TYPE llm_failures_total counter"]
    for provider, stats in sorted(llm.get("by_provider", {}).items()):
        lines.append(f'llm_calls_total{{provider="{provider}"}} {stats["calls"]}')
        lines.append(f'llm_failures_total{{provider="{provider}"}} {stats["failures"]}')
    return lines


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request (streams until their last byte)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - started)
