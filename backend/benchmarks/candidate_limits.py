"""What limits "Is one of these you?": for every present visitor of an event gallery, whether the
clustering holds a person that is really them, where that person ranks among the candidates, and
what picking them (and their other clusters, the "also you") is worth.

    python backend/benchmarks/candidate_limits.py EVENT_FOLDER DATA_FOLDER [--candidates 3] [--json OUT]

EVENT_FOLDER is a gallery from make_event_gallery.py, already indexed and clustered into
DATA_FOLDER (e.g. by `faceexplore evaluate event EVENT_FOLDER --scratch DATA_FOLDER`). The truth
is per photo (who is in it), so a cluster is "theirs" when most of its photos show them (the rule
`evaluate event`'s simulated visitor uses), and "half theirs" when at least half do (a face of
theirs paired with a stranger's). Reported, with the search's own null (threshold at the
configured false-alarm rate, band at `candidate_rate`):

- how many visitors have no cluster of theirs at all, how many of those have one photo in the
  gallery, and how many of those share a cluster with strangers at exactly half;
- the rank of their best cluster among all clusters (by the mean distance the search uses);
- the ceiling of `reachable` with N candidates and no band, and within the band;
- the F1 of the photos of their largest cluster against all their clusters together: the most
  an "also you" offer could add.

Latest results, with the data and the machine: docs/quality.md, "Is one of these you?".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from faceexplore.evaluation import event_photos_by_person
from faceexplore.search.service import SearchInputError, SearchService
from faceexplore.settings import Settings


def f1(got: set, truth: set) -> float:
    return 2 * len(got & truth) / (len(got) + len(truth)) if got and truth else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--candidates", type=int, default=3, help="candidates shown at most (the setting's default)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    settings = Settings(data_dir=a.data, gallery_dir=a.folder / "gallery", frontend_dir="")
    service = SearchService(settings)
    truth = json.loads((a.folder / "truth.json").read_text())
    photos_of = event_photos_by_person(truth)
    st = service.searcher.refresh()
    paths = {pid: info.path for pid, info in service.index.photo_infos(np.unique(st.photo_ids).tolist()).items()}
    cluster_paths = [set() for _ in range(len(st.sizes))]
    for face, cluster in enumerate(st.inverse):
        cluster_paths[cluster].add(paths[int(st.photo_ids[face])])
    threshold = st.null.distance_at(settings.false_alarm_rate)
    band = st.null.distance_at(max(settings.candidate_rate, settings.false_alarm_rate))

    rows = []
    for rel, person in sorted(truth["present"].items()):
        try:
            _, chosen = service.analyse_samples([(rel, (a.folder / rel).read_bytes(), None)])
        except SearchInputError:
            chosen = []
        mine = photos_of.get(person, set())
        theirs = [c for c, shown in enumerate(cluster_paths) if len(shown & mine) > len(shown) / 2]
        half = [c for c, shown in enumerate(cluster_paths) if len(shown & mine) >= len(shown) / 2 and shown & mine]
        row = {"person": person, "photos": len(mine), "theirs": len(theirs), "half": len(half)}
        if chosen:
            d = np.sqrt(np.maximum(2 - 2 * st.X @ np.asarray(chosen[0], np.float64), 0))
            scores = np.bincount(st.inverse, weights=d, minlength=len(st.sizes)) / st.sizes
            rank = np.argsort(np.argsort(scores))
            row |= {
                "found": bool(scores.min() < threshold),
                "rank": int(rank[theirs].min()) if theirs else None,
                "rank_half": int(rank[half].min()) if half else None,
                "in_band": bool(theirs) and bool(scores[theirs].min() < band),
                "in_band_half": bool(half) and bool(scores[half].min() < band),
            }
        if theirs:
            largest = max(theirs, key=lambda c: len(cluster_paths[c] & mine))
            row["f1_largest"] = f1(cluster_paths[largest], mine)
            row["f1_all_theirs"] = f1(set().union(*(cluster_paths[c] for c in theirs)), mine)
        rows.append(row)

    n, top = len(rows), a.candidates
    none = [r for r in rows if not r["theirs"]]
    one_photo = [r for r in none if r["photos"] == 1]

    def share(test) -> float:
        return sum(1 for r in rows if test(r)) / n

    ranked = lambda key: lambda r: r.get(key) is not None and r[key] < top  # noqa: E731
    report = {
        "present_queries": n,
        "false_alarm_rate": settings.false_alarm_rate,
        "candidate_rate": settings.candidate_rate,
        "candidates": top,
        "no_cluster_theirs": len(none),
        "no_cluster_theirs_one_photo": len(one_photo),
        "no_cluster_theirs_one_photo_shared_at_half": sum(1 for r in one_photo if r["half"]),
        "rank_of_theirs": {
            "first": sum(1 for r in rows if r.get("rank") == 0),
            f"ranks 2-{top}": sum(1 for r in rows if r.get("rank") is not None and 0 < r["rank"] < top),
            f"ranks {top + 1}-10": sum(1 for r in rows if r.get("rank") is not None and top <= r["rank"] < 10),
            "beyond rank 10": sum(1 for r in rows if r.get("rank") is not None and r["rank"] >= 10),
        },
        "reachable_ceiling": {
            f"top {top}, no band": share(ranked("rank")),
            f"top {top}, in the band": share(lambda r: ranked("rank")(r) and (r["found"] or r["in_band"])),
            f"top {top}, no band, half theirs counts": share(ranked("rank_half")),
            f"top {top}, in the band, half theirs counts": share(lambda r: ranked("rank_half")(r) and (r["found"] or r["in_band_half"])),
        },
        "f1_if_picked": {
            "largest cluster of theirs": float(np.mean([r["f1_largest"] for r in rows if "f1_largest" in r])),
            "all clusters of theirs (also you, at best)": float(np.mean([r["f1_all_theirs"] for r in rows if "f1_all_theirs" in r])),
        },
    }
    print(json.dumps(report, indent=2))
    if a.json:
        a.json.write_text(json.dumps({**report, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
