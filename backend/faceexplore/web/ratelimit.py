"""Per-client rate limits for when the app runs without nginx (setting ``rate_limits = "app"``);
behind nginx (``"off"``, as services/run_local.py and docker-compose.yml set it) nginx limits
each client itself, with the same numbers (services/nginx.conf).

A token bucket per client address and kind of request: ``burst`` requests at once, then one
every ``60 / per_minute`` seconds. Over it: 429 ``rate_limited`` with Retry-After. The buckets
live in each worker process, so with N gunicorn workers a client may get up to N times the
numbers (the requests are spread over the workers).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, request

from .errors import ApiError


@dataclass(frozen=True)
class Limit:
    per_minute: float
    burst: int


# nginx's numbers (render_nginx_conf.py RATE_LIMITS): nginx lets burst + 1 through at once
LIMITS = {
    "search": Limit(per_minute=30, burst=20),
    "download": Limit(per_minute=12, burst=10),
    "session": Limit(per_minute=10, burst=5),
}
MAX_CLIENTS = 10_000  # buckets kept; full ones are dropped first when there are more


def limit_kind(path: str) -> str | None:
    if path.startswith("/api/search"):
        return "search"
    if path.startswith("/api/download"):
        return "download"
    if path.startswith("/api/session"):
        return "session"
    return None


class RateLimiter:
    def __init__(self, limits: dict[str, Limit] = LIMITS, clock=time.monotonic):
        self.limits, self.clock = limits, clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # (kind, client) -> (tokens, when)
        self._lock = threading.Lock()

    def wait(self, kind: str, client: str) -> float:
        """0 if the request may go ahead (and it is counted), else the seconds until it may."""
        limit = self.limits[kind]
        capacity, per_second = limit.burst + 1, limit.per_minute / 60
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get((kind, client), (capacity, now))
            tokens = min(capacity, tokens + (now - then) * per_second)
            if tokens >= 1:
                self._buckets[(kind, client)] = (tokens - 1, now)
                if len(self._buckets) > MAX_CLIENTS:
                    self._forget_full(now)
                return 0.0
            self._buckets[(kind, client)] = (tokens, now)
            return (1 - tokens) / per_second

    def _forget_full(self, now: float) -> None:
        for key, (tokens, then) in list(self._buckets.items()):
            limit = self.limits[key[0]]
            if tokens + (now - then) * limit.per_minute / 60 >= limit.burst + 1:
                del self._buckets[key]


def enforce_rate_limits(app: Flask, limiter: RateLimiter | None = None) -> RateLimiter:
    limiter = limiter or RateLimiter()

    @app.before_request
    def _rate_limit():
        kind = limit_kind(request.path)
        if kind is None or request.method == "OPTIONS":
            return
        wait = limiter.wait(kind, request.remote_addr or "")
        if wait > 0:
            raise RateLimited(math.ceil(wait))

    @app.after_request
    def _retry_after(response):
        seconds = getattr(request, "faceexplore_retry_after", None)
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
        return response

    return limiter


class RateLimited(ApiError):
    def __init__(self, retry_after: int):
        super().__init__(429, "rate_limited", "Too many requests from your address. Wait a few seconds and try again.")
        request.faceexplore_retry_after = retry_after
