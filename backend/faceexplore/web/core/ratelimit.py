"""Per-client rate limits for when the app runs without nginx (setting ``rate_limits = "app"``);
behind nginx (``"off"``, as services/run_local.py and docker-compose.yml set it) nginx limits
each client itself, with the same numbers (services/nginx.conf).

A token bucket per client address and kind of request: ``burst`` requests at once, then one
every ``60 / per_minute`` seconds. Over it: 429 ``rate_limited`` with Retry-After. The buckets
live in each worker process, so with N gunicorn workers a client may get up to N times the
numbers (the requests are spread over the workers).

Searches are also limited in flight: at most ``SEARCHES_IN_FLIGHT`` per client at once, across
every worker process (nginx: limit_conn on /api/search). Each search costs seconds of CPU and
hundreds of MB in the worker that runs it, so one client must not occupy every worker within the
rate. A client holds one of its slots, a lock (flock) on a file in ``DATA/inflight/``, while its
search runs; the kernel drops the lock if the worker dies, so a slot is never lost.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g, request

from .errors import ApiError

log = logging.getLogger(__name__)


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


SEARCHES_IN_FLIGHT = 2  # per client (render_nginx_conf.py UPLOADS_IN_FLIGHT)
IN_FLIGHT_RETRY_AFTER_S = 5
INFLIGHT_DIR = "inflight"


def limit_kind(path: str) -> str | None:
    if path.startswith("/api/search") or path.startswith("/api/saved"):  # opening a saved search runs one
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


class InFlightSlots:
    """At most ``slots`` requests per client at once, counted across processes: slot ``i`` of a
    client is an exclusive flock on ``folder/<client hash>.<i>``. flock belongs to the open file,
    so two threads of one worker exclude each other as two workers do; a lock dies with its
    process. A freed slot's file is removed while still locked, and a taker checks that the file
    it locked is still the one at that name, so no two holders ever share a slot."""

    def __init__(self, folder: str | os.PathLike, slots: int = SEARCHES_IN_FLIGHT):
        self.folder, self.slots = Path(folder), slots

    def _path(self, client: str, slot: int) -> Path:
        return self.folder / f"{hashlib.sha256(client.encode()).hexdigest()[:32]}.{slot}"

    def take(self, client: str) -> tuple[int, Path] | None:
        """A free slot of ``client``'s (the open, locked file and its path), or None if all are taken."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for slot in range(self.slots):
            path = self._path(client, slot)
            for _ in range(5):  # the file may be removed between our open and lock: open it again
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    break  # held: try the next slot
                try:
                    if os.stat(path).st_ino == os.fstat(fd).st_ino:
                        return fd, path
                except FileNotFoundError:
                    pass
                os.close(fd)
        return None

    @staticmethod
    def give_back(held: tuple[int, Path]) -> None:
        fd, path = held
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)  # drops the lock


def enforce_rate_limits(app: Flask, limiter: RateLimiter | None = None) -> RateLimiter:
    limiter = limiter or RateLimiter()
    state = app.extensions.get("faceexplore")
    searches = InFlightSlots(Path(state.settings.data_dir) / INFLIGHT_DIR) if state is not None else None

    @app.before_request
    def _rate_limit():
        kind = limit_kind(request.path)
        if kind is None or request.method == "OPTIONS":
            return
        wait = limiter.wait(kind, request.remote_addr or "")
        if wait > 0:
            raise RateLimited(math.ceil(wait))
        if kind == "search" and request.method == "POST" and searches is not None:
            try:
                held = searches.take(request.remote_addr or "")
            except OSError as exc:  # a data folder it cannot write to: the rate limit alone, then
                log.warning("cannot count searches in flight in %s: %s", searches.folder, exc)
                return
            if held is None:
                raise RateLimited(
                    IN_FLIGHT_RETRY_AFTER_S,
                    f"{SEARCHES_IN_FLIGHT} searches from your address are still running. Wait for them to finish, then try again.",
                )
            g.faceexplore_search_slot = held

    @app.teardown_request
    def _free_search_slot(exc=None):
        held = g.pop("faceexplore_search_slot", None)
        if held is not None:
            InFlightSlots.give_back(held)

    @app.after_request
    def _retry_after(response):
        seconds = getattr(request, "faceexplore_retry_after", None)
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
        return response

    return limiter


class RateLimited(ApiError):
    def __init__(self, retry_after: int, message: str = "Too many requests from your address. Wait a few seconds and try again."):
        super().__init__(429, "rate_limited", message)
        request.faceexplore_retry_after = retry_after
