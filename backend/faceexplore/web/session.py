"""The organiser's login: GET/POST/DELETE /api/session, and the checks organiser routes call.

The session is Flask's signed cookie (the app's secret key), HttpOnly and SameSite=Strict, Secure
when the request came over https (``request.is_secure``; behind proxies set ``proxy_hops`` so
that their X-Forwarded-Proto counts) or when ``cookie_secure`` is set. It holds:

- ``password``: the fingerprint of the password hash it was opened with (auth.fingerprint): a
  new password (``faceexplore set-password``) ends every earlier session;
- ``csrf``: a random token the page reads from GET /api/session and sends back in the
  ``X-CSRF-Token`` header of every state-changing organiser request.

Failed logins are counted per client address and over all clients, in each worker: past the
limits a login is refused with 429 at once (never by holding the worker), until the oldest
failure in the window is old enough. nginx also limits /api/session per client.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections import deque
from datetime import timedelta

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_openapi3 import APIBlueprint

from .. import auth
from .errors import ApiError, error_responses
from .models import LoginRequest, SessionState
from .serialize import json_response
from .state import state

bp = APIBlueprint("session", __name__)

SESSION_LIFETIME = timedelta(days=7)
FAILURE_WINDOW_S = 60.0
FAILURES_PER_CLIENT = 5  # in FAILURE_WINDOW_S, per address
FAILURES_OVERALL = 30  # in FAILURE_WINDOW_S, all addresses together (one worker)
CSRF_HEADER = "X-CSRF-Token"

# The organiser's credentials, as the API document declares them (OpenAPI security): the session
# cookie, and for changes also the CSRF token in its header.
SECURITY_SCHEMES = {
    "organiserSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "faceexplore_session",
        "description": "set by POST /api/session (log in); HttpOnly, the browser sends it",
    },
    "csrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "the csrf_token of GET /api/session, sent back with every change the organiser makes",
    },
}
ORGANISER_ONLY = [{"organiserSession": []}]
ORGANISER_CHANGE = [{"organiserSession": [], "csrfToken": []}]
# the people pages: the organiser's with people_page = "organiser" (the default), anyone's with "public"
PEOPLE_PAGES = [{"organiserSession": []}, {}]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request itself came over https."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def configure(app) -> None:
    """The cookie's settings (create_app sets SESSION_COOKIE_SECURE from ``cookie_secure``)."""
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME=SECURITY_SCHEMES["organiserSession"]["name"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


class FailedLogins:
    """Failed logins in the last ``window`` seconds, per client and overall."""

    def __init__(self, per_client: int = FAILURES_PER_CLIENT, overall: int = FAILURES_OVERALL, window: float = FAILURE_WINDOW_S):
        self.per_client, self.overall, self.window = per_client, overall, window
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        cutoff = now - self.window
        while self._all and self._all[0] <= cutoff:
            self._all.popleft()
        for client in [c for c, times in self._clients.items() if not times or times[-1] <= cutoff]:
            del self._clients[client]
        for times in self._clients.values():
            while times and times[0] <= cutoff:
                times.popleft()

    def wait(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            waits = [0.0]
            times = self._clients.get(client)
            if times and len(times) >= self.per_client:
                waits.append(times[-self.per_client] + self.window - now)
            if len(self._all) >= self.overall:
                waits.append(self._all[-self.overall] + self.window - now)
            return max(waits)

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._clients.setdefault(client, deque(maxlen=self.per_client)).append(now)
            self._all.append(now)
            while len(self._all) > self.overall:
                self._all.popleft()


def failed_logins() -> FailedLogins:
    return current_app.extensions["faceexplore_failed_logins"]


def _stored_password():
    return auth.load_password(state().settings.data_dir)


def is_organiser() -> bool:
    """Whether this request comes from a logged-in organiser (with the current password)."""
    if "faceexplore_organiser" not in g:
        stored = _stored_password() if session.get("password") else None
        g.faceexplore_organiser = stored is not None and hmac.compare_digest(str(session.get("password")), auth.fingerprint(stored))
    return g.faceexplore_organiser


def require_organiser() -> None:
    if not is_organiser():
        raise ApiError(401, "login_required", "Log in as the organiser to see this.")


def require_people_access() -> None:
    """The people pages (and photo details, which name the people in a photo) are the organiser's
    unless ``people_page = "public"``."""
    if state().settings.people_page == "organiser":
        require_organiser()


def require_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = session.get("csrf") or ""
    if not sent or not expected or not hmac.compare_digest(sent.encode("utf-8", "replace"), str(expected).encode()):
        raise ApiError(403, "csrf_failed", f"The request lacks the page's {CSRF_HEADER}. Reload the page and try again.")


def require_organiser_change() -> None:
    """A state-changing organiser request: logged in, and the CSRF token sent back."""
    require_organiser()
    require_csrf()


def _state_json(organiser: bool, password_set: bool) -> SessionState:
    return SessionState(organiser=organiser, password_set=password_set, csrf_token=session.get("csrf") if organiser else None)


SESSION_ERRORS = {
    400: "bad_request: no password in the body",
    401: "wrong_password",
    403: "no_password: none has been set (faceexplore --data DATA set-password)",
    429: "rate_limited: too many failed logins; wait and try again",
}


@bp.get(
    "/api/session", operation_id="getSession", summary="Whether this browser is logged in as the organiser", responses={200: SessionState}
)
def get_session():
    return json_response(_state_json(is_organiser(), _stored_password() is not None))


@bp.post(
    "/api/session",
    operation_id="login",
    summary="Log in as the organiser",
    responses={200: SessionState, **error_responses(SESSION_ERRORS)},
)
def login(body: LoginRequest):
    stored = _stored_password()
    if stored is None:
        raise ApiError(
            403, "no_password", "No organiser password has been set. On the server, run `faceexplore --data DATA set-password` first."
        )
    client = request.remote_addr or "unknown"
    limiter = failed_logins()
    wait = limiter.wait(client)
    if wait > 0:
        seconds = math.ceil(wait)
        raise ApiError(429, "rate_limited", f"Too many failed logins. Wait {seconds} seconds and try again.", {"Retry-After": str(seconds)})
    if not auth.verify(stored, body.password):
        limiter.failed(client)
        raise ApiError(401, "wrong_password", "That is not the organiser password.")
    session.clear()
    session.permanent = True
    session["password"] = auth.fingerprint(stored)
    session["csrf"] = secrets.token_urlsafe(32)
    g.faceexplore_organiser = True
    return json_response(_state_json(True, True))


@bp.delete(
    "/api/session",
    operation_id="logout",
    summary="Log out",
    responses={200: SessionState, **error_responses({403: "csrf_failed: the organiser's X-CSRF-Token is missing or wrong"})},
    security=[*ORGANISER_CHANGE, {}],  # a visitor's logout needs nothing
)
def logout():
    if is_organiser():
        require_csrf()
    session.clear()
    g.faceexplore_organiser = False
    return json_response(_state_json(False, _stored_password() is not None))
