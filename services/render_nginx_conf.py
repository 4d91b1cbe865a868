#!/usr/bin/env python3
"""Render services/nginx.conf (a template with @...@ placeholders) into a working nginx.conf.

    python3 services/render_nginx_conf.py --gallery GALLERY --data DATA --frontend frontend/dist \
        [--host localhost] [--port 8765] [--upstream 127.0.0.1:8000] [--out FILE]

Paths are made absolute and resolved (nginx is told not to follow symbolic links below them).
State (pid file, logs, temporary files) goes to --state-dir, DATA/nginx by default.
The link secret for signed photo links is not rendered in: the conf includes DATA/nginx-links.conf
(--links-conf), which the app writes (mode 600) when it starts (faceexplore/web/gallery/links.py), so
no secret is on a command line or in a built image.
Standard library only: it also runs in the Docker build (services/frontend.Dockerfile).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "nginx.conf"
PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")
# Characters an nginx quoted string cannot carry safely: quotes and backslashes end or escape it,
# and `$` starts a variable in root/alias/from= (nginx has no escape for it).
_UNSAFE_PATH = re.compile(r'["\\$\x00-\x1f\x7f]')
_TOKEN = re.compile(r"^[A-Za-z0-9_.:\-\[\]*~^]+$")


# Per-client rate limits: requests a minute and burst (requests beyond the rate let through at
# once), as services/nginx.conf explains them. --rate-limit-scale multiplies them all (a load test
# from one address needs far more than one visitor).
RATE_LIMITS = {
    "SEARCH": (30, 20),
    "DOWNLOAD": (12, 10),
    "SESSION": (10, 5),
    "ACCESS": (10, 5),  # entering the event's access code (POST /api/access)
    "FILES": (1200, 400),
}
UPLOADS_IN_FLIGHT = 2  # searches per client at once (the app alone: ratelimit.SEARCHES_IN_FLIGHT)
GALLERY_UPLOADS_IN_FLIGHT = 2  # the organiser's uploads of gallery photos (POST /api/gallery/photos)
LINKS_CONF_NAME = "nginx-links.conf"  # faceexplore.web.gallery.links.NGINX_LINKS_CONF


class RenderError(ValueError):
    pass


def real_ip_directives(trusted_proxies) -> str:
    """The realip module's directives: a request from one of ``trusted_proxies`` (addresses or
    CIDR ranges) counts as coming from the address that proxy puts in X-Forwarded-For; from any
    other address, the header is ignored (a visitor cannot pick their own address)."""
    lines = []
    for proxy in trusted_proxies or ():
        try:
            network = ipaddress.ip_network(str(proxy).strip(), strict=False)
        except ValueError:
            raise RenderError(f"trusted proxy {proxy!r} is not an IP address or CIDR range") from None
        lines.append(f"    set_real_ip_from {network};")
    if lines:
        lines += ["    real_ip_header X-Forwarded-For;", "    real_ip_recursive on;"]
    return "\n".join(lines)


def rate_limit_values(scale: float = 1.0) -> dict[str, str]:
    """The template's @..._RATE@, @..._BURST@ and @UPLOADS_IN_FLIGHT@ values, scaled by ``scale``."""
    if not scale > 0:
        raise RenderError(f"the rate limit scale must be positive, not {scale}")
    values = {
        "UPLOADS_IN_FLIGHT": str(max(1, round(UPLOADS_IN_FLIGHT * scale))),
        "GALLERY_UPLOADS_IN_FLIGHT": str(max(1, round(GALLERY_UPLOADS_IN_FLIGHT * scale))),
    }
    for name, (per_minute, burst) in RATE_LIMITS.items():
        values[f"{name}_RATE"] = f"{max(1, round(per_minute * scale))}r/m"
        values[f"{name}_BURST"] = str(max(1, round(burst * scale)))
    return values


def _path(value: str | os.PathLike, what: str, resolve: bool = True) -> str:
    path = os.path.abspath(os.fspath(value))
    if resolve:  # folders nginx checks symbolic links below must be given without any
        path = os.path.realpath(path)
    if _UNSAFE_PATH.search(path):
        raise RenderError(f'{what} path {path!r} holds a character nginx cannot take (" \\ $ or a control character)')
    return path.rstrip("/") or "/"


def _token(value: str, what: str) -> str:
    value = str(value)
    if not _TOKEN.match(value):
        raise RenderError(f"{what} {value!r} is not a valid nginx value")
    return value


def listen_value(host: str, port: int) -> str:
    """nginx `listen` for a host and port: localhost means 127.0.0.1; 0.0.0.0, * or '' mean all."""
    port = int(port)
    if not 0 < port < 65536:
        raise RenderError(f"port {port} is out of range")
    host = (host or "").strip()
    if host in ("", "*", "0.0.0.0"):
        return str(port)
    if host == "localhost":
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6
    return f"{_token(host, 'host')}:{port}"


