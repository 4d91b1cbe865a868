#!/usr/bin/env python3
"""Clustering at scale: `faceexplore cluster`'s whole path on synthetic embeddings.

For each size N, synthetic faces with a known person each (``faceexplore.faces.synthetic``: people in
one cone, 1..8 faces a person, photos of 1..4 different people) are written into a real face
index, then ``cluster_index`` runs exactly as `faceexplore cluster` does: the threshold derived
from the data, average linkage (the full distance matrix up to 30k faces, the k-nearest-neighbour
graph above), the search null, the per-cluster quality, the atomic save. Each size runs in a
process of its own so that its peak memory (ru_maxrss) is its own.

Reported per size: seconds for the clustering (and for one search against the result), peak
memory, the derived threshold, clusters against people, pairwise and BCubed F against the truth.

Latest results, with the data and the machine: docs/speed.md, "Clustering at scale".

usage:
  python backend/benchmarks/cluster_benchmark.py                    # 7,000 and 200,000 faces
  python backend/benchmarks/cluster_benchmark.py --sizes 7000 50000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MEAN_FACES_PER_PERSON = 4.5  # per_person=(1, 8)


def run_one(n_faces: int, seed: int) -> dict:
    from faceexplore.evaluation import bcubed_scores, pairwise_scores
    from faceexplore.faces.synthetic import synthetic_people, synthetic_photos
    from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
    from faceexplore.people.clustering import DENSE_LIMIT, cluster_index
    from faceexplore.search.searcher import GallerySearcher

    t0 = time.monotonic()
    X, truth = synthetic_people(n_people=max(2, round(n_faces / MEAN_FACES_PER_PERSON)), seed=seed)
    photos = synthetic_photos(truth, seed=seed)
    with tempfile.TemporaryDirectory(prefix="faceexplore-cluster-bench-") as tmp, FaceIndex(Path(tmp) / "index.sqlite3") as index:
        index.check_model("synthetic", X.shape[1])
        items = {}
        for i, p in enumerate(photos):
            items.setdefault(int(p), []).append(FaceRecord((0, 0, 10, 10), [], 1.0, [], X[i]))
        batch = [(PhotoRecord(f"p{p}.jpg", 1, 1, 10, 10), faces) for p, faces in sorted(items.items())]
        for s in range(0, len(batch), 5000):
            index.add_photos(batch[s : s + 5000], "synthetic")
        prepare = time.monotonic() - t0

        t1 = time.monotonic()
        details = cluster_index(index)
        cluster_seconds = time.monotonic() - t1

        face_ids, _, _, _ = index.embeddings()
        members = index.active_memberships()
        labels = np.array([members[int(f)] for f in face_ids])
        # faces were stored photo by photo: map them back to their person
        order = np.argsort(photos, kind="stable")
        truth_in_index_order = truth[order]

        searcher = GallerySearcher(index)
        queries, _ = synthetic_people(n_people=20, per_person=(1, 1), seed=seed + 1000)
        t2 = time.monotonic()
        for q in queries:
            searcher.search(q[None])
        search_seconds = (time.monotonic() - t2) / len(queries)
    return {
        "faces": int(len(X)),
        "people": int(len(np.unique(truth))),
        "photos": int(len(items)),
        "method": "dense" if len(X) <= DENSE_LIMIT else "knn-graph",
        "threshold": details["threshold_choice"]["threshold"],
        "clusters": details["clusters"],
        "pairwise": pairwise_scores(labels, truth_in_index_order),
        "bcubed": bcubed_scores(labels, truth_in_index_order),
        "seconds": {"prepare": prepare, "cluster": cluster_seconds, "one_search": search_seconds},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[7000, 200_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, in this process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed)))
        return
    results = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            sys.exit(f"{n} faces failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        s = r["seconds"]
        print(
            f"{r['faces']:>7} faces ({r['method']}): cluster {s['cluster']:.1f} s, one search {s['one_search'] * 1000:.0f} ms, "
            f"peak {r['peak_rss_mb'] / 1024:.2f} GiB, threshold {r['threshold']:.3f}, {r['clusters']} clusters / {r['people']} people, "
            f"pairwise F {r['pairwise']['f']:.3f}, BCubed F {r['bcubed']['f']:.3f}",
            flush=True,
        )
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), "python": platform.python_version()}
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=1))


if __name__ == "__main__":
    main()
