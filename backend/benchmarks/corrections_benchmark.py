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

With ``--curve``, the gain per answer instead: on copies of the clustered gallery an organiser who
knows the truth answers (a) the review queue (faceexplore/people/review.py), best question first,
the queue computed again after each answer; (b) random pairs of people ("same person?"); (c)
today's doubt flags, one doubted cluster looked at per answer. BCubed and pairwise F are reported
after each of ``--answers`` (0, 10, 25, 50, 100, 200), with the share of "yes" and "no" answers.
A question whose truth is unknown (no labelled face on a side; a face that is not the labelled
one of its photo) is skipped, and counts as an answer.

usage:
  python backend/benchmarks/corrections_benchmark.py PEOPLE_FOLDER --master DATA --scratch DIR
  python backend/benchmarks/corrections_benchmark.py PEOPLE_FOLDER --master DATA --scratch DIR --curve
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

from faceexplore.evaluation import bcubed_scores, pairwise_scores  # noqa: E402
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord  # noqa: E402
from faceexplore.people.clustering import cluster_index  # noqa: E402
from faceexplore.people.corrections import CorrectionError, PeopleEditor  # noqa: E402
from faceexplore.people.report import cluster_report  # noqa: E402
from faceexplore.people.review import answer_question, review_queue  # noqa: E402


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


def simulate_organiser(index: FaceIndex, corrections: int, looked_limit: int | None = None) -> dict:
    """Go down the doubted clusters, most doubted first, correcting them with the labels until
    ``corrections`` corrections are made (or ``looked_limit`` clusters looked at); returns what
    was done."""
    editor = PeopleEditor(index)
    truth = labelled_faces(index)
    doubted = [c["id"] for c in cluster_report(index)["clusters"] if c["flags"]]
    done = Counter()
    looked = 0
    for person in doubted:
        if done["merge"] + done["move"] >= corrections or (looked_limit is not None and looked >= looked_limit):
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


def both_scores(index: FaceIndex, truth: dict[int, str]) -> dict:
    members = index.active_memberships()
    labels = [members.get(f, -f) for f in truth]
    b, p = bcubed_scores(labels, list(truth.values())), pairwise_scores(labels, list(truth.values()))
    return {"bcubed_f": round(b["f"], 4), "pairwise_f": round(p["f"], 4), "people": len(set(members.values()))}


def identity_of(person: int, members: dict[int, int], truth: dict[int, str], leave_out: int | None = None) -> str | None:
    """The identity most of a person's labelled faces have (None: none labelled)."""
    counts = Counter(truth[f] for f, p in members.items() if p == person and f in truth and f != leave_out)
    return counts.most_common(1)[0][0] if counts else None


def truthful_answer(question, members: dict[int, int], truth: dict[int, str]) -> str:
    """What an organiser who knows everyone answers; "skip" where the labels do not say."""
    if question.kind == "same_person":
        a, b = identity_of(question.person, members, truth), identity_of(question.other_person, members, truth)
        return "skip" if a is None or b is None else ("yes" if a == b else "no")
    face = question.faces[0]
    if question.kind == "face_belongs":
        mine, theirs = truth.get(face), identity_of(question.person, members, truth, leave_out=face)
        return "skip" if mine is None or theirs is None else ("yes" if mine == theirs else "no")
    return "no" if face in truth else "skip"  # not_a_face: a labelled face is a face


def copy_index(source: FaceIndex, path: Path) -> FaceIndex:
    path.parent.mkdir(parents=True, exist_ok=True)
    index = FaceIndex(path)
    source.db.backup(index.db)
    return index


def answer_curve(base: FaceIndex, scratch: Path, strategy: str, steps: list[int], seed: int) -> dict:
    """BCubed and pairwise F after each number of answers in ``steps``, answering ``strategy``'s
    questions from the truth."""
    index = copy_index(base, scratch / strategy / "index.sqlite3")
    truth = labelled_faces(index)
    editor = PeopleEditor(index)
    rng = random.Random(seed)
    answers: Counter = Counter()
    curve = {0: both_scores(index, truth)}
    given = 0
    if strategy == "flags":
        # one doubted cluster looked at (and corrected from the truth) per answer, on fresh copies
        for k in steps[1:]:
            fresh = copy_index(base, scratch / f"flags-{k}" / "index.sqlite3")
            done = simulate_organiser(fresh, corrections=10**9, looked_limit=k)
            curve[k] = {**both_scores(fresh, truth), "looked_at": done.get("doubted clusters looked at", 0)}
            answers = Counter({"nothing wrong": done.get("nothing wrong", 0), "doubted clusters": done.get("doubted clusters", 0)})
            fresh.close()
        index.close()
        return {"curve": curve, "answers": dict(answers)}
    while given < steps[-1]:
        members = index.active_memberships()
        if strategy == "queue":
            queue = review_queue(index)
            if not queue:
                break
            question = queue[0]
            answer = truthful_answer(question, members, truth)
            try:
                answer_question(editor, question.id, answer)
            except CorrectionError as exc:
                answer = f"refused: {exc.code}"
                answer_question(editor, question.id, "skip")
            answers[f"{question.kind} {answer}"] += 1
        else:  # random pairs of people
            people = sorted(set(members.values()))
            a, b = rng.sample(people, 2)
            ia, ib = identity_of(a, members, truth), identity_of(b, members, truth)
            answer = "skip" if ia is None or ib is None else ("yes" if ia == ib else "no")
            try:
                if answer == "yes":
                    editor.merge(a, [b])
                elif answer == "no":
                    editor.keep_apart(a, b)
            except CorrectionError as exc:
                answer = f"refused: {exc.code}"
            answers[f"same_person {answer}"] += 1
        given += 1
        if given in steps:
            curve[given] = both_scores(index, truth)
    index.close()
    yes = sum(n for k, n in answers.items() if k.endswith(" yes"))
    no = sum(n for k, n in answers.items() if k.endswith(" no"))
    return {"curve": curve, "answers": dict(answers), "yes_share": round(yes / max(given, 1), 3), "no_share": round(no / max(given, 1), 3)}


def curves(args, gallery, model: str, dim: int) -> dict:
    """The gains per answer of the review queue, random pairs and the doubt flags."""
    steps = sorted({0, *args.answers})
    base = FaceIndex(args.scratch / "base" / "index.sqlite3")
    base.check_model(model, dim)
    base.add_photos(gallery, model)
    cluster_index(base, progress=lambda *a, **k: None)
    out = {"steps": steps}
    for strategy in ("queue", "random", "flags"):
        t0 = time.monotonic()
        out[strategy] = answer_curve(base, args.scratch, strategy, steps, args.seed)
        out[strategy]["seconds"] = round(time.monotonic() - t0, 1)
        print(f"{strategy}: {json.dumps(out[strategy]['curve'])}", file=sys.stderr)
    base.close()
    return out


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
    parser.add_argument("--curve", action="store_true", help="the gain per answer: review queue vs random pairs vs doubt flags")
    parser.add_argument(
        "--answers", type=lambda v: [int(x) for x in v.split(",")], default=[0, 10, 25, 50, 100, 200], help="checkpoints of --curve"
    )
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
    if args.curve:
        result = {"folder": str(args.folder), "photos": len(photos), "model": model, **curves(args, photos, model, dim)}
        result["machine"] = f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores"
        result["seconds"] = round(time.monotonic() - started, 1)
        text = json.dumps(result, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
        return 0
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
