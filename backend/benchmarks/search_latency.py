#!/usr/bin/env python3
"""Search latency through gunicorn: p50 and p95 of one-sample searches (POST /api/search).

    python backend/benchmarks/search_latency.py --data DATA --gallery GALLERY --queries QUERIES [--n 50]

The gallery is typically an event gallery made by shared/tools/make_event_gallery.py:

    python ../shared/tools/make_event_gallery.py ../shared/datasets/lfw-dev /tmp/event --photos 3000
    python backend/benchmarks/search_latency.py --data /tmp/event-data --gallery /tmp/event/gallery \\
        --queries /tmp/event/queries --n 50

If DATA holds no index yet, the gallery is indexed and clustered first (``--reindex`` forces an
index run, which only processes new or changed photos). Then ``faceexplore.web.server`` is started
on a free port of 127.0.0.1 (or ``--url`` points at a server already running), ``--warmup``
searches are made and not counted, and ``--n`` searches, one sample photo each, taken in turn from
every image under QUERIES (sorted; cycled when there are fewer), are timed from the client: the
whole HTTP round trip, upload included. With ``--concurrency C``, C client threads search at once
(latency under load). When QUERIES' parent folder holds make_event_gallery's truth.json, the
answers are also scored (found rate of present and absent people, recall and precision of the
photos found). The result is printed, and written as JSON with ``--json FILE``.

Latest results, with the data and the machine: docs/speed.md, "Search latency".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def percentile(values, q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ensure_index(settings, reindex: bool) -> dict:
    from faceexplore.index.indexer import index_gallery
    from faceexplore.index.store import FaceIndex
    from faceexplore.people.clustering import cluster_index

    info = {}
    if reindex or not Path(settings.index_path).is_file():
        log(f"indexing {settings.gallery_dir} into {settings.index_path} ...")
        summary = index_gallery(settings, progress=sys.stderr.isatty())
        info["index"] = {
            "processed": summary.processed,
            "faces": summary.faces,
            "errors": len(summary.errors),
            "seconds": round(summary.seconds, 1),
        }
        log(f"indexed {summary.processed} photos, {summary.faces} faces in {summary.seconds:.0f} s")
        with FaceIndex(settings.index_path) as index:
            started = time.monotonic()
            details = cluster_index(index, progress=lambda *a, **k: None)
            info["cluster"] = {"clusters": details["clusters"], "seconds": round(time.monotonic() - started, 1)}
            log(f"clustered into {details['clusters']} people")
    with FaceIndex(settings.index_path, readonly=True) as index:
        counts = index.counts()
    info["counts"] = {k: counts[k] for k in ("photos", "faces", "people", "model")}
    return info


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, log_file):
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "faceexplore.web.server",
        "--data",
        str(args.data),
        "--gallery",
        str(args.gallery),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    env = {**os.environ, "FACEEXPLORE_FRONTEND_DIR": ""}
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=5):
                return proc, url
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise SystemExit(f"the server did not come up within {args.startup_timeout:.0f} s (see {log_file.name})")


def stop_server(proc, timeout: float = 40) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def load_truth(queries: Path):
    truth_file = queries.parent / "truth.json"
    if not truth_file.is_file():
        return None
    truth = json.loads(truth_file.read_text())
    photos_of: dict[str, set] = {}
    for rel, names in truth.get("photos", {}).items():
        for name in names:
            photos_of.setdefault(name, set()).add(rel.split("/", 1)[1] if rel.startswith("gallery/") else rel)
    people = {}
    for kind in ("present", "absent"):
        for rel, person in truth.get(kind, {}).items():
            people[str((queries.parent / rel).resolve())] = (kind, person)
    return people, photos_of


def search_once(url: str, path: Path, timeout: float) -> tuple[float, int, dict | None]:
    data = path.read_bytes()
    started = time.perf_counter()
    r = requests.post(url + "/api/search", files=[("images", (path.name, data, "application/octet-stream"))], timeout=timeout)
    elapsed = time.perf_counter() - started
    try:
        body = r.json()
    except ValueError:
        body = None
    return elapsed, r.status_code, body


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="data folder (the index; built there if missing)")
    p.add_argument("--gallery", type=Path, required=True, help="gallery folder")
    p.add_argument("--queries", type=Path, required=True, help="folder of sample photos (searched recursively)")
    p.add_argument("--n", type=int, default=50, help="timed searches (default 50)")
    p.add_argument("--warmup", type=int, default=3, help="searches made first and not counted (default 3)")
    p.add_argument("--concurrency", type=int, default=1, help="client threads (default 1: one search at a time)")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: faceexplore serve's choice)")
    p.add_argument("--url", help="measure a server already running at this URL instead of starting one")
    p.add_argument("--reindex", action="store_true", help="run the indexer even when an index exists")
    p.add_argument("--startup-timeout", type=float, default=300)
    p.add_argument("--timeout", type=float, default=300, help="seconds per search request")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)

    from faceexplore.settings import load_settings

    settings = load_settings({"data_dir": args.data, "gallery_dir": args.gallery})
    queries = sorted(f for f in args.queries.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not queries:
        raise SystemExit(f"no query images under {args.queries}")
    result = {
        "gallery": str(args.gallery),
        "queries": str(args.queries),
        "n": args.n,
        "concurrency": args.concurrency,
        "cpu_count": os.cpu_count(),
    }
    if not args.url:
        result.update(ensure_index(settings, args.reindex))
    truth = load_truth(args.queries)

    proc = None
    log_path = Path(args.data) / "bench-gunicorn.log"
    log_file = open(log_path, "wb") if not args.url else None
    try:
        if args.url:
            url = args.url.rstrip("/")
        else:
            started = time.monotonic()
            proc, url = start_server(args, log_file)
            result["server_start_seconds"] = round(time.monotonic() - started, 1)
            log(f"gunicorn up at {url} in {result['server_start_seconds']} s")
        result["status"] = requests.get(url + "/api/status", timeout=30).json()
        for i in range(args.warmup):
            search_once(url, queries[i % len(queries)], args.timeout)
        order = [queries[i % len(queries)] for i in range(args.n)]
        wall = time.perf_counter()
        with ThreadPoolExecutor(max(1, args.concurrency)) as pool:
            runs = list(pool.map(lambda q: (q, *search_once(url, q, args.timeout)), order))
        wall = time.perf_counter() - wall
    finally:
        if proc is not None:
            stop_server(proc)
        if log_file:
            log_file.close()

    ok = [(q, t, body) for q, t, status, body in runs if status == 200 and body is not None]
    failed = [(q.name, status, (body or {}).get("error")) for q, t, status, body in runs if status != 200 or body is None]
    latencies = [t for _, t, _ in ok]
    result["latency_s"] = {
        "p50": round(percentile(latencies, 50), 3),
        "p95": round(percentile(latencies, 95), 3),
        "mean": round(statistics.fmean(latencies), 3) if latencies else None,
        "min": round(min(latencies), 3) if latencies else None,
        "max": round(max(latencies), 3) if latencies else None,
    }
    result["searches_per_second"] = round(len(runs) / wall, 2) if wall else None
    result["ok"], result["failed"] = len(ok), failed[:20]
    if truth:
        people, photos_of = truth
        scored = {"present": [], "absent": []}
        recalls, precisions = [], []
        for q, _, body in ok:
            kind, person = people.get(str(q.resolve()), (None, None))
            if kind is None:
                continue
            scored[kind].append(body["found"])
            if kind == "present" and body["found"]:
                got = {ph["path"] for ph in body["photos"]}
                wanted = photos_of.get(person, set())
                if wanted:
                    recalls.append(len(got & wanted) / len(wanted))
                if got:
                    precisions.append(len(got & wanted) / len(got))
        result["quality"] = {
            "present_found": f"{sum(scored['present'])}/{len(scored['present'])}",
            "absent_found (false alarms)": f"{sum(scored['absent'])}/{len(scored['absent'])}",
            "mean_recall_when_found": round(statistics.fmean(recalls), 3) if recalls else None,
            "mean_precision_when_found": round(statistics.fmean(precisions), 3) if precisions else None,
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    lat = result["latency_s"]
    log(
        f"{len(ok)}/{len(runs)} searches ok; p50 {lat['p50']} s, p95 {lat['p95']} s "
        f"(concurrency {args.concurrency}, {result['status'].get('photos')} photos, {result['status'].get('faces')} faces)"
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
