#!/usr/bin/env python3
"""Organiser corrections on a labelled people folder (LFW style): how much do a few corrections
raise the clustering's BCubed F, and does the gain survive new photos and a new clustering?

1. The people folder is indexed once (``--master``: a data folder; indexed there unless it holds
   an index already). A seeded random 1/11 of its photos is held out: the rest is the gallery,
   the held-out photos are the "10% more photos" that come in later. The gallery is written into
   two scratch indexes from the master's faces (no face is detected twice) and clustered
   (`faceexplore cluster`'s path).
2. The organiser is simulated on one of them with the labels (each photo's labelled face is the
   one nearest its centre, as `faceexplore evaluate people` scores): the ``--corrections``
   clusters the quality report doubts most (`faceexplore report`'s order) are corrected through
   PeopleEditor, as the organiser would. A cluster whose majority identity has its main
   cluster elsewhere is merged into it; otherwise the faces of every other identity are moved
   out, to their identity's main cluster or to a new person.
3. The held-out photos are added to both indexes and both are clustered again: the one without
   corrections is the baseline.

BCubed F over the labelled faces is reported at each step. Results, with the data and the
machine: docs/quality.md, "Organiser corrections".

usage:
  python backend/benchmarks/corrections_benchmark.py PEOPLE_FOLDER --master DATA --scratch DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceexplore.evaluation import bcubed_scores  # noqa: E402
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord  # noqa: E402
from faceexplore.people.clustering import cluster_index  # noqa: E402
from faceexplore.people.corrections import CorrectionError, PeopleEditor  # noqa: E402
from faceexplore.people.report import cluster_report  # noqa: E402


def master_photos(master: FaceIndex) -> list[tuple[PhotoRecord, list[FaceRecord]]]:
    """Every photo of the master index with its faces, as add_photos takes them."""
    out = []
    for photo in master.photos():
        faces = [
            FaceRecord(
                (f["x1"], f["y1"], f["x2"], f["y2"]),
                json.loads(f["landmarks"]),
                f["probability"],
                [x for x in f["flags"].split(",") if x],
                np.frombuffer(f["embedding"], np.float32),
            )
            for f in master.faces_of_photo(photo["id"])
        ]
        record = PhotoRecord(
            photo["path"], photo["size"], photo["mtime_ns"], photo["width"], photo["height"], photo["status"], photo["error"]
        )
        out.append((record, faces))
    return out


def labelled_faces(index: FaceIndex) -> dict[int, str]:
    """face id -> identity for each photo's labelled face: the one nearest the photo's centre
    (LFW centres its subject), as `faceexplore evaluate people` scores."""
    out = {}
    for photo_id, path in index.all_photo_paths().items():
        info = index.photo_info(photo_id)
        faces = index.faces_with_people(photo_id)
        if not faces or info.width is None:
            continue
        centre = np.array([info.width, info.height]) / 2
        off = [np.hypot(*(np.array([b[0] + b[2], b[1] + b[3]]) / 2 - centre)) for b in (f.face.box for f in faces)]
        out[faces[int(np.argmin(off))].face.id] = path.split("/")[0]
    return out


def score(index: FaceIndex, only: set[int] | None = None) -> dict:
    """BCubed over the labelled faces (those of ``only`` when given)."""
    truth = labelled_faces(index)
    if only is not None:
        truth = {f: t for f, t in truth.items() if f in only}
    members = index.active_memberships()
    labels = [members.get(f, -f) for f in truth]  # a face in no person (rejected): its own
    scores = bcubed_scores(labels, list(truth.values()))
    return {**{k: round(v, 4) for k, v in scores.items()}, "faces": len(truth), "clusters": len(set(labels))}


def main_clusters(members: dict[int, int], truth: dict[int, str]) -> dict[str, int]:
    """identity -> the person holding most of its labelled faces."""
    counts = Counter((truth[f], p) for f, p in members.items() if f in truth)
    best: dict[str, tuple[int, int]] = {}
    for (identity, person), n in counts.items():
        if identity not in best or n > best[identity][0]:
            best[identity] = (n, person)
    return {identity: person for identity, (n, person) in best.items()}


def simulate_organiser(index: FaceIndex, corrections: int) -> dict:
    """Go down the doubted clusters, most doubted first, correcting them with the labels until
    ``corrections`` corrections are made; returns what was done."""
    editor = PeopleEditor(index)
    truth = labelled_faces(index)
    doubted = [c["id"] for c in cluster_report(index)["clusters"] if c["flags"]]
    done = Counter()
    looked = 0
    for person in doubted:
        if done["merge"] + done["move"] >= corrections:
            break
        looked += 1
        members = index.active_memberships()
        faces = [f for f, p in members.items() if p == person and f in truth]
        if not faces:
            done["gone"] += 1
            continue
        majority = Counter(truth[f] for f in faces).most_common(1)[0][0]
        main = main_clusters(members, truth)
        try:
            if main[majority] != person:
                editor.merge(main[majority], [person])
                done["merge"] += 1
                continue
            if len({truth[f] for f in faces}) == 1:
                done["nothing wrong"] += 1
            for identity in sorted({truth[f] for f in faces} - {majority}):
                theirs = [f for f in faces if truth[f] == identity]
                target = main.get(identity)
                editor.move_faces(theirs, None if target in (None, person) else target)
                done["move"] += 1
        except CorrectionError as exc:
            done[f"refused: {exc.code}"] += 1
    done["doubted clusters looked at"] = looked
    done["doubted clusters"] = len(doubted)
    return dict(done)


def same_id_share(before: dict[int, int], after: dict[int, int], faces: list[int]) -> float | None:
    """The share of ``faces`` whose person id a new clustering kept."""
    return round(float(np.mean([after.get(f) == before[f] for f in faces])), 4) if faces else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="people folder: one sub-folder of photos per person")
    parser.add_argument("--master", type=Path, required=True, help="data folder of the folder's index (indexed there if missing)")
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the two scratch indexes (emptied)")
    parser.add_argument("--corrections", type=int, default=20, help="corrections the organiser makes, most doubted clusters first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    started = time.monotonic()
    master_index = args.master / "index.sqlite3"
    if not master_index.exists():
        from faceexplore.index.indexer import index_gallery
        from faceexplore.settings import load_settings

        index_gallery(load_settings({"data_dir": args.master, "gallery_dir": args.folder}), progress=True)
    with FaceIndex(master_index, readonly=True) as master:
        model, dim = master.meta("model"), int(master.meta("embedding_dim"))
        photos = master_photos(master)
    order = list(range(len(photos)))
    random.Random(args.seed).shuffle(order)
    later = {i for i in order[: len(photos) // 11]}
    gallery = [p for i, p in enumerate(photos) if i not in later]
    added = [p for i, p in enumerate(photos) if i in later]

    shutil.rmtree(args.scratch, ignore_errors=True)
    args.scratch.mkdir(parents=True)
    result = {"folder": str(args.folder), "photos": len(gallery), "added_photos": len(added), "model": model}
    indexes = {"corrected": FaceIndex(args.scratch / "corrected" / "index.sqlite3")}
    indexes["corrected"].check_model(model, dim)
    indexes["corrected"].add_photos(gallery, model)
    cluster_index(indexes["corrected"], progress=lambda *a, **k: None)
    # the baseline is the same clustering, copied, that nobody corrects
    indexes["baseline"] = FaceIndex(args.scratch / "baseline" / "index.sqlite3")
    indexes["corrected"].db.backup(indexes["baseline"].db)
    result["before"] = score(indexes["corrected"])
    result["organiser"] = simulate_organiser(indexes["corrected"], args.corrections)
    result["corrections"] = len(PeopleEditor(indexes["corrected"]).log())
    result["after_corrections"] = score(indexes["corrected"])
    pinned = set(indexes["corrected"].constraints()[0])
    for name, index in indexes.items():
        before_ids = index.active_memberships()
        index.add_photos(added, model)
        cluster_index(index, progress=lambda *a, **k: None)
        result[f"{name}_after_new_photos"] = score(index)
        result[f"{name}_after_new_photos_old_faces"] = score(index, only=set(before_ids))
        # stable ids: the share of faces (of the pinned ones) still with the same person id
        after_ids = index.active_memberships()
        result[f"{name}_same_person_id"] = {
            "faces": same_id_share(before_ids, after_ids, list(before_ids)),
            "pinned_faces": same_id_share(before_ids, after_ids, [f for f in pinned if f in before_ids]),
        }
        index.close()
    before, after = result["before"]["f"], result["after_corrections"]["f"]
    result["gain"] = round(after - before, 4)
    result["gain_after_new_photos"] = round(result["corrected_after_new_photos"]["f"] - result["baseline_after_new_photos"]["f"], 4)
    result["gain_after_new_photos_old_faces"] = round(
        result["corrected_after_new_photos_old_faces"]["f"] - result["baseline_after_new_photos_old_faces"]["f"], 4
    )
    result["machine"] = f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores"
    result["seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
