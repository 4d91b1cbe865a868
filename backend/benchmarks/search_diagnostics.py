#!/usr/bin/env python3
"""Where search quality is lost, and what the search's design choices are worth, on an event
gallery that `faceexplore evaluate event EVENT --scratch DATA` has indexed and clustered.

  1. Misses: at each false-alarm setting, how many present people are found at all, and when
     found, the precision and recall of the returned photos; and the recall of the best-scoring
     cluster with no threshold at all (what a perfect accept rule could reach).
  2. Mirror averaging: one-sample F1 and false alarms with each sample embedded alone and with
     its mirror image (what `faceexplore search` does).
  3. Cluster scores: how well each way of scoring a cluster against a sample tells present people
     from absent ones, with the accept threshold read off the absent queries themselves (from the
     labels: an oracle no search has), so that only the score counts: mean distance to the
     cluster's faces (what search uses), distance to its nearest face, mean of its 2 nearest, each
     also normalised by the sample's own next 20 clusters (T-norm) or by the gap to the second.
     F1 counts the best cluster's photos; "accept all" is F1 with no threshold at all. "found" is
     the share of present people accepted: whatever photos a search returned for them, mean F1
     cannot exceed it.
  4. Several samples (when EVENT has queries/extra/, see event_benchmark.py): F1 of the search's
     own rule (each of k samples at rate/k, merged) against averaging the samples' scores and
     searching with their mean embedding; with --people, the false alarms of absent people who
     have 2-3 photos there (their first photo is the query make_event_gallery.py copied), and
     for each of the search rule's false alarms, every sample's best score against its
     threshold and whose photos came back (truth.json lists only the people pasted into them).

Latest results, with the data and the machine: docs/quality.md ("Where the misses come from", "Several samples").

usage:
  python backend/benchmarks/search_diagnostics.py /tmp/event3000 /tmp/event3000-data
  python backend/benchmarks/search_diagnostics.py /tmp/multi3000/event /tmp/multi3000/data \\
      --people /tmp/multi3000/people /tmp/multi3000/extra
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main():
    from faceexplore.evaluation import _set_scores
    from faceexplore.faces.embedders.base import normalise
    from faceexplore.people.null_model import cluster_scores
    from faceexplore.search.service import SearchService
    from faceexplore.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("event", help="event gallery folder (truth.json, gallery/, queries/)")
    ap.add_argument("data", help="the data folder `evaluate event --scratch` filled")
    ap.add_argument("--people", nargs="+", default=[], help="people folders the gallery was built from (absent people's other photos)")
    ap.add_argument("--rates", type=float, nargs="+", default=[0.01, 0.05])
    ap.add_argument("--samples", type=int, default=3)
    args = ap.parse_args()
    event = Path(args.event)
    truth = json.loads((event / "truth.json").read_text())
    settings = load_settings({"data_dir": args.data}).replace(gallery_dir=event / "gallery")
    service = SearchService(settings)
    searcher, pipeline = service.searcher, service.pipeline
    st = searcher.refresh()
    paths = service.index.all_photo_paths()
    face_paths = np.array([paths[int(p)] for p in st.photo_ids])
    photos_of = {}
    for rel, names in truth["photos"].items():
        for name in names:
            photos_of.setdefault(name, set()).add(str(Path(rel).relative_to("gallery")))

    def embed(files, mirror=True):
        rows = []
        for f in files:
            r = pipeline.analyse(str(f), mirror_average=mirror)
            if r.faces:
                rows.append(r.embeddings[int(np.argmax([x.area for x in r.faces]))])
        return np.stack(rows) if rows else None

    def scores(E):
        return cluster_scores(np.sqrt(np.maximum(2 - 2 * np.atleast_2d(E) @ st.X.T, 0)), st.inverse, st.sizes)

    def photos_in(clusters):
        return set(face_paths[np.isin(st.inverse, clusters)])

    def searched(E, rate):
        result = searcher.search(E, rate)
        return {paths[m.photo_id] for m in result.matches} if result.found else set()

    queries = {
        kind: [(person, embed([event / rel]), embed([event / rel], mirror=False)) for rel, person in sorted(truth[kind].items())]
        for kind in ("present", "absent")
    }

    print("1. misses, one sample (embedded with its mirror image)")
    best_recall = []
    for person, E, _ in queries["present"]:
        if E is not None:
            wanted = photos_of.get(person, set())
            best_recall.append(len(photos_in([np.argmin(scores(E)[0])]) & wanted) / max(1, len(wanted)))
    for rate in args.rates:
        t = st.null.distance_at(rate)
        found = [(person, photos_in(np.flatnonzero(scores(E)[0] < t))) for person, E, _ in queries["present"] if E is not None]
        found = [(person, got) for person, got in found if got]
        when = [_set_scores(got, photos_of.get(person, set())) for person, got in found]
        print(
            f"   {rate:.0%}: {len(found)} of {len(queries['present'])} present people found; when found, precision "
            f"{np.mean([w['precision'] for w in when]):.3f}, recall {np.mean([w['recall'] for w in when]):.3f}"
        )
    print(f"   no threshold: the best-scoring cluster holds {np.mean(best_recall):.3f} of a person's photos on average")

    print("2. mirror averaging, one sample")
    for rate in args.rates:
        line = []
        for name, column in (("alone", 2), ("with its mirror image", 1)):
            f1 = [
                _set_scores(searched(q[column], rate) if q[column] is not None else set(), photos_of.get(q[0], set()))["f1"]
                for q in queries["present"]
            ]
            fa = [bool(searched(q[column], rate)) for q in queries["absent"] if q[column] is not None]
            line.append(f"{name}: F1 {np.mean(f1):.3f}, false alarms {np.mean(fa):.3f}")
        print(f"   {rate:.0%}: " + "; ".join(line))

    print("3. cluster scores, the threshold set from the labels at each false-alarm rate (F1 of the best cluster)")
    order = np.argsort(st.inverse, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(st.inverse, minlength=len(st.sizes)))]
    cluster_photos = [set(face_paths[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
    present = [(person, E) for person, E, _ in queries["present"] if E is not None]
    absent = np.concatenate([E for _, E, _ in queries["absent"] if E is not None])
    for name, score in _score_rules(order, bounds).items():
        P = score(np.sqrt(np.maximum(2 - 2 * np.concatenate([E for _, E in present]) @ st.X.T, 0)))
        A = score(np.sqrt(np.maximum(2 - 2 * absent @ st.X.T, 0)))
        f1 = np.array([_set_scores(cluster_photos[c], photos_of.get(person, set()))["f1"] for (person, _), c in zip(present, P.argmin(1))])
        line = []
        for rate in args.rates:
            accepted = P.min(1) < np.quantile(A.min(1), rate)
            line.append(
                f"{rate:.0%}: F1 {np.sum(f1 * accepted) / len(queries['present']):.3f}, "
                f"found {accepted.sum() / len(queries['present']):.1%}"
            )
        print(f"   {name:31s} " + "; ".join(line) + f"; accept all: F1 {f1.sum() / len(queries['present']):.3f}")

    extra = event / "queries" / "extra"
    if not extra.is_dir():
        return
    print(f"4. several samples (up to {args.samples})")
    several = []
    for rel, person in sorted(truth["present"].items()):
        files = sorted((extra / person).glob("*"))[: args.samples - 1]
        if files:
            several.append((person, embed([event / rel, *files])))
    strangers = []
    for rel, person in sorted(truth["absent"].items()) if args.people else []:
        first, *rest = [Path(d) / person for d in args.people]
        files = sorted(first.glob("*"))[1:] + [f for d in rest for f in sorted(d.glob("*"))]
        if files:
            E = embed([event / rel, *files[: args.samples - 1]])
            if E is not None and len(E) > 1:
                strangers.append((person, E))

    def mean_of_scores(E, rate):
        s = scores(E).mean(0)
        return photos_in(np.flatnonzero(s < st.null.distance_at(rate)))

    def mean_embedding(E, rate):
        s = scores(normalise(E.mean(0)[None]))[0]
        return photos_in(np.flatnonzero(s < st.null.distance_at(rate)))

    rules = {
        "the search's rule (each at rate/k, merged)": searched,
        "averaging the samples' scores": mean_of_scores,
        "the samples' mean embedding": mean_embedding,
        "one sample (the query alone)": lambda E, rate: searched(E[:1], rate),
    }
    for rate in args.rates:
        print(f"   {rate:.0%} ({len(several)} present people with extra photos, {len(strangers)} absent people with 2+ photos):")
        for name, rule in rules.items():
            f1 = np.mean([_set_scores(rule(E, rate), photos_of.get(person, set()))["f1"] for person, E in several if E is not None])
            fa = f", false alarms {sum(bool(rule(E, rate)) for _, E in strangers)} of {len(strangers)}" if strangers else ""
            print(f"      {name}: F1 {f1:.3f}{fa}")
        for person, E in strangers:
            # who the search's rule wrongly finds, through which sample, and whose photos come back
            got = searched(E, rate)
            if got:
                names = sorted({n for p in got for n in truth["photos"].get(f"gallery/{p}", [])})
                print(
                    f"      false alarm: {person}: each sample's best score {np.round(scores(E).min(1), 3).tolist()} "
                    f"against {st.null.distance_at(rate / len(E)):.3f}; returned {sorted(got)}, the photos of {names}"
                )


def _score_rules(order, bounds) -> dict:
    """Ways to score every cluster from a (samples, faces) distance matrix; lower is closer."""

    def per_cluster(reduce):
        return lambda D: np.stack([reduce(D[:, order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])], 1)

    def t_norm(score):  # against the sample's own cohort: its next 20 clusters
        def normalised(D):
            s = score(D)
            cohort = np.sort(s, 1)[:, 1:21]
            return (s - cohort.mean(1, keepdims=True)) / (cohort.std(1, keepdims=True) + 1e-6)

        return normalised

    def gap(score):  # against the sample's second-best cluster
        def normalised(D):
            s = score(D)
            return s - np.sort(s, 1)[:, 1:2]

        return normalised

    base = {
        "mean distance (used)": per_cluster(lambda d: d.mean(1)),
        "nearest face": per_cluster(lambda d: d.min(1)),
        "mean of the 2 nearest": per_cluster(lambda d: np.sort(d, 1)[:, :2].mean(1)),
    }
    rules = {}
    for name, score in base.items():
        rules.update({name: score, f"{name.split(' (')[0]}, T-norm": t_norm(score), f"{name.split(' (')[0]}, gap": gap(score)})
    return rules


if __name__ == "__main__":
    main()
