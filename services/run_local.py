#!/usr/bin/env python3
"""Serve an indexed gallery on this machine: nginx in front of gunicorn, or gunicorn alone.

    python services/run_local.py --gallery GALLERY --data DATA [--host localhost] [--port 8765]

With nginx installed: renders services/nginx.conf into DATA/nginx/nginx.conf (pid file, logs and
temporary files beside it), starts gunicorn (`faceexplore --data DATA serve GALLERY`) on
127.0.0.1:--backend-port, waits until it answers, then starts nginx on HOST:PORT. Without nginx
(or with --no-nginx): gunicorn alone on HOST:PORT, the app serving the frontend itself.

Once the site answers, the live watcher (`faceexplore --data DATA watch GALLERY`) starts beside it
(not with --no-watch), so photos added to the gallery, uploads from the page included, are
searchable within seconds with no command run. If the watcher stops, the site goes on serving
(the organiser's upload panel says new photos wait for the next indexing) and this says so.

Ctrl-C (SIGINT) or SIGTERM stops all of them (the watcher first, then nginx), each with a bounded wait. If either one dies,
the other is stopped too and the exit status is non-zero. Each runs in a process group of its
own, and stopping one ends the whole group: gunicorn's workers too, even when its master was
killed; "stopped" is printed only once nothing of either is left. The process ids go to
DATA/nginx/run_local.json while running. `make run` uses this.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from render_nginx_conf import RenderError, make_state_dirs, render  # noqa: E402

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def log(msg: str) -> None:
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def find_nginx() -> str | None:
    """nginx lives in /usr/sbin, which a non-root PATH often lacks."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)),
        None,
    )


def port_in_use(host: str, port: int) -> bool:
    host = "127.0.0.1" if host in ("", "localhost", "0.0.0.0", "*") else host
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def site_names(host: str) -> list[str]:
    """The names a visitor may reach the site by (the app's allowed_hosts behind nginx): localhost,
    and --host; for every address (0.0.0.0), this machine's names and addresses."""
    names = ["localhost", "127.0.0.1", "[::1]"]
    if host not in ("", "0.0.0.0", "::", "*"):
        return [*names, host]
    found = {socket.gethostname(), socket.getfqdn()}
    try:
        found |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    return [*names, *sorted(f"[{n}]" if ":" in n else n for n in found if n)]


