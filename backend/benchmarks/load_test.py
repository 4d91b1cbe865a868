#!/usr/bin/env python3
"""Load test through nginx: concurrent visitors searching while the gallery is re-indexed.

    FACEEXPLORE_TEST_DATA=../shared/datasets python backend/benchmarks/load_test.py \\
        [--users 20] [--duration 60] [--workers 2] [--json FILE]

Over a copy of a small gallery (default: the bbt group photos), indexed and clustered first, this
starts the site as `make run` does (services/run_local.py: nginx in front of gunicorn, on
127.0.0.1), then runs locust headless (benchmarks/locustfile.py: each visitor opens the page,
searches with a sample photo, looks at the thumbnails, sometimes opens a photo, a person or
downloads a zip) with --users visitors for --duration seconds. Meanwhile, unless
--no-background, `faceexplore index` and `faceexplore cluster` run over and over in the
background on the same data folder, the gallery changing between runs (sample photos of the
people arrive a few at a time, then all leave again). nginx's per-client rate limits are
multiplied by --rate-limit-scale (default 1000): every visitor comes from 127.0.0.1, and the
limits must not shape the result; any 429 nginx still answers is counted and reported.

Printed: per request kind, count, failures, p50/p95/p99/max latency (ms) and requests a second;
the background runs and their exit statuses; the machine (cores, load average before and after).
The exit status is 0 when no request failed and every background run succeeded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUN_LOCAL = ROOT / "services" / "run_local.py"
LOCUSTFILE = HERE / "locustfile.py"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def log(msg: str) -> None:
    print(f"[load] {msg}", file=sys.stderr, flush=True)


def access_code(data: Path) -> str:
    """The event's access code the site asks for ("" when it asks for none): what is printed on
    the posters, read from the data folder (faceexplore.site.access_code keeps it there)."""
    path = data / "access-code.json"
    return json.loads(path.read_text())["code"] if path.is_file() else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photos_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def cli(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "faceexplore", "--data", str(data), *args]


def run_checked(cmd: list[str], what: str, timeout: float = 1800) -> None:
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{what} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    log(f"{what}: {time.monotonic() - t0:.1f} s")


class Reindexer(threading.Thread):
    """`faceexplore index` then `faceexplore cluster`, again and again until stopped; between
    rounds a few photos arrive in the gallery (all leave again once every one has arrived)."""

    def __init__(self, data: Path, gallery: Path, arrivals: list[Path], batch: int = 3):
        super().__init__(daemon=True)
        self.data, self.gallery, self.arrivals, self.batch = data, gallery, arrivals, batch
        self.stop = threading.Event()
        self.runs: list[dict] = []
        self.proc: subprocess.Popen | None = None

    def _next_gallery_change(self) -> str:
        folder = self.gallery / "arrivals"
        folder.mkdir(exist_ok=True)
        present = sorted(p.name for p in folder.iterdir())
        if len(present) >= len(self.arrivals):
            shutil.rmtree(folder)
            return f"{len(present)} photos left"
        new = [p for p in self.arrivals if p.name not in present][: self.batch]
        for p in new:
            shutil.copy2(p, folder / p.name)
        return f"{len(new)} photos arrived"

    def run(self):
        round_no = 0
        while not self.stop.is_set():
            change = self._next_gallery_change()
            for args in (["index", str(self.gallery), "--quiet"], ["cluster"]):
                if self.stop.is_set():
                    break
                t0 = time.monotonic()
                self.proc = subprocess.Popen(cli(self.data, *args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                out, _ = self.proc.communicate()
                self.runs.append(
                    {
                        "command": args[0],
                        "round": round_no,
                        "gallery_change": change,
                        "exit_status": self.proc.returncode,
                        "seconds": round(time.monotonic() - t0, 1),
                        "output": out.strip().splitlines()[-1] if out.strip() else "",
                    }
                )
            round_no += 1

    def finish(self, timeout: float) -> None:
        """Let the run in progress end (it is part of the load), within ``timeout``."""
        self.stop.set()
        self.join(timeout)
        if self.is_alive() and self.proc is not None and self.proc.poll() is None:
            log(f"background `{self.proc.args[5]}` still running after {timeout:.0f} s: stopped")
            self.proc.terminate()
            self.join(30)


def read_locust_stats(prefix: Path) -> list[dict]:
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append(
                {
                    "name": row["Name"] if row["Type"] else "all requests",
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": _ms(row["50%"]),
                    "p95_ms": _ms(row["95%"]),
                    "p99_ms": _ms(row["99%"]),
                    "max_ms": _ms(row["Max Response Time"]),
                    "requests_per_s": round(float(row["Requests/s"]), 2),
                }
            )
    return rows


def _ms(value: str):
    return None if value in ("", "N/A") else round(float(value))


def read_locust_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [{"name": r["Name"], "error": r["Error"], "occurrences": int(r["Occurrences"])} for r in csv.DictReader(fh)]


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["memory_gb"] = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def main(argv=None) -> int:
    shared = os.environ.get("FACEEXPLORE_TEST_DATA")
    bbt = Path(shared) / "bbt" if shared else None
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gallery", type=Path, default=bbt / "group" if bbt else None, help="photos to serve (copied; default bbt/group)")
    p.add_argument("--samples", type=Path, default=bbt / "people" if bbt else None, help="sample photos searched with (default bbt/people)")
    p.add_argument(
        "--arrivals", type=Path, default=bbt / "people" if bbt else None, help="photos the background indexer adds (default bbt/people)"
    )
    p.add_argument("--users", type=int, default=20, help="concurrent visitors (default 20)")
    p.add_argument("--spawn-rate", type=float, default=5, help="visitors started a second (default 5)")
    p.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--rate-limit-scale", type=float, default=1000, help="multiplies nginx's per-client rate limits (default 1000)")
    p.add_argument("--no-background", action="store_true", help="no `index` and `cluster` runs during the load")
    p.add_argument("--workdir", type=Path, help="keep the gallery copy, data, logs and locust's CSV files here (default: a temporary one)")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    for name in ("gallery", "samples", "arrivals"):
        folder = getattr(args, name)
        if folder is None or not photos_under(folder):
            p.error(f"--{name} holds no photos (or set FACEEXPLORE_TEST_DATA to the shared datasets folder)")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="faceexplore-load-"))
    work.mkdir(parents=True, exist_ok=True)
    gallery, data = work / "gallery", work / "data"
    shutil.rmtree(gallery, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(args.gallery, gallery)
    load_before = os.getloadavg()
    run_checked(cli(data, "index", str(gallery), "--quiet"), "index")
    run_checked(cli(data, "cluster"), "cluster")

    port = free_port()
    runner_log = work / "run_local.log"
    cmd = [
        sys.executable,
        str(RUN_LOCAL),
        "--gallery",
        str(gallery),
        "--data",
        str(data),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-port",
        str(free_port()),
        "--workers",
        str(args.workers),
        "--rate-limit-scale",
        str(args.rate_limit_scale),
        # the background re-indexing below is the writer; make run's watcher would hold the index
        "--no-watch",
    ]
    # private gallery links (the default), people pages open to the visitors (the heavier site)
    site_env = {**os.environ, "FACEEXPLORE_PEOPLE_PAGE": "public"}
    with open(runner_log, "wb") as fh:
        runner = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=site_env)
    background = None
    try:
        state = data / "nginx" / "run_local.json"
        deadline = time.monotonic() + 300
        while not state.exists():
            if runner.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the site did not come up:\n{runner_log.read_text()[-3000:]}")
            time.sleep(0.5)
        site = json.loads(state.read_text())
        if not site.get("nginx"):
            raise SystemExit("nginx is not installed: this load test measures the site behind nginx")
        url = f"http://127.0.0.1:{port}"
        log(f"site at {url}; {args.users} visitors for {args.duration} s")

        if not args.no_background:
            background = Reindexer(data, gallery, photos_under(args.arrivals))
            background.start()
        prefix = work / "locust"
        t0 = time.monotonic()
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.duration}s",
                "--stop-timeout",
                "60",
                "--host",
                url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            # a new data folder asks visitors for the event's access code: they enter it first
            env={**os.environ, "SAMPLES_DIR": str(args.samples), "ACCESS_CODE": access_code(data)},
            capture_output=True,
            text=True,
            timeout=args.duration + 300,
        )
        load_seconds = time.monotonic() - t0
        if background is not None:
            background.finish(timeout=300)
    finally:
        if background is not None and background.is_alive():
            background.finish(timeout=30)
        if runner.poll() is None:
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(90)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait(10)

    stats = read_locust_stats(prefix)
    if not stats:
        raise SystemExit(f"locust wrote no statistics ({locust.returncode}):\n{locust.stderr[-3000:]}")
    access_log = (data / "nginx" / "logs" / "access.log").read_text(errors="replace")
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "gallery": str(args.gallery),
        "gallery_photos": len(photos_under(args.gallery)),
        "samples": str(args.samples),
        "users": args.users,
        "duration_s": args.duration,
        "load_seconds": round(load_seconds, 1),
        "gunicorn_workers": args.workers,
        "rate_limit_scale": args.rate_limit_scale,
        "requests": stats,
        "failures": read_locust_failures(prefix),
        "nginx_429": access_log.count('" 429 '),
        "background_runs": background.runs if background else [],
        "machine": {**machine(), "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "workdir": str(work),
    }
    print_result(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    total = next(r for r in stats if r["name"] == "all requests")
    background_ok = all(r["exit_status"] == 0 for r in result["background_runs"])
    return 0 if total["failures"] == 0 and total["requests"] > 0 and background_ok else 1


def print_result(result: dict) -> None:
    print(
        f"{result['users']} visitors for {result['duration_s']} s through nginx -> gunicorn ({result['gunicorn_workers']} workers), "
        f"gallery {result['gallery']} ({result['gallery_photos']} photos)"
    )
    print(f"{'request':<40} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'req/s':>6}")
    for r in result["requests"]:
        print(
            f"{(r['method'] + ' ' + r['name']).strip():<40} {r['requests']:>6} {r['failures']:>5} {r['p50_ms'] or '-':>7} "
            f"{r['p95_ms'] or '-':>7} {r['p99_ms'] or '-':>7} {r['max_ms'] or '-':>7} {r['requests_per_s']:>6}"
        )
    for f in result["failures"]:
        print(f"  failure: {f['occurrences']} x {f['name']}: {f['error'][:200]}")
    print(f"429 answers from nginx's rate limits: {result['nginx_429']}")
    runs = result["background_runs"]
    if runs:
        for kind in ("index", "cluster"):
            mine = [r for r in runs if r["command"] == kind]
            failed = [r for r in mine if r["exit_status"] != 0]
            seconds = f" ({', '.join(str(r['seconds']) for r in mine)} s)" if mine else ""
            print(f"background {kind}: {len(mine)} runs{seconds}, {len(failed)} failed")
            for r in failed:
                print(f"  failed: {r}")
    m = result["machine"]
    print(
        f"machine: {m.get('cpu', '?')}, {m['cpus']} CPUs, {m.get('memory_gb', '?')} GB; load average before "
        f"{m['load_average_before'][0]:.1f}, after {m['load_average_after'][0]:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
