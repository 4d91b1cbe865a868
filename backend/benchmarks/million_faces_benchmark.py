#!/usr/bin/env python3
"""A million faces: what `faceexplore cluster`, the search null and one search cost as the gallery
grows, and what the large path's approximate neighbours cost in quality.

Cost (``--faces``): for each size, in a process of its own (so that its peak memory is its own),
synthetic faces with a known person each (``faceexplore.faces.synthetic``: people in one cone, 1..8
faces a person, photos of 1..4 different people) are written into a real face index through
``FaceIndex.add_photos`` (fake photos, no images), then ``cluster_index`` runs exactly as
`faceexplore cluster` does, a second time with ``--recluster`` (the ids matched to the first
run's people), then a ``GallerySearcher`` loads the index and searches 20 faces. Reported: the
seconds of each step and of the parts of `cluster` (the linkage ``FaceClusterer.fit``, the search
null, the per-cluster quality, the people ids, the save), peak memory (ru_maxrss) after each
step, clusters against people, pairwise and BCubed F against the truth. A run whose memory passes
``--max-gib`` is stopped.

Quality (``--compare``): in memory, the same synthetic faces clustered by the full distance
matrix (up to 30,000 faces), the k-NN graph from exact neighbours and the k-NN graph from faiss's
approximate ones (each graph's components clustered with their full distance matrices); their
agreement (adjusted Rand index, identical labels), F against the truth, the neighbours the
approximate graph misses, and search on held-out faces of gallery people and on strangers against
each clustering (null threshold, same answer).

Latest results, with the data and the machine: docs/speed.md, "A million faces".

usage:
  python backend/benchmarks/million_faces_benchmark.py --faces 10000 100000 1000000 --json cost.json
  python backend/benchmarks/million_faces_benchmark.py --compare 10000 100000 --json quality.json
  python backend/benchmarks/million_faces_benchmark.py --parts 1000000   # per-cluster quality, one search
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
import threading
import time
from pathlib import Path

import numpy as np

MEAN_FACES_PER_PERSON = 4.5  # per_person=(1, 8)
SEARCHES = 20


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def guard_memory(limit_gib: float):
    """Stop this process when its resident memory passes ``limit_gib`` (the machine has 24 GiB)."""

    def watch():
        while True:
            with open("/proc/self/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            if rss / 2**20 > limit_gib:
                print(f"stopped: resident memory {rss / 2**20:.1f} GiB > {limit_gib} GiB", file=sys.stderr, flush=True)
                os._exit(99)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def gallery(n_faces: int, seed: int):
    from faceexplore.faces.synthetic import synthetic_people, synthetic_photos

    X, truth = synthetic_people(n_people=max(2, round(n_faces / MEAN_FACES_PER_PERSON)), seed=seed)
    return X, truth, synthetic_photos(truth, seed=seed)


class Stopwatch:
    """Seconds spent in the wrapped functions, by name."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, owner, attribute: str, name: str):
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            t = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - t
                # progress, for a run stopped before its end
                print(f"{name}: {time.monotonic() - t:.1f} s, peak {peak_gib():.2f} GiB", file=sys.stderr, flush=True)

        setattr(owner, attribute, timed)