def visitor_link(data: Path, base: str) -> str:
    """The address a visitor opens: with the event's access code in it when the site asks for one
    (`faceexplore access-code --link`), so the first search works at once."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "faceexplore", "--data", str(data), "access-code", "--link", "--url", base],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return base
    return out.stdout.strip() or base if out.returncode == 0 else base


def _die_with_parent():  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start(cmd: list[str], **kw) -> subprocess.Popen:
    # A session of its own: Ctrl-C in the terminal reaches only this runner, which then stops the
    # services in order; and if the runner is killed outright, the kernel stops them (PDEATHSIG).
    log("$ " + " ".join(cmd))
    return subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None, **kw)


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group ``pgid`` still runs (zombies, dead but not yet
    reaped, do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path("/proc", entry, "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp
                return True
    return False


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by signal {-returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def stop(proc: subprocess.Popen | None, name: str, sig: int, timeout: float) -> bool:
    """Stop ``proc`` and every process of its group (its own: start() gives it a session), its
    workers included even when the master is gone: ``sig`` to the master (graceful), or to the
    group when the master has died; after ``timeout`` seconds SIGKILL to the group. True when
    nothing of it is left."""
    if proc is None:
        return True
    pgid = proc.pid  # start_new_session: the group is named after the master, and outlives it
    try:
        if proc.poll() is None:
            proc.send_signal(sig)
        elif group_alive(pgid):
            log(f"{name}'s master is gone but its workers are not: stopping them")
            os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while (proc.poll() is None or group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None or group_alive(pgid):
        log(f"{name} did not stop in {timeout:.0f} s; killing it")
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while (proc.poll() is None or group_alive(pgid)) and time.monotonic() < deadline:
            time.sleep(0.2)
    return proc.poll() is not None and not group_alive(pgid)


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """True once anything answers HTTP at url (any status); False if proc died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signum)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gallery", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--host", default="localhost", help="address of the site (default localhost; 0.0.0.0 = all)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--backend-port", type=int, default=8000, help="gunicorn's port on 127.0.0.1 behind nginx (default 8000)")
    p.add_argument("--frontend", default=str(ROOT / "frontend" / "dist"), help="built frontend (default frontend/dist)")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: faceexplore serve's choice)")
    p.add_argument("--no-nginx", action="store_true", help="gunicorn alone even when nginx is installed")
    p.add_argument("--no-watch", action="store_true", help="no live watcher: new photos wait for the next `faceexplore index`")
    p.add_argument("--nginx", default=None, help="nginx binary (default: found on PATH or in /usr/sbin)")
    p.add_argument(
        "--rate-limit-scale",
        type=float,
        default=1.0,
        help="multiply nginx's per-client rate limits (default 1; a load test from one address needs far more)",
    )
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for gunicorn (default 180)")
    args = p.parse_args(argv)

    gallery, data = Path(args.gallery).resolve(), Path(args.data).resolve()
    if not gallery.is_dir():
        log(f"error: the gallery folder {args.gallery} does not exist")
        return 2
    data.mkdir(parents=True, exist_ok=True)
    state_dir = data / "nginx"
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "run_local.json"
    nginx_bin = None if args.no_nginx else (args.nginx or find_nginx())
    if not nginx_bin and not args.no_nginx:
        log("nginx is not installed: serving with gunicorn alone (the app serves the frontend and photos itself)")
    frontend = Path(args.frontend).resolve()
    if not (frontend / "index.html").is_file():
        log(f"warning: no built frontend in {frontend} (run `npm ci && npm run build` in frontend/); only the API will work")

    faceexplore = [sys.executable, "-m", "faceexplore", "--data", str(data), "serve", str(gallery)]
    backend_env = {**os.environ, "FACEEXPLORE_FRONTEND_DIR": str(frontend)}  # gunicorn alone serves it
    if nginx_bin:  # nginx's X-Forwarded-For/-Proto name the client (login limits, Secure cookie)
        backend_env.setdefault("FACEEXPLORE_PROXY_HOPS", "1")
    if args.workers:
        faceexplore += ["--workers", str(args.workers)]
    public_host = "127.0.0.1" if args.host == "localhost" else args.host

    for busy_port in {args.port} | ({args.backend_port} if nginx_bin else set()):
        if port_in_use(public_host if busy_port == args.port else "127.0.0.1", busy_port):
            log(f"error: port {busy_port} is already in use (another FaceExplore? choose another with PORT=...)")
            return 2

    conf = None
    if nginx_bin:
        try:
            text = render(
                gallery=gallery,
                data=data,
                frontend=frontend,
                host=args.host,
                port=args.port,
                upstream=f"127.0.0.1:{args.backend_port}",
                state_dir=state_dir,
                rate_limit_scale=args.rate_limit_scale,
            )
        except RenderError as exc:
            log(f"error: {exc}")
            return 2
        conf = state_dir / "nginx.conf"
        conf.write_text(text)
        make_state_dirs(state_dir)
        nginx_cmd = [nginx_bin, "-c", str(conf), "-p", str(state_dir), "-e", str(state_dir / "logs" / "error.log")]

    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    backend = front = watcher = None
    status = 0
    try:
        if nginx_bin:
            behind_nginx = {
                "FACEEXPLORE_RATE_LIMITS": "off",  # nginx limits each client already
                # the app sees the Host the visitor sent to nginx, not its own 127.0.0.1
                "FACEEXPLORE_ALLOWED_HOSTS": os.environ.get("FACEEXPLORE_ALLOWED_HOSTS") or ",".join(site_names(args.host)),
            }
            backend = start(faceexplore + ["--host", "127.0.0.1", "--port", str(args.backend_port)], env={**backend_env, **behind_nginx})
            if not wait_http(f"http://127.0.0.1:{args.backend_port}/api/health", backend, args.startup_timeout):
                log("error: gunicorn did not come up" + (f" (exit status {backend.returncode})" if backend.poll() is not None else ""))
                return 1
            # checked only now: the conf includes DATA/nginx-links.conf, which the app writes as it starts
            check = subprocess.run(nginx_cmd + ["-t", "-q"], capture_output=True, text=True)
            if check.returncode != 0:
                log(f"error: nginx rejects {conf}:\n{check.stderr.strip()}")
                return 2
            front = start(nginx_cmd + ["-g", "daemon off;"])
            if not wait_http(f"http://{public_host}:{args.port}/api/health", front, 30):
                log(f"error: nginx did not come up; see {state_dir / 'logs' / 'error.log'}")
                return 1
        else:
            backend = start(faceexplore + ["--host", public_host, "--port", str(args.port)], env=backend_env)
            if not wait_http(f"http://{public_host}:{args.port}/api/health", backend, args.startup_timeout):
                log("error: gunicorn did not come up")
                return 1
        if not args.no_watch:
            watcher = start([sys.executable, "-m", "faceexplore", "--data", str(data), "watch", str(gallery)], env=os.environ.copy())
        shown = "localhost" if args.host in ("localhost", "127.0.0.1") else public_host
        state_file.write_text(
            json.dumps(
                {
                    "runner": os.getpid(),
                    "gunicorn": backend.pid,
                    "nginx": front.pid if front else None,
                    "watcher": watcher.pid if watcher else None,
                    "url": f"http://{shown}:{args.port}/",
                    "conf": str(conf) if conf else None,
                }
            )
        )
        site = visitor_link(data, f"http://{shown}:{args.port}/")
        watching = " + the live watcher" if watcher else ""
        log(f"FaceExplore is at {site} ({'nginx + gunicorn' if front else 'gunicorn alone'}{watching}); Ctrl-C stops it")
        while True:
            if watcher is not None and watcher.poll() is not None:
                log(f"the live watcher (pid {watcher.pid}) {describe_exit(watcher.returncode)}; new photos wait for the next indexing")
                stop(watcher, "watcher", signal.SIGTERM, 5)  # anything left of its process group
                watcher = None
            for proc, name in ((backend, "gunicorn"), (front, "nginx")):
                if proc is not None and proc.poll() is not None:
                    log(f"{name}'s master process (pid {proc.pid}) {describe_exit(proc.returncode)}; stopping everything")
                    return 1
            time.sleep(0.5)
    except _Stop:
        log("stopping")
        return status
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not interrupt the shutdown
            signal.signal(sig, signal.SIG_IGN)
        # Graceful, in order: nginx first, so that it stops taking requests while gunicorn
        # finishes the ones in flight (gunicorn's own graceful timeout is 30 s). When gunicorn's
        # master died, its orphaned workers are stopped first, nginx still passing on their last
        # answers (and JSON 502s for what they can no longer take).
        steps = [(front, "nginx", signal.SIGQUIT, 15), (backend, "gunicorn", signal.SIGTERM, 40)]
        if backend is not None and backend.poll() is not None:
            steps.reverse()
        # the watcher first: it commits what it indexes photo by photo, and the site needs none of it
        steps.insert(0, (watcher, "watcher", signal.SIGTERM, 40))
        left = [f"{name} (process group {proc.pid})" for proc, name, sig, timeout in steps if not stop(proc, name, sig, timeout)]
        state_file.unlink(missing_ok=True)
        if left:
            log(f"error: could not stop {' and '.join(left)}")
        else:
            log("stopped")


if __name__ == "__main__":
    sys.exit(main())
