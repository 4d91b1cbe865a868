#!/usr/bin/env python3
"""Live gallery latency: from a photo landing in the gallery folder to it being searchable.

Builds a live gallery from an event gallery (make_event_gallery.py's layout): the first
``--base`` photos (by path) are indexed and clustered the usual way (`faceexplore index`, then
`cluster`), so a clustering exists; then `faceexplore watch` runs as its own process (the real
command, models loaded once) and ``--photos`` further photos of the event are dropped into the
folder, each written under a hidden name and renamed into place (atomic, as rsync and most
upload tools do), in three patterns:

- singles: one photo, then wait until it is searchable, then ``--gap`` seconds idle;
- bursts of 10 and of 50: the photos renamed in one after the other, then wait for all.

A photo counts as searchable when the index holds it (its size as on disk) and every face of it
has a person in the active clustering (the join `assign_new_faces` makes): what a search needs
to return it. The index is polled read-only every 0.05 s, as a web worker reads it. Latency is
from the rename to that moment. p50/p95/max per pattern, with the re-clusterings the watcher
started (its status file), the machine and its load average.

The data folder is kept: a second run with the same ``--work`` reuses the base index (its
dropped photos are removed first, so the watcher starts from the base again).

usage (results: docs/speed.md, "Live gallery latency"):
  nice -n 10 python backend/benchmarks/live_latency_benchmark.py --event /work/data/event/gallery \\
      --work /tmp/live-bench --base 300 --photos 200
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from faceexplore.faces.images import PHOTO_EXTENSIONS  # noqa: E402
from faceexplore.live.status import read_status  # noqa: E402

POLL_S = 0.05


def event_photos(event: Path) -> list[Path]:
    return sorted(p for p in event.rglob("*") if p.suffix.lower() in PHOTO_EXTENSIONS and not p.name.startswith("."))


def faceexplore(*args, env=None):
    return subprocess.run([sys.executable, "-m", "faceexplore", *map(str, args)], check=True, env=env)


def prepare(args, photos: list[Path]) -> tuple[Path, Path]:
    work = Path(args.work)
    gallery, data = work / "gallery", work / "data"
    base = photos[: args.base]
    if not (data / "index.sqlite3").exists():
        gallery.mkdir(parents=True, exist_ok=True)
        for p in base:
            target = gallery / p.relative_to(args.event)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
        t = time.monotonic()
        faceexplore("--data", data, "index", gallery, "--quiet")
        faceexplore("--data", data, "cluster")
        print(f"base: {len(base)} photos indexed and clustered in {time.monotonic() - t:.0f} s", file=sys.stderr)
    else:  # a rerun: back to the base gallery (the watcher drops the rest at its start)
        keep = {gallery / p.relative_to(args.event) for p in base}
        for f in [f for f in gallery.rglob("*") if f.is_file() and f not in keep]:
            f.unlink()
    return gallery, data


class IndexProbe:
    """Read-only look at the index, as a web worker has it."""

    def __init__(self, index_path: Path):
        self.db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)

    def searchable(self, path: str, size: int) -> bool:
        row = self.db.execute("SELECT id, size FROM photos WHERE path = ?", (path,)).fetchone()
        if row is None or row[1] != size:
            return False
        active = self.db.execute("SELECT value FROM meta WHERE key = 'active_clustering'").fetchone()
        if active is None:
            return False
        missing = self.db.execute(
            "SELECT COUNT(*) FROM faces f LEFT JOIN memberships m ON m.face_id = f.id AND m.clustering_id = ? "
            "WHERE f.photo_id = ? AND m.face_id IS NULL",
            (int(active[0]), row[0]),
        ).fetchone()[0]
        return missing == 0


def drop(photo: Path, event: Path, gallery: Path) -> tuple[str, int, float]:
    relative = photo.relative_to(event)
    target = gallery / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.part")
    shutil.copyfile(photo, temporary)
    os.rename(temporary, target)
    return str(relative).replace(os.sep, "/"), target.stat().st_size, time.monotonic()


def wait_searchable(probe: IndexProbe, dropped, timeout: float) -> list[float]:
    pending = {path: (size, at) for path, size, at in dropped}
    latencies = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for path, (size, at) in list(pending.items()):
            if probe.searchable(path, size):
                latencies[path] = time.monotonic() - at
                del pending[path]
        time.sleep(POLL_S)
    if pending:
        raise SystemExit(f"{len(pending)} photos not searchable after {timeout:g} s: {sorted(pending)[:5]}")
    return [latencies[path] for path, _, _ in dropped]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def summary(values) -> dict:
    a = np.asarray(values)
    return {
        "photos": len(a),
        "p50_s": round(float(np.percentile(a, 50)), 2),
        "p95_s": round(float(np.percentile(a, 95)), 2),
        "max_s": round(float(a.max()), 2),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--event", type=Path, default=Path("/work/data/event/gallery"), help="an event gallery folder (make_event_gallery.py)")
    p.add_argument("--work", type=Path, default=Path("/tmp/live-bench"), help="scratch folder (gallery/ and data/), kept for reruns")
    p.add_argument("--base", type=int, default=300, help="photos indexed and clustered before the watcher starts")
    p.add_argument("--photos", type=int, default=200, help="photos dropped in: a quarter singles, a quarter bursts of 10, the rest of 50")
    p.add_argument("--gap", type=float, default=2.0, help="idle seconds after each single photo is searchable")
    p.add_argument("--timeout", type=float, default=600, help="longest wait for one pattern step")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    args.event = args.event.resolve()
    photos = event_photos(args.event)
    if len(photos) < args.base + args.photos:
        raise SystemExit(f"{args.event} holds {len(photos)} photos; --base + --photos need {args.base + args.photos}")
    gallery, data = prepare(args, photos)
    env = {**os.environ, "PYTHONPATH": str(BACKEND)}
    log = open(Path(args.work) / "watch.log", "w")  # noqa: SIM115 (open for the watcher's lifetime)
    watcher = subprocess.Popen([sys.executable, "-m", "faceexplore", "--data", str(data), "watch", str(gallery)], env=env, stderr=log)
    probe = IndexProbe(data / "index.sqlite3")
    results, load = {}, []
    try:
        deadline = time.monotonic() + 300
        while True:  # the models loaded, the start-up walk done, the base as it was
            status = read_status(data)
            base = probe.db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == args.base
            if status and status.watching and status.message is None and status.waiting == 0 and status.indexing == 0 and base:
                break
            if watcher.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the watcher did not start (see {log.name})")
            time.sleep(0.2)
        time.sleep(args.gap)
        todo = iter(photos[args.base : args.base + args.photos])
        singles = args.photos // 4
        tens = (args.photos // 4) // 10
        fifties = (args.photos - singles - 10 * tens) // 50
        plan = [("single (idle)", 1)] * singles + [("burst of 10", 10)] * tens + [("burst of 50", 50)] * fifties
        for pattern, size in plan:
            batch = [drop(next(todo), args.event, gallery) for _ in range(size)]
            results.setdefault(pattern, []).extend(wait_searchable(probe, batch, args.timeout))
            load.append(os.getloadavg()[0])
            time.sleep(args.gap)
        status = read_status(data)
    finally:
        watcher.terminate()
        try:
            watcher.wait(60)
        except subprocess.TimeoutExpired:
            watcher.kill()
        log.close()
    out = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "load_average_1min": {"min": round(min(load), 2), "mean": round(float(np.mean(load)), 2), "max": round(max(load), 2)},
        "base_photos": args.base,
        "patterns": {pattern: summary(values) for pattern, values in results.items()},
        "all": summary([v for values in results.values() for v in values]),
        "reclustered": status.last_reclustered_at is not None if status else None,
        "recent_errors": status.recent_errors if status else None,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