def default_user_directive() -> str:
    """`user` only makes sense when nginx starts as root; then its workers run as the same user
    (so that they can read a gallery and data folder only that user may read)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "user root;"
    return ""


def render(
    *,
    gallery: str | os.PathLike,
    data: str | os.PathLike,
    frontend: str | os.PathLike,
    host: str = "localhost",
    port: int = 8765,
    upstream: str = "127.0.0.1:8000",
    state_dir: str | os.PathLike | None = None,
    access_log: str | None = None,
    error_log: str | None = None,
    pid_file: str | None = None,
    user: str | None = None,
    server_name: str | None = None,
    max_body: str = "30M",
    max_gallery_upload_body: str = "500M",
    worker_processes: str = "auto",
    rate_limit_scale: float = 1.0,
    trusted_proxies: list[str] | tuple[str, ...] = (),
    links_conf: str | os.PathLike | None = None,
    template: str | os.PathLike = TEMPLATE,
) -> str:
    data_dir = _path(data, "data")
    state = _path(state_dir if state_dir else Path(data_dir) / "nginx", "state")
    if user is None:
        user_directive = default_user_directive()
    elif user == "":
        user_directive = ""
    else:
        user_directive = f"user {' '.join(_token(u, 'user') for u in user.split())};"
    values = {
        "USER_DIRECTIVE": user_directive,
        "WORKER_PROCESSES": _token(worker_processes, "worker_processes"),
        "PID_FILE": _path(pid_file, "pid file", resolve=False) if pid_file else f"{state}/nginx.pid",
        "ERROR_LOG": _path(error_log, "error log", resolve=False) if error_log else f"{state}/logs/error.log",
        "ACCESS_LOG": _path(access_log, "access log", resolve=False) if access_log else f"{state}/logs/access.log",
        "TEMP_DIR": f"{state}/tmp",
        "MAX_BODY": _token(max_body, "max body size"),
        "MAX_GALLERY_UPLOAD_BODY": _token(max_gallery_upload_body, "max gallery upload size"),
        "UPSTREAM": _token(upstream, "upstream"),
        "LISTEN": listen_value(host, port),
        "SERVER_NAME": _token(server_name or ("localhost" if host in ("", "*", "0.0.0.0") else host), "server name"),
        "FRONTEND_DIR": _path(frontend, "frontend"),
        "GALLERY_DIR": _path(gallery, "gallery"),
        "DATA_DIR": data_dir,
        "REAL_IP": real_ip_directives(trusted_proxies),
        "LINKS_CONF": _path(links_conf, "links conf", resolve=False) if links_conf else f"{data_dir}/{LINKS_CONF_NAME}",
        **rate_limit_values(rate_limit_scale),
    }
    if values["SERVER_NAME"].startswith("[") or ":" in values["SERVER_NAME"]:
        values["SERVER_NAME"] = "localhost"
    text = Path(template).read_text()
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise RenderError(f"the template uses unknown placeholders: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def make_state_dirs(state_dir: str | os.PathLike) -> None:
    """The folders nginx writes to (logs, temporary files) must exist before it starts."""
    state = Path(state_dir)
    for sub in ("logs", "tmp/client_body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    # the logs name visitors' addresses and what they looked at: for the owner only
    (state / "logs").chmod(0o700)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gallery", required=True, help="gallery folder, served read-only at /gallery/")
    p.add_argument("--data", required=True, help="FaceExplore data folder (its cache/ is served at /cache/)")
    p.add_argument("--frontend", required=True, help="built frontend (frontend/dist), served at /")
    p.add_argument("--host", default=os.environ.get("HOST", "localhost"), help="address to listen on (default localhost; 0.0.0.0 = all)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8765)), help="port (default 8765)")
    p.add_argument("--upstream", default="127.0.0.1:8000", help="gunicorn address host:port (default 127.0.0.1:8000)")
    p.add_argument("--state-dir", help="pid file, logs and temporary files (default DATA/nginx)")
    p.add_argument("--access-log", help="default STATE/logs/access.log (/dev/stdout in Docker)")
    p.add_argument("--error-log", help="default STATE/logs/error.log (/dev/stderr in Docker)")
    p.add_argument("--pid-file", help="default STATE/nginx.pid")
    p.add_argument("--user", help="worker user [group] when nginx starts as root ('' for none; default: the current user when root)")
    p.add_argument("--server-name")
    p.add_argument("--max-body", default="30M", help="largest accepted search upload (default 30M)")
    p.add_argument(
        "--max-gallery-upload",
        default="500M",
        help="largest organiser upload of gallery photos, one request (default 500M; the app's max_gallery_upload_mb)",
    )
    p.add_argument("--worker-processes", default="auto")
    p.add_argument(
        "--rate-limit-scale",
        type=float,
        default=1.0,
        help="multiply every per-client rate limit (default 1; a load test from one address needs more)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a proxy in front of nginx (address or CIDR; repeatable): its X-Forwarded-For names the client",
    )
    p.add_argument("--links-conf", help="the link secret file the app writes (default DATA/nginx-links.conf)")
    p.add_argument("--template", default=str(TEMPLATE))
    p.add_argument("--out", help="write here (default: standard output); creates the state folders too")
    args = p.parse_args(argv)
    try:
        text = render(
            gallery=args.gallery,
            data=args.data,
            frontend=args.frontend,
            host=args.host,
            port=args.port,
            upstream=args.upstream,
            state_dir=args.state_dir,
            access_log=args.access_log,
            error_log=args.error_log,
            pid_file=args.pid_file,
            user=args.user,
            server_name=args.server_name,
            max_body=args.max_body,
            max_gallery_upload_body=args.max_gallery_upload,
            worker_processes=args.worker_processes,
            rate_limit_scale=args.rate_limit_scale,
            trusted_proxies=args.trusted_proxy,
            links_conf=args.links_conf,
            template=args.template,
        )
    except (RenderError, OSError) as exc:
        print(f"render_nginx_conf: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        make_state_dirs(args.state_dir or Path(_path(args.data, "data")) / "nginx")
        print(out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
