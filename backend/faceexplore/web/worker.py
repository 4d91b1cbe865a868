"""gunicorn's worker for the app (server.py names it): a gthread worker whose own error answers
(a request gunicorn cannot parse, before the app sees it: a bad request line 400, a URI too long
414, headers too large 431...) are the API's JSON error with the app's security headers, and
never quote the request back (gunicorn's HTML page echoes the request line)."""

from __future__ import annotations

import json
import re

from gunicorn.workers.gthread import ThreadWorker

from .app import SECURITY_HEADERS
from .core.errors import HTTP_CODES

# gunicorn's statuses for a request it refuses itself (gunicorn/workers/base.py handle_error)
GUNICORN_ERRORS = {
    **HTTP_CODES,
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "This request is not allowed."),
    414: ("uri_too_long", "The address is too long."),
    417: ("expectation_failed", "The request's Expect header cannot be met."),
    431: ("headers_too_large", "The request's headers are too large."),
    501: ("not_implemented", "The request uses a transfer coding the server does not support."),
}
_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def json_error_response(status: int) -> bytes:
    """A whole HTTP response: the API's error for ``status``, closing the connection."""
    code, message = GUNICORN_ERRORS.get(status, ("error", "The request could not be handled."))
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    reason = code.replace("_", " ").capitalize()
    headers = {
        "Connection": "close",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Cache-Control": "no-store",
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


class _JsonErrorSocket:
    """The client's socket while gunicorn writes its error page: the page is replaced by
    json_error_response for the same status (everything else about the socket is the real one's)."""

    def __init__(self, sock):
        self._sock = sock

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        match = _STATUS.match(data)
        self._sock.sendall(json_error_response(int(match.group(1)) if match else 500))


class JsonErrorWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        # gunicorn still decides the status, logs it and writes the access log line
        super().handle_error(req, _JsonErrorSocket(client), addr, exc)