def cost_one(n_faces: int, seed: int, recluster: bool) -> dict:
    from faceexplore.evaluation import bcubed_scores, pairwise_scores
    from faceexplore.faces.synthetic import synthetic_people
    from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
    from faceexplore.people import clustering, null_model
    from faceexplore.people.clustering import DENSE_LIMIT, EXACT_KNN_LIMIT, FaceClusterer, cluster_index
    from faceexplore.search.searcher import GallerySearcher

    watch = Stopwatch()
    watch.wrap(FaceClusterer, "fit", "linkage (FaceClusterer.fit)")
    watch.wrap(clustering, "nearest_neighbours", "  of which k-NN graph")
    watch.wrap(null_model, "search_threshold_from_gallery", "search null (fit_null)")
    watch.wrap(clustering, "cluster_quality", "per-cluster quality")
    watch.wrap(clustering, "assign_person_ids", "people ids")
    watch.wrap(FaceIndex, "save_clustering", "save")
    watch.wrap(FaceIndex, "embeddings", "read embeddings")
    out: dict = {"faces": n_faces}
    t = time.monotonic()
    X, truth, photos = gallery(n_faces, seed)
    out |= {"faces": int(len(X)), "people": int(len(np.unique(truth))), "photos": int(photos.max() + 1)}
    n = len(X)
    out["method"] = "dense" if n <= DENSE_LIMIT else ("k-NN graph, exact" if n <= EXACT_KNN_LIMIT else "k-NN graph, faiss IVF")
    with tempfile.TemporaryDirectory(prefix="faceexplore-million-") as tmp, FaceIndex(Path(tmp) / "index.sqlite3") as index:
        index.check_model("synthetic", X.shape[1])
        order = np.argsort(photos, kind="stable")  # faces are stored photo by photo
        bounds = np.flatnonzero(np.r_[True, np.diff(photos[order]) != 0, True])
        batch = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            faces = [FaceRecord((0, 0, 10, 10), [], 1.0, [], X[i]) for i in order[a:b]]
            batch.append((PhotoRecord(f"p{photos[order[a]]}.jpg", 1, 1, 10, 10), faces))
            if len(batch) == 5000:
                index.add_photos(batch, "synthetic")
                batch = []
        if batch:
            index.add_photos(batch, "synthetic")
        truth_in_index_order = truth[order]
        del X, batch
        out["seconds"] = {"prepare (synthetic faces, index)": time.monotonic() - t}
        out["peak_gib"] = {"prepare": peak_gib()}
        print(f"{out}", file=sys.stderr, flush=True)

        t = time.monotonic()
        details = cluster_index(index, progress=lambda *a: None)
        out["seconds"]["cluster"] = time.monotonic() - t
        out["peak_gib"]["cluster"] = peak_gib()
        out["cluster_parts"] = dict(watch.seconds)
        out |= {"threshold": details["threshold"], "clusters": details["clusters"], "null_distance": details["search_null"]["distance"]}
        if recluster:
            watch.seconds.clear()
            t = time.monotonic()
            cluster_index(index, progress=lambda *a: None)
            out["seconds"]["recluster"] = time.monotonic() - t
            out["peak_gib"]["recluster"] = peak_gib()
            out["recluster_parts"] = dict(watch.seconds)

        face_ids, _, _, _ = index.embeddings()
        members = index.active_memberships()
        labels = np.array([members[int(f)] for f in face_ids])
        out["pairwise"] = pairwise_scores(labels, truth_in_index_order)
        out["bcubed"] = bcubed_scores(labels, truth_in_index_order)
        del members, labels

        t = time.monotonic()
        searcher = GallerySearcher(index)
        out["seconds"]["search load"] = time.monotonic() - t
        queries, _ = synthetic_people(n_people=SEARCHES, per_person=(1, 1), seed=seed + 1000)
        t = time.monotonic()
        for q in queries:
            searcher.search(q[None])
        out["seconds"]["one search"] = (time.monotonic() - t) / len(queries)
        out["peak_gib"]["search"] = peak_gib()
    return out


