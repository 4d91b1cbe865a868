"""`faceexplore evaluate`: quality on labelled data (LFW-style people folders, event galleries)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from faceexplore.index.indexer import index_gallery
from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import cluster_index


def pairwise_scores(labels, truth) -> dict:
    """Pairwise precision / recall / F over all pairs of labelled items."""
    pairs = lambda counts: sum(v * (v - 1) / 2 for v in counts.values())  # noqa: E731
    tp = pairs(Counter(zip(labels, truth)))
    predicted, actual = pairs(Counter(labels)), pairs(Counter(truth))
    p = tp / predicted if predicted else 1.0
    r = tp / actual if actual else 1.0
    return {"precision": p, "recall": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def bcubed_scores(labels, truth) -> dict:
    both, by_label, by_truth = Counter(zip(labels, truth)), Counter(labels), Counter(truth)
    p = float(np.mean([both[(c, t)] / by_label[c] for c, t in zip(labels, truth)]))
    r = float(np.mean([both[(c, t)] / by_truth[t] for c, t in zip(labels, truth)]))
    return {"precision": p, "recall": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


@contextmanager
def scratch_folder(scratch=None):
    """The data folder of the scratch index: ``scratch`` when given (kept, and reused next
    time), else a temporary folder removed on leaving, also after an error or Ctrl-C (it holds
    every face's embedding)."""
    if scratch:
        yield Path(scratch)
        return
    path = Path(tempfile.mkdtemp(prefix="faceexplore-eval-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _prepare(folder, settings, scratch):
    return settings.replace(data_dir=Path(scratch), gallery_dir=Path(folder))


def _index_and_cluster(settings):
    t0 = time.monotonic()
    summary = index_gallery(settings, progress=True)
    t1 = time.monotonic()
    with FaceIndex(settings.index_path) as index:
        details = cluster_index(index)
    t2 = time.monotonic()
    return summary, details, {"index": t1 - t0, "cluster": t2 - t1}


def evaluate_people(folder, settings, scratch=None, limit_people=None) -> dict:
    """One folder per person. Each photo's labelled face is the one nearest the photo's centre
    (LFW centres its subject); other faces are clustered but not scored."""
    with scratch_folder(scratch) as data:
        return _evaluate_people(Path(folder), settings, data, limit_people)


def _link_files(source: Path, target: Path) -> None:
    """``source``'s files in ``target``: hard links where the file system allows, else copies."""
    if target.is_symlink():  # a scratch folder from before: a link the walk skips
        target.unlink()
    target.mkdir(exist_ok=True)
    for src in sorted(p for p in source.iterdir() if p.is_file()):
        dst = target / src.name
        if dst.exists():
            continue
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def _evaluate_people(folder: Path, settings, scratch: Path, limit_people) -> dict:
    if limit_people:
        # a reproducible subset, its photos linked into the scratch folder as regular files: the
        # gallery walk follows no symbolic link that leaves the gallery, so linked folders would
        # be skipped (and the subset scored as empty)
        subset = scratch / "people"
        subset.mkdir(parents=True, exist_ok=True)
        for d in sorted(p for p in folder.iterdir() if p.is_dir())[:limit_people]:
            _link_files(d, subset / d.name)
        folder = subset
    settings = _prepare(folder, settings, scratch)
    summary, details, seconds = _index_and_cluster(settings)
    with FaceIndex(settings.index_path, readonly=True) as index, index.snapshot():
        clustering = index.active_clustering()
        faces = index.clustered_faces()
        photos = index.counts()["photos"]
    central = {}
    for f in faces:
        x1, y1, x2, y2 = f.box
        off = np.hypot((x1 + x2) / 2 - f.width / 2, (y1 + y2) / 2 - f.height / 2)
        if f.path not in central or off < central[f.path][0]:
            central[f.path] = (off, f.person_id, f.path.split("/")[0])
    labels = [v[1] for v in central.values()]
    truth = [v[2] for v in central.values()]
    return {
        "kind": "people",
        "folder": str(folder),
        "photos": photos,
        "photos_with_face": len(central),
        "faces": details["faces"],
        "threshold": clustering["threshold"],
        "pairwise": pairwise_scores(labels, truth),
        "bcubed": bcubed_scores(labels, truth),
        "clusters": len(set(labels)),
        "identities": len(set(truth)),
        "seconds": seconds,
    }


def evaluate_event(folder, settings, scratch=None, samples: int = 1, rates=(), candidate_rates=()) -> dict:
    """An event gallery from make_event_gallery.py: index, cluster, run every query.

    Every query is searched at the configured false-alarm rate, and at each of ``rates`` too
    (``operating_points``); each sample photo is analysed once. With ``samples`` > 1, each
    present person who has extra photos in ``queries/extra/<person>/`` (made by
    benchmarks/event_benchmark.py; never pasted into the gallery) is searched again with the
    query plus up to ``samples - 1`` of them, and scored against the one-sample search of the
    same people.

    ``assisted`` scores "Is one of these you?" at ``candidate_rate`` (and ``assisted_curve`` at
    each of ``candidate_rates``): a visitor who, when nothing is found, picks the candidate that is
    really them (a cluster most of whose photos show them) or "None of these", and who adds the
    "also you" people that are really them."""
    with scratch_folder(scratch) as data:
        return _evaluate_event(Path(folder), settings, data, samples, rates, candidate_rates)


def _evaluate_event(folder: Path, settings, scratch: Path, samples, rates, candidate_rates) -> dict:
    from faceexplore.search.service import SearchInputError, SearchService

    truth = json.loads((folder / "truth.json").read_text())
    extra_dir = folder / "queries" / "extra"
    if samples > 1 and not extra_dir.is_dir():
        raise ValueError(
            f"--samples {samples} needs extra sample photos in {extra_dir}/<person>/; "
            f"build the gallery with backend/benchmarks/event_benchmark.py"
        )
    settings = _prepare(folder / "gallery", settings, scratch)
    summary, details, seconds = _index_and_cluster(settings)
    service = SearchService(settings)
    photos_of = event_photos_by_person(truth)

    def analyse(files):
        try:
            return service.analyse_samples([(str(f), Path(f).read_bytes(), None) for f in files])
        except SearchInputError:
            return [], []

    def returned(analysed, rate):
        reports, chosen = analysed
        try:
            result = service.search_analysed(reports, chosen, rate)
        except SearchInputError:  # no face in any sample
            return set()
        return {p.path for p in result.photos} if result.found else set()

    def outcome(analysed, rate, candidate_rate):
        reports, chosen = analysed
        try:
            return service.search_analysed(reports, chosen, rate, candidate_rate)
        except SearchInputError:
            return None

    t0 = time.monotonic()
    queries = []  # (kind, person, one sample analysed, several samples analysed or None)
    for kind, listed in (("present", truth["present"]), ("absent", truth["absent"])):
        for rel, person in sorted(listed.items()):
            one = analyse([folder / rel])
            returned(one, settings.false_alarm_rate)  # timed as a whole search
            extras = sorted((extra_dir / person).glob("*"))[: samples - 1] if kind == "present" and samples > 1 else []
            queries.append((kind, person, one, analyse([folder / rel, *extras]) if extras else None))
    per_search = (time.monotonic() - t0) / max(1, len(queries))
    photos = _gallery_photos(service.searcher)
    baseline_rows = [
        (kind, person, _nearest_face_by_photo(service.searcher, one[1][0], photos) if one[1] else None) for kind, person, one, _ in queries
    ]

    path_of = {}

    def paths(photo_ids):
        missing = [p for p in photo_ids if p not in path_of]
        if missing:
            path_of.update({pid: info.path for pid, info in service.index.photo_infos(missing).items()})
        return {path_of[p] for p in photo_ids if p in path_of}

    def is_them(photo_ids, person):
        shown = paths(photo_ids)
        return bool(shown) and len(shown & photos_of.get(person, set())) > len(shown) / 2

    def assisted_search(analysed, person, rate, candidate_rate):
        """(the photos this visitor ends with, reached their own person, candidates shown)."""
        out = outcome(analysed, rate, candidate_rate)
        if out is None:
            return set(), False, 0
        if out.found:
            got = {p.path for p in out.photos}
            reached = bool(got) and len(got & photos_of.get(person, set())) > len(got) / 2
            for c in out.also_you:
                also_you_offers.append(is_them(c.photo_ids, person))
                if also_you_offers[-1]:
                    got |= paths(c.photo_ids)
            return got, reached, 0
        mine = next((c for c in out.candidates if is_them(c.photo_ids, person)), None)
        if mine is None:
            return set(), False, len(out.candidates)
        got = paths(mine.photo_ids)
        others = [c.person_id for c in out.candidates if c.person_id != mine.person_id]
        for near in service.searcher.near_people(mine.person_id, others):
            c = next(c for c in out.candidates if c.person_id == near)
            if is_them(c.photo_ids, person):
                got |= paths(c.photo_ids)
        return got, True, len(out.candidates)

    also_you_offers = []  # each "also you" offered: whether it is really the visitor

    def assisted(rate, candidate_rate):
        rows = {"present": [], "absent": [], "several": []}
        also_you_offers.clear()
        for kind, person, one, several in queries:
            got, reached, shown = assisted_search(one, person, rate, candidate_rate)
            rows[kind].append((_set_scores(got, photos_of.get(person, set())), reached, shown, bool(got)))
            if several is not None:
                got, reached, shown = assisted_search(several, person, rate, candidate_rate)
                rows["several"].append((_set_scores(got, photos_of.get(person, set())), reached, shown, bool(got)))

        def summary(present):
            return {
                "reachable": float(np.mean([r[1] for r in present])) if present else 0.0,
                "f1": float(np.mean([r[0]["f1"] for r in present])) if present else 0.0,
                "queries": len(present),
            }

        absent = rows["absent"]
        not_found = [r for r in rows["present"] + absent if r[2] or not r[3]]
        point = {
            "candidate_rate": candidate_rate,
            **summary(rows["present"]),
            "absent_shown": float(np.mean([r[2] > 0 for r in absent])) if absent else 0.0,
            "mean_candidates": float(np.mean([r[2] for r in not_found])) if not_found else 0.0,
            "also_you_offered": len(also_you_offers),
            "also_you_right": float(np.mean(also_you_offers)) if also_you_offers else None,
        }
        if rows["several"]:
            point["several_samples"] = summary(rows["several"])
        return point

    def operating_point(rate):
        present, absent, single, multi = [], [], [], []
        for kind, person, one, several in queries:
            got = returned(one, rate)
            if kind == "absent":
                absent.append(bool(got))
                continue
            present.append(_set_scores(got, photos_of.get(person, set())))
            if several is not None:
                single.append(present[-1])
                multi.append(_set_scores(returned(several, rate), photos_of.get(person, set())))
        fa = float(np.mean(absent)) if absent else 0.0
        point = {
            "false_alarm_rate_setting": rate,
            "present": _mean_scores(present),
            "absent": {"false_alarm_rate": fa, "queries": len(absent)},
            "baseline_nearest_face_same_false_alarms": _baseline(baseline_rows, photos_of, fa),
        }
        point["assisted"] = assisted(rate, settings.candidate_rate)
        if samples > 1:
            point["several_samples"] = {
                "samples": samples,
                "with_several": _mean_scores(multi),
                "same_people_one_sample": _mean_scores(single),
            }
        return point

    main = operating_point(settings.false_alarm_rate)
    return {
        "kind": "event",
        "folder": str(folder),
        "photos": summary.scanned,
        "faces": details["faces"],
        "clusters": details["clusters"],
        "threshold": details["threshold_choice"]["threshold"] if details["threshold_choice"] else None,
        "search_threshold": service.searcher.state.null.distance_at(settings.false_alarm_rate) if service.searcher.state.null else None,
        **main,
        "operating_points": [main] + [operating_point(r) for r in rates if r != settings.false_alarm_rate],
        "assisted_curve": [assisted(settings.false_alarm_rate, r) for r in candidate_rates],
        "seconds": {**seconds, "per_search": per_search},
    }


def _mean_scores(rows) -> dict:
    return {k: float(np.mean([q[k] for q in rows])) if rows else 0.0 for k in ("precision", "recall", "f1")} | {"queries": len(rows)}


def event_photos_by_person(truth: dict) -> dict[str, set[str]]:
    """An event gallery's truth.json (make_event_gallery.py) as person -> the paths of the photos
    they are in, relative to the gallery folder (as the index stores them)."""
    photos_of: dict[str, set[str]] = {}
    for rel, names in truth["photos"].items():
        for name in names:
            photos_of.setdefault(name, set()).add(str(Path(rel).relative_to("gallery")))
    return photos_of


def _set_scores(returned: set, wanted: set) -> dict:
    """Precision, recall and F1 of the photos a search returned against the photos wanted."""
    tp = len(returned & wanted)
    p = tp / len(returned) if returned else 1.0
    r = tp / len(wanted) if wanted else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _gallery_photos(searcher):
    """The searched faces' photos, read once for the baseline: each face's photo (an index into
    the list) and the photos' paths."""
    photo_ids, inverse = np.unique(searcher.photo_ids, return_inverse=True)
    paths = {pid: info.path for pid, info in searcher.index.photo_infos(photo_ids.tolist()).items()}
    return inverse, [paths[int(p)] for p in photo_ids]


def _nearest_face_by_photo(searcher, embedding, photos):
    """For the baseline: each gallery photo's nearest-face distance to the query, and paths."""
    inverse, paths = photos
    d = np.linalg.norm(searcher.X - np.asarray(embedding, np.float64), axis=1)
    nearest = np.full(len(paths), np.inf)
    np.minimum.at(nearest, inverse, d)
    return nearest, paths


def _baseline(rows, photos_of, target_fa):
    """The fixed-tolerance nearest-neighbour rule (dlib users' usual method): return every photo
    with a face closer than a tolerance; the tolerance is set, with the labels, to the largest
    one whose false-alarm rate does not exceed ours."""
    rows = [r for r in rows if r[2] is not None]
    if not rows:
        return None
    absent_min = np.array([nn[0].min() for kind, _, nn in rows if kind == "absent"])
    if len(absent_min):
        allowed = int(np.floor(target_fa * len(absent_min)))
        tol = float(np.sort(absent_min)[allowed]) if allowed < len(absent_min) else float("inf")
    else:
        tol = float("inf")
    f1s = []
    for kind, person, (d, paths) in rows:
        if kind != "present":
            continue
        returned = {paths[i] for i in np.flatnonzero(d < tol)}
        f1s.append(_set_scores(returned, photos_of.get(person, set()))["f1"])
    fa = float(np.mean(absent_min < tol)) if len(absent_min) else 0.0
    return {"tolerance": tol, "f1": float(np.mean(f1s)) if f1s else 0.0, "false_alarm_rate": fa}


def format_result(result: dict) -> str:
    if result["kind"] == "people":
        pw, bc = result["pairwise"], result["bcubed"]
        return "\n".join(
            [
                f"{result['photos']} photos ({result['photos_with_face']} with a face), {result['faces']} "
                f"faces, {result['identities']} identities -> {result['clusters']} clusters",
                f"threshold {result['threshold']:.4f} (derived, no labels)",
                f"pairwise  P {pw['precision']:.4f}  R {pw['recall']:.4f}  F {pw['f']:.4f}",
                f"BCubed    P {bc['precision']:.4f}  R {bc['recall']:.4f}  F {bc['f']:.4f}",
                f"seconds: index {result['seconds']['index']:.1f}, cluster {result['seconds']['cluster']:.1f}",
            ]
        )
    lines = [
        f"{result['photos']} photos, {result['faces']} faces -> {result['clusters']} clusters "
        f"(threshold {result['threshold']:.4f}, search threshold {result['search_threshold']:.4f})"
    ]
    for point in result["operating_points"]:
        pr, ab, bl = point["present"], point["absent"], point["baseline_nearest_face_same_false_alarms"]
        lines += [
            f"false-alarm rate setting {point['false_alarm_rate_setting']:.0%}:",
            f"  present queries ({pr['queries']}): mean precision {pr['precision']:.4f}, recall {pr['recall']:.4f}, F1 {pr['f1']:.4f}",
            f"  absent queries ({ab['queries']}): false-alarm rate {ab['false_alarm_rate']:.4f}",
        ]
        if bl:
            lines.append(
                "  baseline nearest-face rule at the same false alarms (tolerance "
                f"{bl['tolerance']:.4f}, FA {bl['false_alarm_rate']:.4f}): F1 {bl['f1']:.4f}"
            )
        a = point["assisted"]
        lines.append(
            f"  is one of these you? (candidate rate {a['candidate_rate']:.0%}): reachable {a['reachable']:.4f}, "
            f"assisted F1 {a['f1']:.4f}, absent shown candidates {a['absent_shown']:.4f}, "
            f"mean candidates {a['mean_candidates']:.2f}"
        )
        several = point.get("several_samples")
        if several:
            w, o = several["with_several"], several["same_people_one_sample"]
            lines.append(
                f"  with up to {several['samples']} samples ({w['queries']} people who have extra photos): F1 {w['f1']:.4f} "
                f"(P {w['precision']:.4f}, R {w['recall']:.4f}); the same people with one sample: F1 {o['f1']:.4f}"
            )
    for a in result.get("assisted_curve", []):
        lines.append(
            f"candidate rate {a['candidate_rate']:.0%}: reachable {a['reachable']:.4f}, assisted F1 {a['f1']:.4f}, "
            f"absent shown {a['absent_shown']:.4f}, mean candidates {a['mean_candidates']:.2f}"
        )
    s = result["seconds"]
    lines.append(f"seconds: index {s['index']:.1f}, cluster {s['cluster']:.1f}, per search {s['per_search']:.3f}")
    return "\n".join(lines)
