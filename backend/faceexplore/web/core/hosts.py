"""The Host names the app answers to (setting ``allowed_hosts``): a page on another site that
points its own name at this server's address (DNS rebinding) gets 400 ``bad_host`` instead of
the gallery.

Behind nginx the app sees the Host the visitor sent (nginx passes it on), so the list holds the
site's public names; ``services/run_local.py`` and docker-compose.yml set it.
"""

from __future__ import annotations

import socket

from flask import Flask, request

from .errors import ApiError

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("", "0.0.0.0", "::", "*")


def _name(host: str) -> str:
    """A Host header's or an allowed entry's name: lower case, no port, no brackets round an
    IPv6 address, no trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def default_allowed_hosts(bind_host: str | None = None) -> list[str]:
    """localhost, and the address the server is bound to; bound to every address (0.0.0.0),
    this machine's names and addresses."""
    hosts = list(LOCAL_NAMES)
    if bind_host is None:
        return hosts
    if _name(bind_host) not in ANY_ADDRESS:
        return [*hosts, _name(bind_host)]
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        names |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:  # a host name that does not resolve
        pass
    return [*hosts, *sorted(_name(n) for n in names if n)]


def host_allowed(host_header: str | None, allowed: list[str]) -> bool:
    """Whether a request's Host is in ``allowed`` ("*": any; ".example.org": it and its
    subdomains)."""
    if "*" in allowed or host_header is None:  # no Host at all (HTTP/1.0): no name to rebind
        return True
    name = _name(host_header)
    if not name:
        return False
    for entry in allowed:
        ref = _name(entry.lstrip(".")) if entry.startswith(".") else _name(entry)
        if name == ref or (entry.startswith(".") and name.endswith("." + ref)):
            return True
    return False


def enforce_allowed_hosts(app: Flask, allowed: list[str]) -> None:
    allowed = list(allowed) or default_allowed_hosts()

    @app.before_request
    def _check_host():
        if not host_allowed(request.headers.get("Host"), allowed):
            raise ApiError(
                400,
                "bad_host",
                "This server does not answer to that name. If it is this site's name, add it to the allowed_hosts setting.",
            )
