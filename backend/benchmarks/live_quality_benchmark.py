#!/usr/bin/env python3
"""The live gallery's incremental assignment against a full re-clustering, as an event grows.

An indexed event gallery (make_event_gallery.py's gallery, indexed by `faceexplore index`) is
replayed in arrival order (its photos' file names, IMG_00000 first) in ``--steps`` equal steps,
without running the models again: the stored photos and faces are copied into a fresh index
step by step. Step 1 is clustered in full (`cluster`); at each later step the new photos'
faces are

- (a) assigned incrementally (faceexplore/live/assignment.py) on top of the clustering so far,
  never re-clustered: the live gallery with no background re-clustering at all;
- (b) clustered from scratch on a copy of (a), as the background re-clustering would, keeping
  ids where it finds the same people (so "faces moved" counts the faces whose person changes
  when (b) replaces (a));
- (c) a gallery following the drift rule (faceexplore/live/drift.py): assigned incrementally,
  re-clustered in full at the steps where ``drift`` says so.

Scores: pairwise and BCubed F against truth.json. Truth names the people in each photo, not
which face is whose (tiles are pasted at random positions), so each face gets its person so:
the face of a photo with one detected face and one name is that person (exact); a photo with as
many detected faces as names is matched one to one to its people by the faces' distances to each
person's mean exact face (a person without an exact face leaves the photo unscored). Faces
unscored are still clustered. "exact F" scores the exact faces only.

``--latency FACES`` instead times one ``assign_new_faces`` call placing 5 new faces in a
clustered gallery of FACES synthetic faces, and one ``drift``.

usage:
  python backend/benchmarks/live_quality_benchmark.py --data /work/data/event-data \\
      --event /work/data/event [--steps 10] [--json out.json]
  python backend/benchmarks/live_quality_benchmark.py --latency 10000

Results, with the data and the machine: docs/quality.md, "Live gallery: incremental assignment".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceexplore.evaluation import bcubed_scores, pairwise_scores  # noqa: E402
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord  # noqa: E402
from faceexplore.live.assignment import assign_new_faces  # noqa: E402
from faceexplore.live.drift import drift  # noqa: E402
from faceexplore.people.clustering import cluster_index  # noqa: E402


def quiet(*_args, **_kwargs):
    pass


def load_source(data: Path):
    """The indexed photos in arrival order, each with its faces, as records to store again."""
    with FaceIndex(data / "index.sqlite3", readonly=True) as src:
        model, dim = src.meta("model"), int(src.meta("embedding_dim"))
        photos = src.db.execute("SELECT * FROM photos").fetchall()
        faces: dict[int, list] = {}
        for r in src.db.execute("SELECT * FROM faces ORDER BY photo_id, x1, id"):
            faces.setdefault(int(r["photo_id"]), []).append(
                FaceRecord(
                    (r["x1"], r["y1"], r["x2"], r["y2"]),
                    json.loads(r["landmarks"]),
                    float(r["probability"]),
                    [f for f in r["flags"].split(",") if f],
                    np.frombuffer(r["embedding"], np.float32),
                )
            )
    number = lambda path: int(m.group(1)) if (m := re.search(r"(\d+)\D*$", path)) else 0  # noqa: E731
    photos = sorted(photos, key=lambda r: (number(r["path"]), r["path"]))
    items = [
        (
            PhotoRecord(r["path"], r["size"], r["mtime_ns"], r["width"], r["height"], r["status"], r["error"]),
            faces.get(int(r["id"]), []),
        )
        for r in photos
    ]
    return model, dim, items


def face_truth(items, truth: dict) -> tuple[list, np.ndarray]:
    """Per face (in the order ``items`` hold them): its person or None, and whether exact."""
    names_of = {str(Path(k).relative_to("gallery")): v for k, v in truth["photos"].items()}
    people, exact = [], []
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for photo, faces in items:
        names = names_of.get(photo.path, [])
        if len(faces) == 1 and len(names) == 1:
            sums[names[0]] = sums.get(names[0], 0) + faces[0].embedding
            counts[names[0]] = counts.get(names[0], 0) + 1
    mean = {p: sums[p] / counts[p] for p in sums}
    for photo, faces in items:
        names = names_of.get(photo.path, [])
        if len(faces) == 1 and len(names) == 1:
            people.append(names[0])
            exact.append(True)
        elif len(faces) == len(names) and faces and all(n in mean for n in names):
            E = np.stack([f.embedding for f in faces]).astype(np.float64)
            M = np.stack([mean[n] for n in names])
            rows, cols = linear_sum_assignment(np.linalg.norm(E[:, None] - M[None], axis=2))
            order = dict(zip(rows, cols))
            people += [names[order[i]] for i in range(len(faces))]
            exact += [False] * len(faces)
        else:
            people += [None] * len(faces)
            exact += [False] * len(faces)
    return people, np.array(exact)


def add_step(index: FaceIndex, batch, model: str) -> list[int]:
    """Store the photos of one step; returns their faces' new ids, in order."""
    last = index.db.execute("SELECT COALESCE(MAX(id), 0) FROM faces").fetchone()[0]
    for s in range(0, len(batch), 500):
        index.add_photos(batch[s : s + 500], model)
    return [int(f) for (f,) in index.db.execute("SELECT id FROM faces WHERE id > ? ORDER BY id", (last,))]


