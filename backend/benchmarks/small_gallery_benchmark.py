#!/usr/bin/env python3
"""Thresholds and search F1 on event galleries from a few dozen photos up, with and without the
embedding model's prior (faceexplore/faces/priors.py), and with a share of the photos copied.

For each size, make_event_gallery.py builds an event gallery (cast: one person for every 6
photos, at least 6; 50 absent people's queries); a second gallery adds a resized (x0.5) or a
recompressed (JPEG quality 60) copy of ``--duplicate-share`` of its photos, alternately, each
copy listed in truth.json with its original's people. Each gallery is indexed once and then
evaluated (`evaluate event`: cluster, then search every query at the 1% false-alarm setting)
twice: with the gallery-only rules (``cluster_index(use_prior=False)``, `cluster --no-prior`)
and with the prior. It prints one table row per gallery and rule.

Results, with the data and the machine: docs/quality.md, "Small galleries".

usage (from the repository root):
  python backend/benchmarks/small_gallery_benchmark.py --sizes 20 50 200 --out /tmp/small-gallery
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "backend"))

from faceexplore import evaluation  # noqa: E402
from faceexplore.index.store import FaceIndex  # noqa: E402
from faceexplore.people.clustering import cluster_index  # noqa: E402
from faceexplore.settings import Settings  # noqa: E402

PHOTOS_PER_PERSON = 6
MIN_CAST = 6
ABSENT = 50


def build(tool: str, people: str, photos: int, out: Path, seed: int):
    if (out / "truth.json").exists():
        return
    cast = max(MIN_CAST, round(photos / PHOTOS_PER_PERSON))
    cmd = [sys.executable, tool, people, str(out), "--photos", str(photos), "--people", str(cast), "--absent", str(ABSENT)]
    subprocess.run([*cmd, "--seed", str(seed)], check=True)


def add_copies(src: Path, out: Path, share: float, seed: int) -> int:
    """A copy of ``src`` where ``share`` of the gallery photos also appear resized or recompressed."""
    from PIL import Image

    truth = json.loads((src / "truth.json").read_text())
    if (out / "truth.json").exists():
        return sum("_copy" in p for p in json.loads((out / "truth.json").read_text())["photos"])
    shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data"))  # not the plain one's index
    originals = sorted(truth["photos"])
    chosen = random.Random(seed).sample(originals, round(share * len(originals)))
    for n, rel in enumerate(sorted(chosen)):
        img = Image.open(src / rel).convert("RGB")
        copy_rel = rel.replace(".jpg", "_copy.jpg")
        if n % 2 == 0:
            img.resize((img.width // 2, img.height // 2), Image.LANCZOS).save(out / copy_rel, quality=90)
        else:
            img.save(out / copy_rel, quality=60)
        truth["photos"][copy_rel] = truth["photos"][rel]
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True))
    return len(chosen)


def reuse_index(plain_data: Path, copies_data: Path):
    """Start the copies gallery from the plain one's index: it holds the same files, unchanged
    (same paths, sizes and times), so only the copies are indexed."""
    if (copies_data / "index.sqlite3").exists() or not (plain_data / "index.sqlite3").exists():
        return
    copies_data.mkdir(parents=True, exist_ok=True)
    for name in ("index.sqlite3", "index.sqlite3-wal"):
        if (plain_data / name).exists():
            shutil.copy2(plain_data / name, copies_data / name)


def evaluate(event: Path, use_prior: bool) -> dict:
    evaluation.cluster_index = functools.partial(cluster_index, use_prior=use_prior)
    scratch = event / "data"
    settings = Settings(index_workers=2)
    result = evaluation.evaluate_event(event, settings, scratch=scratch)
    with FaceIndex(settings.replace(data_dir=scratch).index_path, readonly=True) as index:
        details = index.active_clustering()["details"]
    model = (details.get("threshold_choice") or {}).get("model") or {}
    null = details.get("search_null") or {}
    return {
        "photos": result["photos"],
        "faces": result["faces"],
        "clusters": result["clusters"],
        "threshold": result["threshold"],
        "search_threshold": result["search_threshold"],
        "gallery_weight": model.get("gallery_weight"),
        "duplicates_collapsed": model.get("duplicates_collapsed", 0),
        "floor_used": bool(null.get("prior_floor_used")),
        "f1": result["present"]["f1"],
        "precision": result["present"]["precision"],
        "recall": result["present"]["recall"],
        "present": result["present"]["queries"],
        "false_alarm_rate": result["absent"]["false_alarm_rate"],
        "absent": result["absent"]["queries"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=str(SHARED / "datasets" / "lfw-dev"))
    ap.add_argument("--tool", default=str(SHARED / "tools" / "make_event_gallery.py"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 50, 200])
    ap.add_argument("--duplicate-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/small-gallery")
    ap.add_argument("--no-copies", action="store_true", help="only the galleries without copies")
    args = ap.parse_args()
    out = Path(args.out)
    rows = []
    header = (
        f"{'gallery':<16} {'rule':<12} {'photos':>6} {'faces':>5} {'clusters':>8} {'copies out':>10} {'gallery wt':>10} "
        f"{'cluster thr':>11} {'search thr':>10} {'floor':>5} {'F1':>6} {'P':>6} {'R':>6} {'FA':>11}"
    )
    print(header, flush=True)
    for size in args.sizes:
        plain = out / f"event{size}"
        build(args.tool, args.people, size, plain, args.seed)
        galleries = [(plain, f"{size}")]
        if not args.no_copies:
            copies = add_copies(plain, out / f"event{size}-copies", args.duplicate_share, args.seed)
            galleries.append((out / f"event{size}-copies", f"{size} +{copies} copies"))
        for event, label in galleries:
            if event != plain:  # the plain gallery has been indexed by now
                reuse_index(plain / "data", event / "data")
            for use_prior in (False, True):
                r = evaluate(event, use_prior) | {"gallery": label, "rule": "prior" if use_prior else "gallery only"}
                rows.append(r)
                (out / f"results-{'-'.join(map(str, args.sizes))}.json").write_text(json.dumps(rows, indent=1))
                print(format_row(r), flush=True)
    print()
    print(header)
    for r in rows:
        print(format_row(r))


def format_row(r: dict) -> str:
    weight = "-" if r["gallery_weight"] is None or r["rule"] == "gallery only" else f"{r['gallery_weight']:.2f}"
    thr = "-" if r["threshold"] is None else f"{r['threshold']:.3f}"
    sthr = "-" if r["search_threshold"] is None else f"{r['search_threshold']:.3f}"
    fa = f"{r['false_alarm_rate']:.2f} of {r['absent']}"
    return (
        f"{r['gallery']:<16} {r['rule']:<12} {r['photos']:>6} {r['faces']:>5} {r['clusters']:>8} {r['duplicates_collapsed']:>10} "
        f"{weight:>10} {thr:>11} {sthr:>10} {'yes' if r['floor_used'] else '-':>5} {r['f1']:>6.3f} {r['precision']:>6.3f} "
        f"{r['recall']:>6.3f} {fa:>11}"
    )


if __name__ == "__main__":
    main()