def compare_one(n_faces: int, seed: int, held_out: int = 200) -> dict:
    """The approximate large path against the exact ones, on the same faces."""
    from scipy.sparse import csgraph  # noqa: F401  (imported before timing)
    from sklearn.metrics import adjusted_rand_score

    from faceexplore.evaluation import bcubed_scores, pairwise_scores
    from faceexplore.faces.synthetic import synthetic_people
    from faceexplore.people.clustering import DENSE_LIMIT, FaceClusterer, nearest_neighbours
    from faceexplore.people.null_model import cluster_scores, search_threshold_from_gallery

    X_all, truth_all, photos_all = gallery(n_faces + held_out, seed)
    rng = np.random.default_rng(seed)
    out_idx = np.sort(rng.choice(len(X_all), held_out, replace=False))  # search queries of gallery people
    keep = np.ones(len(X_all), bool)
    keep[out_idx] = False
    X, truth, photos = X_all[keep], truth_all[keep], photos_all[keep]
    strangers, _ = synthetic_people(n_people=held_out, per_person=(1, 1), seed=seed + 1000)
    Q = np.vstack([X_all[out_idx], strangers])
    q_truth = np.r_[truth_all[out_idx], np.full(held_out, -1)]
    in_gallery = np.isin(q_truth, truth)

    n = len(X)
    variants = {}
    if n <= DENSE_LIMIT:
        variants["full distance matrix"] = dict()
    # dense_limit n - 1: the k-NN graph path, each component clustered with its full matrix
    limit = min(n - 1, DENSE_LIMIT)
    variants["k-NN graph, exact neighbours"] = dict(dense_limit=limit, exact_knn_limit=n)
    variants["k-NN graph, faiss IVF neighbours"] = dict(dense_limit=limit, exact_knn_limit=0)
    result: dict = {"faces": n, "people": int(len(np.unique(truth))), "variants": {}}
    reference = None
    for name, params in variants.items():
        t = time.monotonic()
        fitted = FaceClusterer(**params).fit(X, photos)
        seconds = time.monotonic() - t
        labels = fitted.labels_
        null = search_threshold_from_gallery(X, labels, fitted.choice_, queries=np.flatnonzero(fitted.distinct_))
        uniq, inverse = np.unique(labels, return_inverse=True)
        sizes = np.bincount(inverse).astype(np.float64)
        scores = cluster_scores(np.sqrt(np.maximum(2 - 2 * Q @ X.T, 0)), inverse, sizes)
        best = scores.argmin(1)
        found = scores[np.arange(len(Q)), best] < null["distance"]
        # the person a found query is given: its cluster's most common true person
        cells, counts = np.unique(inverse * (truth.max() + 1) + truth, return_counts=True)
        order = np.lexsort((-counts, cells // (truth.max() + 1)))
        first = np.r_[True, np.diff(cells[order] // (truth.max() + 1)) != 0]
        majority = (cells[order] % (truth.max() + 1))[first]
        answer = np.where(found, majority[best], -1)
        v = {
            "seconds": seconds,
            "threshold": fitted.threshold_,
            "clusters": int(len(uniq)),
            "pairwise_f": pairwise_scores(labels, truth)["f"],
            "bcubed_f": bcubed_scores(labels, truth)["f"],
            "search_threshold": null["distance"],
            "search_correct": float(np.mean(answer == np.where(in_gallery, q_truth, -1))),
        }
        if reference is None:
            reference = (name, labels, answer, null["distance"])
        else:
            v["against"] = reference[0]
            v["ari"] = float(adjusted_rand_score(reference[1], labels))
            v["identical_labels"] = bool(v["ari"] == 1.0)
            v["same_search_answer"] = float(np.mean(answer == reference[2]))
            v["search_threshold_difference"] = float(null["distance"] - reference[3])
        result["variants"][name] = v
        print(f"  {n} faces, {name}: {json.dumps(v)}", file=sys.stderr, flush=True)
    # the close neighbours (under the threshold) the approximate graph misses, on sampled faces
    k = 16
    threshold = result["variants"]["k-NN graph, exact neighbours"]["threshold"]
    sample = np.sort(rng.choice(n, min(n, 2000), replace=False))
    all_d = np.sqrt(np.maximum(2 - 2 * X[sample] @ X.T, 0))
    exact_i = np.argpartition(all_d, k, axis=1)[:, :k]
    exact_d = np.take_along_axis(all_d, exact_i, axis=1)
    _, approx_i = nearest_neighbours(X, k, exact=False)
    result["close_neighbour_recall"] = close_neighbour_recall(approx_i[sample], exact_d, exact_i, sample, threshold)
    return result


def close_neighbour_recall(approx_i, exact_d, exact_i, sample, threshold: float) -> float:
    """Of the exact neighbours (``exact_i``, at ``exact_d``) of the ``sample`` faces closer than
    ``threshold``, the share among the approximate neighbours ``approx_i`` (rows: the sample)."""
    wanted = found = 0
    for r, face in enumerate(sample):
        close = exact_i[r][(exact_d[r] < threshold) & (exact_i[r] != face)]
        wanted += len(close)
        found += len(np.intersect1d(close, approx_i[r]))
    return found / max(wanted, 1)


def parts_one(n_faces: int, seed: int) -> dict:
    """In memory, the true people as the clustering: the per-cluster quality (nearest clusters
    included) and one search's distances and cluster scores, without the linkage before them."""
    from faceexplore.faces.synthetic import synthetic_people
    from faceexplore.people.clustering import cluster_quality
    from faceexplore.people.impostors import choose_threshold, pair_distances
    from faceexplore.people.null_model import cluster_scores

    X, truth, photos = gallery(n_faces, seed)
    random_d, cannot_link_d = pair_distances(X, photos, np.random.default_rng(0))
    model = choose_threshold(random_d, cannot_link_d).model
    t = time.monotonic()
    quality = cluster_quality(X, photos, truth, random_d, model, model.distance_at(0.01))
    out = {"faces": int(len(X)), "clusters": len(quality), "cluster_quality_seconds": time.monotonic() - t}
    _, inverse = np.unique(truth, return_inverse=True)
    sizes = np.bincount(inverse).astype(np.float64)
    queries, _ = synthetic_people(n_people=SEARCHES, per_person=(1, 1), seed=seed + 1000)
    t = time.monotonic()
    for q in queries:
        cluster_scores(np.sqrt(np.maximum(2 - 2 * q[None] @ X.T, 0)), inverse, sizes).min()
    out["one_search_scores_seconds"] = (time.monotonic() - t) / len(queries)
    out["peak_gib"] = peak_gib()
    return out


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, check=False)  # progress on stderr
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed (exit status {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=int, nargs="*", default=[], help="sizes whose cost is measured")
    ap.add_argument("--compare", type=int, nargs="*", default=[], help="sizes where the approximate path is compared with the exact")
    ap.add_argument("--recluster", action="store_true", help="also run `cluster` a second time (people ids matched)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-gib", type=float, default=20.0, help="stop a run whose resident memory passes this")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--cost-one", type=int, help=argparse.SUPPRESS)  # internal: one size, in this process
    ap.add_argument("--compare-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--parts", type=int, nargs="*", default=[], help="sizes where per-cluster quality and one search are timed in memory")
    ap.add_argument("--parts-one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cost_one or args.compare_one or args.parts_one:
        guard_memory(args.max_gib)
        if args.parts_one:
            r = parts_one(args.parts_one, args.seed)
        else:
            r = cost_one(args.cost_one, args.seed, args.recluster) if args.cost_one else compare_one(args.compare_one, args.seed)
        print(json.dumps(r))
        return
    common = ["--seed", str(args.seed), "--max-gib", str(args.max_gib)]
    results = {"cost": [], "quality": [], "parts": []}
    for n in args.faces:
        r = run_child(["--cost-one", str(n), *common, *(["--recluster"] if args.recluster else [])])
        results["cost"].append(r)
        print(json.dumps(r), flush=True)
    for n in args.compare:
        r = run_child(["--compare-one", str(n), *common])
        results["quality"].append(r)
        print(json.dumps(r), flush=True)
    for n in args.parts:
        r = run_child(["--parts-one", str(n), *common])
        results["parts"].append(r)
        print(json.dumps(r), flush=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), "load_average_at_end": load}
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, **results}, indent=1))


if __name__ == "__main__":
    main()