def scores(index: FaceIndex, face_ids: list[int], people: list, exact: np.ndarray) -> dict:
    members = index.active_memberships()
    scored = [(members.get(f, -f), p) for f, p in zip(face_ids, people) if p is not None]
    exact_scored = [(members.get(f, -f), p) for f, p, e in zip(face_ids, people, exact) if e]
    labels, truth = zip(*scored)
    out = {"pairwise_f": pairwise_scores(labels, truth)["f"], "bcubed_f": bcubed_scores(labels, truth)["f"]}
    labels, truth = zip(*exact_scored)
    out["exact_pairwise_f"] = pairwise_scores(labels, truth)["f"]
    out["people"] = len(set(members.values()))
    return out


def moved_by_matching(a: dict[int, int], b: dict[int, int], faces: list[int]) -> int:
    """Faces in a different person in ``b`` than in ``a`` once the people of the two are
    matched one to one (ids aside): the faces a swap from ``a`` to ``b`` moves."""
    pa = np.array([a.get(f, -1 - i) for i, f in enumerate(faces)])
    pb = np.array([b.get(f, -1 - i) for i, f in enumerate(faces)])
    ua, ia = np.unique(pa, return_inverse=True)
    ub, ib = np.unique(pb, return_inverse=True)
    overlap = np.zeros((len(ua), len(ub)))
    np.add.at(overlap, (ia, ib), 1)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return int(len(faces) - overlap[rows, cols].sum())


def drift_dict(report) -> dict:
    return {
        "should_recluster": report.should_recluster,
        "reason": report.reason,
        "live_share": round(report.live_share, 4),
        "new_people_share": round(report.new_people_share, 4),
        "threshold": report.threshold,
        "refit_threshold": report.refit_threshold,
        "threshold_shift": round(report.threshold_shift, 4),
        "seconds": round(report.seconds, 3),
    }


def run(data: Path, event: Path, steps: int, scratch: Path) -> dict:
    """Three galleries grow side by side: ``live`` (clustered at step 1, then only assigned),
    ``always`` (assigned, then re-clustered in full at every step: its scores before the
    re-clustering are one step of incremental assignment, after it a full clustering) and
    ``policy`` (assigned, re-clustered where ``drift`` says)."""
    model, dim, items = load_source(data)
    people, exact = face_truth(items, json.loads((event / "truth.json").read_text()))
    bounds = np.linspace(0, len(items), steps + 1).round().astype(int)
    chains = {name: FaceIndex(scratch / f"{name}.sqlite3") for name in ("live", "always", "policy")}
    for index in chains.values():
        index.check_model(model, dim)
    live, always, policy = chains["live"], chains["always"], chains["policy"]
    rows, face_ids, face_start = [], [], 0
    for step in range(steps):
        batch = items[bounds[step] : bounds[step + 1]]
        n_faces = sum(len(f) for _, f in batch)
        new = add_step(live, batch, model)
        for other in (always, policy):
            assert add_step(other, batch, model) == new, "the replays number faces alike"
        face_ids += new
        face_start += n_faces
        seen = (people[:face_start], exact[:face_start])
        row = {"step": step + 1, "photos": int(bounds[step + 1]), "faces": len(face_ids), "new_faces": n_faces}
        if step == 0:
            for index in chains.values():
                t = time.monotonic()
                cluster_index(index, progress=quiet)
                row["full_seconds"] = round(time.monotonic() - t, 2)
            row["incremental"] = row["one_step"] = row["full"] = row["policy"] = scores(live, face_ids, *seen)
            rows.append(row)
            print(json.dumps(row), flush=True)
            continue
        # (a) incremental only since step 1
        summary = assign_new_faces(live)
        row["assign"] = {"assigned": summary.assigned, "new_people": summary.new_people, "seconds": round(summary.seconds, 3)}
        row["incremental"] = scores(live, face_ids, *seen)
        row["drift"] = drift_dict(drift(live, refit=True))
        # one step of incremental assignment on a full clustering, then (b) the full clustering
        assign_new_faces(always)
        row["one_step"] = scores(always, face_ids, *seen)
        row["one_step_drift"] = drift_dict(drift(always, refit=True))
        before = always.active_memberships()
        t = time.monotonic()
        cluster_index(always, progress=quiet)
        row["full_seconds"] = round(time.monotonic() - t, 2)
        row["full"] = scores(always, face_ids, *seen)
        after = always.active_memberships()
        row["one_step_faces_moved"] = sum(1 for f in face_ids if before.get(f) != after.get(f))
        row["incremental_faces_moved"] = moved_by_matching(live.active_memberships(), after, face_ids)
        # (c) the drift rule
        assign_new_faces(policy)
        report = drift(policy, refit=True)
        row["policy_drift"] = drift_dict(report)
        row["policy_before"] = scores(policy, face_ids, *seen)
        if report.should_recluster:
            cluster_index(policy, progress=quiet)
        row["policy"] = scores(policy, face_ids, *seen)
        row["policy_reclustered"] = report.should_recluster
        rows.append(row)
        print(json.dumps(row), flush=True)
    for index in chains.values():
        index.close()
    return {
        "data": str(data),
        "event": str(event),
        "photos": len(items),
        "faces": len(face_ids),
        "scored_faces": int(sum(p is not None for p in people)),
        "exact_faces": int(exact.sum()),
        "steps": rows,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "loadavg": os.getloadavg()},
    }


