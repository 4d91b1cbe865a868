"""Run the web app under gunicorn: ``faceexplore serve`` calls ``run_server``.

Each worker process calls the app factory once at start-up (``preload_app`` is off), so each
loads the face models itself, after the fork (a forked copy of a process already running
PyTorch threads can deadlock), and never again per request. Workers are gthread workers: a
search holds one worker's models while its other threads keep serving photos, zips and status.
gunicorn's own answers to requests it cannot parse are the API's JSON errors (worker.py).

Also runnable directly (the tests and the benchmark do):

    python -m faceexplore.web.server --data DATA --gallery GALLERY [--host H] [--port N] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys

from faceexplore.site import access_code

from ..settings import Settings, load_settings

THREADS_PER_WORKER = 4
TIMEOUT_S = 120  # a search on a large photo on a slow CPU, or a big zip
GRACEFUL_TIMEOUT_S = 30


def default_workers(cores: int | None = None) -> int:
    """Two per core, at most 4: every worker holds its own copy of the models (memory), and a
    search is CPU-bound, so more workers than that only queue on the cores."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(2 * cores, 4))


def _limit_torch_threads(threads: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch

        torch.set_num_threads(threads)
    except Exception:  # torch is only needed by the detector; the app reports it if missing
        pass


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "bind": f"{bind_host}:{int(port)}",
        "workers": workers,
        "worker_class": "faceexplore.web.worker.JsonErrorWorker",  # gthread, with JSON errors
        "threads": THREADS_PER_WORKER,
        "timeout": TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": 5,
        "limit_request_line": 8190,  # the most gunicorn allows: a download link holds its photo ids
        "preload_app": False,
        "proc_name": "faceexplore",
        "accesslog": "-",  # request lines only: uploads are never logged
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn >= 25 opens a control socket at one fixed path per user: two servers on one
        # machine would fight over it, and nothing here needs it
        "control_socket_disable": True,
    }


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None) -> None:
    """Serve the app with gunicorn until stopped (SIGINT/SIGTERM: graceful)."""
    from gunicorn.app.base import BaseApplication

    workers = int(workers or settings.web_workers or default_workers())
    if not settings.allowed_hosts:
        from .core.hosts import default_allowed_hosts

        settings = settings.replace(allowed_hosts=default_allowed_hosts(host))
    cores = os.cpu_count() or 1
    torch_threads = max(1, cores // workers)

    class FaceExploreServer(BaseApplication):
        def __init__(self):
            self.options = gunicorn_options(host, port, workers)
            super().__init__()

        def load_config(self):
            for key, value in self.options.items():
                if key in self.cfg.settings:  # settings an older gunicorn lacks are left out
                    self.cfg.set(key, value)

        def load(self):  # in each worker, after the fork
            _limit_torch_threads(torch_threads)
            from .app import create_app

            return create_app(settings)

    print(
        f"faceexplore: serving {settings.gallery_dir} (index {settings.index_path}) on http://{host}:{port}/ "
        f"with {workers} worker(s) x {THREADS_PER_WORKER} threads",
        file=sys.stderr,
        flush=True,
    )
    if access_code.mode(settings) == "code":  # the first search works at once from this link
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "") else host
        link = access_code.site_link(f"http://{shown}:{port}/", access_code.read(settings.data_dir))
        print(f"faceexplore: visitors need the access code; open {link}", file=sys.stderr, flush=True)
    FaceExploreServer().run()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Serve the FaceExplore web app with gunicorn.")
    p.add_argument("--data", help="data folder (index, cache)")
    p.add_argument("--gallery", help="gallery folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, help="gunicorn workers (default: sized to the machine)")
    args = p.parse_args(argv)
    overrides = {"data_dir": args.data, "gallery_dir": args.gallery, "web_workers": args.workers}
    run_server(load_settings(overrides), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
