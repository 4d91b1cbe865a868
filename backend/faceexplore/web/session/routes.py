"""The organiser's login: GET/POST/DELETE /api/session, and the checks organiser routes call.

The session is Flask's signed cookie (the app's secret key), HttpOnly and SameSite=Strict, Secure
when the request came over https (``request.is_secure``; behind proxies set ``proxy_hops`` so
that their X-Forwarded-Proto counts) or when ``cookie_secure`` is set. It holds:

- ``sid``: a random session id, which must be one of the live sessions of the site's store
  (``DATA/site.sqlite3``, faceexplore.site.store, shared by every worker): logging out deletes it,
  so the cookie and its CSRF token are worth nothing afterwards, even replayed; a session lasts a
  week from the login;
- ``password``: the fingerprint of the password hash it was opened with (auth.fingerprint): a
  new password (``faceexplore set-password``, which also deletes every stored session) ends
  every earlier session;
- ``csrf``: a random token the page reads from GET /api/session and sends back in the
  ``X-CSRF-Token`` header of every state-changing organiser request.

Login attempts are counted in the same store, so the limits hold across workers: 5 failed logins
a minute per client address; past it, 429 with Retry-After (never by holding the worker) until
the oldest failure in the window is a minute old. Once 30 logins have failed in the last minute
from all addresses together, an address that has failed in that minute gets one attempt a
minute, while an address with no failures is always let through to have its password checked:
an attack from many addresses is slowed without locking the organiser out. nginx also limits
/api/session per client.
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_openapi3 import APIBlueprint

from faceexplore.site.store import SiteStore

from ..core.errors import ApiError, error_responses
from ..core.models import LoginRequest, SessionState
from ..core.serialize import json_response
from ..core.state import state
from . import auth

bp = APIBlueprint("session", __name__)

SESSION_LIFETIME = timedelta(days=7)
FAILURE_WINDOW_S = 60.0
FAILURES_PER_CLIENT = 5  # in FAILURE_WINDOW_S, per address
FAILURES_OVERALL = 30  # in FAILURE_WINDOW_S, all addresses together: then one attempt per window for an address that failed
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


def site_store() -> SiteStore:
    return current_app.extensions["faceexplore_site"]


def _stored_password():
    return auth.load_password(state().settings.data_dir)


def is_organiser() -> bool:
    """Whether this request comes from a logged-in organiser (with the current password)."""
    if "faceexplore_organiser" not in g:
        sid = session.get("sid")
        stored = _stored_password() if session.get("password") and isinstance(sid, str) else None
        g.faceexplore_organiser = (
            stored is not None
            and hmac.compare_digest(str(session.get("password")), auth.fingerprint(stored))
            and site_store().session_alive(sid)
        )
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
    return SessionState(
        organiser=organiser,
        password_set=password_set,
        csrf_token=session.get("csrf") if organiser else None,
        people_page=state().settings.people_page,
    )


SESSION_ERRORS = {
    400: "bad_request: no password in the body",
    401: "wrong_password",
    403: "no_password: none has been set (faceexplore --data DATA set-password)",
    429: "rate_limited: too many failed logins; wait and try again",
}


def _end_stored_session() -> None:
    """Delete this cookie's session from the store: the cookie, replayed, logs in no more."""
    sid = session.get("sid")
    if isinstance(sid, str):
        site_store().end_session(sid)


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
    store = site_store()
    wait, attempt = store.begin_login(request.remote_addr or "unknown", FAILURES_PER_CLIENT, FAILURES_OVERALL, FAILURE_WINDOW_S)
    if attempt is None:
        seconds = max(1, math.ceil(wait))
        raise ApiError(429, "rate_limited", f"Too many failed logins. Wait {seconds} seconds and try again.", {"Retry-After": str(seconds)})
    if not auth.verify(stored, body.password):
        raise ApiError(401, "wrong_password", "That is not the organiser password.")  # the attempt stays counted
    store.login_succeeded(attempt)
    _end_stored_session()
    session.clear()
    session.permanent = True
    sid = secrets.token_urlsafe(32)
    store.add_session(sid, SESSION_LIFETIME.total_seconds())
    session["sid"] = sid
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
    _end_stored_session()
    session.clear()
    g.faceexplore_organiser = False
    return json_response(_state_json(False, _stored_password() is not None))