def latency(n_faces: int, new_faces: int, repeats: int, scratch: Path) -> dict:
    """Seconds of one ``assign_new_faces`` call placing ``new_faces`` faces (one photo each) in a
    clustered gallery of ``n_faces`` synthetic faces (faceexplore.faces.synthetic), and of one
    ``drift`` (with and without the threshold refit)."""
    from faceexplore.faces.synthetic import synthetic_people, synthetic_photos

    X, truth = synthetic_people(n_people=max(2, round(n_faces / 4.5)), seed=1)
    photos = synthetic_photos(truth, seed=1)
    with FaceIndex(scratch / "latency.sqlite3") as index:
        index.check_model("synthetic", X.shape[1])
        by_photo: dict[int, list] = {}
        for i, p in enumerate(photos):
            by_photo.setdefault(int(p), []).append(FaceRecord((0, 0, 10, 10), [], 1.0, [], X[i].astype(np.float32)))
        index.add_photos([(PhotoRecord(f"p{p}.jpg", 1, 1, 10, 10), f) for p, f in sorted(by_photo.items())], "synthetic")
        cluster_index(index, progress=quiet)
        rng = np.random.default_rng(2)
        assign, drift_full, drift_cheap = [], [], []
        for r in range(repeats):
            picks = rng.integers(0, len(X), new_faces)
            index.add_photos(
                [
                    (PhotoRecord(f"new{r}-{k}.jpg", 1, 1, 10, 10), [FaceRecord((0, 0, 10, 10), [], 1.0, [], X[i].astype(np.float32))])
                    for k, i in enumerate(picks)
                ],
                "synthetic",
            )
            assign.append(assign_new_faces(index).seconds)
            drift_full.append(drift(index, refit=True).seconds)
            drift_cheap.append(drift(index, refit=False).seconds)
    return {
        "faces": len(X),
        "new_faces_per_call": new_faces,
        "calls": repeats,
        "assign_seconds_median": round(float(np.median(assign)), 4),
        "assign_seconds_max": round(float(np.max(assign)), 4),
        "drift_seconds_median": round(float(np.median(drift_cheap)), 4),
        "drift_with_threshold_refit_seconds_median": round(float(np.median(drift_full)), 4),
        "loadavg": os.getloadavg(),
    }


def table(result: dict) -> str:
    head = (
        "| step | photos | faces | (a) incremental: pairwise F / BCubed F | live share | new people | threshold shift | "
        "faces moved by (b) | one step of incremental: pairwise F / BCubed F | live share | faces moved by (b) | "
        "(b) full: pairwise F / BCubed F | assign s | full cluster s | (c) drift rule: pairwise F |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    f = lambda s: f"{s['pairwise_f']:.3f} / {s['bcubed_f']:.3f}"  # noqa: E731
    for r in result["steps"]:
        d, o = r.get("drift", {}), r.get("one_step_drift", {})
        mark = lambda d: " (due)" if d.get("should_recluster") else ""  # noqa: E731
        policy = f"{r['policy_before']['pairwise_f']:.3f} -> re-cluster -> " if r.get("policy_reclustered") else ""
        lines.append(
            f"| {r['step']} | {r['photos']} | {r['faces']} | {f(r['incremental'])} | "
            f"{d.get('live_share', 0):.2f}{mark(d)} | {d.get('new_people_share', 0):.2f} | {d.get('threshold_shift', 0):.3f} | "
            f"{r.get('incremental_faces_moved', '-')} | {f(r['one_step'])} | {o.get('live_share', 0):.2f}{mark(o)} | "
            f"{r.get('one_step_faces_moved', '-')} | {f(r['full'])} | {r.get('assign', {}).get('seconds', '-')} | "
            f"{r.get('full_seconds', 0):.1f} | {policy}{r['policy']['pairwise_f']:.3f} |"
        )
    return head + "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="an indexed data folder (index.sqlite3)")
    ap.add_argument("--event", type=Path, help="the event folder with truth.json")
    ap.add_argument("--latency", type=int, metavar="FACES", help="instead: time assign_new_faces and drift on FACES synthetic faces")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="faceexplore-live-bench-") as tmp:
        if a.latency:
            result = latency(a.latency, new_faces=5, repeats=20, scratch=Path(tmp))
            print(json.dumps(result, indent=1))
        else:
            if not (a.data and a.event):
                ap.error("--data and --event are needed (or --latency)")
            result = run(a.data, a.event, a.steps, Path(tmp))
            print(table(result))
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
