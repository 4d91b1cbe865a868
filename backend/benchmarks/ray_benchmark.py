#!/usr/bin/env python3
"""The Ray engine's overhead: `faceexplore index` with --engine local and with --engine ray on the
same photos, same worker count, one after the other.

Takes the first PHOTOS photos (by path) of an event gallery, hard-linked (copied where links are
not possible) into OUT/gallery, and indexes them into a fresh data folder per engine:

  faceexplore --data OUT/data-local index OUT/gallery --engine local --workers W --quiet
  faceexplore --data OUT/data-ray   index OUT/gallery --engine ray   --workers W --quiet [--ray-address A]

Without --ray-address, the Ray run starts a Ray instance on this machine (all its cores) and
stops it at the end, all inside the measured command: on one machine this measures what Ray adds
(starting Ray, shipping the code, actors, moving results through the object store), not a
speed-up. Each run's wall seconds include loading the models in every worker or actor; the
photos/s is the command's own (processed photos over its run time). CPU seconds and peak memory
are those of the command's whole process tree (workers; with Ray its daemons and actors too),
sampled by index_benchmark.run_measured. On a machine shared with other jobs, CPU seconds are the
fairer comparison: wall time follows the other jobs, and where Linux's autogroup scheduler is on
it gives each session a share, while Ray's actors run in sessions of their own and the local
workers share the command's one, so under contention the Ray run can get more of the machine.
The load average is read before and after each run. The two indexes are then compared: same
photos and face counts, the largest difference between embeddings of the same face.

Latest results, with the data and the machine: docs/scaling.md.

usage:
  python backend/benchmarks/ray_benchmark.py --gallery /work/data/event/gallery --photos 200 --out /tmp/ray-bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_benchmark import run_measured  # noqa: E402  (samples the whole process tree: CPU, memory)


def make_gallery(source: Path, photos: int, out: Path) -> Path:
    sys.path.insert(0, str(BACKEND))
    from faceexplore.index.gallery import filesystem_path, scan_gallery

    gallery = out / "gallery"
    if gallery.exists():
        shutil.rmtree(gallery)
    for f in scan_gallery(source)[:photos]:
        target = gallery / filesystem_path(f.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source / filesystem_path(f.path), target)
        except OSError:
            shutil.copy2(source / filesystem_path(f.path), target)
    return gallery


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run_index(engine: str, gallery: Path, data: Path, workers: int, ray_address: str | None) -> dict:
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    cmd = [sys.executable, "-m", "faceexplore", "--data", str(data), "index", str(gallery), "--engine", engine, "--quiet"]
    if workers:
        cmd += ["--workers", str(workers)]
    if engine == "ray" and ray_address:
        cmd += ["--ray-address", ray_address]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEEXPLORE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BACKEND), env.get("PYTHONPATH")]))
    if engine == "ray" and not ray_address and "RAY_AUTH_MODE" not in env:
        # the Ray started by the run: token authentication with a token of its own (otherwise
        # Ray writes one to ~/.ray/auth_token, which later `ray start` clusters then require)
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    before = load_average()
    measured = run_measured(cmd, data / "index.out", env=env)
    after = load_average()
    if measured["returncode"] != 0:
        sys.exit(f"{' '.join(cmd)} failed ({measured['returncode']}):\n{(data / 'index.err').read_text()[-3000:]}")
    summary = next(line for line in (data / "index.out").read_text().splitlines() if "photos in the gallery" in line)
    processed = int(re.search(r"(\d+) processed", summary).group(1))
    return {
        "engine": engine,
        "command": " ".join(cmd),
        "wall_s": round(measured["wall_s"], 1),
        "processed": processed,
        "photos_per_s": float(re.search(r"\(([\d.]+) photos/s\)", summary).group(1)),
        "faces": int(re.search(r"(\d+) faces", summary).group(1)),
        "cpu_s": round(measured["cpu_s"], 1),
        "cpu_s_per_photo": round(measured["cpu_s"] / max(processed, 1), 3),
        "peak_tree_pss_mb": round(measured["peak_tree_pss_mb"]),
        "max_single_rss_mb": round(measured["max_single_rss_mb"]),
        "processes_seen": measured["processes_seen"],
        "load_before": before,
        "load_after": after,
    }


def index_faces(index_path: Path) -> dict:
    db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    try:
        out = {}
        for pid, path in db.execute("SELECT id, path FROM photos"):
            rows = db.execute("SELECT x1, embedding FROM faces WHERE photo_id = ? ORDER BY x1, y1", (pid,)).fetchall()
            out[path] = [np.frombuffer(e, np.float32) for _, e in rows]
        return out
    finally:
        db.close()


def compare(a: Path, b: Path) -> dict:
    left, right = index_faces(a), index_faces(b)
    same_counts = set(left) == set(right) and all(len(left[p]) == len(right[p]) for p in left)
    diffs = [float(np.abs(x - y).max()) for p in left if p in right and len(left[p]) == len(right[p]) for x, y in zip(left[p], right[p])]
    return {"same_photos_and_face_counts": same_counts, "max_embedding_difference": max(diffs, default=0.0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", type=Path, default=Path("/work/data/event/gallery"), help="an event gallery (make_event_gallery.py)")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ray-bench"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (local) and actors (ray)")
    parser.add_argument("--ray-address", help="an existing cluster's head (default: Ray started on this machine by the run)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    gallery = make_gallery(args.gallery, args.photos, args.out)
    runs = []
    for engine in ("local", "ray"):
        run = run_index(engine, gallery, args.out / f"data-{engine}", args.workers, args.ray_address)
        print(json.dumps(run), file=sys.stderr)
        runs.append(run)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "gallery": f"first {args.photos} photos of {args.gallery}",
        "workers": args.workers,
        "runs": runs,
        "ray_extra_cpu_share": round(runs[1]["cpu_s"] / runs[0]["cpu_s"] - 1, 3),
        "indexes": compare(args.out / "data-local" / "index.sqlite3", args.out / "data-ray" / "index.sqlite3"),
    }
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("\n| engine | wall s | photos/s | CPU s (per photo) | peak memory (PSS, tree) | faces | load avg before/after |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in runs:
        print(
            f"| {r['engine']} | {r['wall_s']} | {r['photos_per_s']} | {r['cpu_s']} ({r['cpu_s_per_photo']}) | "
            f"{r['peak_tree_pss_mb'] / 1024:.1f} GB | {r['faces']} | {r['load_before']:.1f} / {r['load_after']:.1f} |"
        )


if __name__ == "__main__":
    main()
