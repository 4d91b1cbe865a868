#!/usr/bin/env python3
"""The large path's neighbour graph: how many of each face's close neighbours an approximate
index finds, and what the whole graph costs, by index and setting.

Above ``clustering.EXACT_KNN_LIMIT`` faces `faceexplore cluster` links each face to its 15
nearest faces closer than the threshold, found by faiss's IVF-Flat index
(``clustering.nearest_neighbours``); a person whose faces lose all their links to each other is
split. This benchmark builds the same synthetic gallery as million_faces_benchmark.py, takes the
threshold `cluster` would choose, and for each setting measures:

- recall: of the exact 15 nearest neighbours closer than the threshold of 2,000 sampled faces
  (faiss's exact flat index), the share the approximate index returns;
- seconds: building the index (k-means training and adding the faces, or the HNSW graph) and
  searching ``--queries`` faces, scaled to all faces (the search is the same per face).

Settings: IVF-Flat as `cluster` builds it (4 sqrt(n) lists) with each ``--probes``, and faiss's
HNSW (``IndexHNSWFlat``, ``--hnsw-m`` links a node) with each ``--ef-search``. Settings run in
turn in one process; compare them with each other.

Latest results, with the data and the machine: docs/speed.md, "A million faces".

usage:
  python backend/benchmarks/knn_graph_benchmark.py --faces 1000000 --probes 16 32 64 --json knn.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

K = 16  # a face and its 15 neighbours, as clustering.KNN_NEIGHBOURS + 1
SAMPLE = 2000


def main():
    import faiss
    from million_faces_benchmark import close_neighbour_recall, gallery

    from faceexplore.people import clustering
    from faceexplore.people.clustering import FaceClusterer

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--probes", type=int, nargs="*", default=[16, 32, 64])
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-search", type=int, nargs="*", default=[32, 64])
    ap.add_argument("--queries", type=int, default=20_000, help="faces searched to time each setting")
    ap.add_argument("--json")
    args = ap.parse_args()

    X, truth, photos = gallery(args.faces, args.seed)
    n = len(X)
    threshold = FaceClusterer().fit_threshold(X, photos).choice_.threshold
    Xf = np.ascontiguousarray(X, np.float32)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(n, min(n, SAMPLE), replace=False))
    queries = np.sort(rng.choice(n, min(n, args.queries), replace=False))
    exact = faiss.IndexFlatL2(Xf.shape[1])
    exact.add(Xf)
    squared, exact_i = exact.search(Xf[sample], K)
    exact_d = np.sqrt(np.maximum(squared, 0))
    result = {"faces": n, "people": int(len(np.unique(truth))), "threshold": threshold, "settings": []}
    print(f"{n} faces, threshold {threshold:.4f}", file=sys.stderr, flush=True)

    def measure(name: str, index, build_s: float):
        t = time.monotonic()
        index.search(Xf[queries], K)
        search_s = (time.monotonic() - t) * n / len(queries)
        _, approx_i = index.search(Xf[sample], K)
        found = close_neighbour_recall(approx_i, exact_d, exact_i, sample, threshold)
        row = {"setting": name, "build_s": build_s, "graph_search_s": search_s, "close_neighbour_recall": found}
        result["settings"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    t = time.monotonic()
    ivf = clustering._ivf_index(Xf, faiss.METRIC_L2, args.seed)
    build = time.monotonic() - t
    for probes in args.probes:
        ivf.nprobe = probes
        measure(f"IVF-Flat, {ivf.nlist} lists, {probes} probed", ivf, build)
    if args.ef_search:
        t = time.monotonic()
        hnsw = faiss.IndexHNSWFlat(Xf.shape[1], args.hnsw_m)
        hnsw.add(Xf)
        build = time.monotonic() - t
        for ef in args.ef_search:
            hnsw.hnsw.efSearch = ef
            measure(f"HNSW-Flat, M {args.hnsw_m}, efSearch {ef}", hnsw, build)
    result["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor(), "load_average_at_end": os.getloadavg()}
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
